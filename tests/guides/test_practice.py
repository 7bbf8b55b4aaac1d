"""The practice check on hand-written cases, on DuckDB and PostgreSQL (docs/guides.md).

Item ``T0001`` promises 10 working days, charges 50 元 and runs 受理 → 审查 → 决定; each test
imports four or five cases of it and asks what they show against its guide. An element is
contradicted when at least three cases, and at least half of those concerned, contradict it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from govwatch.events.ingest import import_records
from govwatch.formats import RawRecord
from govwatch.guides.checks import run_checks
from govwatch.guides.model import GuideFinding
from govwatch.guides.practice import MIN_CASES, MIN_SHARE
from govwatch.items.ingest import import_catalog_records
from govwatch.storage import Database
from tests.guides.guide_records import case, record

AT = datetime(2025, 6, 30, 18, 0)


def _check(db: Database, cases: list[list[dict[str, Any]]], **guide: Any) -> list[GuideFinding]:
    rec = record()
    rec["guide"].update(guide)
    report = import_catalog_records(db, [RawRecord("test", 1, json.dumps(rec, ensure_ascii=False))])
    assert report.quarantined == 0
    events = [e for c in cases for e in c]
    assert import_records(db, events).quarantined == 0
    return [f for f in run_checks(db, AT) if f.check == "practice"]


def test_the_thresholds_are_three_cases_and_half() -> None:
    assert (MIN_CASES, MIN_SHARE) == (3, 0.5)


def test_materials_demanded_beyond_the_guide_in_most_cases(db: Database) -> None:
    extra = ("申请表", "居民身份证", "户口簿")
    cases = [case("M1", materials=extra), case("M2", materials=extra),
             case("M3", materials=extra), case("M4")]  # fmt: skip
    (finding,) = _check(db, cases)
    assert (finding.item_code, finding.element) == ("T0001", "materials")
    assert finding.evidence["cases"] == 4 and finding.evidence["contradicting"] == 3
    assert finding.evidence["details"][0]["material"] == "户口簿"
    assert set(finding.evidence["examples"]) <= {"M1", "M2", "M3"}
    assert "“户口簿”（3 / 4 件（75%）办件要求提交）" in finding.message
    assert finding.expected == "申请材料以指南所列为限：“申请表”、“居民身份证”"


def test_two_cases_demanding_more_are_left_to_the_rules(db: Database) -> None:
    extra = ("申请表", "居民身份证", "户口簿")
    assert _check(db, [case("M1", materials=extra), case("M2", materials=extra)]) == []


def test_a_material_the_guide_forgot_is_demanded_by_every_case(db: Database) -> None:
    materials = record()["guide"]["materials"][:1]
    (finding,) = _check(db, [case(f"M{i}") for i in range(4)], materials=materials)
    assert finding.evidence["details"][0] == {
        "material": "居民身份证", "cases": 4, "examples": ["M0", "M3"]}  # fmt: skip


def test_steps_the_guide_does_not_list_or_runs_in_another_order(db: Database) -> None:
    cases = [case("P1", steps=("受理", "决定", "审查")), case("P2", steps=("受理", "决定", "审查")),
             case("P3", steps=("预审", "受理", "审查", "决定")), case("P4")]  # fmt: skip
    (finding,) = _check(db, cases)
    assert finding.element == "process" and finding.evidence["contradicting"] == 3
    assert {"step": "审查", "after": "决定", "cases": 2} in finding.evidence["details"]
    assert {"step": "预审", "cases": 1} in finding.evidence["details"]
    assert "办理了指南未列的环节“预审”（1 件）" in finding.message
    assert "“审查”在“决定”之后才开始（2 件）" in finding.message
    assert finding.expected == "按指南流程办理：受理→审查→决定"


def test_fees_paid_other_than_the_guide_says(db: Database) -> None:
    cases = [case("F1", paid=80.0), case("F2", paid=80.0), case("F3", paid=80.0),
             case("F4"), case("F5", paid=None)]  # fmt: skip
    (finding,) = _check(db, cases)
    assert finding.element == "fees"
    assert (finding.evidence["cases"], finding.evidence["contradicting"]) == (4, 3)
    assert finding.evidence["details"] == [{"paid": 80.0, "cases": 3}]
    assert "最常见的实收金额为 80.00 元（3 件）" in finding.found
    assert finding.expected == "收费 50.00 元，依据《食品经营许可收费标准》"


def test_a_free_guide_is_contradicted_by_any_payment(db: Database) -> None:
    cases = [case(f"F{i}", paid=50.0) for i in range(3)]
    (finding,) = _check(db, cases, fee={"charged": False})
    assert finding.element == "fees" and finding.expected == "不收费"


def test_cases_finished_after_the_guides_promise_pauses_not_counted(db: Database) -> None:
    # accepted on day 0, promised 10 working days: on time through day 10; a pause of three
    # working days (day 5 to day 8) moves one case's deadline to day 13
    cases = [case("D1", finish_day=12), case("D2", finish_day=11), case("D3", finish_day=14),
             case("D4", finish_day=12, pause=(5, 8)), case("D5", finish_day=10),
             case("D6", finish_day=None)]  # fmt: skip
    (finding,) = _check(db, cases)
    assert finding.element == "basic.promised_limit"
    assert (finding.evidence["cases"], finding.evidence["contradicting"]) == (5, 3)
    assert finding.evidence["examples"] == ["D1", "D3"]
    assert finding.evidence["details"] == [{"longest": 14, "unit": "W"}]
    assert "3 / 5 件（60%）超过指南承诺时限，最长用时 14 个工作日" in finding.message
    assert finding.expected == "承诺 10 个工作日内办结"


def test_a_shorter_promise_in_the_guide_is_contradicted_where_the_list_is_kept(
    db: Database,
) -> None:
    cases = [case(f"D{i}", finish_day=8) for i in range(4)]
    findings = {(f.element, f.check) for f in _check(db, cases, promised_limit=5)}
    assert findings == {("basic.promised_limit", "practice")}
    assert [f.element for f in run_checks(db, AT) if f.check == "consistency"] == [
        "basic.promised_limit"
    ]


def test_cases_that_keep_the_guide_and_a_malformed_element_give_no_practice_finding(
    db: Database,
) -> None:
    cases = [case(f"K{i}", steps=("受理", "决定", "审查")) for i in range(4)]
    findings = _check(db, cases, process=[{"name": "受理"}, {"name": "受理"}])
    assert findings == []
    assert [(f.element, f.check) for f in run_checks(db, AT)] == [("process", "completeness")]


def test_events_after_the_moment_do_not_count(db: Database) -> None:
    cases = [case(f"P{i}", steps=("受理", "决定", "审查")) for i in range(4)]
    assert [f.element for f in _check(db, cases)] == ["process"]
    # before the first step of any of them (day 1, 2025-03-04) nothing was run yet
    assert [f for f in run_checks(db, datetime(2025, 3, 3, 18, 0)) if f.check == "practice"] == []
