"""Open data of the public disclosure (社会公开): four datasets per period, frozen rows, the
suppression of small counts in one place.

Datasets (``DATASETS``; the data dictionary page /public/data prints the same definitions):

- ``ontime``: cases finished in the period and the share finished on time, by region and by
  department. 按时办结 is the dashboard's rule (:mod:`govwatch.alerts.dashboard`): finished and
  without an active ``case_overdue`` alert (a case finished late keeps it).
- ``ratings``: service ratings (好差评) given in the period, by region and by department, counted
  by the evaluation metric :func:`govwatch.evaluation.metrics.demand.rating_counts` (good =
  levels 1–3; valid negatives = levels 4–5 less those found invalid; rectified on time = by the
  follow-up's deadline, over the negatives rectified or past their deadline, at the period's end).
- ``evaluation``: the results of the evaluation rounds the public may see
  (:data:`govwatch.evaluation.rounds.views.PUBLIC_VIEWER`: published or closed) whose evaluated
  period ends in the period: the public fields only.
- ``rectification``: the rectification demands of those rounds, counted by unit and status.

Suppression (:func:`publish`, the one place): a count of 1 to ``threshold - 1`` is withheld
(``数量过少，不予公开``), and so is every rate computed from such a count: its numerator or its
base (denominator) is 1 to ``threshold - 1``;
when a withheld count could be recovered by subtraction (the only withheld cell of a column
beside its total, or of a row's status counts beside its total), the smallest other count is
withheld too, with the rates over it. A zero is shown (it tells nothing about a person). The
threshold is ``GOVWATCH_PUBLIC_MIN_COUNT`` (default 5). No row carries a person: only unit codes
and names, counts, rates, scores and stars.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from govwatch.alerts.dashboard import OVERDUE_CASES
from govwatch.auth.names import department_names, region_names
from govwatch.disclosure.periods import PublicPeriod
from govwatch.errors import InputError
from govwatch.evaluation.metrics.definitions import Counts, Period
from govwatch.evaluation.metrics.demand import rating_counts
from govwatch.evaluation.rounds.views import PUBLIC_VIEWER, list_rounds, round_summary
from govwatch.storage import Database
from govwatch.vocabulary import GUIDE_UNIT_KIND_NAMES, label

THRESHOLD_ENV = "GOVWATCH_PUBLIC_MIN_COUNT"
DEFAULT_THRESHOLD = 5
SUPPRESSED = "数量过少，不予公开"
NO_VALUE = "—"
TOTAL_NAME = "合计"
# the dimension of a row: a place dataset's 地区/部门/全部, a round's kind of unit
DIM_NAMES = {**GUIDE_UNIT_KIND_NAMES, "region": "地区", "department": "部门", "total": "全部"}
# The statuses a rectification demand is counted by (eval_rectifications.status); 已确认完成
# is the administrator's confirmation, 复评已改进/未改进 the next round's follow-up.
RECT_STATUSES = (
    ("open", "待整改"),
    ("replied", "已回复待确认"),
    ("returned", "已退回"),
    ("confirmed", "已确认完成"),
    ("improved", "复评已改进"),
    ("not_improved", "复评未改进"),
)
DONE_STATUS = "confirmed"


def min_count() -> int:
    """The suppression threshold: ``GOVWATCH_PUBLIC_MIN_COUNT`` (an integer ≥ 1), default 5."""
    raw = os.environ.get(THRESHOLD_ENV, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(
            f"环境变量 {THRESHOLD_ENV}（公开数据最小公开数量）的值“{raw}”无效：应为不小于 1 的整数"
        )
    return int(raw)


# --- definitions --------------------------------------------------------------------------

ROUNDING = {
    "text": "不适用",
    "count": "整数",
    "rate": "百分数，保留 1 位小数（四舍五入）",
    "score": "保留 2 位小数（四舍五入）",
    "int": "整数",
}


@dataclass(frozen=True)
class Field:
    key: str  # the JSON key
    name: str  # the Chinese column header
    meaning: str
    unit: str  # 件, 条, %, 分, 星, or — for text
    kind: str  # text | count | rate | score | int
    base: str = ""  # a rate: the count it is computed over (a field key, or a description)
    numerator: str = ""  # a rate whose numerator is a published count: that field's key

    @property
    def rounding(self) -> str:
        return ROUNDING[self.kind]

    @property
    def suppression(self) -> str:
        if self.kind == "count":
            return "1 至阈值减 1 的数量不予公开；可由合计相减推出时，另一最小数量一并不予公开"
        if self.kind == "rate":
            return (
                "分子（计入的数量）或计算基数为 1 至阈值减 1 时不予公开；基数不予公开时一并不予公开"
            )
        return "不适用"


@dataclass(frozen=True)
class Dataset:
    key: str
    name: str
    description: str
    source: str  # what is counted, in Chinese
    fields: tuple[Field, ...]

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


def _text(key: str, name: str, meaning: str) -> Field:
    return Field(key, name, meaning, NO_VALUE, "text")


_PLACE = (
    _text("dim", "维度", "地区、部门，或全部（合计行）"),
    _text("code", "编码", "行政区划代码或部门编码；合计行为空"),
    _text("name", "名称", "地区或部门的名称；合计行为“合计”"),
)
_ROUND = (
    _text("round_id", "评估批次编号", "评估批次的编号"),
    _text("round_name", "评估批次", "评估批次的名称"),
)

DATASETS: dict[str, Dataset] = {
    d.key: d
    for d in (
        Dataset(
            "ontime",
            "办件按时办结情况",
            "统计期间内办结的办件数及按时办结率，按地区和部门分列。",
            "统计期间内办结（办结时间在期间内）的办件；按时办结指办结且未因超出承诺或法定时限"
            "而产生超期预警的办件，与首页的按时办结率同一口径。",
            (
                *_PLACE,
                Field("finished", "办结件数", "统计期间内办结的办件数", "件", "count"),
                Field(
                    "ontime_rate",
                    "按时办结率",
                    "按时办结件数 ÷ 办结件数",
                    "%",
                    "rate",
                    "finished",
                ),
            ),
        ),
        Dataset(
            "ratings",
            "政务服务好差评情况",
            "统计期间内的好差评数量、好评率、差评数及差评按期整改率，按地区和部门分列。",
            "统计期间内作出的评价；好评为“非常满意、满意、基本满意”，差评为“不满意、非常不满意”"
            "且未经核实认定为无效；按期整改指在整改期限内完成整改，截至期间结束时统计，"
            "与评估指标“差评按期整改率”同一口径。",
            (
                *_PLACE,
                Field("ratings", "评价数", "统计期间内作出的评价数", "条", "count"),
                Field("good_rate", "好评率", "好评数 ÷ 评价数", "%", "rate", "ratings"),
                Field("negative", "差评数", "统计期间内的有效差评数", "条", "count"),
                Field(
                    "rectified_on_time_rate",
                    "差评按期整改率",
                    "按期整改的差评数 ÷ 到期差评数（已整改或已过整改期限的有效差评，不单独公开）",
                    "%",
                    "rate",
                    "到期差评数",
                ),
            ),
        ),
        Dataset(
            "evaluation",
            "评估结果",
            "评估期间截止于统计期间内、且已发布的评估批次的结果：得分、星级与排名。",
            "已发布（或已结束）的评估批次的公开结果；评估中、复核中的批次不公开。",
            (
                *_ROUND,
                _text("round_period", "评估期间", "评估批次所评估的期间"),
                _text("dim", "评估对象类型", "部门、行政区划等"),
                _text("code", "单位编码", "被评估单位的编码"),
                _text("name", "单位名称", "被评估单位的名称"),
                _text("group", "分组", "评估分组"),
                Field("score", "得分", "评估得分（满分 100 分）", "分", "score"),
                Field("stars", "星级", "星级（2–5 星；0 表示未达星级）", "星", "int"),
                Field("rank", "排名", "在批次内的排名", "名", "int"),
                Field("group_rank", "组内排名", "在分组内的排名", "名", "int"),
            ),
        ),
        Dataset(
            "rectification",
            "评估整改进展",
            "上述已发布评估批次的整改要求数、已确认完成数及按状态的数量。",
            "已发布（或已结束）评估批次发布时提出的整改要求，按当前状态统计。",
            (
                *_ROUND,
                *_PLACE,
                Field("raised", "整改要求数", "批次发布时提出的整改要求数", "条", "count"),
                Field("done", "已确认完成数", "经管理员确认整改完成的要求数", "条", "count"),
                Field(
                    "done_rate",
                    "完成率",
                    "已确认完成数 ÷ 整改要求数",
                    "%",
                    "rate",
                    "raised",
                    "done",
                ),
                *(
                    Field(f"status_{code}", name, f"状态为“{name}”的整改要求数", "条", "count")
                    for code, name in RECT_STATUSES
                    if code != DONE_STATUS
                ),
            ),
        ),
    )
}


# --- published rows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    value: str | int | float | None  # rounded as shown; None when withheld or nothing to show
    suppressed: bool = False
    text: str = NO_VALUE  # as the page shows it


@dataclass(frozen=True)
class PublicRow:
    keys: tuple[str, ...]
    cells: tuple[Cell, ...]

    def cell(self, key: str) -> Cell:
        return self.cells[self.keys.index(key)]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: c.value for k, c in zip(self.keys, self.cells, strict=True)}
        hidden = [k for k, c in zip(self.keys, self.cells, strict=True) if c.suppressed]
        out["suppressed"] = hidden
        return out


@dataclass(frozen=True)
class PublicTable:
    dataset: Dataset
    period: PublicPeriod
    threshold: int
    rows: tuple[PublicRow, ...]


Raw = dict[str, Any]  # a row before suppression: counts as int, rates as (numerator, base)


def _rounded(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def rate_value(num: float, den: float) -> float:
    """A rate as the page shows it: per cent, one decimal, half up."""
    return _rounded(Decimal(str(num)) * 100 / Decimal(str(den)), "0.1")


def score_value(score: float) -> float:
    return _rounded(Decimal(str(score)), "0.01")


def _cell(field: Field, value: Any, withheld: bool, threshold: int) -> Cell:
    if field.kind == "text":
        words = label(DIM_NAMES, value) if field.key == "dim" else str(value or "")
        return Cell(words, text=words or NO_VALUE)
    if field.kind == "rate":
        num, den = value
        if withheld or 0 < den < threshold or 0 < num < threshold:
            return Cell(None, True, SUPPRESSED)
        if not den:
            return Cell(None)
        shown = rate_value(num, den)
        return Cell(shown, text=f"{shown:.1f}%")
    if value is None:
        return Cell(None)
    if field.kind == "count":
        if withheld:
            return Cell(None, True, SUPPRESSED)
        return Cell(int(value), text=str(int(value)))
    if field.kind == "score":
        shown = score_value(float(value))
        return Cell(shown, text=f"{shown:.2f}")
    return Cell(int(value), text=str(int(value)))


def _small(value: Any, threshold: int) -> bool:
    return value is not None and 0 < int(value) < threshold


def _protect(values: list[int | None], withheld: list[bool]) -> bool:
    """Parts of a shown total: when exactly one is withheld, withhold the smallest other
    positive one too (else the total less the shown parts gives it). True when it changed."""
    if withheld.count(True) != 1:
        return False
    others = [(v, i) for i, v in enumerate(values) if not withheld[i] and v]
    if not others:
        return False
    withheld[min(others)[1]] = True
    return True


def publish(
    dataset: Dataset,
    raws: Sequence[Raw],
    threshold: int,
    *,
    groups: Callable[[Raw], str] = lambda r: "",
    parts: Sequence[tuple[str, Sequence[str]]] = (),
) -> tuple[PublicRow, ...]:
    """Raw rows → published rows: the suppression rule, the one place it is applied.

    ``groups`` names the group of rows that add up to the group's total row (``dim`` "total"
    inside the group); ``parts`` lists, per row, a total field and the count fields adding up
    to it (a round's status counts and its demands).
    """
    fields = dataset.fields
    counts = [f.key for f in fields if f.kind == "count"]
    hidden: list[dict[str, bool]] = [{k: _small(r.get(k), threshold) for k in counts} for r in raws]
    changed = True
    while changed:
        changed = False
        by_group: dict[str, list[int]] = {}
        for i, r in enumerate(raws):
            by_group.setdefault(groups(r), []).append(i)
        for members in by_group.values():
            totals = [i for i in members if raws[i].get("dim") == "total"]
            inner = [i for i in members if raws[i].get("dim") != "total"]
            if not totals:
                continue
            for key in counts:
                if hidden[totals[0]][key]:
                    continue
                # each dimension (regions, departments) adds up to the total on its own
                for dim in {raws[i].get("dim") for i in inner}:
                    rows = [i for i in inner if raws[i].get("dim") == dim]
                    flags = [hidden[i][key] for i in rows]
                    if _protect([raws[i].get(key) for i in rows], flags):
                        changed = True
                        for i, flag in zip(rows, flags, strict=True):
                            hidden[i][key] = flag
        for i, r in enumerate(raws):
            for total, keys in parts:
                if hidden[i][total]:
                    continue
                flags = [hidden[i][k] for k in keys]
                if _protect([r.get(k) for k in keys], flags):
                    changed = True
                    hidden[i].update(zip(keys, flags, strict=True))
    out = []
    keys = tuple(f.key for f in fields)
    for r, h in zip(raws, hidden, strict=True):
        cells = []
        for f in fields:
            # a rate goes with a withheld base or numerator (it would give the count back)
            withheld = h.get(f.key, False) or (
                f.kind == "rate" and (h.get(f.base, False) or h.get(f.numerator, False))
            )
            cells.append(_cell(f, r.get(f.key), withheld, threshold))
        out.append(PublicRow(keys, tuple(cells)))
    return tuple(out)


# --- queries ------------------------------------------------------------------------------


def _names(db: Database) -> dict[str, Mapping[str, str]]:
    return {"region": region_names(db), "department": department_names(db)}


def _place(dim: str, code: str, names: Mapping[str, Mapping[str, str]]) -> Raw:
    if dim == "total":
        return {"dim": "total", "code": "", "name": TOTAL_NAME}
    return {"dim": dim, "code": code, "name": label(names[dim], code)}


def ontime_rows(db: Database, period: PublicPeriod) -> list[Raw]:
    """Cases finished in the period, by region, by department, and in all."""
    names = _names(db)
    start, end = _bounds(period)
    overdue = f"LEFT JOIN ({OVERDUE_CASES} GROUP BY case_id) o ON o.case_id = c.case_id"
    ontime = "SUM(CASE WHEN o.case_id IS NULL THEN 1 ELSE 0 END)"
    where = "c.finished_at >= ? AND c.finished_at < ?"
    out: list[Raw] = []
    for dim, column in (("region", "c.region_code"), ("department", "c.department_code")):
        for code, finished, on_time in db.query(
            f"SELECT {column}, COUNT(*), {ontime} FROM cases c {overdue} WHERE {where} "
            f"AND {column} IS NOT NULL GROUP BY {column} ORDER BY {column}",
            [start, end],
        ):
            out.append(
                {
                    **_place(dim, str(code), names),
                    "finished": int(finished),
                    "ontime_rate": (float(on_time or 0), float(finished)),
                }
            )
    finished, on_time = db.query(
        f"SELECT COUNT(*), {ontime} FROM cases c {overdue} WHERE {where}", [start, end]
    )[0]
    out.append(
        {
            **_place("total", "", names),
            "finished": int(finished or 0),
            "ontime_rate": (float(on_time or 0), float(finished or 0)),
        }
    )
    return out


def _rating_row(place: Raw, counts: Counts, unit: str) -> Raw:
    def get(metric: str) -> tuple[float, float]:
        return counts.get((unit, metric), (0.0, 0.0))

    n = int(get("ratings.count")[0])
    return {
        **place,
        "ratings": n,
        "good_rate": (get("ratings.good_rate")[0], float(n)),
        "negative": int(get("ratings.negative_count")[0]),
        # the metric writes 1 ÷ 1 when nothing is due: a base of 1 is withheld all the same
        "rectified_on_time_rate": get("ratings.rectified_on_time_rate"),
    }


def ratings_rows(db: Database, period: PublicPeriod) -> list[Raw]:
    """Ratings of the period, by region, by department, and in all (every province's sum)."""
    names = _names(db)
    measured = Period(period.start, period.end)
    out: list[Raw] = []
    for dim in ("region", "department"):
        counts = rating_counts(db, dim, measured)
        for unit in sorted({u for u, _ in counts}):
            out.append(_rating_row(_place(dim, unit, names), counts, unit))
    provinces = rating_counts(db, "province", measured)
    total: Counts = {}
    for (_, metric), (num, den) in provinces.items():
        had = total.get(("", metric), (0.0, 0.0))
        total[("", metric)] = (had[0] + num, had[1] + den)
    out.append(_rating_row(_place("total", "", names), total, ""))
    return out


def public_rounds(db: Database, period: PublicPeriod) -> list[dict[str, Any]]:
    """The rounds the public may see whose evaluated period ends in ``period``, latest first."""
    return [
        r
        for r in list_rounds(db, PUBLIC_VIEWER)
        if period.start <= date.fromisoformat(str(r["period_end"])[:10]) <= period.end
    ]


def _round_place(r: Mapping[str, Any]) -> Raw:
    return {
        "round_id": str(r["round_id"]),
        "round_name": str(r["name"]),
        "round_period": f"{str(r['period_start'])[:10]} 至 {str(r['period_end'])[:10]}",
    }


def evaluation_rows(db: Database, period: PublicPeriod) -> list[Raw]:
    out: list[Raw] = []
    for r in public_rounds(db, period):
        summary = round_summary(db, str(r["round_id"]), PUBLIC_VIEWER)
        kind = str(r["unit_kind"])
        for res in summary["results"]:
            out.append(
                {
                    **_round_place(r),
                    "dim": kind,
                    "code": str(res["unit"]),
                    "name": str(res["unit_name"]),
                    "group": str(res["group"] or ""),
                    "score": res["score"],
                    "stars": res["stars"],
                    "rank": res["rank"],
                    "group_rank": res["group_rank"],
                }
            )
    return out


def rectification_rows(db: Database, period: PublicPeriod) -> list[Raw]:
    out: list[Raw] = []
    for r in public_rounds(db, period):
        summary = round_summary(db, str(r["round_id"]), PUBLIC_VIEWER)
        unit_names = {str(x["unit"]): str(x["unit_name"]) for x in summary["results"]}
        kind = str(r["unit_kind"])
        per_unit: dict[str, dict[str, int]] = {}
        for unit, status, n in db.query(
            "SELECT unit, status, COUNT(*) FROM eval_rectifications WHERE round_id = ? "
            "GROUP BY unit, status ORDER BY unit, status",
            [r["round_id"]],
        ):
            per_unit.setdefault(str(unit), {})[str(status)] = int(n)
        total: dict[str, int] = {}
        for unit in sorted(per_unit):
            out.append(
                _rect_row(
                    {
                        **_round_place(r),
                        "dim": kind,
                        "code": unit,
                        "name": unit_names.get(unit, unit),
                    },
                    per_unit[unit],
                )
            )
            for status, n in per_unit[unit].items():
                total[status] = total.get(status, 0) + n
        if per_unit:
            place = {**_round_place(r), "dim": "total", "code": "", "name": TOTAL_NAME}
            out.append(_rect_row(place, total))
    return out


def _rect_row(place: Raw, by_status: Mapping[str, int]) -> Raw:
    raised = sum(by_status.values())
    done = by_status.get(DONE_STATUS, 0)
    return {
        **place,
        "raised": raised,
        "done": done,
        "done_rate": (float(done), float(raised)),
        **{
            f"status_{code}": by_status.get(code, 0)
            for code, _ in RECT_STATUSES
            if code != DONE_STATUS
        },
    }


def _bounds(period: PublicPeriod) -> tuple[Any, Any]:
    measured = Period(period.start, period.end)
    return measured.start_at, measured.end_before


_QUERIES: dict[str, Callable[[Database, PublicPeriod], list[Raw]]] = {
    "ontime": ontime_rows,
    "ratings": ratings_rows,
    "evaluation": evaluation_rows,
    "rectification": rectification_rows,
}
_STATUS_PARTS = (
    ("raised", (*(f"status_{c}" for c, _ in RECT_STATUSES if c != DONE_STATUS), "done")),
)


def dataset_table(
    db: Database, key: str, period: PublicPeriod, threshold: int | None = None
) -> PublicTable:
    """One dataset for one period, published (suppressed and rounded)."""
    dataset = DATASETS[key]
    limit = min_count() if threshold is None else threshold
    raws = _QUERIES[key](db, period)
    if key == "rectification":
        rows = publish(
            dataset, raws, limit, groups=lambda r: str(r["round_id"]), parts=_STATUS_PARTS
        )
    else:
        rows = publish(dataset, raws, limit)
    return PublicTable(dataset, period, limit, rows)


def all_tables(
    db: Database, period: PublicPeriod, threshold: int | None = None
) -> dict[str, PublicTable]:
    return {key: dataset_table(db, key, period, threshold) for key in DATASETS}
