"""Service items as spec/data.md §1 defines them, validated once at the edge.

:func:`parse_item` turns one raw record (any alias, values as JSON/YAML gave them or as text
from CSV/Excel cells) into a frozen :class:`Item`, or raises :class:`ValidationError` naming
the field and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

import orjson

from govwatch.errors import ValidationError

ITEM_TYPES = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20")
LEVELS = ("1", "2", "3", "4", "5", "6", "7")
RISK_LEVELS = ("高", "中", "低")
MEASURES = (
    "two_person_review",
    "separation_of_duties",
    "no_conflict_of_interest",
    "office_hours",
    "no_edit_after_finish",
)

ALIASES: dict[str, str] = {
    "item_code": "item_code",
    "sxbm": "item_code",
    "ssbm": "item_code",
    "实施编码": "item_code",
    "事项编码": "item_code",
    "base_code": "base_code",
    "基本编码": "base_code",
    "name": "name",
    "sxmc": "name",
    "事项名称": "name",
    "item_type": "item_type",
    "事项类型": "item_type",
    "department_code": "department_code",
    "实施主体编码": "department_code",
    "department_name": "department_name",
    "实施主体": "department_name",
    "region_code": "region_code",
    "xzqhdm": "region_code",
    "行政区划": "region_code",
    "level": "level",
    "case_kind": "case_kind",
    "办件类型": "case_kind",
    "legal_limit": "legal_limit",
    "法定办结时限": "legal_limit",
    "legal_limit_unit": "legal_limit_unit",
    "promised_limit": "promised_limit",
    "承诺办结时限": "promised_limit",
    "promised_limit_unit": "promised_limit_unit",
    "steps": "steps",
    "materials": "materials",
    "fee": "fee",
    "discretion": "discretion",
    "risk_points": "risk_points",
    "online": "online",
    "guide": "guide",
}


@dataclass(frozen=True)
class Step:
    name: str
    limit: int | None
    unit: str
    mandatory: bool


@dataclass(frozen=True)
class Material:
    name: str
    required: bool
    originals: int | None
    copies: int | None


@dataclass(frozen=True)
class Fee:
    basis: str | None
    amount: float | None
    unit_price: float | None
    unit: str | None


@dataclass(frozen=True)
class Tier:
    tier: str
    min_value: float | None
    max_value: float | None


@dataclass(frozen=True)
class RiskPoint:
    step: str
    level: str
    description: str | None
    measure: str


@dataclass(frozen=True)
class Online:
    depth: int | None
    unified_identity: bool | None
    e_license: bool | None
    online_payment: bool | None
    delivery: bool | None
    max_visits: int | None


@dataclass(frozen=True)
class Item:
    item_code: str
    base_code: str | None
    name: str
    item_type: str | None
    department_code: str
    department_name: str | None
    region_code: str
    level: str | None
    case_kind: str | None
    legal_limit: int | None
    legal_limit_unit: str
    promised_limit: int | None
    promised_limit_unit: str
    steps: tuple[Step, ...]
    materials: tuple[Material, ...]
    fee: Fee | None
    discretion: tuple[Tier, ...]
    risk_points: tuple[RiskPoint, ...]
    online: Online | None
    doc: str  # the canonical record as JSON, kept whole


def canonical_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """Rename aliases (case-insensitively) to canonical names; unknown keys are kept as they are."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = ALIASES.get(str(key).strip().lower(), str(key))
        if value is None or (isinstance(value, str) and value.strip() == ""):
            out.setdefault(name, None)
            continue
        if out.get(name) is None:
            out[name] = value
    return out


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(f"字段 {field}：{message}", field=field)


def _text(
    rec: dict[str, Any], field: str, *, required: bool = False, max_len: int | None = None
) -> str | None:
    value = rec.get(field)
    if value is None:
        if required:
            raise _fail(field, "必填，但缺失")
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if max_len is not None and len(text) > max_len:
        raise _fail(field, f"长度应不超过 {max_len}，实际为 {len(text)}")
    return text


def _code(rec: dict[str, Any], field: str, codes: tuple[str, ...], label: str) -> str | None:
    text = _text(rec, field)
    if text is None:
        return None
    if field == "item_type" and len(text) == 1:
        text = "0" + text
    if text not in codes:
        raise _fail(field, f"应为{label}之一（{' '.join(codes)}），实际为“{text}”")
    return text


def _int(value: Any, field: str, *, minimum: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _fail(field, f"应为整数，实际为“{value}”")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(field, f"应为整数，实际为“{value}”") from None
    if not number.is_integer() or number < minimum:
        raise _fail(field, f"应为不小于 {minimum} 的整数，实际为“{value}”")
    return int(number)


def _float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _fail(field, f"应为数值，实际为“{value}”")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _fail(field, f"应为数值，实际为“{value}”") from None


def _bool(value: Any, field: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "是", "yes", "y", "t"):
        return True
    if text in ("false", "0", "否", "no", "n", "f"):
        return False
    raise _fail(field, f"应为布尔值（true/false），实际为“{value}”")


def _unit(value: Any, field: str) -> str:
    if value is None:
        return "W"
    text = str(value).strip().upper()
    if text not in ("W", "N"):
        raise _fail(field, f"应为 W（工作日）或 N（自然日），实际为“{value}”")
    return text


def _nested(value: Any, field: str, kind: type) -> Any:
    """Nested values arrive as objects (JSON, YAML) or as JSON text (CSV, Excel cells)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise _fail(field, "应为 JSON 文本（CSV/Excel 单元格中的嵌套字段）") from None
    if value is not None and not isinstance(value, kind):
        expected = "列表" if kind is list else "对象"
        raise _fail(field, f"应为{expected}")
    return value


def _objects(value: Any, field: str) -> list[dict[str, Any]]:
    items = _nested(value, field, list) or []
    for i, entry in enumerate(items):
        if not isinstance(entry, dict):
            raise _fail(f"{field}[{i}]", "应为对象")
    return items


def parse_item(raw: dict[str, Any]) -> Item:
    rec = canonical_keys(raw)
    item_code = _text(rec, "item_code", required=True, max_len=24)
    name = _text(rec, "name", required=True)
    department_code = _text(rec, "department_code", required=True)
    region_code = _text(rec, "region_code", required=True)
    assert item_code is not None and name is not None and department_code is not None
    assert region_code is not None
    if not re.fullmatch(r"\d{6,9}", region_code):
        raise _fail("region_code", f"应为 6–9 位数字的行政区划代码，实际为“{region_code}”")
    legal_unit = _unit(rec.get("legal_limit_unit"), "legal_limit_unit")
    promised_unit = _unit(rec.get("promised_limit_unit"), "promised_limit_unit")
    legal = _int(rec.get("legal_limit"), "legal_limit")
    promised = _int(rec.get("promised_limit"), "promised_limit")
    if (
        legal is not None
        and promised is not None
        and legal_unit == promised_unit
        and promised > legal
    ):
        raise _fail(
            "promised_limit", f"承诺时限 {promised} 不应超过法定时限 {legal}（{legal_unit}）"
        )
    steps = []
    for i, s in enumerate(_objects(rec.get("steps"), "steps")):
        step_name = _text(s, "name", required=True)
        assert step_name is not None
        steps.append(
            Step(
                step_name,
                _int(s.get("limit"), f"steps[{i}].limit"),
                _unit(s.get("unit"), f"steps[{i}].unit"),
                _bool(s.get("mandatory"), f"steps[{i}].mandatory") is not False,
            )
        )
    materials = []
    for i, m in enumerate(_objects(rec.get("materials"), "materials")):
        mat_name = _text(m, "name")
        if mat_name is None:
            raise _fail(f"materials[{i}].name", "必填，但缺失")
        materials.append(
            Material(
                mat_name,
                _bool(m.get("required"), f"materials[{i}].required") is not False,
                _int(m.get("originals"), f"materials[{i}].originals"),
                _int(m.get("copies"), f"materials[{i}].copies"),
            )
        )
    fee = None
    fee_raw = _nested(rec.get("fee"), "fee", dict)
    if fee_raw:
        fee = Fee(
            _text(fee_raw, "basis"),
            _float(fee_raw.get("amount"), "fee.amount"),
            _float(fee_raw.get("unit_price"), "fee.unit_price"),
            _text(fee_raw, "unit"),
        )
        if fee.amount is None and fee.unit_price is None:
            raise _fail(
                "fee", "应有 amount（固定金额）或 unit_price（单价），或整体为 null 表示不收费"
            )
    tiers = []
    for i, t in enumerate(_objects(rec.get("discretion"), "discretion")):
        tier_name = _text(t, "tier")
        if tier_name is None:
            raise _fail(f"discretion[{i}].tier", "必填，但缺失")
        low, high = (
            _float(t.get("min"), f"discretion[{i}].min"),
            _float(t.get("max"), f"discretion[{i}].max"),
        )
        if low is not None and high is not None and low > high:
            raise _fail(f"discretion[{i}]", f"下限 {low} 大于上限 {high}")
        tiers.append(Tier(tier_name, low, high))
    risks = []
    for i, r in enumerate(_objects(rec.get("risk_points"), "risk_points")):
        step_name = _text(r, "step")
        if step_name is None:
            raise _fail(f"risk_points[{i}].step", "必填，但缺失")
        level = _text(r, "level")
        if level not in RISK_LEVELS:
            raise _fail(f"risk_points[{i}].level", f"应为 高、中、低 之一，实际为“{level}”")
        measure = _text(r, "measure")
        if measure not in MEASURES:
            raise _fail(
                f"risk_points[{i}].measure", f"应为 {'、'.join(MEASURES)} 之一，实际为“{measure}”"
            )
        risks.append(RiskPoint(step_name, level, _text(r, "description"), measure))
    online = None
    online_raw = _nested(rec.get("online"), "online", dict)
    if online_raw:
        depth = _int(online_raw.get("depth"), "online.depth")
        if depth is not None and depth > 5:
            raise _fail("online.depth", f"应为 0–5，实际为 {depth}")
        visits = _int(online_raw.get("max_visits"), "online.max_visits")
        if visits is not None and visits > 2:
            raise _fail("online.max_visits", f"应为 0、1 或 2，实际为 {visits}")
        online = Online(
            depth,
            _bool(online_raw.get("unified_identity"), "online.unified_identity"),
            _bool(online_raw.get("e_license"), "online.e_license"),
            _bool(online_raw.get("online_payment"), "online.online_payment"),
            _bool(online_raw.get("delivery"), "online.delivery"),
            visits,
        )
    guide = _nested(rec.get("guide"), "guide", dict)
    item = Item(
        item_code=item_code,
        base_code=_text(rec, "base_code", max_len=10),
        name=name,
        item_type=_code(rec, "item_type", ITEM_TYPES, "事项类型（A.1）"),
        department_code=department_code,
        department_name=_text(rec, "department_name"),
        region_code=region_code,
        level=_code(rec, "level", LEVELS, "行使层级（A.2）"),
        case_kind=_code(rec, "case_kind", ("1", "2"), "办件类型（1 即办件 / 2 承诺件）"),
        legal_limit=legal,
        legal_limit_unit=legal_unit,
        promised_limit=promised,
        promised_limit_unit=promised_unit,
        steps=tuple(steps),
        materials=tuple(materials),
        fee=fee,
        discretion=tuple(tiers),
        risk_points=tuple(risks),
        online=online,
        doc="",
    )
    return replace(item, doc=_doc(item, guide))


def _doc(item: Item, guide: dict[str, Any] | None) -> str:
    """The item as canonical JSON: typed values, canonical names, nulls left out."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    body = asdict(item)
    body.pop("doc")
    body["discretion"] = [
        {"tier": t.tier, "min": t.min_value, "max": t.max_value} for t in item.discretion
    ]
    if guide is not None:
        body["guide"] = guide
    return orjson.dumps(clean(body), option=orjson.OPT_SORT_KEYS, default=str).decode()
