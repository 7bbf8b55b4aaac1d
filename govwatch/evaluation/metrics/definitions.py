"""The catalog of named metrics (id, Chinese name, source family, formula), units and periods.

``docs/metrics.md`` documents the same list; ``tests/evaluation`` checks that every metric
here appears there. A leaf of an indicator system names one of these ids as its ``metric``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from govwatch.errors import InputError
from govwatch.vocabulary import CLASS_NAMES, LEVEL_NAMES


@dataclass(frozen=True)
class MetricDef:
    id: str
    name: str
    family: str
    formula: str


def _m(id_: str, name: str, family: str, formula: str) -> MetricDef:
    return MetricDef(id_, name, family, formula)


_ITEMS = [
    _m("items.count", "事项数", "items", "number of items of the unit"),
    *[
        _m(
            f"items.depth_share.{d}",
            f"网上办理深度 {d} 级事项比例",
            "items",
            f"items with online_depth = {d} / items",
        )
        for d in range(6)
    ],
    _m(
        "items.depth_ge4_share",
        "在线受理及以上事项比例",
        "items",
        "items with online_depth >= 4 / items",
    ),
    _m(
        "items.unified_identity_share",
        "统一身份认证事项比例",
        "items",
        "items with unified_identity / items",
    ),
    _m("items.e_license_share", "电子证照应用事项比例", "items", "items with e_license / items"),
    _m("items.delivery_share", "物流寄递事项比例", "items", "items with delivery / items"),
    _m(
        "items.online_payment_share",
        "收费事项网上支付比例",
        "items",
        "items with a fee and online_payment / items with a fee (1 when no item has a fee)",
    ),
    _m(
        "items.avg_visits",
        "平均跑动次数（事项）",
        "items",
        "sum of max_visits / items with max_visits given",
    ),
    _m(
        "items.zero_visit_share",
        "零跑动事项比例",
        "items",
        "items with max_visits = 0 / items with max_visits given",
    ),
    _m(
        "items.promise_reduction",
        "承诺时限压缩比",
        "items",
        "(sum legal_limit - sum promised_limit) / sum legal_limit, over items with "
        "legal_limit > 0 and a promised_limit",
    ),
    _m("items.instant_share", "即办事项比例", "items", "items with case_kind = 1 / items"),
]

_CASES = [
    _m("cases.count", "办件量", "cases", "cases of the period"),
    _m(
        "cases.online_share",
        "网上办件占比",
        "cases",
        "cases applied online (channel 2 PC or 3 mobile) / cases of the period",
    ),
    _m("cases.mobile_share", "移动端办件占比", "cases", "cases with channel 3 / cases"),
    _m(
        "cases.full_online_share",
        "全程网办办件占比",
        "cases",
        "cases applied online on an item of online_depth 5 / cases",
    ),
    _m(
        "cases.instant_share",
        "即办件占比",
        "cases",
        "accepted cases with case_kind 1 / accepted cases of the period",
    ),
    _m(
        "cases.avg_visits",
        "平均跑动次数（办件）",
        "cases",
        "sum over cases of their item's max_visits / cases whose item gives max_visits",
    ),
    _m("cases.finished_count", "办结量", "clock", "cases finished in the period"),
    _m(
        "cases.on_time_rate",
        "按时办结率",
        "clock",
        "cases finished in the period by their promised and legal deadlines (case clocks, "
        "spec/time.md) / cases finished in the period",
    ),
]

_ALERTS = [
    _m("alerts.count", "预警总数", "alerts", "alerts raised on the cases of the period"),
    _m(
        "alerts.rate",
        "异常办件率",
        "alerts",
        "cases of the period with at least one alert / cases of the period",
    ),
    *[
        m
        for key, zh in {**CLASS_NAMES, **LEVEL_NAMES}.items()
        for m in (
            _m(
                f"alerts.count.{key}",
                f"{zh}数",
                "alerts",
                f"alerts of {key} raised on the cases of the period",
            ),
            _m(
                f"alerts.rate.{key}",
                f"{zh}办件率",
                "alerts",
                f"cases of the period with at least one {key} alert / cases of the period",
            ),
        )
    ],
    _m(
        "alerts.red_per_1000",
        "每千件红牌数",
        "alerts",
        "red alerts on the cases of the period × 1000 / cases of the period",
    ),
    _m(
        "orders.answered_on_time",
        "督办按时回复率",
        "orders",
        "supervision orders issued in the period and replied by their reply date / those "
        "replied or already past their reply date",
    ),
]

_DEMAND = [
    _m("ratings.count", "评价数", "ratings", "ratings given in the period"),
    _m(
        "ratings.good_rate",
        "好评率",
        "ratings",
        "ratings of level 1–3 (非常满意, 满意, 基本满意) / ratings of the period",
    ),
    _m(
        "ratings.rating_rate",
        "主动评价率",
        "ratings",
        "cases finished in the period that have a rating / cases finished in the period",
    ),
    _m(
        "ratings.negative_count",
        "差评数",
        "ratings",
        "ratings of level 4–5 in the period, less those found invalid on review",
    ),
    _m(
        "ratings.callback_rate",
        "差评回访率",
        "ratings",
        "valid negative ratings of the period called back / valid negative ratings",
    ),
    _m(
        "ratings.rectified_on_time_rate",
        "差评按期整改率",
        "ratings",
        "valid negative ratings rectified by their deadline / valid negative ratings rectified "
        "or past their deadline (1 when none is due)",
    ),
    _m(
        "survey.score",
        "问卷满意度",
        "survey",
        "mean normalised score (0–1) of the questionnaire responses of the period",
    ),
    _m("survey.count", "问卷样本量", "survey", "questionnaire responses of the period"),
    _m("callbacks.reach_rate", "回访接通率", "callbacks", "call-backs reached / call-backs"),
    _m(
        "callbacks.satisfaction_rate",
        "回访满意率",
        "callbacks",
        "call-backs reached and satisfied / call-backs reached with an answer",
    ),
]

# 服务事项覆盖度 and 办事指南准确度 from a guide check run (govwatch/guides/coverage.py): counted
# over the run's items of the unit, less the findings an evaluator set aside.
_GUIDES = [
    _m(
        "guides.items_published",
        "事项清单公布率",
        "guides",
        "items published (catalog: guide not withdrawn; crawl: the portal publishes it) / items "
        "of the implementation list",
    ),
    _m(
        "guides.guides_published",
        "办事指南公布率",
        "guides",
        "items whose published guide has content / items",
    ),
    _m(
        "guides.guide_standard",
        "办事指南要素规范率",
        "guides",
        "items published with every required guide element present and well-formed (no "
        "completeness finding) / items",
    ),
    _m(
        "guides.basic_accuracy",
        "基本信息准确率",
        "guides",
        "items without a finding on a basic.* element / items",
    ),
    _m(
        "guides.materials_accuracy",
        "申请材料准确率",
        "guides",
        "items without a finding on materials / items",
    ),
    _m(
        "guides.process_accuracy",
        "办理流程准确率",
        "guides",
        "items without a finding on process / items",
    ),
    _m(
        "guides.forms_accuracy",
        "表格及样表下载准确率",
        "guides",
        "items without a finding on downloads (blank forms and samples) / items",
    ),
    _m(
        "guides.fees_accuracy",
        "收费信息准确率",
        "guides",
        "items without a finding on fees / items",
    ),
]

METRICS: tuple[MetricDef, ...] = (*_ITEMS, *_CASES, *_ALERTS, *_DEMAND, *_GUIDES)


UNIT_KINDS = ("region", "province", "city", "county", "department")
ALERT_CLASSES = ("timeliness", "process", "content", "discretion", "integrity")
ALERT_LEVELS = ("warning", "yellow", "red")
ONLINE_CHANNELS = "('2', '3')"

Counts = dict[tuple[str, str], tuple[float, float]]


@dataclass(frozen=True)
class Period:
    """Dates ``start``…``end`` (inclusive), measured at moment ``at`` (default: end of ``end``)."""

    start: date
    end: date
    at: datetime | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InputError(f"评估期间 {self.start}–{self.end} 无效：结束日期应不早于开始日期")

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time())

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time())

    @property
    def moment(self) -> datetime:
        return self.at or datetime.combine(self.end, time(23, 59, 59))


@dataclass(frozen=True)
class MetricValue:
    unit: str
    metric: str
    value: float | None
    numerator: float
    denominator: float


def unit_expr(kind: str, alias: str) -> str:
    """SQL for the unit of a row of ``items`` / ``cases`` (both have region and department)."""
    region = f"{alias}.region_code"
    exprs = {
        "region": region,
        "province": f"SUBSTR({region}, 1, 2) || '0000'",
        "city": f"SUBSTR({region}, 1, 4) || '00'",
        "county": f"SUBSTR({region}, 1, 6)",
        "department": f"{alias}.department_code",
    }
    if kind not in exprs:
        raise InputError(f"评估对象类型“{kind}”无效：应为 {'、'.join(UNIT_KINDS)} 之一")
    return exprs[kind]


def put_count(out: Counts, unit: object, metric: str, num: Any, den: Any) -> None:
    """Store a numerator and denominator (SQL sums may be None, int or Decimal)."""
    out[(str(unit), metric)] = (float(num or 0), float(den or 0))


def item_scope(item_types: Sequence[str], column: str) -> str:
    """SQL restricting rows to items of the given 事项类型 codes (an item category)."""
    if not item_types:
        return ""
    for code in item_types:
        if not code.isdigit() or len(code) != 2:
            raise InputError(
                f"事项类型“{code}”无效：应为两位数字代码（如 01 行政许可、20 公共服务）"
            )
    codes = ", ".join(f"'{c}'" for c in item_types)
    return f" AND {column} IN (SELECT item_code FROM items WHERE item_type IN ({codes}))"
