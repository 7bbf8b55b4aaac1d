"""Case and step clocks as an ordered list of SQL views, computed for all cases at once.

``clock_views(at)`` returns ``(name, SELECT)`` pairs; each SELECT reads the base tables
(``events``, ``items``, ``item_steps``, ``calendar``) and the views before it. They are written
in the SQL that DuckDB, PostgreSQL and (through sqlglot, from the ``duckdb`` dialect) Spark share:
joins, window functions, CASE, CAST; no engine-only syntax. The moment is embedded as a
``TIMESTAMP '…'`` literal; only events with ``occurred_at <= at`` count.

Counting (spec/time.md) is ordinal arithmetic on the calendar table: ``days(a, b)`` is
``ord(b) − ord(a)`` with ``workday_ordinal`` for ``W`` and ``day_ordinal`` for ``N``. A deadline
is found by looking up the date whose ordinal is ``ord(A) + L + X + P`` (``clock_calendar_keys``),
moved to the next working day for ``N``. Overlapping pauses count each paused day once: each
pause interval ``(S, E]`` only adds the days after the furthest end of the pauses before it.

Public views (the rule engine's contract, see docs/deadlines.md): ``case_pauses``,
``case_clock``, ``step_clock``. Views named ``clock_*`` are intermediate steps.
"""

from __future__ import annotations

from datetime import datetime

from govwatch.storage import Database
from govwatch.timeutil import sql_date, sql_timestamp

# An offset that keeps natural-day lookup keys apart from working-day ones.
N_KEY = 1_000_000
_ORDER = "occurred_at, kind_order, event_id"


def _status(e: str) -> str:
    """Status from the first finish and the first terminate/reject (the earlier wins)."""
    return (
        f"CASE WHEN {e}.finished_at IS NOT NULL AND ({e}.terminated_at IS NULL "
        f"OR {e}.finished_at <= {e}.terminated_at) THEN 'finished' "
        f"WHEN {e}.terminated_at IS NOT NULL THEN 'terminated' ELSE 'open' END"
    )


def _ended_on(e: str) -> str:
    return (
        f"CAST(CASE WHEN {e}.finished_at IS NOT NULL AND ({e}.terminated_at IS NULL "
        f"OR {e}.finished_at <= {e}.terminated_at) THEN {e}.finished_at "
        f"ELSE {e}.terminated_at END AS DATE)"
    )


def _clock_on(c: str, today: str) -> str:
    """The last day the clock runs: the end date for ended cases (never before A), else today."""
    return (
        f"CASE WHEN {c}.status IN ('finished', 'terminated') AND {c}.ended_on > {c}.accepted_on "
        f"THEN {c}.ended_on WHEN {c}.status IN ('finished', 'terminated') THEN {c}.accepted_on "
        f"ELSE {today} END"
    )


def clock_views(at: datetime, *, events: str = "events") -> list[tuple[str, str]]:
    """The clock views at moment ``at`` (Shanghai wall time), in creation order.

    ``events`` may name another relation with the columns of ``events`` (for example a
    parenthesised subquery restricted to some cases) so that callers can clock a few cases.
    """
    ts = sql_timestamp(at)
    today = sql_date(at.date())
    ev = f"{events} ev"
    views: list[tuple[str, str]] = []

    views.append(
        (
            "clock_calendar_keys",
            f"""SELECT k.lookup_key, k.on_date, k.next_workday,
    n.workday_ordinal AS d_workday_ordinal, n.day_ordinal AS d_day_ordinal,
    n.provisional_ordinal AS d_provisional_ordinal
FROM (
    SELECT workday_ordinal AS lookup_key, on_date, next_workday FROM calendar WHERE is_workday
    UNION ALL
    SELECT {N_KEY} + day_ordinal AS lookup_key, on_date, next_workday FROM calendar
) k
LEFT JOIN calendar n ON n.on_date = k.next_workday""",
        )
    )

    views.append(
        (
            "clock_case_events",
            f"""SELECT ev.case_id,
    MIN(CASE WHEN ev.kind = 'accept' THEN ev.occurred_at END) AS accepted_at,
    MIN(CASE WHEN ev.kind = 'accept' THEN ev.item_code END) AS accept_item_code,
    CASE MIN(CASE WHEN ev.kind = 'accept' AND ev.case_kind = '1' THEN 1
                  WHEN ev.kind = 'accept' AND ev.case_kind = '2' THEN 2 END)
        WHEN 1 THEN '1' WHEN 2 THEN '2' END AS accept_case_kind,
    MIN(CASE WHEN ev.kind = 'finish' THEN ev.occurred_at END) AS finished_at,
    MIN(CASE WHEN ev.kind IN ('terminate', 'reject') THEN ev.occurred_at END) AS terminated_at,
    CAST(SUM(CASE WHEN ev.kind = 'special_start' AND ev.procedure_kind = '1'
        THEN COALESCE(ev.limit_days, 0) ELSE 0 END) AS INTEGER) AS extension_days
FROM {ev}
WHERE ev.occurred_at <= {ts}
GROUP BY ev.case_id""",
        )
    )

    views.append(
        (
            "case_pauses",
            f"""SELECT p.case_id, p.kind, p.start_event_id, p.started_at, p.ended_at,
    p.limit_days, p.limit_unit, p.started_on, p.until_on,
    CAST(ce.workday_ordinal - cs.workday_ordinal AS INTEGER) AS days_w,
    CAST(ce.day_ordinal - cs.day_ordinal AS INTEGER) AS days_n
FROM (
    SELECT q.case_id, q.kind, q.start_event_id, q.started_at, q.ended_at, q.limit_days,
        q.limit_unit, CAST(q.started_at AS DATE) AS started_on,
        CASE WHEN q.ended_at IS NULL THEN {today} ELSE CAST(q.ended_at AS DATE) END AS until_on
    FROM (
        SELECT x.case_id, x.kind, x.event_id AS start_event_id, x.occurred_at AS started_at,
            x.limit_days, x.limit_unit, x.is_start,
            MIN(CASE WHEN x.is_start = 0 THEN x.occurred_at END) OVER (
                PARTITION BY x.case_id, x.kind ORDER BY x.occurred_at, x.kind_order, x.event_id
                ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS ended_at
        FROM (
            SELECT ev.case_id, ev.event_id, ev.occurred_at, ev.kind_order,
                CASE WHEN ev.kind = 'special_start' THEN ev.limit_days END AS limit_days,
                CASE WHEN ev.kind = 'special_start' THEN ev.limit_unit END AS limit_unit,
                CASE WHEN ev.kind IN ('supplement_request', 'supplement_received')
                        THEN 'supplement'
                     WHEN ev.kind IN ('special_start', 'special_end') THEN 'special'
                     ELSE 'suspension' END AS kind,
                CASE WHEN ev.kind IN ('supplement_request', 'special_start', 'suspend')
                     THEN 1 ELSE 0 END AS is_start
            FROM {ev}
            WHERE ev.occurred_at <= {ts}
              AND (ev.kind IN ('supplement_request', 'supplement_received', 'suspend',
                               'resume', 'special_end')
                   OR (ev.kind = 'special_start' AND ev.procedure_kind = '2'))
        ) x
    ) q
    WHERE q.is_start = 1
) p
LEFT JOIN calendar cs ON cs.on_date = p.started_on
LEFT JOIN calendar ce ON ce.on_date = p.until_on""",
        )
    )

    views.append(
        (
            "clock_case_base",
            f"""SELECT c.*, {_clock_on("c", today)} AS clock_on
FROM (
    SELECT e.case_id, e.accept_item_code AS item_code,
        e.accepted_at, CAST(e.accepted_at AS DATE) AS accepted_on,
        COALESCE(e.accept_case_kind, i.case_kind) AS case_kind,
        {_status("e")} AS status,
        e.finished_at, e.terminated_at, {_ended_on("e")} AS ended_on,
        CASE WHEN i.item_code IS NULL THEN NULL
             WHEN COALESCE(e.accept_case_kind, i.case_kind) = '1' THEN 0
             ELSE i.promised_limit END AS promised_limit,
        CASE WHEN i.item_code IS NULL THEN NULL ELSE i.promised_limit_unit END AS promised_unit,
        CASE WHEN i.item_code IS NULL THEN NULL
             WHEN COALESCE(e.accept_case_kind, i.case_kind) = '1' THEN COALESCE(i.legal_limit, 0)
             ELSE i.legal_limit END AS legal_limit,
        CASE WHEN i.item_code IS NULL THEN NULL ELSE i.legal_limit_unit END AS legal_unit,
        e.extension_days
    FROM clock_case_events e
    LEFT JOIN items i ON i.item_code = e.accept_item_code
    WHERE e.accepted_at IS NOT NULL
) c""",
        )
    )

    # The clock window of the cases that have pauses, from their own events only: engines
    # inline views, and reading clock_case_base here would compute the whole per-case
    # pipeline twice. The distinct pause cases drive the join (the small side).
    views.append(
        (
            "clock_pause_bounds",
            f"""SELECT c.case_id, c.accepted_on, c.status, {_clock_on("c", today)} AS clock_on
FROM (
    SELECT e.case_id, CAST(e.accepted_at AS DATE) AS accepted_on, {_status("e")} AS status,
        {_ended_on("e")} AS ended_on
    FROM (
        SELECT ev.case_id,
            MIN(CASE WHEN ev.kind = 'accept' THEN ev.occurred_at END) AS accepted_at,
            MIN(CASE WHEN ev.kind = 'finish' THEN ev.occurred_at END) AS finished_at,
            MIN(CASE WHEN ev.kind IN ('terminate', 'reject') THEN ev.occurred_at END)
                AS terminated_at
        FROM (
            SELECT DISTINCT p.case_id FROM {events} p
            WHERE p.kind IN ('supplement_request', 'special_start', 'suspend')
              AND p.occurred_at <= {ts}
        ) pc
        JOIN {ev} ON ev.case_id = pc.case_id
        WHERE ev.occurred_at <= {ts}
          AND ev.kind IN ('accept', 'finish', 'terminate', 'reject')
        GROUP BY ev.case_id
    ) e
    WHERE e.accepted_at IS NOT NULL
) c""",
        )
    )

    # Paused days inside each case's clock window (A, clock_on], overlapping pauses merged.
    views.append(
        (
            "clock_case_paused",
            """SELECT w.case_id,
    CAST(SUM(CASE WHEN w.e > w.s2 THEN ce.workday_ordinal - cs.workday_ordinal ELSE 0 END)
        AS INTEGER) AS paused_w,
    CAST(SUM(CASE WHEN w.e > w.s2 THEN ce.day_ordinal - cs.day_ordinal ELSE 0 END)
        AS INTEGER) AS paused_n,
    MAX(w.open_now) AS paused_now
FROM (
    SELECT v.case_id, v.e, v.open_now,
        CASE WHEN v.prev_e IS NOT NULL AND v.prev_e > v.s THEN v.prev_e ELSE v.s END AS s2
    FROM (
        SELECT u.case_id, u.s, u.e, u.open_now,
            MAX(u.e) OVER (PARTITION BY u.case_id ORDER BY u.s, u.e
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
        FROM (
            SELECT p.case_id,
                CASE WHEN p.started_on > b.accepted_on THEN p.started_on
                     ELSE b.accepted_on END AS s,
                CASE WHEN p.until_on < b.clock_on THEN p.until_on ELSE b.clock_on END AS e,
                CASE WHEN p.ended_at IS NULL AND b.status = 'open' THEN 1 ELSE 0 END
                    AS open_now
            FROM case_pauses p
            JOIN clock_pause_bounds b ON b.case_id = p.case_id
        ) u
    ) v
) w
LEFT JOIN calendar cs ON cs.on_date = w.s2
LEFT JOIN calendar ce ON ce.on_date = w.e
GROUP BY w.case_id""",
        )
    )

    views.append(
        (
            "clock_case_targets",
            f"""SELECT t.*,
    CASE WHEN t.promised_unit = 'N' THEN {N_KEY} + t.a_day_ordinal + t.promised_total
         ELSE t.a_workday_ordinal + t.promised_total END AS promised_key,
    CASE WHEN t.legal_unit = 'N' THEN {N_KEY} + t.a_day_ordinal + t.legal_total
         ELSE t.a_workday_ordinal + t.legal_total END AS legal_key
FROM (
    SELECT b.*,
        CASE WHEN pd.paused_now = 1 THEN 1 ELSE 0 END AS paused_now,
        COALESCE(pd.paused_w, 0) AS paused_w, COALESCE(pd.paused_n, 0) AS paused_n,
        CASE WHEN b.promised_unit = 'N' THEN COALESCE(pd.paused_n, 0)
             ELSE COALESCE(pd.paused_w, 0) END AS paused_days_promised,
        CASE WHEN b.legal_unit = 'N' THEN COALESCE(pd.paused_n, 0)
             ELSE COALESCE(pd.paused_w, 0) END AS paused_days_legal,
        b.promised_limit + b.extension_days + CASE WHEN b.promised_unit = 'N'
            THEN COALESCE(pd.paused_n, 0) ELSE COALESCE(pd.paused_w, 0) END AS promised_total,
        b.legal_limit + b.extension_days + CASE WHEN b.legal_unit = 'N'
            THEN COALESCE(pd.paused_n, 0) ELSE COALESCE(pd.paused_w, 0) END AS legal_total,
        ca.workday_ordinal AS a_workday_ordinal, ca.day_ordinal AS a_day_ordinal,
        ca.provisional_ordinal AS a_provisional_ordinal, ca.provisional AS a_provisional,
        cc.workday_ordinal AS c_workday_ordinal, cc.day_ordinal AS c_day_ordinal,
        cc.provisional_ordinal AS c_provisional_ordinal
    FROM clock_case_base b
    LEFT JOIN clock_case_paused pd ON pd.case_id = b.case_id
    LEFT JOIN calendar ca ON ca.on_date = b.accepted_on
    LEFT JOIN calendar cc ON cc.on_date = b.clock_on
) t""",
        )
    )

    views.append(
        (
            "clock_case_deadlines",
            """SELECT t.*,
    CASE WHEN t.promised_total = 0 THEN t.accepted_on ELSE kp.next_workday END
        AS promised_deadline,
    CASE WHEN t.promised_total = 0 THEN t.a_workday_ordinal ELSE kp.d_workday_ordinal END
        AS promised_d_workday_ordinal,
    CASE WHEN t.promised_total = 0 THEN t.a_day_ordinal ELSE kp.d_day_ordinal END
        AS promised_d_day_ordinal,
    CASE WHEN t.promised_total = 0 THEN t.a_provisional_ordinal
        ELSE kp.d_provisional_ordinal END AS promised_d_provisional_ordinal,
    CASE WHEN t.legal_total = 0 THEN t.accepted_on ELSE kl.next_workday END AS legal_deadline,
    CASE WHEN t.legal_total = 0 THEN t.a_workday_ordinal ELSE kl.d_workday_ordinal END
        AS legal_d_workday_ordinal,
    CASE WHEN t.legal_total = 0 THEN t.a_day_ordinal ELSE kl.d_day_ordinal END
        AS legal_d_day_ordinal,
    CASE WHEN t.legal_total = 0 THEN t.a_provisional_ordinal
        ELSE kl.d_provisional_ordinal END AS legal_d_provisional_ordinal
FROM clock_case_targets t
LEFT JOIN clock_calendar_keys kp ON kp.lookup_key = t.promised_key
LEFT JOIN clock_calendar_keys kl ON kl.lookup_key = t.legal_key""",
        )
    )

    views.append(("case_clock", _case_clock_sql()))
    views.extend(_step_views(ts, today, events))
    return views


def _limit_columns(prefix: str) -> str:
    """The six per-limit columns of ``case_clock`` for ``promised`` or ``legal``."""
    unit = f"d.{prefix}_unit"
    elapsed = (
        f"(CASE WHEN {unit} = 'N' THEN d.c_day_ordinal - d.a_day_ordinal "
        f"ELSE d.c_workday_ordinal - d.a_workday_ordinal END - d.paused_days_{prefix})"
    )
    overdue = (
        f"(d.{prefix}_deadline IS NOT NULL AND d.status <> 'terminated' "
        f"AND d.clock_on > d.{prefix}_deadline)"
    )
    late = (
        f"CASE WHEN {unit} = 'N' THEN d.c_day_ordinal - d.{prefix}_d_day_ordinal "
        f"ELSE d.c_workday_ordinal - d.{prefix}_d_workday_ordinal END"
    )
    return f"""d.{prefix}_limit, {unit} AS {prefix}_unit, d.{prefix}_deadline,
    CAST(CASE WHEN d.{prefix}_limit IS NULL THEN NULL ELSE {elapsed} END AS INTEGER)
        AS {prefix}_elapsed,
    CAST(CASE WHEN d.{prefix}_limit IS NULL THEN NULL
        ELSE d.{prefix}_limit + d.extension_days - {elapsed} END AS INTEGER)
        AS {prefix}_remaining,
    CASE WHEN {overdue} THEN TRUE ELSE FALSE END AS {prefix}_overdue,
    CAST(CASE WHEN {overdue} THEN CASE WHEN {late} > 1 THEN {late} ELSE 1 END ELSE 0 END
        AS INTEGER) AS {prefix}_days_late"""


def _case_clock_sql() -> str:
    reaches = (
        "(d.promised_d_provisional_ordinal > d.a_provisional_ordinal"
        " OR d.legal_d_provisional_ordinal > d.a_provisional_ordinal"
        " OR d.c_provisional_ordinal > d.a_provisional_ordinal)"
    )
    missing = (
        "(d.promised_limit IS NOT NULL AND d.promised_deadline IS NULL)"
        " OR (d.legal_limit IS NOT NULL AND d.legal_deadline IS NULL)"
        " OR d.a_provisional IS NULL OR d.a_provisional"
    )
    return f"""SELECT d.case_id, d.item_code, d.case_kind, d.accepted_at, d.accepted_on,
    CASE WHEN d.status = 'open' AND d.paused_now = 1 THEN 'paused' ELSE d.status END AS status,
    CASE WHEN d.status = 'finished' THEN d.finished_at END AS finished_at,
    CASE WHEN d.status = 'terminated' THEN d.terminated_at END AS terminated_at,
    CASE WHEN d.status = 'open' AND d.paused_now = 1 THEN TRUE ELSE FALSE END AS paused_now,
    CASE WHEN {missing} OR {reaches} THEN TRUE ELSE FALSE END AS provisional,
    d.clock_on,
    {_limit_columns("promised")},
    {_limit_columns("legal")},
    d.extension_days, d.paused_days_promised, d.paused_days_legal, d.paused_w, d.paused_n
FROM clock_case_deadlines d"""


def _step_views(ts: str, today: str, events: str) -> list[tuple[str, str]]:
    # A start ends at the first step_end of its step after it: a join on (case, step) and a
    # MIN, which costs half of a frame window over every step event.
    after = (
        "(ss.occurred_at < se.occurred_at OR (ss.occurred_at = se.occurred_at "
        "AND (ss.kind_order < se.kind_order OR (ss.kind_order = se.kind_order "
        "AND ss.event_id < se.event_id))))"
    )
    base = f"""SELECT s.case_id, s.step, s.start_event_id, s.started_at, s.ended_at,
    CAST(s.started_at AS DATE) AS started_on,
    CASE WHEN s.ended_at IS NULL THEN {today} ELSE CAST(s.ended_at AS DATE) END AS until_on,
    lim.limit_days, COALESCE(lim.unit, 'W') AS unit
FROM (
    SELECT ss.case_id, ss.step, ss.event_id AS start_event_id, ss.occurred_at AS started_at,
        MIN(se.occurred_at) AS ended_at
    FROM {events} ss
    LEFT JOIN {events} se ON se.case_id = ss.case_id AND se.step = ss.step
        AND se.kind = 'step_end' AND se.occurred_at <= {ts} AND {after}
    WHERE ss.kind = 'step_start' AND ss.step IS NOT NULL AND ss.occurred_at <= {ts}
    GROUP BY ss.case_id, ss.step, ss.event_id, ss.occurred_at
) s
LEFT JOIN clock_case_events e ON e.case_id = s.case_id
LEFT JOIN (
    SELECT st.item_code, st.name, MIN(st.limit_days) AS limit_days, MIN(st.unit) AS unit
    FROM item_steps st
    GROUP BY st.item_code, st.name
) lim ON lim.item_code = e.accept_item_code AND lim.name = s.step"""

    paused = """SELECT w.start_event_id,
    CAST(SUM(CASE WHEN w.e > w.s2 THEN ce.workday_ordinal - cs.workday_ordinal ELSE 0 END)
        AS INTEGER) AS paused_w,
    CAST(SUM(CASE WHEN w.e > w.s2 THEN ce.day_ordinal - cs.day_ordinal ELSE 0 END)
        AS INTEGER) AS paused_n
FROM (
    SELECT v.start_event_id, v.e,
        CASE WHEN v.prev_e IS NOT NULL AND v.prev_e > v.s THEN v.prev_e ELSE v.s END AS s2
    FROM (
        SELECT u.start_event_id, u.s, u.e,
            MAX(u.e) OVER (PARTITION BY u.start_event_id ORDER BY u.s, u.e
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
        FROM (
            SELECT b.start_event_id,
                CASE WHEN p.started_on > b.started_on THEN p.started_on
                     ELSE b.started_on END AS s,
                CASE WHEN p.until_on < b.until_on THEN p.until_on ELSE b.until_on END AS e
            FROM clock_step_base b
            JOIN case_pauses p ON p.case_id = b.case_id
        ) u
    ) v
) w
LEFT JOIN calendar cs ON cs.on_date = w.s2
LEFT JOIN calendar ce ON ce.on_date = w.e
GROUP BY w.start_event_id"""

    elapsed = (
        "(CASE WHEN b.unit = 'N' THEN ce.day_ordinal - cs.day_ordinal "
        "ELSE ce.workday_ordinal - cs.workday_ordinal END - CASE WHEN b.unit = 'N' "
        "THEN COALESCE(sp.paused_n, 0) ELSE COALESCE(sp.paused_w, 0) END)"
    )
    overdue = f"(b.limit_days IS NOT NULL AND {elapsed} > b.limit_days)"
    clock = f"""SELECT b.case_id, b.step, b.start_event_id, b.started_at, b.ended_at,
    b.started_on, b.until_on, b.limit_days, b.unit,
    CAST({elapsed} AS INTEGER) AS elapsed,
    CASE WHEN {overdue} THEN TRUE ELSE FALSE END AS overdue,
    CAST(CASE WHEN {overdue} THEN {elapsed} - b.limit_days ELSE 0 END AS INTEGER) AS days_late,
    CASE WHEN cs.provisional OR ce.provisional_ordinal > cs.provisional_ordinal
         OR cs.on_date IS NULL OR ce.on_date IS NULL
         THEN TRUE ELSE FALSE END AS provisional
FROM clock_step_base b
LEFT JOIN clock_step_paused sp ON sp.start_event_id = b.start_event_id
LEFT JOIN calendar cs ON cs.on_date = b.started_on
LEFT JOIN calendar ce ON ce.on_date = b.until_on"""
    return [("clock_step_base", base), ("clock_step_paused", paused), ("step_clock", clock)]


def install_clock_views(db: Database, at: datetime, *, events: str = "events") -> None:
    """Create (or replace) the clock views at ``at`` on ``db``.

    The views are temporary (per connection), so that two connections clocking different
    moments never see each other's and nothing is left in a database file.
    """
    temp = "TEMP "
    drop_clock_views(db)
    for name, select in clock_views(at, events=events):
        db.execute(f"CREATE {temp}VIEW {name} AS {select}")


def materialize_clock_views(db: Database, at: datetime, *, events: str = "events") -> None:
    """Compute the clocks at ``at`` into temporary tables, one per view, in order.

    This is how callers that clock many cases use the views (the rule engine does the same):
    engines inline views, so a view read by two later ones would be computed twice.
    """
    drop_clock_views(db)
    for name, select in clock_views(at, events=events):
        db.execute(f"CREATE TEMP TABLE {name} AS {select}")


def drop_clock_views(db: Database) -> None:
    """Drop this connection's clock views or tables, if any (latest first)."""
    names = [name for name, _ in clock_views(datetime(2000, 1, 1))]
    marks = ", ".join("?" for _ in names)
    if db.dialect == "duckdb":
        sql = (
            "SELECT table_name, table_type FROM information_schema.tables "
            f"WHERE table_catalog = 'temp' AND table_name IN ({marks})"
        )
    else:
        sql = (
            "SELECT c.relname, CASE WHEN c.relkind = 'v' THEN 'VIEW' ELSE 'TABLE' END "
            "FROM pg_class c WHERE c.relnamespace = pg_my_temp_schema() "
            f"AND c.relname IN ({marks})"
        )
    found = dict(db.query(sql, names))
    for name in reversed(names):
        if name in found:
            kind = "VIEW" if str(found[name]).upper() == "VIEW" else "TABLE"
            db.execute(f"DROP {kind} IF EXISTS {name}")
