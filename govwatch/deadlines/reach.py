"""Which open cases a change of the calendar reaches, and their stored deadlines.

A calendar load changes some dates (working day or not, provisional or covered). An open,
accepted case is reached when it was accepted before the last changed date and one of its
stored deadlines falls on or after the first changed date (or it has none stored yet, or the
moment itself is past the first change). :mod:`govwatch.live.pipeline` re-clocks those cases
and compares their stored deadlines before and after, to say which ones moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from govwatch.storage import Database


def open_cases_reached(db: Database, changed: Sequence[date], at: datetime) -> list[str]:
    """Open accepted cases whose clocks the ``changed`` dates (sorted) may move."""
    if not changed:
        return []
    return [
        str(r[0])
        for r in db.query(
            "SELECT c.case_id FROM cases c LEFT JOIN case_deadlines d ON d.case_id = c.case_id "
            "WHERE c.status = 'open' AND c.accepted_at IS NOT NULL "
            "AND CAST(c.accepted_at AS DATE) < ? "
            "AND (d.case_id IS NULL OR d.promised_deadline IS NULL OR d.legal_deadline IS NULL"
            " OR d.promised_deadline >= ? OR d.legal_deadline >= ? OR ? >= ?)",
            [changed[-1], changed[0], changed[0], at.date(), changed[0]],
        )
    ]


def stored_deadlines(db: Database, case_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """(promised deadline, legal deadline) stored for each of these cases that has them."""
    if not case_ids:
        return {}
    db.execute("DROP TABLE IF EXISTS _gw_calendar_touched")
    db.execute("CREATE TEMP TABLE _gw_calendar_touched (case_id VARCHAR(50) PRIMARY KEY)")
    db.insert_arrow(
        "_gw_calendar_touched", pa.table({"case_id": pa.array(list(case_ids), pa.string())})
    )
    rows = db.query(
        "SELECT d.case_id, d.promised_deadline, d.legal_deadline "
        "FROM case_deadlines d JOIN _gw_calendar_touched t ON t.case_id = d.case_id"
    )
    db.execute("DROP TABLE IF EXISTS _gw_calendar_touched")
    return {str(r[0]): tuple(r[1:]) for r in rows}
