"""办件列表: finding cases by number, item, place, status, applied dates and timeliness.

The case list page (``/cases``), its JSON twin and ``GET /api/v1/cases`` read through here.
It lives in ``alerts`` beside the case view (:mod:`govwatch.alerts.case_view`): a case's
timeliness (超期, 按时办结) is read from its alerts, as the dashboard's rates are
(:mod:`govwatch.alerts.dashboard`), so that a rate's drill-down lists exactly the cases it
counted.

A page is two short queries, like the alert list: the page's ids from the columns the filter
and the order read, then those cases with their item's name and their alert counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from govwatch.alerts.queries import day_bounds, like_prefix, place_conditions, prefix_condition
from govwatch.auth.principal import Principal
from govwatch.storage import Database

# What the timeliness filter may ask (vocabulary.CASE_TIMING_NAMES names them).
TIMINGS = ("overdue", "ontime")
STATUSES = ("applied", "open", "finished", "terminated")
NEWEST_FIRST = "c.applied_at DESC NULLS LAST, c.case_id"
_OVERDUE = "SELECT o.case_id FROM alerts o WHERE o.rule = 'case_overdue' AND o.status = 'active'"


@dataclass(frozen=True)
class CaseFilter:
    """``case_prefix`` is the beginning of a case number; ``item`` an item's code or part of
    its name; ``region_code`` covers its subtree unless ``region_only``; ``applied_from`` …
    ``applied_to`` and ``finished_from`` … ``finished_to`` whole days, both ends included;
    ``timing`` ``overdue`` (an active 办件超期 alert: open past the deadline or finished late)
    or ``ontime`` (finished, not overdue)."""

    case_prefix: str | None = None
    item: str | None = None
    department_code: str | None = None
    region_code: str | None = None
    region_only: bool = False
    status: str | None = None
    applied_from: date | None = None
    applied_to: date | None = None
    timing: str | None = None
    finished_from: date | None = None
    finished_to: date | None = None


def case_conditions(
    principal: Principal, f: CaseFilter, dialect: str = "postgres"
) -> tuple[list[str], list[Any]]:
    """(conditions on ``cases c``, their parameters), within the caller's scope."""
    where: list[str] = []
    params: list[Any] = []
    if f.case_prefix:
        condition, values = prefix_condition("c.case_id", f.case_prefix, dialect)
        where.append(condition)
        params += values
    if f.item:
        where.append(
            "c.item_code IN (SELECT i.item_code FROM items i WHERE i.item_code = ? "
            "OR i.name LIKE ? ESCAPE '\\')"
        )
        params += [f.item, "%" + like_prefix(f.item)]
    if f.status:
        where.append("c.status = ?")
        params.append(f.status)
    for column, first, last in (
        ("c.applied_at", f.applied_from, f.applied_to),
        ("c.finished_at", f.finished_from, f.finished_to),
    ):
        start, end = day_bounds(first, last)
        if start is not None:
            where.append(f"{column} >= ?")
            params.append(start)
        if end is not None:
            where.append(f"{column} < ?")
            params.append(end)
    if f.timing == "overdue":
        where.append(f"c.case_id IN ({_OVERDUE})")
    elif f.timing == "ontime":
        where.append(f"c.status = 'finished' AND c.case_id NOT IN ({_OVERDUE})")
    place, place_params = place_conditions(
        principal,
        "c",
        department_code=f.department_code,
        region_code=f.region_code,
        region_only=f.region_only,
        dialect=dialect,
    )
    return where + place, params + place_params


def _clause(where: list[str]) -> str:
    return f" WHERE {' AND '.join(where)}" if where else ""


def count_cases(db: Database, principal: Principal, f: CaseFilter) -> int:
    """How many cases the caller may see match the filter (the list's total)."""
    where, params = case_conditions(principal, f, db.dialect)
    return int(db.scalar(f"SELECT COUNT(*) FROM cases c{_clause(where)}", params) or 0)


def list_cases(
    db: Database, principal: Principal, f: CaseFilter, limit: int, offset: int
) -> list[dict[str, Any]]:
    """A page of the cases the caller may see, newest application first.

    PostgreSQL walks an index for the page's ids (migration 069), then reads those cases. On
    DuckDB a look-up by case number scans every case id (a million strings), while its top-N
    reads the page's other columns for the page's rows only: the page is read whole at once.
    """
    where, params = case_conditions(principal, f, db.dialect)
    page = f"ORDER BY {NEWEST_FIRST} LIMIT {int(limit)} OFFSET {int(offset)}"
    if db.dialect == "duckdb":
        rows = db.query_dicts(f"SELECT {_CASE_COLUMNS} FROM cases c{_clause(where)} {page}", params)
        return _with_alerts(db, rows)
    source = f"cases c{_clause(where)}"
    if f.case_prefix and _few_with_prefix(db, f.case_prefix):
        # (the planner, not knowing how few cases a number prefix matches, would walk every
        # case newest first looking for them: read the matches, then sort them)
        source = f"(SELECT c.case_id, c.applied_at FROM {source} OFFSET 0) c"
    ids = [str(r[0]) for r in db.query(f"SELECT c.case_id FROM {source} {page}", params)]
    return cases_by_ids(db, ids)


# How many cases a number prefix may match for its page to be read from the prefix index
# and sorted (PostgreSQL); a prefix matching more walks the cases newest first.
FEW_MATCHES = 20_000


def _few_with_prefix(db: Database, prefix: str) -> bool:
    condition, values = prefix_condition("c.case_id", prefix, db.dialect)
    found = db.scalar(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM cases c WHERE {condition} LIMIT {FEW_MATCHES + 1}) t",
        values,
    )
    return int(found or 0) <= FEW_MATCHES


_CASE_COLUMNS = (
    "c.case_id, c.item_code, c.department_code, c.org_code, c.region_code, c.channel, "
    "c.applied_at, c.accepted_at, c.finished_at, c.status"
)
_ALERT_SUMMARY = (
    "SELECT a.case_id, COUNT(*) AS active_alerts, "
    "SUM(CASE WHEN a.rule = 'case_overdue' THEN 1 ELSE 0 END) AS overdue, "
    "MAX(CASE a.level WHEN 'red' THEN 3 WHEN 'yellow' THEN 2 ELSE 1 END) AS top "
    "FROM alerts a WHERE a.status = 'active' AND a.case_id = ANY(?) GROUP BY a.case_id"
)
_TOP_LEVEL = {3: "red", 2: "yellow", 1: "warning"}


def _with_alerts(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cases read whole, completed as :func:`cases_by_ids` completes them (item name, active
    alerts, overdue, highest level), in their order."""
    if not rows:
        return []
    ids = [str(r["case_id"]) for r in rows]
    codes = sorted({str(r["item_code"]) for r in rows if r["item_code"] is not None})
    names = {
        str(code): name
        for code, name in db.query(
            "SELECT item_code, name FROM items WHERE item_code = ANY(?)", [codes]
        )
    }
    summary = {str(r[0]): r[1:] for r in db.query(_ALERT_SUMMARY, [ids])}
    out = []
    for row in rows:
        active, overdue, top = summary.get(str(row["case_id"]), (0, 0, None))
        shaped = dict(row)
        shaped["item_name"] = (
            names.get(str(row["item_code"])) if row["item_code"] is not None else None
        )
        shaped["active_alerts"] = int(active or 0)
        shaped["overdue"] = bool(overdue and int(overdue) > 0)
        shaped["top_level"] = _TOP_LEVEL.get(int(top)) if top is not None else None
        out.append(shaped)
    return out


def cases_by_ids(db: Database, ids: list[str]) -> list[dict[str, Any]]:
    """These cases, in the order given, with their item's name, their active alerts (count
    and highest level) and whether they are overdue."""
    if not ids:
        return []
    rows = db.query_dicts(
        f"SELECT {_CASE_COLUMNS} FROM cases c WHERE c.case_id = ANY(?)",
        [ids],
    )
    position = {case_id: i for i, case_id in enumerate(ids)}
    rows.sort(key=lambda r: position[str(r["case_id"])])
    return _with_alerts(db, rows)


def iter_cases(
    db: Database, principal: Principal, f: CaseFilter, *, batch: int = 5000, cap: int = 1_000_000
) -> Iterator[dict[str, Any]]:
    """Every matching case in the list's order, read a batch at a time (for exports)."""
    for offset in range(0, cap, batch):
        rows = list_cases(db, principal, f, min(batch, cap - offset), offset)
        yield from rows
        if len(rows) < batch:
            return
