"""The stored next moment of each case: when its state can next change by time passing alone.

For an open case that moment is the earliest, strictly after ``at``, of: the start of the
near-deadline warning (remaining ≤ ``warn_days`` on the promised limit), the day remaining falls
below zero, the day after the promised deadline (yellow) and after the legal deadline (red),
and the day an open step becomes overdue. For a paused case (no warning, its deadlines move
with each paused day) it is the day an open special procedure exceeds its own limit or an open
suspension exceeds ``suspension_max_days``. Finished and terminated cases have none.

Every event that changes a case (import, API, retry) and every calendar or catalog change calls
:func:`refresh_next_check`; the sweeper reads ``case_deadlines.next_check_at`` through its
index and, after evaluating a due case, calls it again at that moment. (The moment lives there,
not in ``cases``: an import rewrites ``cases`` rows while the live evaluator clocks them, and
DuckDB aborts one of two writers of a row.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from govwatch import timeutil
from govwatch.deadlines.views import N_KEY, drop_clock_views, materialize_clock_views
from govwatch.events.cases import ingest_window, window_sql
from govwatch.storage import Database

_IDS = "_gw_clock_ids"
_NEXT = "_gw_clock_next"
_EVENTS = "_gw_clock_events"
# The event columns the clock views read: the scoped events are copied once, not re-read from
# the whole events table by every view.
_EVENT_COLUMNS = (
    "event_id, case_id, item_code, kind, kind_order, occurred_at, case_kind, procedure_kind, "
    "limit_days, limit_unit, step"
)


def _key(unit: str, ordinals: str) -> str:
    """The clock_calendar_keys key of a date's ordinal in ``unit`` (an SQL expression)."""
    return (
        f"CASE WHEN {unit} = 'N' THEN {N_KEY} + {ordinals}.day_ordinal "
        f"ELSE {ordinals}.workday_ordinal END"
    )


def next_moments_sql(at: datetime, warn_days: int, suspension_max_days: int) -> str:
    """Per accepted case: status, deadlines, provisional, next_check_at (needs clock views)."""
    ts = timeutil.sql_timestamp(at)
    today = timeutil.sql_date(at.date())
    target = "c.promised_limit + c.extension_days + c.paused_days_promised"
    promised_key = _key("c.promised_unit", "ca")
    candidates = f"""
SELECT c.case_id, CAST(k.on_date AS TIMESTAMP) AS moment
FROM case_clock c
JOIN calendar ca ON ca.on_date = c.accepted_on
JOIN clock_calendar_keys k ON k.lookup_key = {promised_key} + {target} - {int(warn_days)}
WHERE c.status = 'open' AND c.promised_deadline IS NOT NULL
UNION ALL
SELECT c.case_id, CAST(k.on_date AS TIMESTAMP) AS moment
FROM case_clock c
JOIN calendar ca ON ca.on_date = c.accepted_on
JOIN clock_calendar_keys k ON k.lookup_key = {promised_key} + {target} + 1
WHERE c.status = 'open' AND c.promised_deadline IS NOT NULL
UNION ALL
SELECT c.case_id, CAST(c.promised_deadline + 1 AS TIMESTAMP) AS moment
FROM case_clock c WHERE c.status = 'open' AND c.promised_deadline IS NOT NULL
UNION ALL
SELECT c.case_id, CAST(c.legal_deadline + 1 AS TIMESTAMP) AS moment
FROM case_clock c WHERE c.status = 'open' AND c.legal_deadline IS NOT NULL
UNION ALL
SELECT s.case_id, CAST(k.on_date AS TIMESTAMP) AS moment
FROM step_clock s
JOIN case_clock c ON c.case_id = s.case_id
JOIN calendar cu ON cu.on_date = s.until_on
JOIN clock_calendar_keys k
    ON k.lookup_key = {_key("s.unit", "cu")} - s.elapsed + s.limit_days + 1
WHERE c.status = 'open' AND s.ended_at IS NULL AND s.limit_days IS NOT NULL
UNION ALL
SELECT p.case_id, CAST(k.on_date AS TIMESTAMP) AS moment
FROM case_pauses p
JOIN case_clock c ON c.case_id = p.case_id
JOIN calendar cs ON cs.on_date = p.started_on
JOIN clock_calendar_keys k
    ON k.lookup_key = {_key("COALESCE(p.limit_unit, 'W')", "cs")} + p.limit_days + 1
WHERE c.status = 'paused' AND p.ended_at IS NULL AND p.kind = 'special'
  AND p.limit_days IS NOT NULL
UNION ALL
SELECT p.case_id, CAST(k.on_date AS TIMESTAMP) AS moment
FROM case_pauses p
JOIN case_clock c ON c.case_id = p.case_id
JOIN calendar cs ON cs.on_date = p.started_on
JOIN clock_calendar_keys k
    ON k.lookup_key = {N_KEY} + cs.day_ordinal + {int(suspension_max_days)} + 1
WHERE c.status = 'paused' AND p.ended_at IS NULL AND p.kind = 'suspension'"""
    return f"""SELECT c.case_id, c.status, c.promised_deadline, c.legal_deadline, c.provisional,
    m.next_check_at
FROM case_clock c
LEFT JOIN (
    SELECT x.case_id, MIN(x.moment) AS next_check_at
    FROM ({candidates}
    ) x
    WHERE x.moment > {ts} AND CAST(x.moment AS DATE) >= {today}
    GROUP BY x.case_id
) m ON m.case_id = c.case_id"""


def refresh_next_check(
    db: Database,
    case_ids: Sequence[str] | None = None,
    *,
    at: datetime | None = None,
    warn_days: int = 2,
    suspension_max_days: int = 30,
) -> int:
    """Recompute ``cases.next_check_at`` and ``case_deadlines`` of these cases (None: all).

    Returns the number of accepted cases recomputed. ``warn_days`` is the near_deadline rule's
    parameter (spec/rules.md default 2), ``suspension_max_days`` long_suspension's (30, N).
    """
    moment = at or timeutil.now()
    if case_ids is not None and not case_ids:
        return 0
    drop_clock_views(db)
    db.execute(f"DROP TABLE IF EXISTS {_IDS}")
    db.execute(f"DROP TABLE IF EXISTS {_NEXT}")
    if case_ids is None:
        events = "events"
        scope = "SELECT case_id FROM cases"
    else:
        db.execute(f"CREATE TEMP TABLE {_IDS} (case_id VARCHAR(50) PRIMARY KEY)")
        ids = pa.table({"case_id": pa.array(sorted(set(case_ids)), pa.string())})
        db.insert_arrow(_IDS, ids)
        db.execute(f"DROP TABLE IF EXISTS {_EVENTS}")
        window = window_sql(ingest_window(db, f"SELECT case_id FROM {_IDS}"))  # recent rows
        db.execute(
            f"CREATE TEMP TABLE {_EVENTS} AS SELECT {_EVENT_COLUMNS} FROM events "
            f"WHERE case_id IN (SELECT case_id FROM {_IDS}){window}"
        )
        events = _EVENTS
        scope = f"SELECT case_id FROM {_IDS}"
    materialize_clock_views(db, moment, events=events)
    db.execute(
        f"CREATE TEMP TABLE {_NEXT} AS " + next_moments_sql(moment, warn_days, suspension_max_days)
    )
    stamp = timeutil.sql_timestamp(moment)
    with db.transaction():
        db.execute(f"DELETE FROM case_deadlines WHERE case_id IN ({scope})")
        db.execute(
            "INSERT INTO case_deadlines (case_id, status, promised_deadline, legal_deadline, "
            "provisional, next_check_at, computed_at) "
            f"SELECT case_id, status, promised_deadline, legal_deadline, provisional, "
            f"next_check_at, {stamp} FROM {_NEXT}"
        )
    count = int(db.scalar(f"SELECT count(*) FROM {_NEXT}") or 0)
    drop_clock_views(db)
    db.execute(f"DROP TABLE IF EXISTS {_NEXT}")
    db.execute(f"DROP TABLE IF EXISTS {_EVENTS}")
    db.execute(f"DROP TABLE IF EXISTS {_IDS}")
    return count
