"""An alert's evidence in Chinese: one sentence and labelled fields for each built-in rule."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest

from govwatch.alerts.case_view import event_rows
from govwatch.alerts.evidence_text import (
    SENTENCE_RULES,
    describe,
    key_text,
    moment_text,
    plain_text,
    sentence,
)
from govwatch.rules.registry import DEFAULT_RULES

CJK = re.compile(r"[\u3400-\u9fff]")
# What a person must never read: an evidence key, a unit code after a number, a Python value,
# an ISO time.
KEYS = {key for rule in DEFAULT_RULES for key in rule.evidence}
RAW = re.compile(
    r"(?<![A-Za-z_])(?:" + "|".join(sorted(KEYS, key=len, reverse=True)) + r")(?![A-Za-z_])"
    r"|\d+ ?[WN]\b|True|False|None|\{'|\d{4}-\d{2}-\d{2}T\d{2}"
)

# Evidence as the engine stores it (JSON: ISO text for moments, W/N units, booleans), one
# sample value per key; the rules' own fields decide which of them a rule carries.
SAMPLE: dict[str, Any] = {
    "deadline": "2026-06-30",
    "elapsed": 9,
    "remaining": 1,
    "limit_days": 10,
    "unit": "W",
    "warn_days": 2,
    "provisional": False,
    "step": "审查",
    "started_at": "2026-06-01T09:30:00",
    "ended_at": None,
    "days_late": 3,
    "still_open": True,
    "status": "open",
    "finished_at": None,
    "promised_deadline": "2026-06-15",
    "promised_unit": "W",
    "promised_days_late": 11,
    "legal_deadline": "2026-06-29",
    "legal_unit": "N",
    "legal_days_late": 1,
    "legal_overdue": True,
    "result": "6",
    "flow_seq": 2,
    "after_step": "决定",
    "after_flow_seq": 3,
    "kind": "resume",
    "problem": "without_suspend",
    "event_id": "E1",
    "occurred_at": "2026-06-30T22:00:00",
    "count": 2,
    "requests": 3,
    "max_requests": 1,
    "start_event_id": "E7",
    "procedure_type": "听证",
    "days": 40,
    "max_days": 30,
    "returns": 3,
    "max_returns": 2,
    "missing_reason": True,
    "missing_legal_basis": False,
    "material": "申请书",
    "accepted_at": "2026-06-01T10:00:00",
    "item_code": "ZZ9",
    "event_kind": "supplement_request",
    "promised_finish_at": "2026-07-30T17:00:00",
    "tier": "一般",
    "decided_value": 8000.0,
    "min_value": 1000.0,
    "max_value": None,
    "payments": 2,
    "amount_yuan": 80.0,
    "paid_yuan": 80.0,
    "expected_yuan": 50.0,
    "quantity": 1.0,
    "tolerance": 0.01,
    "measure": "office_hours",
    "risk_level": "高",
    "actor": "王五",
}


def _evidence(rule_id: str) -> dict[str, Any]:
    rule = next(r for r in DEFAULT_RULES if r.id == rule_id)
    return {key: SAMPLE[key] for key in sorted(rule.evidence)}  # stored sorted, as JSON


def test_every_built_in_rule_has_a_sentence() -> None:
    assert {rule.id for rule in DEFAULT_RULES} == SENTENCE_RULES


@pytest.mark.parametrize("rule_id", sorted(r.id for r in DEFAULT_RULES))
def test_evidence_reads_as_chinese_without_codes(rule_id: str) -> None:
    text = describe(rule_id, _evidence(rule_id), message="stored message")
    assert CJK.search(text.sentence) and text.sentence != "stored message"
    assert not RAW.search(text.sentence), text.sentence
    for f in text.fields:
        assert CJK.search(f.label), f
        assert not RAW.search(f.value), f
    # a unit is not a field of its own: it follows the number it counts
    assert not {"unit", "promised_unit", "legal_unit"} & {f.key for f in text.fields}


def test_the_overdue_case_of_the_issue_reads_as_a_sentence_and_fields() -> None:
    """``promised_unit W``, ``True``, ``None`` on the alert page (issue 14) become Chinese."""
    evidence = {
        "finished_at": "2025-10-20T10:00:00",
        "legal_days_late": 11,
        "legal_deadline": "2025-09-28",
        "legal_overdue": True,
        "legal_unit": "W",
        "promised_days_late": 21,
        "promised_deadline": "2025-09-15",
        "promised_unit": "W",
        "provisional": False,
        "status": "finished",
    }
    text = describe("case_overdue", evidence)
    assert text.sentence == "办件于 2025-10-20 10:00 办结，超过法定办结期限 2025-09-28 11 个工作日"
    shown = {f.label: (f.value, f.title) for f in text.fields}
    assert shown == {
        "办件状态": ("已办结", "finished"),
        "办结时间": ("2025-10-20 10:00", ""),
        "承诺办结期限": ("2025-09-15", ""),
        "超出承诺期限": ("21 个工作日", ""),
        "法定办结期限": ("2025-09-28", ""),
        "超出法定期限": ("11 个工作日", ""),
        "已超法定期限": ("是", ""),
        "期限为暂定": ("否", ""),
    }
    # in the order of the rule's query, not the stored (sorted) order
    assert [f.key for f in text.fields][:2] == ["status", "finished_at"]
    unfinished = describe("case_overdue", evidence | {"finished_at": None})
    assert unfinished.sentence == "办件已超过法定办结期限 2025-09-28 11 个工作日，仍未办结"
    assert {f.label: f.value for f in unfinished.fields}["办结时间"] == "尚未办结"


def test_codes_in_the_evidence_are_named_with_the_code_kept_for_hover() -> None:
    risk = describe("risk_measure_violated", _evidence("risk_measure_violated"))
    measure = next(f for f in risk.fields if f.key == "measure")
    assert (measure.value, measure.title) == ("工作时间办理", "office_hours")
    assert "该环节于 2026-06-30 22:00 办结" in risk.sentence
    order = describe("event_out_of_order", _evidence("event_out_of_order"))
    assert (
        order.sentence
        == "2026-06-30 22:00 的“恢复”事件（E1）无对应的中止，事件顺序不可能（同类共 2 个）"
    )
    problem = next(f for f in order.fields if f.key == "problem")
    assert (problem.value, problem.title) == ("无对应的中止", "without_suspend")
    step = describe("missing_step", {"result": "0", "step": "决定"})
    assert step.sentence == "办件以“出证办结”办结，但没有经过事项规定的必经环节“决定”"


def test_a_custom_or_unreadable_rule_keeps_its_message_without_iso_times() -> None:
    message = "办件于 2025-10-20T10:00:00 办结"
    assert sentence("my_rule", {"x": 1}, message) == "办件于 2025-10-20 10:00 办结"
    # evidence of an older shape: the stored message rather than a failure
    assert sentence("case_overdue", {}, message) == "办件于 2025-10-20 10:00 办结"


def test_keys_read_as_names() -> None:
    assert key_text("risk_measure_violated", "决定/two_person_review") == "决定 · 双人审核"
    assert key_text("event_out_of_order", "supplement_received") == "补正材料收讫"
    assert key_text("missing_materials", "申请书") == "申请书"
    assert key_text("long_suspension", "E7") == "中止事件 E7"
    assert key_text("near_deadline", "") == ""


def test_moments_are_written_one_way() -> None:
    assert moment_text(datetime(2026, 6, 30, 22, 0, 59)) == "2026-06-30 22:00"
    assert moment_text(date(2026, 6, 30)) == "2026-06-30"
    assert moment_text("2026-06-30T22:00:00") == "2026-06-30 22:00"
    assert moment_text("2026-06-30T22:00:00.123+08:00") == "2026-06-30 22:00"
    assert moment_text("2026-06-30 22:00:00") == "2026-06-30 22:00"
    assert moment_text(None) == ""
    assert plain_text("自 2026-06-01T09:30:00 起，至 2026-06-30T22:00Z") == (
        "自 2026-06-01 09:30 起，至 2026-06-30 22:00"
    )


def test_events_of_a_case_read_by_name() -> None:
    at = datetime(2025, 10, 20, 10, 0)
    rows = event_rows(
        [
            {
                "kind": "apply",
                "occurred_at": at,
                "channel": "3",
                "applicant_type": "2",
                "applicant_name": "李*",
                "materials": '[{"name": "申请书", "provided": false}]',
            },
            {"kind": "step_end", "occurred_at": at, "step": "审查", "action": "return"},
            {
                "kind": "finish",
                "occurred_at": at,
                "result": "0",
                "tier": "一般",
                "decided_value": 8000.0,
            },
            {"kind": "rating", "occurred_at": at, "level": "4", "channel": "移动端", "text": "慢"},
            {
                "kind": "correction",
                "occurred_at": at,
                "field": "phone",
                "old_value": "1",
                "new_value": "2",
            },
        ]
    )
    assert [(r["kind_name"], r["content"], r["codes"]) for r in rows] == [
        (
            "申请",
            "办理形式 移动端，申请者 企业法人，材料 1 件（未提交：申请书）",
            "办理形式代码 3；申请者类型代码 2",
        ),
        ("环节结束", "审查，退回", "业务动作 return"),
        ("办结", "出证办结，裁量档次 一般，决定值 8000", "办结结果代码 0"),
        ("好差评", "不满意，移动端", "满意度代码 4"),
        ("数据更正", "联系电话：1 → 2", ""),
    ]
    assert rows[0]["person"] == "李*" and rows[3]["note"] == "慢"
