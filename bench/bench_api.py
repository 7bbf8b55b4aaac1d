"""JSON API benchmarks (issue 5); ingestion through ``POST /api/v1/events`` is bench_live.py.

p95 latency of ``GET /api/v1/alerts`` with 1 million cases stored (target ≤ 200 ms), for a
supervisor (whole province) and a department user (its subtree), over several filters.
Cases, alerts and workflow rows are bulk-generated in SQL (engine-shaped rows), not ingested.
"""

from __future__ import annotations

import socket
import statistics
import sys
import threading
import time
from datetime import datetime

import httpx

from bench.common import WORK, record, scaled, table

BATCH = 500
T0 = datetime(2025, 10, 9, 10, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    def __init__(self, db_url: str) -> None:
        import uvicorn

        from govwatch.web.app import create_app

        self.app = create_app(db_url)
        self.port = _free_port()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _bulk(url: str, cases: int) -> tuple[int, str]:
    """Store ``cases`` cases and about a third as many alerts with workflows, in SQL."""
    from govwatch.storage import connect

    db = connect(url)
    depts = 400
    db.execute(
        "INSERT INTO cases (case_id, item_code, org_code, region_code, department_code, channel, "
        "applied_at, accepted_at, case_kind, status, event_count, first_at, last_at) "
        "SELECT 'C' || lpad(CAST(i AS VARCHAR), 9, '0'), 'ITEM' || CAST(i % 2000 AS VARCHAR), "
        f"'D' || CAST(i % {depts} AS VARCHAR), '3301' || lpad(CAST(i % 12 AS VARCHAR), 2, '0'), "
        f"'D' || CAST(i % {depts} AS VARCHAR), '1', "
        "TIMESTAMP '2025-01-01 09:00:00' + to_seconds(i * 30), "
        "TIMESTAMP '2025-01-01 10:00:00' + to_seconds(i * 30), '2', 'open', 3, "
        "TIMESTAMP '2025-01-01 09:00:00' + to_seconds(i * 30), "
        "TIMESTAMP '2025-01-01 10:00:00' + to_seconds(i * 30) "
        f"FROM range({cases}) t(i)"
    )
    rules = ["near_deadline", "case_overdue", "step_overdue", "missing_materials", "unlisted_fee"]
    levels = ["warning", "yellow", "yellow", "yellow", "red"]
    rule_sql = "[" + ", ".join(f"'{r}'" for r in rules) + "]"
    level_sql = "[" + ", ".join(f"'{v}'" for v in levels) + "]"
    db.execute(
        "INSERT INTO alerts SELECT sha256(case_id || '|' || rule || '|'), case_id, rule, "
        "'timeliness', '办理超期异常', '', level, "
        "CASE WHEN n % 4 = 0 THEN 'cleared' ELSE 'active' END, '测试告警', '{}', 0, item_code, "
        "region_code, department_code, org_code, last_at, last_at + to_seconds(n % 86400), "
        "last_at, CASE WHEN n % 4 = 0 THEN last_at END "
        f"FROM (SELECT *, {rule_sql}[1 + n % 5] AS rule, {level_sql}[1 + n % 5] AS level "
        "FROM (SELECT *, CAST(substr(case_id, 2) AS BIGINT) AS n FROM cases) c "
        "WHERE n % 3 = 0) x"
    )
    db.execute(
        "INSERT INTO alert_workflow (alert_id, state, version, case_id, org_code, updated_at, "
        "updated_by) SELECT alert_id, CASE WHEN status = 'cleared' THEN 'closed' ELSE "
        "'open' END, 1, case_id, department_code, last_seen_at, 'system' FROM alerts"
    )
    count = int(db.scalar("SELECT count(*) FROM alerts"))
    db.close()
    return count, "D7"


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_alerts() -> list[list[object]]:
    from govwatch.auth.orgs import add_org
    from govwatch.auth.tokens import create_token
    from govwatch.storage import connect

    path = WORK / "api-alerts.duckdb"
    path.unlink(missing_ok=True)
    url = f"duckdb:///{path}"
    cases = scaled(1_000_000)
    alert_count, dept = _bulk(url, cases)
    db = connect(url, migrate=False)
    add_org(db, dept, "部门", "department", None, "330101", T0)
    sup, _ = create_token(db, "sup", "supervisor", [], "bench", T0)
    dep, _ = create_token(db, "dep", "department", [dept], "bench", T0)
    db.close()
    queries = [
        "",
        "?status=active",
        "?level=red",
        "?state=open&level=yellow",
        "?rule=case_overdue",
        "?region_code=330105",
        "?offset=500&limit=100",
        "?since=2025-06-01T00:00:00%2B08:00",
    ]
    rows: list[list[object]] = []
    with _Server(url) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        for who, token in (("supervisor", sup), ("department", dep)):
            headers = {"Authorization": f"Bearer {token}"}
            timings: list[float] = []
            for _round in range(6):
                for q in queries:
                    started = time.perf_counter()
                    answer = client.get(f"/api/v1/alerts{q}", headers=headers)
                    timings.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
            timings = timings[len(queries) :]  # the first round warms caches
            p95 = _p(timings, 0.95)
            rows.append(
                [
                    who,
                    len(timings),
                    f"{statistics.median(timings):.0f}",
                    f"**{p95:.0f}**",
                    f"{max(timings):.0f}",
                    "met" if p95 <= 200 else "**not met**",
                ]
            )
    rows.append([f"({cases:,} cases, {alert_count:,} alerts)", "", "", "", "", ""])
    return rows


def record_alerts(alerts: list[list[object]]) -> None:
    body = (
        "`GET /api/v1/alerts` latency in ms with 1 million cases stored (8 filter combinations × "
        "5 rounds after one warm-up round, one client at a time, loopback uvicorn, DuckDB; "
        "bearer tokens; the list reads the page's ids first, then only those rows):\n\n"
        + table(["caller", "requests", "p50", "p95", "max", "target p95 ≤ 200 ms"], alerts)
    )
    record("api-alerts", "JSON API: alert listing latency at 1M cases (issue 5)", body)


def main(argv: list[str] | None = None) -> None:
    """p95 of the alert list at 1M cases (ingestion through the API: bench_live.py)."""
    WORK.mkdir(parents=True, exist_ok=True)
    record_alerts(bench_alerts())


if __name__ == "__main__":
    main(sys.argv[1:])
