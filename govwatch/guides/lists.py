"""The lists behind a run's figures: its findings, filtered, and the items a figure counts.

Every number on the /guides page and every guide value of an evaluation round links to one of
these lists (docs/guides.md, "Coverage"): the items a coverage figure counts (or misses), the
findings an accuracy figure counts. Filters are plain values; a unit is an SQL expression over
the run item ``i`` with its value (:mod:`govwatch.guides.coverage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.guides.coverage import ACCURACY, LIVE_FINDINGS, per_item_flags, types_condition
from govwatch.guides.elements import BY_CODE, ORDER
from govwatch.guides.model import CHECKS
from govwatch.guides.runs import KINDS, reviews_of
from govwatch.storage import Database
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_ELEMENT_NAMES, label

# What an item list shows: every item, or those a figure counts or misses.
ITEM_MEASURES = (
    "items",
    "published",
    "unpublished",
    "with_guide",
    "without_guide",
    "standard",
    "nonstandard",
    *(f"faulty_{g}" for g in ACCURACY),
    *(f"accurate_{g}" for g in ACCURACY),
)
REVIEWED = ("overridden", "standing")


@dataclass(frozen=True)
class UnitFilter:
    """A unit of a run's items: an SQL expression over ``i`` and the value it must take."""

    expression: str
    value: str


@dataclass(frozen=True)
class FindingFilter:
    element: str | None = None  # an element code, or a group: basic, materials, … forms
    check: str | None = None
    kind: str | None = None
    item_code: str | None = None
    unit: UnitFilter | None = None
    item_types: tuple[str, ...] = ()
    reviewed: str | None = None  # overridden (set aside by an evaluator) or standing

    def __post_init__(self) -> None:
        if self.element and self.element not in BY_CODE and self.element not in ACCURACY:
            raise InputError(f"办事指南要素“{self.element}”无效")
        if self.check and self.check not in CHECKS:
            raise InputError(f"核查类型“{self.check}”无效：应为 {'、'.join(CHECKS)} 之一")
        if self.kind and self.kind not in KINDS:
            raise InputError(f"问题类别“{self.kind}”无效")
        if self.reviewed and self.reviewed not in REVIEWED:
            raise InputError(f"复核状态“{self.reviewed}”无效")


def _unit_where(unit: UnitFilter | None) -> tuple[str, list[Any]]:
    if unit is None:
        return "", []
    return f" AND {unit.expression} = ?", [unit.value]


def list_findings(
    db: Database, run_id: str, flt: FindingFilter, *, offset: int = 0, limit: int | None = 50
) -> tuple[list[dict[str, Any]], int]:
    """A run's findings that pass the filter (item code, element, check order), with each
    item's name and unit and each finding's last review; and how many pass."""
    standing = flt.reviewed == "standing"
    source = LIVE_FINDINGS if standing else "SELECT * FROM guide_findings f WHERE f.run_id = ?"
    params: list[Any] = [run_id, run_id, run_id] if standing else [run_id, run_id]
    where = ["i.run_id = ?"]
    group = ACCURACY.get(flt.element or "")
    if group is not None:
        where.append(group)  # a group: its condition reads the finding as f
    elif flt.element:
        where.append("f.element = ?")
        params.append(flt.element)
    for column, value in (
        ("f.check_kind", flt.check),
        ("f.kind", flt.kind),
        ("f.item_code", flt.item_code),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    unit_sql, unit_params = _unit_where(flt.unit)
    sql = (
        f"FROM ({source}) f JOIN guide_run_items i ON i.item_code = f.item_code "
        f"WHERE {' AND '.join(where)}{types_condition(flt.item_types)}{unit_sql}"
    )
    params += unit_params
    reviews = reviews_of(db, run_id)
    if flt.reviewed == "overridden":
        keys = ["|".join(k) for k, r in reviews.items() if r["action"] == "override"]
        if not keys:
            return [], 0
        sql += " AND f.item_code || '|' || f.element || '|' || f.check_kind = ANY(?)"
        params.append(keys)
    total = int(db.scalar(f"SELECT COUNT(*) {sql}", params) or 0)
    rows = db.query_dicts(
        "SELECT f.item_code, f.element, f.check_kind, f.kind, f.expected, f.found, f.message, "
        "f.evidence, f.dead_links, i.name, i.region_code, i.department_code, i.item_type, i.url "
        f"{sql}",
        params,
    )
    rows.sort(
        key=lambda r: (r["item_code"], ORDER.get(r["element"], 99), CHECKS.index(r["check_kind"]))
    )
    page = rows[offset:] if limit is None else rows[offset : offset + limit]
    out = []
    for r in page:
        row = dict(r)
        row["check"] = row.pop("check_kind")
        row["evidence"] = orjson.loads(r["evidence"]) if r["evidence"] else {}
        row["element_name"] = label(GUIDE_ELEMENT_NAMES, r["element"])
        row["check_name"] = label(GUIDE_CHECK_NAMES, r["check_kind"])
        row["review"] = reviews.get((str(r["item_code"]), str(r["element"]), str(r["check_kind"])))
        out.append(row)
    return out, total


def _measure_condition(measure: str) -> str:
    if measure not in ITEM_MEASURES:
        raise InputError(f"统计口径“{measure}”无效")
    if measure == "items":
        return ""
    if measure == "published":
        return " AND i.published"
    if measure == "unpublished":
        return " AND NOT i.published"
    if measure == "with_guide":
        return " AND i.has_guide"
    if measure == "without_guide":
        return " AND NOT i.has_guide"
    if measure == "standard":
        return " AND i.published AND COALESCE(b.incomplete, 0) = 0"
    if measure == "nonstandard":
        return " AND NOT (i.published AND COALESCE(b.incomplete, 0) = 0)"
    faulty, group = measure.split("_", 1)
    return f" AND COALESCE(b.bad_{group}, 0) = {1 if faulty == 'faulty' else 0}"


def list_items(
    db: Database,
    run_id: str,
    measure: str,
    *,
    unit: UnitFilter | None = None,
    item_types: Sequence[str] = (),
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[list[dict[str, Any]], int]:
    """The run's items a figure counts (``published``, ``standard``, ``faulty_materials`` …)
    or misses (``unpublished``, ``nonstandard``, ``accurate_…`` are the complements), by item
    code; and how many there are."""
    condition = _measure_condition(measure)
    flags, flag_params = per_item_flags(run_id)
    unit_sql, unit_params = _unit_where(unit)
    sql = (
        f"FROM guide_run_items i LEFT JOIN ({flags}) b ON b.item_code = i.item_code "
        f"WHERE i.run_id = ?{condition}{types_condition(item_types)}{unit_sql}"
    )
    params = [*flag_params, run_id, *unit_params]
    total = int(db.scalar(f"SELECT COUNT(*) {sql}", params) or 0)
    page_sql = (
        "SELECT i.item_code, i.name, i.item_type, i.region_code, i.department_code, i.published, "
        f"i.has_guide, i.url, COALESCE(b.incomplete, 0) AS incomplete {sql} ORDER BY i.item_code"
    )
    page_params: list[Any] = list(params)
    if limit is not None:
        page_sql += " LIMIT ? OFFSET ?"
        page_params += [limit, offset]
    rows = db.query_dicts(page_sql, page_params)
    return [
        {**r, "published": bool(r["published"]), "has_guide": bool(r["has_guide"]),
         "standard": bool(r["published"]) and not int(r["incomplete"])}
        for r in rows
    ], total  # fmt: skip
