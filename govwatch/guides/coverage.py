"""Coverage and accuracy of a check run, per unit (服务事项覆盖度, 办事指南准确度).

Counted over a run's items (``guide_run_items``: the implementation list as the run saw it)
and its findings (``guide_findings``) less those an evaluator set aside (``guide_overrides``,
the last action ``override``), in one set-based query per call on DuckDB and PostgreSQL:

========================  ===========  =====================================================
figure                    Chinese      numerator / denominator (items of the unit)
========================  ===========  =====================================================
``items_published``       事项清单公布率  items published (catalog: the guide is not withdrawn,
                                       ``published: false``; crawl: the portal publishes it)
``guides_published``      办事指南公布率  items whose published guide has content (any element
                                       besides the flag)
``guide_standard``        指南要素规范率  items published with no completeness finding: every
                                       required element present and well-formed
``basic`` … ``fees``      …准确率        items without a finding (any check) on the group's
                                       elements: ``basic.*``, ``materials``, ``process``,
                                       ``downloads`` (forms), ``fees``
========================  ===========  =====================================================

A unit is any SQL expression over the run item ``i`` (``i.region_code``, ``i.department_code``;
the evaluation passes :func:`govwatch.evaluation.metrics.definitions.unit_expr`), so a city
counts its counties when the expression truncates the region code. ``item_types`` restricts
the items to those 事项类型 (an item category).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govwatch.errors import InputError
from govwatch.storage import Database

# The accuracy groups the evaluation scores element by element, with the findings they count.
ACCURACY: Mapping[str, str] = {
    "basic": "f.element LIKE 'basic.%'",
    "materials": "f.element = 'materials'",
    "process": "f.element = 'process'",
    "forms": "f.element = 'downloads'",
    "fees": "f.element = 'fees'",
}
# The element group (guides/elements.py) each accuracy figure counts.
ACCURACY_GROUPS: Mapping[str, str] = {
    "basic": "basic",
    "materials": "materials",
    "process": "process",
    "forms": "downloads",
    "fees": "fees",
}
COVERAGE = ("items_published", "guides_published", "guide_standard")
FIGURES = (*COVERAGE, *ACCURACY)

# The findings of a run that still hold: not set aside by an evaluator (their last review
# action is not ``override``). Two ``?``: the run id.
LIVE_FINDINGS = (
    "SELECT f.* FROM guide_findings f LEFT JOIN (SELECT o.item_code, o.element, o.check_kind "
    "FROM guide_overrides o JOIN (SELECT item_code, element, check_kind, MAX(seq) AS seq "
    "FROM guide_overrides WHERE run_id = ? GROUP BY item_code, element, check_kind) m "
    "ON m.item_code = o.item_code AND m.element = o.element AND m.check_kind = o.check_kind "
    "AND m.seq = o.seq WHERE o.action = 'override') x ON x.item_code = f.item_code "
    "AND x.element = f.element AND x.check_kind = f.check_kind "
    "WHERE f.run_id = ? AND x.item_code IS NULL"
)


def types_condition(item_types: Sequence[str], alias: str = "i") -> str:
    """SQL restricting run items to the given 事项类型 codes (two digits each)."""
    if not item_types:
        return ""
    for code in item_types:
        if not (code.isdigit() and len(code) == 2):
            raise InputError(
                f"事项类型“{code}”无效：应为两位数字代码（如 01 行政许可、20 公共服务）"
            )
    return f" AND {alias}.item_type IN ({', '.join(repr(c) for c in item_types)})"


@dataclass(frozen=True)
class Coverage:
    """The counts of one unit: its items and how many of them each figure counts."""

    unit: str
    items: int
    published: int
    with_guide: int
    standard: int
    faulty: Mapping[str, int]  # accuracy group -> items with a finding of that group

    def numerator(self, figure: str) -> int:
        if figure == "items_published":
            return self.published
        if figure == "guides_published":
            return self.with_guide
        if figure == "guide_standard":
            return self.standard
        return self.items - self.faulty[figure]

    def ratio(self, figure: str) -> float | None:
        return self.numerator(figure) / self.items if self.items else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "items": self.items,
            "published": self.published,
            "with_guide": self.with_guide,
            "standard": self.standard,
            "faulty": dict(self.faulty),
            "ratios": {f: self.ratio(f) for f in FIGURES},
        }


def per_item_flags(run_id: str) -> tuple[str, list[str]]:
    """SQL: one row per item of the run that has live findings, with 0/1 flags
    ``incomplete`` (a completeness finding) and one per accuracy group; and its parameters."""
    groups = ", ".join(
        f"MAX(CASE WHEN {cond} THEN 1 ELSE 0 END) AS bad_{name}" for name, cond in ACCURACY.items()
    )
    sql = (
        "SELECT f.item_code, "
        "MAX(CASE WHEN f.check_kind = 'completeness' THEN 1 ELSE 0 END) AS incomplete, "
        f"{groups} FROM ({LIVE_FINDINGS}) f GROUP BY f.item_code"
    )
    return sql, [run_id, run_id]


def coverage(
    db: Database,
    run_id: str,
    unit: str,
    *,
    item_types: Sequence[str] = (),
    units: Sequence[str] | None = None,
) -> dict[str, Coverage]:
    """The counts of every unit (or of ``units``) with items in the run, by unit."""
    flags, flag_params = per_item_flags(run_id)
    faulty = ", ".join(f"SUM(COALESCE(b.bad_{name}, 0)) AS bad_{name}" for name in ACCURACY)
    where = f"i.run_id = ?{types_condition(item_types)}"
    params: list[Any] = [*flag_params, run_id]
    if units is not None:
        where += f" AND {unit} = ANY(?)"
        params.append(list(units))
    rows = db.query_dicts(
        f"""SELECT {unit} AS unit, COUNT(*) AS items,
    SUM(CASE WHEN i.published THEN 1 ELSE 0 END) AS published,
    SUM(CASE WHEN i.has_guide THEN 1 ELSE 0 END) AS with_guide,
    SUM(CASE WHEN i.published AND COALESCE(b.incomplete, 0) = 0 THEN 1 ELSE 0 END) AS standard,
    {faulty}
FROM guide_run_items i LEFT JOIN ({flags}) b ON b.item_code = i.item_code
WHERE {where} GROUP BY {unit} ORDER BY {unit}""",
        params,
    )
    return {
        str(r["unit"]): Coverage(
            str(r["unit"]),
            int(r["items"]),
            int(r["published"] or 0),
            int(r["with_guide"] or 0),
            int(r["standard"] or 0),
            {name: int(r[f"bad_{name}"] or 0) for name in ACCURACY},
        )
        for r in rows
        if r["unit"] is not None
    }
