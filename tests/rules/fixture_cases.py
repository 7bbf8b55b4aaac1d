"""Readable fixture cases: for each default rule, cases that make it fire and cases that don't.

Each case is named after what it shows. ``EXPECT[case_id] = (rule, {moment: {(key, level)}})``
is what that rule finds on that case at each moment (other rules are not this case's
concern); ``CLEAN`` cases must have no finding at all at any moment. Calendar: 2025 notices
(National Day 1–8 October; Sunday 28 September and Saturday 11 October are working days).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

MOMENTS = {
    "sep01": datetime(2025, 9, 1, 12, 0),
    "sep05": datetime(2025, 9, 5, 12, 0),
    "oct27": datetime(2025, 10, 27, 12, 0),
    "oct28": datetime(2025, 10, 28, 12, 0),
    "oct30": datetime(2025, 10, 30, 12, 0),
    "oct31": datetime(2025, 10, 31, 12, 0),
    "nov20": datetime(2025, 11, 20, 12, 0),
}

_STEPS = [
    {"name": "受理", "limit": 1, "unit": "W", "mandatory": True},
    {"name": "审查", "limit": 3, "unit": "W", "mandatory": True},
    {"name": "决定", "limit": 1, "unit": "W", "mandatory": True},
]
_MATERIALS = [
    {"name": "申请书", "required": True},
    {"name": "身份证", "required": True},
    {"name": "照片", "required": False},
]


def _item(code: str, **extra: Any) -> dict[str, Any]:
    item = {
        "item_code": code, "name": f"测试事项{code}", "item_type": "01",
        "department_code": "DEPT1", "region_code": "330102", "case_kind": "2",
        "legal_limit": 20, "promised_limit": 10, "steps": _STEPS, "materials": _MATERIALS,
        "fee": None, "discretion": None, "risk_points": [],
    }  # fmt: skip
    item.update(extra)
    return item


CATALOG = [
    _item("B001"),
    _item("E001", legal_limit=30, promised_limit=20),
    _item("F001", fee={"basis": "收费依据", "amount": 50.0}),
    _item("U001", fee={"basis": "收费依据", "unit_price": 10.0, "unit": "页"}),
    _item("T001", discretion=[{"tier": "一般", "min": 1000, "max": 5000},
                              {"tier": "较重", "min": 5000, "max": 10000}]),
    _item("R001", risk_points=[
        {"step": "决定", "level": "高", "description": "d", "measure": "two_person_review"},
        {"step": "审查", "level": "中", "description": "d", "measure": "separation_of_duties"},
        {"step": "决定", "level": "低", "description": "d", "measure": "office_hours"},
        {"step": "受理", "level": "中", "description": "d", "measure": "no_conflict_of_interest"},
        {"step": "审查", "level": "高", "description": "d", "measure": "no_edit_after_finish"},
    ]),
]  # fmt: skip

EVENTS: list[dict[str, Any]] = []
EXPECT: dict[str, tuple[str, dict[str, set[tuple[str, str]]]]] = {}
CLEAN: list[str] = []


def _add(case: str, kind: str, at: str, **fields: Any) -> None:
    n = sum(1 for e in EVENTS if e["case_id"] == case) + 1
    EVENTS.append(
        {
            "event_id": f"{case}-{n:02d}",
            "case_id": case,
            "kind": kind,
            "occurred_at": f"2025-{at}",
            **fields,
        }
    )


def case(
    cid: str,
    item: str = "B001",
    *,
    materials: tuple[str, ...] = ("申请书", "身份证"),
    steps: tuple[str, ...] = ("受理", "审查", "决定"),
    finish: dict[str, Any] | None = None,
    accept: dict[str, Any] | None = None,
    day: str = "09-01",
    done: str = "09-02",
) -> None:
    """A case that goes by the book unless told otherwise: apply, accept, steps, finish."""
    _add(
        cid,
        "apply",
        f"{day}T09:00:00",
        item_code=item,
        applicant_id="330102199001011234",
        materials=[{"name": m, "provided": True} for m in materials],
    )
    _add(cid, "accept", f"{day}T09:30:00", item_code=item, actor="acc1", **(accept or {}))
    for i, step in enumerate(steps):
        _add(cid, "step_start", f"{day}T1{i}:00:00", step=step, actor=f"h{i}")
        _add(cid, "step_end", f"{day}T1{i}:30:00", step=step, action="pass", actor=f"h{i}")
        if step == "决定":
            _add(cid, "step_end", f"{day}T1{i}:40:00", step=step, action="pass", actor="h9")
    if finish is not None:
        fields = {"result": "0", "license_no": "LIC-1"} | finish
        _add(cid, "finish", f"{done}T16:30:00", **{k: v for k, v in fields.items() if v})


def expect(cid: str, rule: str, *fires: str, key: str = "", level: str = "yellow") -> None:
    """The rule finds (key, level) on the case at the moments named, and nothing at others."""
    EXPECT[cid] = (rule, {m: ({(key, level)} if m in fires else set()) for m in MOMENTS})


# -- clean cases: nothing to find, at any moment ---------------------------------------------
case("clean_licence", finish={})
case("clean_fee", "F001", finish={"result": "6"})
_add("clean_fee", "payment", "09-02T16:00:00", amount=50.0)
case("clean_risk", "R001", finish={})
CLEAN += ["clean_licence", "clean_fee", "clean_risk"]

# -- timeliness ------------------------------------------------------------------------------
# time.md example 4: promised 20 W from Friday 26 September, deadline 30 October.
case("open_promised_20w", "E001", day="09-26", steps=())
expect("open_promised_20w", "near_deadline", "oct28", "oct30", level="warning")
case("overdue_promised_then_legal", "E001", day="09-26", steps=())
EXPECT["overdue_promised_then_legal"] = ("case_overdue", {
    m: ({("", "yellow")} if m == "oct31" else {("", "red")} if m == "nov20" else set())
    for m in MOMENTS})  # fmt: skip
case("paused_before_warning", "E001", day="09-26", steps=())
_add("paused_before_warning", "suspend", "10-27T09:00:00", reason="等待")
expect("paused_before_warning", "near_deadline")
case("step_review_late", steps=("受理",), finish=None)
_add("step_review_late", "step_start", "09-01T13:00:00", step="审查", actor="h1")
_add("step_review_late", "step_end", "09-08T10:00:00", step="审查", action="pass", actor="h1")
expect(
    "step_review_late",
    "step_overdue",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    key="审查",
)

# -- process ---------------------------------------------------------------------------------
case("finished_without_decision", steps=("受理", "审查"), finish={"result": "6"})
expect(
    "finished_without_decision",
    "missing_step",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    key="决定",
)
case("decision_before_review", steps=("受理", "决定", "审查"), finish={})
expect("decision_before_review", "step_out_of_order", *MOMENTS, key="审查")
_add(
    "step_before_accept",
    "apply",
    "09-01T09:00:00",
    item_code="B001",
    materials=[{"name": "申请书", "provided": True}, {"name": "身份证", "provided": True}],
)
_add("step_before_accept", "step_start", "09-01T09:10:00", step="受理")
_add("step_before_accept", "accept", "09-01T09:30:00", item_code="B001")
expect("step_before_accept", "event_out_of_order", *MOMENTS, key="step_start")
case("resume_without_suspend", steps=())
_add("resume_without_suspend", "resume", "09-03T09:00:00")
expect(
    "resume_without_suspend",
    "event_out_of_order",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    key="resume",
)
case("rating_and_payment_after_finish", "F001", finish={"result": "6"})
_add("rating_and_payment_after_finish", "payment", "09-03T10:00:00", amount=50.0)
_add("rating_and_payment_after_finish", "rating", "09-03T11:00:00", level="1")
expect("rating_and_payment_after_finish", "event_out_of_order")
case("two_supplement_requests", steps=())
_add("two_supplement_requests", "supplement_request", "09-01T11:00:00", materials=["照片"])
_add("two_supplement_requests", "supplement_received", "09-01T11:30:00", materials=["照片"])
_add("two_supplement_requests", "supplement_request", "09-02T11:00:00", materials=["照片"])
expect(
    "two_supplement_requests",
    "repeated_supplement",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
)
case("testing_over_its_limit", steps=())
_add(
    "testing_over_its_limit",
    "special_start",
    "09-01T14:00:00",
    procedure_kind="2",
    procedure_type="检测",
    limit=3,
    limit_unit="W",
)
_add("testing_over_its_limit", "special_end", "09-08T10:00:00", result="合格")
expect(
    "testing_over_its_limit",
    "special_procedure_overrun",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    key="testing_over_its_limit-03",
)
case("suspended_six_weeks", steps=())
_add("suspended_six_weeks", "suspend", "09-01T14:00:00", reason="等待")
_add("suspended_six_weeks", "resume", "10-15T10:00:00")
expect(
    "suspended_six_weeks",
    "long_suspension",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    key="suspended_six_weeks-03",
)
case("returned_three_times", steps=())
for _i in range(3):
    _add("returned_three_times", "step_start", f"09-01T10:{_i}0:00", step="审查")
    _add("returned_three_times", "step_end", f"09-01T10:{_i}5:00", step="审查", action="return")
expect("returned_three_times", "repeated_return", *MOMENTS)
case("voided_without_reason", finish={"result": "2"})
expect(
    "voided_without_reason",
    "result_without_reason",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
)
case("returned_with_reason", finish={"result": "1", "reason": "申请人撤回"})
expect("returned_with_reason", "result_without_reason")
case("licence_without_number", finish={"license_no": None})
expect(
    "licence_without_number",
    "licence_missing",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
)
_add("rejected_without_basis", "apply", "09-01T09:00:00", item_code="B001")
_add("rejected_without_basis", "reject", "09-01T10:00:00", reason="材料不符")
expect("rejected_without_basis", "adverse_decision_without_basis", *MOMENTS, level="red")
case("refused_with_basis", finish={"result": "7", "reason": "不符合条件", "legal_basis": "第38条"})
expect("refused_with_basis", "adverse_decision_without_basis")

# -- content ---------------------------------------------------------------------------------
case("id_card_supplemented_later", materials=("申请书",), steps=())
_add("id_card_supplemented_later", "supplement_request", "09-02T09:00:00", materials=["身份证"])
_add("id_card_supplemented_later", "supplement_received", "09-03T09:00:00", materials=["身份证"])
expect("id_card_supplemented_later", "missing_materials", "sep01", key="身份证")
_add("item_not_in_catalog", "apply", "09-01T09:00:00", item_code="X999")
expect("item_not_in_catalog", "unknown_item", *MOMENTS)
case("asks_for_household_register", steps=())
_add("asks_for_household_register", "supplement_request", "09-02T09:00:00", materials=["户口本"])
expect(
    "asks_for_household_register",
    "materials_beyond_guide",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    key="户口本",
)
case("promise_after_deadline", accept={"promised_finish_at": "2025-09-16T10:00:00"}, finish={})
expect("promise_after_deadline", "promise_mismatch", *MOMENTS, level="warning")
case("promise_on_deadline", accept={"promised_finish_at": "2025-09-15T17:00:00"}, finish={})
expect("promise_on_deadline", "promise_mismatch")

# -- discretion and fees ---------------------------------------------------------------------
case("fine_above_band", "T001", finish={"result": "6", "tier": "一般", "decided_value": 6000})
expect(
    "fine_above_band",
    "discretion_out_of_band",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    level="red",
)
case("unknown_tier", "T001", finish={"result": "6", "tier": "特重", "decided_value": 100})
expect(
    "unknown_tier",
    "discretion_out_of_band",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    level="red",
)
case("fine_in_band", "T001", finish={"result": "6", "tier": "较重", "decided_value": 5000})
expect("fine_in_band", "discretion_out_of_band")
case("fee_on_free_item", finish={})
_add("fee_on_free_item", "payment", "09-02T15:00:00", amount=20.0)
expect(
    "fee_on_free_item",
    "unlisted_fee",
    "sep05",
    "oct27",
    "oct28",
    "oct30",
    "oct31",
    "nov20",
    level="red",
)
case("fee_short", "F001", finish={"result": "6"})
_add("fee_short", "payment", "09-02T15:00:00", amount=30.0)
expect("fee_short", "fee_mismatch", "sep05", "oct27", "oct28", "oct30", "oct31", "nov20")
case("fee_per_page_right", "U001", finish={})
_add("fee_per_page_right", "payment", "09-02T15:00:00", amount=30.0, quantity=3)
expect("fee_per_page_right", "fee_mismatch")
case("fee_per_page_wrong", "U001", finish={})
_add("fee_per_page_wrong", "payment", "09-02T15:00:00", amount=20.0, quantity=3)
expect("fee_per_page_wrong", "fee_mismatch", "sep05", "oct27", "oct28", "oct30", "oct31", "nov20")

# -- integrity -------------------------------------------------------------------------------
_add(
    "risks_ignored",
    "apply",
    "09-01T09:00:00",
    item_code="R001",
    applicant_id="A1",
    materials=[{"name": "申请书", "provided": True}, {"name": "身份证", "provided": True}],
)
_add("risks_ignored", "accept", "09-01T09:30:00", item_code="R001", actor="acc1")
_add(
    "risks_ignored", "relation", "09-01T09:35:00", handler="h0", applicant_id="A1", relation="亲属"
)
_add("risks_ignored", "step_start", "09-01T10:00:00", step="受理", actor="h0")
_add("risks_ignored", "step_end", "09-01T10:30:00", step="受理", action="pass", actor="h0")
_add("risks_ignored", "step_start", "09-01T11:00:00", step="审查", actor="acc1")
_add("risks_ignored", "step_end", "09-01T11:30:00", step="审查", action="pass", actor="acc1")
_add("risks_ignored", "step_start", "09-01T18:00:00", step="决定", actor="h2")
_add("risks_ignored", "step_end", "09-01T19:00:00", step="决定", action="pass", actor="h2")
_add("risks_ignored", "finish", "09-02T09:00:00", result="0", license_no="L")
_add("risks_ignored", "correction", "09-03T09:00:00", field="license_no", old="L", new="L2")
_RISKS = {("审查/separation_of_duties", "yellow"), ("受理/no_conflict_of_interest", "yellow")}
_LATER = {
    ("决定/two_person_review", "red"),
    ("决定/office_hours", "warning"),
    ("审查/no_edit_after_finish", "red"),
}
EXPECT["risks_ignored"] = ("risk_measure_violated", {
    m: _RISKS | (_LATER if m != "sep01" else set()) for m in MOMENTS})  # fmt: skip
