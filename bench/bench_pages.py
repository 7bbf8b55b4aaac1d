"""Page time under load: p95 of every page with 1M cases stored, on DuckDB and on PostgreSQL.

Target (issues 7, 14 item 10, 17 item 3): p95 ≤ 300 ms under 20 concurrent clients on
loopback, on both engines, including the rows where no two requests ask the same thing.

The database holds 1,000,000 cases over 20 departments and 10 counties of one city, applied
over the 118 days before the benchmark's "now", and about 140,000 alerts (3 on one case in
20) of five rules with their workflow: most open, some explained, appealed, under
rectification or reported rectified, some closed; about 4,000 supervision orders of one to
three alerts each (issued, overdue, answered, closed) with their transitions; about 100,000
notifications, part of them read. Every moment is spread realistically: an anomaly arises
days after the application (the deadline), is detected minutes to hours later. It is
written by SQL into DuckDB (the shape the live engine leaves) and copied table by table into
a PostgreSQL database of its own (``CREATE DATABASE bench_pages``, dropped at the end) through
the storage layer's COPY, then analysed.

The app runs in its own process (uvicorn, one worker) so that the clients do not share its
GIL; the clients are 20 threads, each signed in as its own user (20 supervisors; for 今日待办
and 消息, the 20 departments' users), fetching pages one after another.

The app keeps some figures a few seconds per filter (``govwatch.web.api.cache``), so the same
page for twenty people is mostly one computation. The "every request different" rows give each
request its own period, page, filter, list or account, so their figures and rows are never
served from that cache: the cost of the queries themselves under the same load. (What is kept
per user, the menu's badges, stays kept per user: twenty users each compute their own.)

``GOVWATCH_BENCH_REUSE=1`` keeps and reuses the built databases (for profiling between runs).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg

from bench.common import WORK, record, remove_worktrees, scaled, table

CASES = scaled(1_000_000)
CLIENTS = 20
REQUESTS_PER_CLIENT = 15
TARGET_MS = 300.0
AT = datetime(2025, 10, 27, 10, 0)
PORT = 8767
PG_ADMIN = os.environ.get("GOVWATCH_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
PG_DB = "bench_pages"
REUSE = os.environ.get("GOVWATCH_BENCH_REUSE") == "1"
SERVER = """
import sys, uvicorn
from govwatch.web.app import create_app
from govwatch.web.api.deps import clock
from datetime import datetime
app = create_app(sys.argv[1])
app.dependency_overrides[clock] = lambda: datetime(2025, 10, 27, 10, 0)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
# (rule, class, type) of the alerts; the rule of an alert is its hash modulo 5.
RULES = (
    ("case_overdue", "timeliness", "办理超期异常"),
    ("step_overdue", "timeliness", "办理环节超期"),
    ("near_deadline", "timeliness", "临近时限预警"),
    ("missing_step", "process", "过程异常"),
    ("fee_mismatch", "discretion", "收费金额异常"),
)
DEPARTMENTS = 20
REGIONS = 10
TABLES = (
    "orgs",
    "items",
    "cases",
    "alerts",
    "alert_workflow",
    "alert_transitions",
    "orders",
    "order_alerts",
    "order_transitions",
    "notifications",
    "notification_reads",
    "users",
    "sessions",
)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _build_sql() -> list[str]:
    """The statements that fill a migrated DuckDB database (DuckDB SQL: range, hash, lists)."""
    at = f"TIMESTAMP '{AT:%Y-%m-%d %H:%M:%S}'"
    rules, classes, types = (_list([r[i] for r in RULES]) for i in range(3))
    dept = f"'D' || (i % {DEPARTMENTS})"
    region = f"'3301' || lpad(CAST(i % {REGIONS} + 1 AS VARCHAR), 2, '0')"
    return [
        # the city, its counties and the departments (one county each), named
        "INSERT INTO orgs (org_code, name, kind, parent_code, region_code, created_at) VALUES "
        "('330100', '杭州市', 'city', NULL, '330100', TIMESTAMP '2025-01-01')",
        "INSERT INTO orgs SELECT '3301' || lpad(CAST(i + 1 AS VARCHAR), 2, '0'), "
        "['上城区', '下城区', '江干区', '拱墅区', '西湖区', '滨江区', '萧山区', '余杭区', "
        "'富阳区', '临安区'][i + 1], 'county', '330100', "
        f"'3301' || lpad(CAST(i + 1 AS VARCHAR), 2, '0'), TIMESTAMP '2025-01-01' FROM range({REGIONS}) t(i)",
        f"INSERT INTO orgs SELECT {dept}, ['市场监管局', '人力社保局', '公安局', '民政局', "
        "'住建局', '交通运输局', '卫健委', '教育局', '税务局', '自然资源局', '生态环境局', "
        "'商务局', '文广旅体局', '农业农村局', '水利局', '应急管理局', '医保局', '退役军人局', "
        f"'司法局', '城管局'][i + 1], 'department', {region}, {region}, "
        f"TIMESTAMP '2025-01-01' FROM range({DEPARTMENTS}) t(i)",
        # 500 items, each of one department
        "INSERT INTO items (item_code, name, department_code, department_name, region_code, doc) "
        "SELECT 'I' || i, ['营业执照', '社保登记', '户籍迁移', '婚姻登记', '施工许可', '道路运输', "
        "'医师执业', '办学许可', '税务登记', '不动产登记'][i % 10 + 1] || '事项' || i, "
        f"'D' || (i % {DEPARTMENTS}), o.name, o.region_code, '{{}}' FROM range(500) t(i) "
        f"JOIN orgs o ON o.org_code = 'D' || (i % {DEPARTMENTS})",
        # 1M cases applied over the 118 days before AT (one every 10 seconds, ~8,500 a day), in
        # the order they were applied (cases are written as their events arrive)
        "INSERT INTO cases (case_id, item_code, org_code, region_code, department_code, channel, "
        "applied_at, accepted_at, finished_at, status, event_count, first_at, last_at) "
        f"SELECT 'C' || i, 'I' || (i % 500), {dept}, {region}, {dept}, "
        "CASE WHEN i % 2 = 0 THEN '1' ELSE '2' END, "
        f"{at} - to_minutes(m), LEAST({at} - to_minutes(m - 30), {at}), "
        "CASE WHEN i % 3 <> 0 THEN LEAST("
        f"{at} - to_minutes(m - 30 - CAST((i * 7919) % 30000 AS INTEGER)), {at}) END, "
        "CASE WHEN i % 3 = 0 THEN 'open' ELSE 'finished' END, 6, "
        f"{at} - to_minutes(m), LEAST({at} - to_minutes(m - 30), {at}) "
        f"FROM (SELECT i, 170000 - CAST(i * 170000 // {CASES} AS INTEGER) AS m "
        f"FROM range({CASES}) t(i))",
        # three alerts on one case in 20: the anomaly arose 1 to 25 days after the application
        # (a deadline passing, a step running over), was detected 5 minutes to 6 hours later
        "CREATE TEMP TABLE bench_alerts AS SELECT *, (h // 7) % 100 AS s FROM ("
        "SELECT c.case_id, c.item_code, c.region_code, c.department_code, c.org_code, k, "
        "CAST((c.h0 + k * 7) % 1000003 AS BIGINT) AS h, "
        "c.applied_at + to_minutes(CAST(1440 + (c.h0 * 31 + k * 977) % 34560 AS INTEGER)) "
        "AS occurred_at FROM (SELECT *, CAST(hash(case_id) % 1000003 AS BIGINT) AS h0 "
        "FROM cases) c, range(3) r(k) WHERE c.h0 % 20 = 0) "
        f"WHERE occurred_at < {at} - INTERVAL 10 MINUTE",
        "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level, status, "
        "message, evidence, catalog_version, item_code, region_code, department_code, org_code, "
        "occurred_at, first_seen_at, last_seen_at, level_changed_at, cleared_at) "
        f"SELECT md5(case_id || k), case_id, {rules}[1 + (case_id_n + k) % 5], "
        f"{classes}[1 + (case_id_n + k) % 5], {types}[1 + (case_id_n + k) % 5], '', "
        "['warning', 'yellow', 'red'][1 + (h % 3)], "
        "CASE WHEN h % 4 = 0 THEN 'cleared' ELSE 'active' END, '办件已超过承诺期限', "
        '\'{"limit": 20, "unit": "W"}\', 1, item_code, region_code, department_code, org_code, '
        "occurred_at, seen, LEAST(seen + to_hours(CAST(h % 72 AS INTEGER)), "
        f"{at}), seen, CASE WHEN h % 4 = 0 THEN LEAST(seen + to_hours(CAST(h % 72 AS INTEGER)), {at}) END "
        "FROM (SELECT *, CAST(substr(case_id, 2) AS BIGINT) AS case_id_n, "
        f"LEAST(occurred_at + to_minutes(CAST(5 + h % 355 AS INTEGER)), {at}) AS seen FROM bench_alerts)",
        # orders: one in ten active yellow/red alerts, grouped by department three at a time
        "CREATE TEMP TABLE bench_ordered AS SELECT a.alert_id, a.department_code, "
        "'O' || a.department_code || '-' || CAST((row_number() OVER (PARTITION BY "
        "a.department_code ORDER BY a.occurred_at, a.alert_id) - 1) // 3 AS VARCHAR) AS order_id, "
        "a.occurred_at FROM alerts a JOIN bench_alerts b ON md5(b.case_id || b.k) = a.alert_id "
        "WHERE a.status = 'active' AND a.level <> 'warning' AND a.rule <> 'case_overdue' "
        "AND b.s >= 80 AND b.s < 90",
        "CREATE TEMP TABLE bench_orders AS SELECT order_id, MIN(department_code) AS org_code, "
        "MAX(occurred_at) AS last_occurred, CAST(hash(order_id) % 100 AS INTEGER) AS p "
        "FROM bench_ordered GROUP BY order_id",
        "INSERT INTO orders (order_id, org_code, state, version, content, issued_by, issued_at, "
        "reply_days, reply_due_on, automatic, reply_text, replied_by, replied_at, closed_at, "
        "updated_at) SELECT order_id, org_code, CASE WHEN p < 30 THEN 'closed' WHEN p < 50 THEN "
        f"'replied' WHEN CAST(issued AS DATE) + 7 < DATE '{AT:%Y-%m-%d}' THEN 'overdue' "
        "ELSE 'issued' END, CASE WHEN p < 30 THEN 3 WHEN p < 50 THEN 2 ELSE 1 END, "
        "'请核查超期原因并于期限内回复整改情况', 'bench_supervisor_0', issued, 5, "
        "CAST(issued AS DATE) + 7, FALSE, CASE WHEN p < 50 THEN '已核查，已整改' END, "
        "CASE WHEN p < 50 THEN 'bench_department_0' END, "
        "CASE WHEN p < 50 THEN issued + INTERVAL 3 DAY END, "
        "CASE WHEN p < 30 THEN issued + INTERVAL 4 DAY END, issued FROM ("
        f"SELECT *, LEAST(last_occurred + INTERVAL 1 DAY, {at} - INTERVAL 1 HOUR) AS issued "
        "FROM bench_orders)",
        "INSERT INTO order_alerts SELECT order_id, alert_id FROM bench_ordered",
        "INSERT INTO order_transitions (order_id, seq, action, from_state, to_state, actor, "
        "acted_at, reason) SELECT order_id, 1, 'issue', NULL, 'issued', issued_by, issued_at, "
        "NULL FROM orders UNION ALL SELECT order_id, 2, 'reply', 'issued', 'replied', "
        "replied_by, replied_at, reply_text FROM orders WHERE replied_at IS NOT NULL "
        "UNION ALL SELECT order_id, 3, 'accept', 'replied', 'closed', issued_by, closed_at, NULL "
        "FROM orders WHERE closed_at IS NOT NULL",
        # the workflow: closed when cleared; otherwise open (60 %), explained, appealed, under
        # rectification, reported rectified, under an order, closed or dismissed
        "INSERT INTO alert_workflow (alert_id, state, prev_state, version, case_id, org_code, "
        "due_on, close_reason, updated_at, updated_by, order_id) "
        "SELECT a.alert_id, st, CASE WHEN st = 'open' THEN NULL ELSE 'open' END, "
        "CASE WHEN st = 'open' THEN 1 ELSE 2 END, a.case_id, a.department_code, "
        "CASE WHEN st = 'rectifying' THEN CAST(a.first_seen_at AS DATE) + 15 END, "
        "CASE WHEN st = 'closed' THEN 'cleared' END, "
        "CASE WHEN st = 'open' THEN a.first_seen_at ELSE "
        f"LEAST(a.first_seen_at + INTERVAL 2 DAY, {at}) END, "
        "CASE WHEN st = 'open' THEN 'system' ELSE 'bench_department_0' END, o.order_id FROM ("
        "SELECT a.*, b.s, CASE WHEN a.status = 'cleared' THEN 'closed' WHEN b.s < 60 THEN 'open' "
        "WHEN b.s < 66 THEN 'explained' WHEN b.s < 69 THEN 'appealed' WHEN b.s < 76 THEN "
        "'rectifying' WHEN b.s < 80 THEN 'rectified' WHEN b.s < 90 THEN 'open' WHEN b.s < 96 "
        "THEN 'closed' ELSE 'dismissed' END AS st FROM alerts a JOIN bench_alerts b "
        "ON md5(b.case_id || b.k) = a.alert_id) a LEFT JOIN bench_ordered o "
        "ON o.alert_id = a.alert_id",
        "INSERT INTO alert_transitions (alert_id, seq, action, from_state, to_state, actor, "
        "actor_role, acted_at, reason) SELECT alert_id, 1, 'raise', NULL, 'open', 'system', "
        "'system', first_seen_at, NULL FROM alerts UNION ALL SELECT w.alert_id, 2, "
        "CASE w.state WHEN 'explained' THEN 'explain' WHEN 'appealed' THEN 'appeal' "
        "WHEN 'rectifying' THEN 'require_rectification' WHEN 'rectified' THEN 'report_rectified' "
        "WHEN 'dismissed' THEN 'dismiss' ELSE 'close' END, 'open', w.state, w.updated_by, "
        "'department', w.updated_at, '已核实，系系统延迟登记所致，附说明材料' "
        "FROM alert_workflow w WHERE w.version = 2",
        # notifications: a department hears of its yellow and red alerts and its orders, the
        # supervisors of answers; departments have read 60 % of theirs
        "INSERT INTO notifications (notification_id, dedupe_key, kind, recipient_role, "
        "recipient_org, ref, message, created_at) "
        "SELECT substr(md5('n' || key), 1, 32), key, kind, role, org, ref, message, made FROM ("
        "SELECT 'alert.raise:' || alert_id AS key, 'alert.raise' AS kind, 'department' AS role, "
        "department_code AS org, alert_id AS ref, '发现告警：办件 ' || case_id AS message, "
        "first_seen_at AS made FROM alerts WHERE level <> 'warning' UNION ALL "
        "SELECT 'order.issued:' || order_id, 'order.issued', 'department', org_code, order_id, "
        "'收到督办单 ' || order_id, issued_at FROM orders UNION ALL "
        "SELECT 'order.reply:' || order_id, 'order.reply', 'supervisor', NULL, order_id, "
        "'督办单 ' || order_id || ' 已回复', replied_at FROM orders WHERE replied_at IS NOT NULL "
        "UNION ALL SELECT 'alert.' || t.action || ':' || t.alert_id, 'alert.' || t.action, "
        "'supervisor', NULL, t.alert_id, '部门已提交：' || t.reason, t.acted_at "
        "FROM alert_transitions t WHERE t.seq = 2 AND t.action IN "
        "('explain', 'appeal', 'report_rectified'))",
    ]


def _users_sql() -> list[str]:
    return [
        "INSERT INTO notification_reads (notification_id, reader, read_at) "
        "SELECT n.notification_id, u.user_id, n.created_at + INTERVAL 1 HOUR "
        "FROM notifications n JOIN users u ON u.org_code = n.recipient_org "
        "WHERE hash(n.notification_id) % 10 < 6",
    ]


def build_duckdb(path: Path) -> tuple[list[str], list[str]]:
    """The DuckDB database; returns the session secrets of the supervisors and departments."""
    from govwatch.auth.sessions import open_session
    from govwatch.auth.users import add_user
    from govwatch.storage import connect

    if path.exists():
        path.unlink()
    db = connect(f"duckdb:///{path}")
    for sql in _build_sql():
        db.execute(sql)
    password = add_user(db, "bench_supervisor_0", "bench-password-1", "supervisor", None, AT)
    digest = db.scalar("SELECT password_hash FROM users WHERE user_id = ?", [password.user_id])
    # one user per client: the other users share the first one's password hash (argon2 is
    # deliberately slow; nobody signs in with a password here)
    db.execute(
        "INSERT INTO users (user_id, username, display_name, role, org_code, password_hash, "
        "active, created_at, password_changed_at) "
        "SELECT 'us' || i, 'bench_supervisor_' || i, '督查员' || i, 'supervisor', NULL, ?, TRUE, "
        f"?, ? FROM range(1, {CLIENTS}) t(i) UNION ALL "
        "SELECT 'ud' || i, 'bench_department_' || i, '部门用户' || i, 'department', "
        f"'D' || (i % {DEPARTMENTS}), ?, TRUE, ?, ? FROM range({CLIENTS}) t(i)",
        [digest, AT, AT, digest, AT, AT],
    )
    for sql in _users_sql():
        db.execute(sql)
    supervisors = [
        open_session(db, str(uid), AT)[0]
        for (uid,) in db.query(
            "SELECT user_id FROM users WHERE role = 'supervisor' ORDER BY username"
        )
    ]
    departments = [
        open_session(db, str(uid), AT)[0]
        for (uid,) in db.query(
            "SELECT user_id FROM users WHERE role = 'department' ORDER BY username"
        )
    ]
    counts = {t: db.scalar(f"SELECT COUNT(*) FROM {t}") for t in TABLES}
    db.execute("CHECKPOINT")
    db.close()
    print(f"built {path}: {counts}", file=sys.stderr)
    return supervisors, departments


def pg_url() -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_DB


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def build_postgres(duck_path: Path) -> None:
    """The same rows in a PostgreSQL database of their own, copied from the DuckDB file."""
    from govwatch.storage import connect

    _admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    _admin(f"CREATE DATABASE {PG_DB}")
    pg = connect(pg_url())
    duck = connect(f"duckdb:///{duck_path}", migrate=False)
    start = time.perf_counter()
    for name in TABLES:
        pg.execute(f"DELETE FROM {name}")
        batch = 200_000
        total = int(duck.scalar(f"SELECT COUNT(*) FROM {name}") or 0)
        for offset in range(0, total, batch):
            part = duck.arrow(f"SELECT * FROM {name} LIMIT {batch} OFFSET {offset}")
            pg.insert_arrow(name, part)
    duck.close()
    pg.execute("VACUUM ANALYZE")
    pg.close()
    print(f"copied to PostgreSQL in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def drop_postgres() -> None:
    _admin(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")


# The warm-up round of the "different" rows asks for other periods and pages than the measured one.
WARM_OFFSET = CLIENTS * REQUESTS_PER_CLIENT


def _same(path: str) -> Callable[[int], str]:
    return lambda _n: path


def _period(n: int) -> str:
    """A 30-day period of its own per request, starting 2024-01-01 + n days."""
    since = date(2024, 1, 1) + timedelta(days=n)
    return f"/?since={since.isoformat()}&until={(since + timedelta(days=29)).isoformat()}"


def _shifted(path: Callable[[int], str]) -> Callable[[int], str]:
    return lambda n: path(n + WARM_OFFSET)


def _page(n: int) -> str:
    return f"/alerts?page={n + 1}"


def _alert_filter(n: int) -> str:
    """A filter of its own per request: by type, department, county, days of occurrence or
    the beginning of a case number, in turn (and each with its own value)."""
    kind, k = n % 5, n // 5
    if kind == 0:
        rule_type = RULES[k % len(RULES)][2]
        return f"/alerts?status=all&rule_type={quote(rule_type)}&page={k // len(RULES) + 1}"
    if kind == 1:
        return f"/alerts?department=D{k % DEPARTMENTS}&page={k // DEPARTMENTS + 1}"
    if kind == 2:
        return f"/alerts?status=all&region=3301{k % REGIONS + 1:02d}&page={k // REGIONS + 1}"
    if kind == 3:
        first = date(2025, 7, 1) + timedelta(days=k % 110)
        last = first + timedelta(days=k % 7)
        return (
            f"/alerts?status=all&date_by=occurred&date_from={first.isoformat()}"
            f"&date_to={last.isoformat()}"
        )
    return f"/alerts?status=all&case_prefix=C{k + 10}"


def _case_list(n: int) -> str:
    """The case list: a page of its own, a case number prefix, an item, a department."""
    kind, k = n % 4, n // 4
    if kind == 0:
        return f"/cases?page={k + 1}"
    if kind == 1:
        return f"/cases?case_prefix=C{k + 10}"
    if kind == 2:
        return f"/cases?item=I{k % 500}&page={k // 500 + 1}"
    return f"/cases?department=D{k % DEPARTMENTS}&status=open&page={k // DEPARTMENTS + 1}"


DESK_LISTS = ("follow", "replies", "decide", "issue")


def _desk(n: int) -> str:
    """督办台: one of its four lists, for one department, a page of it."""
    name, k = DESK_LISTS[n % 4], n // 4
    return f"/desk?list={name}&org=D{k % DEPARTMENTS}&page={k // DEPARTMENTS % 3 + 1}"


def _todo(n: int) -> str:
    return f"/workspace?page={n // CLIENTS % 5 + 1}"


def _inbox(n: int) -> str:
    return f"/inbox?page={n // CLIENTS + 1}" + ("&unread=1" if n % 2 else "")


def load(base: str, cookies: list[str], path: Callable[[int], str]) -> list[float]:
    """Client i (signed in with cookies[i]) fetches ``path(n)`` REQUESTS_PER_CLIENT times, n
    unique to each request (0 … CLIENTS × REQUESTS_PER_CLIENT − 1)."""
    times: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []

    def client(number: int) -> None:
        jar = {"gw_session": cookies[number]}
        with httpx.Client(base_url=base, cookies=jar, timeout=120) as c:
            for j in range(REQUESTS_PER_CLIENT):
                target = path(number * REQUESTS_PER_CLIENT + j)
                start = time.perf_counter()
                answer = c.get(target)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    if answer.status_code != 200:
                        failures.append(f"{target}: {answer.status_code}")
                    times.append(elapsed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


# (name, path per request, the path as shown, whose accounts: supervisors or departments)
ROWS: tuple[tuple[str, Callable[[int], str], str, str], ...] = (
    ("首页 dashboard", _same("/"), "/", "supervisor"),
    ("预警 alerts list", _same("/alerts"), "/alerts", "supervisor"),
    (
        "预警 alerts, red, page 3",
        _same("/alerts?level=red&page=3"),
        "/alerts?level=red&page=3",
        "supervisor",
    ),
    (
        "首页, every request a different period",
        _period,
        "/?since=2024-01-01 + n days&until=+29 days",
        "supervisor",
    ),
    ("预警, every request a different page", _page, "/alerts?page=n", "supervisor"),
    (
        "预警, every request a different filter",
        _alert_filter,
        "/alerts?rule_type=… / department= / region= / date_from=&date_to= / case_prefix=",
        "supervisor",
    ),
    (
        "办件 cases, every request a different page or search",
        _case_list,
        "/cases?page=n / case_prefix= / item= / department=&status=open",
        "supervisor",
    ),
    (
        "督办台 desk, every request a different list, department, page",
        _desk,
        "/desk?list=…&org=…&page=…",
        "supervisor",
    ),
    (
        "今日待办 to-do, 20 departments, different pages",
        _todo,
        "/workspace?page=n",
        "department",
    ),
    ("消息 inbox, 20 departments, different pages", _inbox, "/inbox?page=n", "department"),
)


def _serve(url: str, code: Path | None = None) -> subprocess.Popen[bytes]:
    """The app on ``url`` in a process of its own; ``code``: a checkout of another revision
    to run instead of this one (the baseline)."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, url, str(PORT)], cwd=code or Path.cwd(), env=env
    )
    base = f"http://127.0.0.1:{PORT}"
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"the app did not start on {url}")
        try:
            httpx.get(base + "/public", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the app did not answer")


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each of these processes (all their threads) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    seen: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seen


def _cpu_used(start: dict[int, float], end: dict[int, float]) -> float:
    """CPU used between two readings by the processes alive at the end (a backend opened in
    between counts whole; one closed in between is not counted)."""
    return sum(cpu - start.get(pid, 0.0) for pid, cpu in end.items())


def _processes(server: subprocess.Popen[bytes], url: str) -> list[int]:
    """The app's process and, on PostgreSQL, the server backends of its connections."""
    pids = [server.pid]
    if url.startswith("postgresql"):
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            pids += [
                int(r[0])
                for r in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                    "pg_backend_pid()",
                    [PG_DB],
                ).fetchall()
            ]
    return pids


def measure(
    engine: str, url: str, accounts: dict[str, list[str]], code: Path | None = None
) -> list[list[object]]:
    """One row per page: requests, median, p95, p95 / target, CPU per request (the app's
    process and, on PostgreSQL, its backends; parallel query workers are not counted)."""
    server = _serve(url, code)
    base = f"http://127.0.0.1:{PORT}"
    rows: list[list[object]] = []
    try:
        for name, path, shown, who in ROWS:
            try:
                load(base, accounts[who], _shifted(path))  # warm up
                start = _cpu_seconds(_processes(server, url))
                times = load(base, accounts[who], path)
                cpu = _cpu_used(start, _cpu_seconds(_processes(server, url)))
            except RuntimeError as exc:  # a failing page is reported, not the whole run lost
                rows.append([engine, name, f"`{shown}`", str(exc), "—", "—", "—", "—"])
                print(" | ".join(str(c) for c in rows[-1]), file=sys.stderr, flush=True)
                continue
            rows.append(
                [
                    engine,
                    name,
                    f"`{shown}`",
                    len(times),
                    f"{statistics.median(times):.0f}",
                    f"{p95(times):.0f}",
                    f"{p95(times) / TARGET_MS:.2f}",
                    f"{cpu * 1000 / len(times):.0f}",
                ]
            )
            print(" | ".join(str(c) for c in rows[-1]), file=sys.stderr, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def _sessions(path: Path) -> dict[str, list[str]]:
    """Fresh sessions of the built users (reused databases)."""
    from govwatch.auth.sessions import open_session
    from govwatch.storage import connect

    db = connect(f"duckdb:///{path}", migrate=False)
    out: dict[str, list[str]] = {}
    for role in ("supervisor", "department"):
        out[role] = [
            open_session(db, str(uid), AT)[0]
            for (uid,) in db.query(
                "SELECT user_id FROM users WHERE role = ? ORDER BY username", [role]
            )
        ]
    db.close()
    return out


# PostgreSQL indexes this revision's migrations add since the baseline (dropped while the
# baseline runs, created again after it).
NEW_PG_INDEXES = ("069_page_indexes.sql",)


def _pg_indexes(create: bool) -> None:
    """Create (or drop) the indexes of :data:`NEW_PG_INDEXES` in the benchmark database."""
    from govwatch.storage import connect

    folder = Path(__file__).resolve().parent.parent / "govwatch" / "storage" / "migrations"
    db = connect(pg_url(), migrate=False)
    for name in NEW_PG_INDEXES:
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("-- postgres:CREATE INDEX"):
                statement = line.removeprefix("-- postgres:")
                index = statement.split()[2]
                db.execute(
                    statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1)
                    if create
                    else f"DROP INDEX IF EXISTS {index}"
                )
    db.execute("ANALYZE")
    db.close()


def _baseline_checkout(rev: str) -> Path:
    """A worktree of ``rev`` beside the benchmark's files (the baseline's code)."""
    root = Path(__file__).resolve().parent.parent
    path = WORK / f"baseline-{rev}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=root, check=True)
    return path


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    db_path = WORK / "pages.duckdb"
    if REUSE and db_path.exists():
        accounts = _sessions(db_path)
    else:
        supervisors, departments = build_duckdb(db_path)
        accounts = {"supervisor": supervisors, "department": departments}
    engines = os.environ.get("GOVWATCH_BENCH_ENGINES", "duckdb,postgres").split(",")
    # GOVWATCH_BENCH_BASELINE=<revision>: the same rows measured with that revision's code in
    # the same run, on the same databases (the "before" of a change)
    baseline = os.environ.get("GOVWATCH_BENCH_BASELINE", "")
    code = _baseline_checkout(baseline) if baseline else None
    # GOVWATCH_BENCH_REVISION=<revision>: measure that commit (a worktree) rather than this
    # working tree, which may hold others' unfinished edits
    revision = os.environ.get("GOVWATCH_BENCH_REVISION", "")
    current = _baseline_checkout(revision) if revision else None
    rows: list[list[object]] = []
    before: list[list[object]] = []
    try:
        if "postgres" in engines and not (REUSE and _pg_exists()):
            build_postgres(db_path)
        elif "postgres" in engines:
            _copy_sessions(db_path)
        if "duckdb" in engines:
            if code is not None:
                before += measure("DuckDB", f"duckdb:///{db_path}", accounts, code)
            rows += measure("DuckDB", f"duckdb:///{db_path}", accounts, current)
        if "postgres" in engines:
            if code is not None:
                _pg_indexes(create=False)
                try:
                    before += measure("PostgreSQL", pg_url(), accounts, code)
                finally:
                    _pg_indexes(create=True)
            rows += measure("PostgreSQL", pg_url(), accounts, current)
    finally:
        if not REUSE:
            drop_postgres()
        remove_worktrees(code, current)
    headers = ["engine", "page", "path", "requests", "median ms", "p95 ms", "p95 / target"]
    headers.append("CPU ms / request")
    if before:
        headers += [f"p95 ms at {baseline}", "p95 before / after"]
        rows = [[*r, b[5], _ratio(b[5], r[5])] for r, b in zip(rows, before, strict=True)]
    measured = f"Code measured: commit {revision}. " if revision else ""
    body = (
        measured
        + f"{CASES:,} cases stored (applied over 118 days, in the order applied), about 3 alerts "
        "per 20 cases with their workflow, orders and notifications; "
        f"{CLIENTS} concurrent clients on loopback (each its own user), "
        f"{REQUESTS_PER_CLIENT} requests each after a warm-up round; target p95 ≤ "
        f"{TARGET_MS:.0f} ms (ratio = p95 / target, ≤ 1 meets it). The same rows on both "
        "engines (built in DuckDB, copied into PostgreSQL). CPU per request: the app's process "
        "and its PostgreSQL backends (a connection closed during the row not counted), "
        "whatever else the machine was doing; with 20 clients on "
        "2 cores a request waits for about 10 others' CPU.\n\n" + table(headers, rows)
    )
    record(
        "pages", "Page time: every page at 1M cases, DuckDB and PostgreSQL (issues 7, 14, 17)", body
    )


def _ratio(before: object, after: object) -> str:
    try:
        return f"{float(str(before)) / max(float(str(after)), 1):.1f}"
    except ValueError:
        return "—"


def _pg_exists() -> bool:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        return bool(
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB]).fetchall()
        )


def _copy_sessions(duck_path: Path) -> None:
    """Reused databases: the DuckDB file's sessions (just opened) into PostgreSQL too."""
    from govwatch.storage import connect

    duck = connect(f"duckdb:///{duck_path}", migrate=False)
    pg = connect(pg_url(), migrate=False)
    pg.execute("DELETE FROM sessions")
    pg.insert_arrow("sessions", duck.arrow("SELECT * FROM sessions"))
    duck.close()
    pg.close()


if __name__ == "__main__":
    main()
