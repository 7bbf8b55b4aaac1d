"""What an alert's evidence says, in Chinese: one sentence and labelled fields.

The rule engine stores each finding's evidence as its query's columns (``promised_unit: "W"``,
``legal_overdue: true``, ``finished_at: "2025-10-20T10:00:00"``). A page shows them to civil
servants: :func:`describe` turns the evidence of each of the 21 built-in rules into a sentence
(what happened, with its dates and limits) and a list of fields, each with its Chinese label
(``govwatch.vocabulary.EVIDENCE_FIELD_NAMES``) and its value as a person reads it: ``W`` and
``N`` become 工作日 and 自然日 and follow the number they count (``4 个工作日``), true and false
become 是 and 否, moments read ``2025-10-20 10:00``, codes (results, event kinds, measures)
their names, with the code kept for a ``title`` (hover). A custom rule, or a rule this module
does not know, keeps the message the engine stored, its moments rewritten the same way.

Moments are written one way on every page (:func:`moment_text`: ``2026-06-30 22:00``, a date
alone ``2026-06-30``); :func:`plain_text` rewrites the ISO moments inside stored free text
(messages written before, the condition history). Pure functions: nothing here reads the
database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from govwatch.rules.registry import DEFAULT_RULES
from govwatch.vocabulary import (
    CASE_STATUS_NAMES,
    DISCRETION_PROBLEM_NAMES,
    EVENT_KIND_NAMES,
    EVENT_ORDER_PROBLEM_NAMES,
    EVIDENCE_FIELD_NAMES,
    FINISH_RESULT_NAMES,
    RISK_MEASURE_NAMES,
    YES_NO_NAMES,
    label,
    unit_name,
)

# The evidence columns of each built-in rule, in the order its query selects them.
EVIDENCE_ORDER: Mapping[str, tuple[str, ...]] = {rule.id: rule.evidence for rule in DEFAULT_RULES}

_ISO_MOMENT = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_ISO_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}.*)?$")


def moment_text(value: object) -> str:
    """A moment as pages write it: ``2026-06-30 22:00``; a date ``2026-06-30``; None ``""``.

    Accepts datetimes, dates and ISO text (with ``T`` or a space, seconds, fractions or an
    offset, which are dropped: stored moments are Beijing wall time). Other text is returned
    as it is.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return plain_text(str(value))


def plain_text(text: str) -> str:
    """Free text with each ISO moment in it written as pages write moments (no ``T``)."""
    return _ISO_MOMENT.sub(r"\1 \2", text)


@dataclass(frozen=True)
class Field:
    """One labelled value of the evidence; ``title`` holds the raw code a value names."""

    key: str
    label: str
    value: str
    title: str = ""


@dataclass(frozen=True)
class EvidenceText:
    sentence: str
    fields: tuple[Field, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "fields": [
                {"key": f.key, "label": f.label, "value": f.value, "title": f.title}
                for f in self.fields
            ],
        }


# --- values -----------------------------------------------------------------------------------

# Keys whose value counts time in a unit, and the key of that unit.
_DURATIONS = {
    "elapsed": "unit",
    "remaining": "unit",
    "limit_days": "unit",
    "warn_days": "unit",
    "days_late": "unit",
    "days": "unit",
    "max_days": "unit",
    "promised_days_late": "promised_unit",
    "legal_days_late": "legal_unit",
}
_UNITS = frozenset({"unit", "promised_unit", "legal_unit"})
_MOMENTS = frozenset(
    {"started_at", "ended_at", "finished_at", "occurred_at", "accepted_at", "promised_finish_at"}
)
_DATES = frozenset({"deadline", "promised_deadline", "legal_deadline"})
_FLAGS = frozenset(
    {"provisional", "still_open", "legal_overdue", "missing_reason", "missing_legal_basis"}
)
_YUAN = frozenset({"amount_yuan", "paid_yuan", "expected_yuan", "tolerance"})
_TIMES = {
    "count": "个",
    "requests": "次",
    "max_requests": "次",
    "returns": "次",
    "max_returns": "次",
    "payments": "笔",
}
# What an empty value means, where it means something.
_EMPTY = {
    "ended_at": "尚未结束",
    "finished_at": "尚未办结",
    "min_value": "不限",
    "max_value": "不限",
    "procedure_type": "未注明",
    "actor": "未记录",
}
# Codes shown by their names, with the code on hover.
_CODES: Mapping[str, Mapping[str, str]] = {
    "result": FINISH_RESULT_NAMES,
    "kind": EVENT_KIND_NAMES,
    "event_kind": EVENT_KIND_NAMES,
    "measure": RISK_MEASURE_NAMES,
    "status": CASE_STATUS_NAMES,
}
_PROBLEMS = {
    "event_out_of_order": EVENT_ORDER_PROBLEM_NAMES,
    "discretion_out_of_band": DISCRETION_PROBLEM_NAMES,
}


def duration(number: object, unit: object) -> str:
    """``4`` and ``W`` → ``4 个工作日``."""
    return f"{number} 个{unit_name(unit)}"


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _yuan(value: object) -> str:
    try:
        return f"{float(str(value)):.2f} 元"
    except ValueError:
        return str(value)


def field_label(rule: str, key: str) -> str:
    """The label of evidence ``key`` of ``rule``: the rule's own, the general one, the key."""
    return EVIDENCE_FIELD_NAMES.get(f"{rule}.{key}") or label(EVIDENCE_FIELD_NAMES, key)


def _value(rule: str, key: str, ev: Mapping[str, Any]) -> tuple[str, str]:
    """(the value as read, the code for a title) of one evidence field."""
    value = ev.get(key)
    if value is None or value == "":
        return _EMPTY.get(key, "—"), ""
    if key in _DURATIONS:
        return duration(_number(value), ev.get(_DURATIONS[key])), ""
    if key in _MOMENTS or key in _DATES:
        return moment_text(value), ""
    if key in _FLAGS or isinstance(value, bool):
        return label(YES_NO_NAMES, bool(value)), ""
    if key in _UNITS:
        return unit_name(value), str(value)
    if key in _YUAN:
        return _yuan(value), ""
    if key in _TIMES:
        return f"{_number(value)} {_TIMES[key]}", ""
    if key == "problem" and rule in _PROBLEMS:
        return label(_PROBLEMS[rule], value), str(value)
    if key in _CODES:
        named = label(_CODES[key], value)
        return named, str(value) if named != str(value) else ""
    if isinstance(value, dict | list):
        return "；".join(str(v) for v in (value.values() if isinstance(value, dict) else value)), ""
    if isinstance(value, str) and _ISO_TEXT.match(value):
        return moment_text(value), ""
    return _number(value), ""


def fields(rule: str, evidence: Mapping[str, Any]) -> tuple[Field, ...]:
    """Every evidence field but the units (which follow the numbers they count), labelled, in
    the order of the rule's query (stored evidence is sorted by key)."""
    order = {key: i for i, key in enumerate(EVIDENCE_ORDER.get(rule, ()))}
    out = []
    for key in sorted(evidence, key=lambda k: (order.get(k, len(order)), k)):
        if key in _UNITS and any(_DURATIONS.get(k) == key for k in evidence):
            continue
        value, title = _value(rule, key, evidence)
        out.append(Field(key, field_label(rule, key), value, title))
    return tuple(out)


# --- one sentence per rule -----------------------------------------------------------------------


_Values = dict[str, str]  # the evidence's values as read: ``v["deadline"]`` → ``2026-06-30``


def _provisional(v: Mapping[str, Any]) -> str:
    return "（期限涉及尚未公布的节假日安排，为暂定）" if v.get("provisional") else ""


def _near_deadline(ev: Mapping[str, Any], v: _Values) -> str:
    if str(ev.get("remaining")) == "0":
        return f"承诺办结期限为今日（{v['deadline']}），办件尚未办结{_provisional(ev)}"
    return f"距承诺办结期限 {v['deadline']} 仅剩 {v['remaining']}，办件尚未办结{_provisional(ev)}"


def _step_overdue(ev: Mapping[str, Any], v: _Values) -> str:
    state = "至今仍在办理" if ev.get("still_open") else f"已于 {v['ended_at']} 结束"
    return (
        f"环节“{v['step']}”时限 {v['limit_days']}，自 {v['started_at']} 开始已用 {v['elapsed']}，"
        f"超出 {v['days_late']}，{state}"
    )


def _case_overdue(ev: Mapping[str, Any], v: _Values) -> str:
    legal = bool(ev.get("legal_overdue"))
    which, deadline = ("法定", v["legal_deadline"]) if legal else ("承诺", v["promised_deadline"])
    late = v["legal_days_late"] if legal else v["promised_days_late"]
    if ev.get("finished_at"):
        return f"办件于 {v['finished_at']} 办结，超过{which}办结期限 {deadline} {late}"
    return f"办件已超过{which}办结期限 {deadline} {late}，仍未办结{_provisional(ev)}"


def _missing_step(ev: Mapping[str, Any], v: _Values) -> str:
    return f"办件以“{v['result']}”办结，但没有经过事项规定的必经环节“{v['step']}”"


def _step_out_of_order(ev: Mapping[str, Any], v: _Values) -> str:
    return (
        f"环节“{v['step']}”（流程第 {v['flow_seq']} 步）于 {v['started_at']} 才开始，"
        f"晚于其后续环节“{v['after_step']}”（流程第 {v['after_flow_seq']} 步），与办理流程顺序不符"
    )


def _event_out_of_order(ev: Mapping[str, Any], v: _Values) -> str:
    more = f"（同类共 {v['count']}）" if int(ev.get("count") or 1) > 1 else ""
    return (
        f"{v['occurred_at']} 的“{v['kind']}”事件（{v['event_id']}）{v['problem']}，"
        f"事件顺序不可能{more}"
    )


def _repeated_supplement(ev: Mapping[str, Any], v: _Values) -> str:
    return (
        f"办件共发出 {v['requests']}补正告知，超过允许的 {v['max_requests']}，"
        "未做到一次性告知需补正的全部内容"
    )


def _special_overrun(ev: Mapping[str, Any], v: _Values) -> str:
    state = "已进行" if ev.get("ended_at") is None else f"至 {v['ended_at']} 共用时"
    return (
        f"特别程序（{v['procedure_type']}）自 {v['started_at']} 开始，{state} {v['days']}，"
        f"超过其时限 {v['limit_days']}"
    )


def _long_suspension(ev: Mapping[str, Any], v: _Values) -> str:
    state = "至今已中止" if ev.get("ended_at") is None else f"至 {v['ended_at']} 恢复，中止"
    return f"办件自 {v['started_at']} 起{state} {v['days']}，超过允许的 {v['max_days']}"


def _repeated_return(ev: Mapping[str, Any], v: _Values) -> str:
    return f"办件的环节以“退回”结束 {v['returns']}，超过允许的 {v['max_returns']}"


def _result_without_reason(ev: Mapping[str, Any], v: _Values) -> str:
    if ev.get("kind") == "terminate":
        return f"办件于 {v['occurred_at']} 终止，但未说明理由"
    return f"办件于 {v['occurred_at']} 以“{v['result']}”办结，但未说明理由"


def _licence_missing(ev: Mapping[str, Any], v: _Values) -> str:
    return f"办件于 {v['occurred_at']} 以“出证办结”办结，但未登记证照编号"


def _adverse(ev: Mapping[str, Any], v: _Values) -> str:
    what = "不予受理决定" if ev.get("kind") == "reject" else "不予许可决定"
    missing = "、".join(
        name
        for name, key in (("理由", "missing_reason"), ("法律依据", "missing_legal_basis"))
        if ev.get(key)
    )
    return f"{v['occurred_at']} 作出的{what}缺少{missing or '理由或法律依据'}"


def _missing_materials(ev: Mapping[str, Any], v: _Values) -> str:
    return (
        f"办件已于 {v['accepted_at']} 受理，但事项要求的必要材料“{v['material']}”"
        "既未在申请时提交，也未经补正收讫"
    )


def _unknown_item(ev: Mapping[str, Any], v: _Values) -> str:
    more = f"（共 {v['count']}事件）" if int(ev.get("count") or 1) > 1 else ""
    return f"“{v['kind']}”事件（{v['event_id']}）的事项编码“{v['item_code']}”不在事项目录中{more}"


def _beyond_guide(ev: Mapping[str, Any], v: _Values) -> str:
    return (
        f"“{v['event_kind']}”事件（{v['event_id']}）要求的材料“{v['material']}”"
        "不在该事项办事指南的材料清单中"
    )


def _promise_mismatch(ev: Mapping[str, Any], v: _Values) -> str:
    return (
        f"受理时承诺的办结时间 {v['promised_finish_at']} 晚于按事项承诺时限"
        f"（{v['limit_days']}）计算的办结期限 {v['promised_deadline']}"
    )


def _discretion(ev: Mapping[str, Any], v: _Values) -> str:
    if ev.get("problem") == "unknown_tier":
        return f"办结决定采用的裁量档次“{v['tier']}”不在该事项的裁量基准中"
    return (
        f"办结决定值 {v['decided_value']} 超出裁量档次“{v['tier']}”的范围"
        f"（{v['min_value']} 至 {v['max_value']}）"
    )


def _unlisted_fee(ev: Mapping[str, Any], v: _Values) -> str:
    return f"该事项不收费，但办件有 {v['payments']}收费，合计 {v['amount_yuan']}（擅自收费）"


def _fee_mismatch(ev: Mapping[str, Any], v: _Values) -> str:
    try:
        gap = _yuan(abs(float(ev["paid_yuan"]) - float(ev["expected_yuan"])))
    except (KeyError, TypeError, ValueError):
        gap = "—"
    return f"办件实收合计 {v['paid_yuan']}，按事项收费标准应收 {v['expected_yuan']}，相差 {gap}"


_RISK_DETAILS = {
    "two_person_review": "该环节只由 1 名经办人办结",
    "separation_of_duties": "受理人 {actor} 同时办结了该环节",
    "no_conflict_of_interest": "经办人 {actor} 已申报与申请人存在关联关系",
    "office_hours": "该环节于 {occurred_at} 办结，不在工作日 08:00–18:00 之内",
    "no_edit_after_finish": "办件办结后于 {occurred_at} 更正了数据",
}


def _risk(ev: Mapping[str, Any], v: _Values) -> str:
    detail = _RISK_DETAILS.get(str(ev.get("measure")), "").format_map(v)
    return (
        f"环节“{v['step']}”的廉政风险点（风险等级{v['risk_level']}）防控措施“{v['measure']}”"
        f"未落实" + (f"：{detail}" if detail else "")
    )


_SENTENCES: Mapping[str, Callable[[Mapping[str, Any], _Values], str]] = {
    "near_deadline": _near_deadline,
    "step_overdue": _step_overdue,
    "case_overdue": _case_overdue,
    "missing_step": _missing_step,
    "step_out_of_order": _step_out_of_order,
    "event_out_of_order": _event_out_of_order,
    "repeated_supplement": _repeated_supplement,
    "special_procedure_overrun": _special_overrun,
    "long_suspension": _long_suspension,
    "repeated_return": _repeated_return,
    "result_without_reason": _result_without_reason,
    "licence_missing": _licence_missing,
    "adverse_decision_without_basis": _adverse,
    "missing_materials": _missing_materials,
    "unknown_item": _unknown_item,
    "materials_beyond_guide": _beyond_guide,
    "promise_mismatch": _promise_mismatch,
    "discretion_out_of_band": _discretion,
    "unlisted_fee": _unlisted_fee,
    "fee_mismatch": _fee_mismatch,
    "risk_measure_violated": _risk,
}
SENTENCE_RULES = frozenset(_SENTENCES)


def sentence(rule: str, evidence: Mapping[str, Any], message: str = "") -> str:
    """The evidence of ``rule`` in one Chinese sentence; the stored ``message`` (its moments
    rewritten) for a rule without a sentence here, or evidence a sentence cannot read."""
    write = _SENTENCES.get(rule)
    if write is None or not set(EVIDENCE_ORDER.get(rule, ())) <= set(evidence):
        return plain_text(message)
    values = {k: _value(rule, k, evidence)[0] for k in evidence}
    try:
        return write(evidence, values)
    except (KeyError, TypeError, ValueError, IndexError):  # evidence of an older shape
        return plain_text(message)


def describe(rule: str, evidence: Mapping[str, Any], message: str = "") -> EvidenceText:
    """The sentence and the labelled fields of one alert's evidence."""
    return EvidenceText(sentence(rule, evidence, message), fields(rule, evidence))


def key_text(rule: str, key: str | None) -> str:
    """An alert's key as read: a measure or event kind by name (``审查/office_hours`` →
    ``审查 · 工作时间办理``), an event id with what it began (``中止事件 E7``); step and
    material names as they are."""
    if not key:
        return ""
    if rule == "risk_measure_violated" and "/" in key:
        step, measure = key.rsplit("/", 1)
        return f"{step} · {label(RISK_MEASURE_NAMES, measure)}"
    if rule == "event_out_of_order":
        return label(EVENT_KIND_NAMES, key)
    if rule in _KEY_EVENTS:
        return f"{_KEY_EVENTS[rule]} {key}"
    return key


# Rules whose key is the id of the event that began what they judge.
_KEY_EVENTS = {"special_procedure_overrun": "特别程序开始事件", "long_suspension": "中止事件"}
