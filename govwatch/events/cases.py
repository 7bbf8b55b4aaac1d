"""Case state derived from the ordered event history.

``cases`` holds one row per case: its item, who handles it, the first apply, accept, finish,
terminate and reject moments, and its status. It is rebuilt, set-based, for every case an
import touched, from all the events the case has, in the order ``(occurred_at, kind_order,
event_id)``; the order in which events arrived never matters. Clocks and rules read events
directly; this table serves lists, filters and metrics. An import killed before its rebuild
leaves its cases to the next import, which finds them by the run's stamp
(:func:`cases_stamped`; see :mod:`govwatch.events.ingest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from govwatch.storage import Database
from govwatch.timeutil import sql_timestamp

_REBUILD = """
INSERT INTO cases (case_id, item_code, org_code, region_code, department_code, channel,
    applied_at, accepted_at, case_kind, finished_at, result, terminated_at, rejected_at,
    status, event_count, first_at, last_at, updated_at, first_ingested_at)
SELECT q.case_id, q.item_code, q.org_code, it.region_code, it.department_code, q.channel,
    q.applied_at, q.accepted_at, COALESCE(q.accept_case_kind, it.case_kind), q.finished_at,
    q.result, q.terminated_at, q.rejected_at,
    CASE WHEN q.finished_at IS NOT NULL THEN 'finished'
         WHEN q.terminated_at IS NOT NULL OR q.rejected_at IS NOT NULL THEN 'terminated'
         WHEN q.accepted_at IS NOT NULL THEN 'open'
         ELSE 'applied' END,
    q.n, q.first_at, q.last_at, CURRENT_TIMESTAMP, q.first_ingested_at
FROM (
    SELECT a.case_id,
        ip.item_code,
        COALESCE(acc.org_code, ap.org_code) AS org_code,
        ap.channel,
        ap.occurred_at AS applied_at,
        acc.occurred_at AS accepted_at,
        acc.case_kind AS accept_case_kind,
        fin.occurred_at AS finished_at,
        fin.result,
        ter.occurred_at AS terminated_at,
        rej.occurred_at AS rejected_at,
        a.n, a.first_at, a.last_at, a.first_ingested_at
    FROM (
        SELECT case_id, COUNT(*) AS n, MIN(occurred_at) AS first_at, MAX(occurred_at) AS last_at,
            MIN(ingested_at) AS first_ingested_at
        FROM _gw_case_events GROUP BY case_id
    ) a
    LEFT JOIN (
        SELECT case_id, item_code, ROW_NUMBER() OVER (
            PARTITION BY case_id ORDER BY occurred_at, kind_order, event_id) AS k
        FROM _gw_case_events
        WHERE kind IN ('apply', 'accept') AND item_code IS NOT NULL
    ) ip ON ip.case_id = a.case_id AND ip.k = 1
    LEFT JOIN (SELECT * FROM (
        SELECT case_id, org_code, channel, occurred_at,
            ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY occurred_at, kind_order, event_id) AS k
        FROM _gw_case_events
        WHERE kind = 'apply') z WHERE z.k = 1
    ) ap ON ap.case_id = a.case_id
    LEFT JOIN (SELECT * FROM (
        SELECT case_id, kind, org_code, case_kind, occurred_at,
            ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY occurred_at, kind_order, event_id) AS k
        FROM _gw_case_events
        WHERE kind = 'accept') z WHERE z.k = 1
    ) acc ON acc.case_id = a.case_id
    LEFT JOIN (SELECT * FROM (
        SELECT case_id, result, occurred_at,
            ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY occurred_at, kind_order, event_id) AS k
        FROM _gw_case_events
        WHERE kind = 'finish') z WHERE z.k = 1
    ) fin ON fin.case_id = a.case_id
    LEFT JOIN (
        SELECT case_id, MIN(occurred_at) AS occurred_at FROM _gw_case_events
        WHERE kind = 'terminate' GROUP BY case_id
    ) ter ON ter.case_id = a.case_id
    LEFT JOIN (
        SELECT case_id, MIN(occurred_at) AS occurred_at FROM _gw_case_events
        WHERE kind = 'reject' GROUP BY case_id
    ) rej ON rej.case_id = a.case_id
) q
LEFT JOIN items it ON it.item_code = q.item_code
"""


# Cases rebuilt per statement: enough to amortise a pass over the store, few enough that
# their events fit in the import's memory cap without spilling.
BATCH_CASES = 100_000


def ingest_window(
    db: Database, scope: str, params: Sequence[Any] = (), *, since: datetime | None = None
) -> datetime | None:
    """The earliest ``ingested_at`` of any stored event (or material) of the scoped cases.

    ``scope`` is a query of case ids. Each case's events were ingested at or after its
    ``cases.first_ingested_at``; rows are appended in ingestion order, so DuckDB skips the
    older row groups by their statistics. ``since`` is the stamp of an import's own rows (new
    cases have no ``cases`` row yet; an existing case may get rows of an import that began
    before its first one, on PostgreSQL): the window reaches back to it. None (read
    everything) when a scoped case has no known moment and no ``since`` covers it; see
    :func:`window_sql`.
    """
    rows = db.query(
        "SELECT COUNT(*), COUNT(c.first_ingested_at), MIN(c.first_ingested_at) "
        f"FROM cases c WHERE c.case_id IN ({scope})",
        params,
    )
    found, known, earliest = rows[0] if rows else (0, 0, None)
    if int(found) != int(known):
        return None  # rows stored before first_ingested_at was kept
    if since is not None:
        earliest = since if earliest is None else min(earliest, since)
    else:
        total = int(db.scalar(f"SELECT COUNT(*) FROM ({scope}) s", params) or 0)
        if total != int(found):  # a case without a cases row: nothing to go by
            return None
    return None if earliest is None else earliest


def window_sql(since: datetime | None, column: str = "ingested_at") -> str:
    """`` AND column >= TIMESTAMP '…'`` for :func:`ingest_window`'s moment ("" for None)."""
    if since is None:
        return ""
    return f" AND {column} >= {sql_timestamp(since)}"


def _touched_table(db: Database, case_ids: Sequence[str]) -> None:
    db.execute("DROP TABLE IF EXISTS _gw_touched")
    db.execute("CREATE TEMP TABLE _gw_touched (case_id VARCHAR(50) PRIMARY KEY)")
    db.insert_arrow("_gw_touched", pa.table({"case_id": pa.array(list(case_ids), pa.string())}))


def rebuild_cases(
    db: Database,
    case_ids: Sequence[str] | None = None,
    *,
    since: datetime | None = None,
) -> None:
    """Rebuild ``cases`` rows of the given cases (all cases when None).

    Only the case state: what follows a change of cases (clocks, rules, alerts) is decided by
    :mod:`govwatch.live.pipeline`, which the callers' faces call.

    Cases go in batches: each batch's events are read from the store once into a small table,
    which the rebuild then reads six times (one pass over the store instead of six).
    """
    ids = (
        list(case_ids)
        if case_ids is not None
        else [str(r[0]) for r in db.query("SELECT DISTINCT case_id FROM events")]
    )
    for start in range(0, len(ids), BATCH_CASES):
        with db.transaction():
            _touched_table(db, ids[start : start + BATCH_CASES])
            window = (
                window_sql(ingest_window(db, "SELECT case_id FROM _gw_touched", since=since))
                if case_ids is not None
                else ""
            )
            db.execute("DELETE FROM cases WHERE case_id IN (SELECT case_id FROM _gw_touched)")
            db.execute("DROP TABLE IF EXISTS _gw_case_events")
            db.execute(
                "CREATE TEMP TABLE _gw_case_events AS SELECT case_id, kind, kind_order, event_id, "
                "occurred_at, item_code, org_code, channel, case_kind, result, ingested_at "
                f"FROM events WHERE case_id IN (SELECT case_id FROM _gw_touched){window}"
            )
            db.execute(_REBUILD)
            db.execute("DROP TABLE IF EXISTS _gw_case_events")
            db.execute("DROP TABLE IF EXISTS _gw_touched")


def cases_stamped(db: Database, stamps: Sequence[datetime]) -> list[str]:
    """The cases with events stamped (``ingested_at``) with one of these import runs' stamps.

    Materials commit with their events, so the events name every case such a run touched.
    DuckDB skips the row groups outside the stamps by their statistics; PostgreSQL scans the
    events (only after an interrupted import).
    """
    if not stamps:
        return []
    marks = ", ".join("?" for _ in stamps)
    return sorted(
        str(r[0])
        for r in db.query(
            f"SELECT DISTINCT case_id FROM events WHERE ingested_at IN ({marks})", list(stamps)
        )
    )


def cases_out_of_step(db: Database) -> list[str]:
    """Cases whose ``cases`` row is missing or counts other events than the store holds.

    One pass over every event: for a store that imports were killed in before the durable
    watermark existed (migration 057), once.
    """
    return sorted(
        str(r[0])
        for r in db.query(
            "SELECT e.case_id FROM (SELECT case_id, COUNT(*) AS n FROM events GROUP BY case_id) e "
            "LEFT JOIN cases c ON c.case_id = e.case_id "
            "WHERE c.case_id IS NULL OR c.event_count <> e.n"
        )
    )


def count_cases(db: Database) -> int:
    """How many cases the event store holds."""
    return int(db.scalar("SELECT COUNT(*) FROM cases") or 0)
