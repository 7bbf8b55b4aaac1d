"""How each of the 21 default rules is broken, and the findings that follow (truth.jsonl).

Every function takes the chunk's :class:`~govwatch.generator.cases.Builder`, picks an item the
violation fits, plans an otherwise clean case that breaks exactly that rule, and records the
findings an audit at the end of the window must report. docs/generator.md describes each
injection in words, rule by rule; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from govwatch.generator.items import ItemSpec
from govwatch.generator.plan import Pause, Plan, spread
from govwatch.generator.render import PROCEDURE_TYPES
from govwatch.generator.templates import BEYOND_GUIDE

if TYPE_CHECKING:
    from govwatch.generator.cases import Builder


def _promised_w(i: ItemSpec) -> bool:
    return i.kind == "2" and i.unit == "W" and i.promised >= 3


ELIGIBLE: dict[str, Callable[[ItemSpec], bool]] = {
    "near_deadline": _promised_w,
    "step_overdue": _promised_w,
    "case_overdue": lambda i: True,
    "missing_step": lambda i: True,
    "step_out_of_order": lambda i: len(i.step_names) >= 2,
    "event_out_of_order": lambda i: True,
    "repeated_supplement": _promised_w,
    "special_procedure_overrun": _promised_w,
    "long_suspension": _promised_w,
    "repeated_return": lambda i: True,
    "result_without_reason": lambda i: True,
    "licence_missing": lambda i: i.licence is not None,
    "adverse_decision_without_basis": lambda i: True,
    "missing_materials": lambda i: any(r for _n, r in i.materials),
    "unknown_item": lambda i: True,
    "materials_beyond_guide": lambda i: True,
    "promise_mismatch": lambda i: True,
    "discretion_out_of_band": lambda i: bool(i.tiers),
    "unlisted_fee": lambda i: not i.has_fee,
    "fee_mismatch": lambda i: i.has_fee,
    "risk_measure_violated": lambda i: any(
        r.measure != "office_hours" or i.kind == "2" for r in i.risks
    ),
}


def eligible_items(rule: str, specs: Sequence[ItemSpec]) -> list[ItemSpec]:
    return [s for s in specs if ELIGIBLE[rule](s)]


def near_deadline(b: Builder) -> Plan:
    item = b.pick(b.eligible["near_deadline"])
    remaining = int(b.rng.random() * 3)
    plan = b.open_plan(item, item.promised - remaining)
    plan.add_truth("near_deadline", "", "warning")
    return plan


def step_overdue(b: Builder) -> Plan:
    item = b.pick(b.eligible["step_overdue"])
    plan = b.base(item)
    limits = plan.run_limits()
    pos = int(b.rng.random() * len(limits))
    late = limits[pos] + 1 + (1 if limits[pos] + 2 <= item.promised and b.chance(0.3) else 0)
    others = limits[:pos] + limits[pos + 1 :]
    durations, gaps = spread(b.rng, others, int(b.rng.random() * (item.promised - late + 1)))
    plan.durations = [*durations[:pos], late, *durations[pos:]]
    gaps.insert(pos, 0)
    plan.gaps = gaps
    plan.mode = "fixed"
    plan.add_truth("step_overdue", item.step_names[plan.steps[pos]], "yellow")
    return plan


def case_overdue(b: Builder) -> Plan:
    item = b.pick(b.eligible["case_overdue"])
    yellow = item.legal > item.promised and b.chance(0.6)
    level = "yellow" if yellow else "red"
    if _promised_w(item) and b.chance(0.3):
        if yellow:
            elapsed = item.promised + 1 + int(b.rng.random() * (item.legal - item.promised))
        else:
            elapsed = item.legal + 1 + int(b.rng.random() * 10)
        plan = b.open_plan(item, elapsed)
        plan.open_start_last = False  # waiting for the last step: no step can be overdue
    else:
        plan = b.base(item)
        plan.mode = level
        plan.overrun = 1 + int(b.rng.random() * 5)
    plan.add_truth("case_overdue", "", level)
    return plan


def missing_step(b: Builder) -> Plan:
    item = b.pick(b.eligible["missing_step"])
    plan = b.base(item)
    plan.steps = plan.steps[
        : item.last_mandatory
    ]  # the last mandatory step never carries risk points
    plan.add_truth("missing_step", item.step_names[item.last_mandatory], "yellow")
    return plan


def step_out_of_order(b: Builder) -> Plan:
    item = b.pick(b.eligible["step_out_of_order"])
    plan = b.base(item)
    i = int(b.rng.random() * (len(plan.steps) - 1))
    first, second = plan.steps[i], plan.steps[i + 1]
    plan.steps[i], plan.steps[i + 1] = second, first
    # ordered by first start, the step that starts after a step that follows it in the flow
    plan.add_truth("step_out_of_order", item.step_names[first], "yellow")
    return plan


def event_out_of_order(b: Builder) -> Plan:
    item = b.pick(b.eligible["event_out_of_order"])
    plan = b.base(item)
    variant = int(b.rng.random() * 5)
    if variant == 0 and item.has_fee:
        plan.payments = [b.fee_payment(item, "pre_accept")]
        plan.add_truth("event_out_of_order", "payment", "yellow")
    elif variant <= 1:
        plan.restart_after_finish = True
        plan.add_truth("event_out_of_order", "step_start", "yellow")
        plan.add_truth("event_out_of_order", "step_end", "yellow")
    else:
        kind = ("orphan_received", "orphan_special_end", "orphan_resume")[variant - 2]
        plan.pauses.append(Pause(int(b.rng.random() * (len(plan.steps) + 1)), kind))
        key = {"orphan_received": "supplement_received", "orphan_special_end": "special_end",
               "orphan_resume": "resume"}[kind]  # fmt: skip
        plan.add_truth("event_out_of_order", key, "yellow")
    return plan


def repeated_supplement(b: Builder) -> Plan:
    item = b.pick(b.eligible["repeated_supplement"])
    plan = b.base(item)
    names = [m for m, _r in item.materials]
    n = len(plan.steps) + 1
    for _ in range(2 + (b.chance(0.2))):
        plan.pauses.append(Pause(int(b.rng.random() * n), "supplement", 1 + int(b.rng.random() * 4),
                                 materials=(names[int(b.rng.random() * len(names))],)))  # fmt: skip
    plan.add_truth("repeated_supplement", "", "yellow")
    return plan


def special_procedure_overrun(b: Builder) -> Plan:
    item = b.pick(b.eligible["special_procedure_overrun"])
    plan = b.base(item)
    kind = PROCEDURE_TYPES[int(b.rng.random() * len(PROCEDURE_TYPES))]
    position = int(b.rng.random() * (len(plan.steps) + 1))
    if b.chance(0.5):
        limit = 3 + int(b.rng.random() * 8)
        plan.pauses.append(
            Pause(position, "special", limit + 1 + int(b.rng.random() * 3), limit, "W", kind)
        )
    else:
        limit = 5 + int(b.rng.random() * 15)
        plan.pauses.append(
            Pause(position, "special", int(b.rng.random() * 3), limit, "N", kind, natural=2)
        )
    plan.add_truth("special_procedure_overrun", "", "yellow", len(plan.pauses) - 1)
    return plan


def long_suspension(b: Builder) -> Plan:
    item = b.pick(b.eligible["long_suspension"])
    plan = b.base(item)
    position = int(b.rng.random() * (len(plan.steps) + 1))
    plan.pauses.append(Pause(position, "suspend", int(b.rng.random() * 5), 30, "N", natural=2))
    plan.add_truth("long_suspension", "", "yellow", len(plan.pauses) - 1)
    return plan


def repeated_return(b: Builder) -> Plan:
    item = b.pick(b.eligible["repeated_return"])
    plan = b.base(item)
    free = [i for i, s in enumerate(plan.steps) if not item.measures_on(s)]
    for _ in range(3 + b.chance(0.2)):
        pos = free[int(b.rng.random() * len(free))]
        plan.returns[pos] = plan.returns.get(pos, 0) + 1
    plan.add_truth("repeated_return", "", "yellow")
    return plan


def result_without_reason(b: Builder) -> Plan:
    item = b.pick(b.eligible["result_without_reason"])
    if b.chance(0.25):
        plan = b.base(item)
        plan.outcome = "terminate"
        plan.steps = plan.steps[: item.last_mandatory]
        plan.payments, plan.decided = [], None
    else:
        plan = b.base(item, ("1", "2", "3", "5")[int(b.rng.random() * 4)])
    plan.with_reason = False
    plan.add_truth("result_without_reason", "", "yellow")
    return plan


def licence_missing(b: Builder) -> Plan:
    plan = b.base(b.pick(b.eligible["licence_missing"]), "0")
    plan.with_licence = False
    plan.add_truth("licence_missing", "", "yellow")
    return plan


def adverse_decision_without_basis(b: Builder) -> Plan:
    item = b.pick(b.eligible["adverse_decision_without_basis"])
    plan = b.base(item, "7")
    plan.payments, plan.decided = [], None
    if not item.step_bound_risk and b.chance(0.4):
        plan.outcome = "reject"
    drop = int(b.rng.random() * 3)
    plan.with_reason = drop == 1
    plan.with_basis = drop == 0
    plan.add_truth("adverse_decision_without_basis", "", "red")
    return plan


def missing_materials(b: Builder) -> Plan:
    item = b.pick(b.eligible["missing_materials"])
    plan = b.base(item)
    required = [n for n, r in item.materials if r]
    count = 2 if len(required) > 1 and b.chance(0.2) else 1
    start = int(b.rng.random() * len(required))
    plan.missing = [required[(start + k) % len(required)] for k in range(count)]
    plan.missing_absent = b.chance(0.5)
    for name in plan.missing:
        plan.add_truth("missing_materials", name, "yellow")
    return plan


def unknown_item(b: Builder) -> Plan:
    item = b.pick(b.eligible["unknown_item"])
    plan = b.base(item)
    unknown = f"{item.region_code}99{item.code[8:12]}{int(b.rng.random() * 1e5):05d}00"
    if b.chance(0.5):
        plan.unknown_code = unknown  # the whole case: no materials, steps, payments or tiers
        plan.steps, plan.payments, plan.decided, plan.promised_offset = [], [], None, None
        plan.result = "6"
    else:
        plan.finish_item_code = unknown
    plan.add_truth("unknown_item", "", "yellow")
    return plan


def materials_beyond_guide(b: Builder) -> Plan:
    item = b.pick(b.eligible["materials_beyond_guide"])
    plan = b.base(item)
    extra = BEYOND_GUIDE[int(b.rng.random() * len(BEYOND_GUIDE))]
    if _promised_w(item) and b.chance(0.5):
        plan.pauses.append(Pause(int(b.rng.random() * (len(plan.steps) + 1)), "supplement",
                                 1 + int(b.rng.random() * 4), materials=(extra,)))  # fmt: skip
    else:
        plan.extra_material = extra
    plan.add_truth("materials_beyond_guide", extra, "yellow")
    return plan


def promise_mismatch(b: Builder) -> Plan:
    plan = b.base(b.pick(b.eligible["promise_mismatch"]))
    plan.promised_offset = 1 + int(b.rng.random() * 5)
    plan.add_truth("promise_mismatch", "", "warning")
    return plan


def discretion_out_of_band(b: Builder) -> Plan:
    item = b.pick(b.eligible["discretion_out_of_band"])
    plan = b.base(item, "6")
    tier, low, high = item.tiers[int(b.rng.random() * len(item.tiers))]
    u = b.rng.random()
    if u < 0.2:
        plan.decided = ("特别严重", high * 2)
    elif u < 0.6 and low > 0:
        plan.decided = (tier, float(round(low * 0.5, 2)))
    else:
        plan.decided = (tier, float(round(high * 1.5, 2)))
    plan.add_truth("discretion_out_of_band", "", "red")
    return plan


def unlisted_fee(b: Builder) -> Plan:
    plan = b.base(b.pick(b.eligible["unlisted_fee"]))
    plan.payments = [("pre_finish", float(10 * (1 + int(b.rng.random() * 30))), None)]
    plan.add_truth("unlisted_fee", "", "red")
    return plan


def fee_mismatch(b: Builder) -> Plan:
    item = b.pick(b.eligible["fee_mismatch"])
    plan = b.base(item)
    when, amount, quantity = b.fee_payment(item, "pre_finish")
    u = b.rng.random()
    if quantity is not None:
        plan.payments = [(when, round(amount + 5 + int(u * 20), 2), quantity)]
    elif u < 0.3:
        plan.payments = []
    else:
        plan.payments = [(when, round(amount * (2.0 if u < 0.7 else 0.5), 2), None)]
    plan.add_truth("fee_mismatch", "", "yellow")
    return plan


def risk_measure_violated(b: Builder) -> Plan:
    item = b.pick(b.eligible["risk_measure_violated"])
    plan = b.base(item)
    risks = [r for r in item.risks if r.measure != "office_hours" or item.kind == "2"]
    risk = risks[int(b.rng.random() * len(risks))]
    if risk.measure == "two_person_review":
        plan.single_review_step = risk.step
    elif risk.measure == "separation_of_duties":
        plan.separation_violated = True
    elif risk.measure == "no_conflict_of_interest":
        plan.relation_step = risk.step
    elif risk.measure == "office_hours":
        plan.late_step = risk.step
    else:
        plan.correction_after = True
    plan.add_truth(
        "risk_measure_violated", f"{item.step_names[risk.step]}/{risk.measure}", risk.alert_level
    )
    return plan


INJECTIONS: dict[str, Callable[[Builder], Plan]] = {name: globals()[name] for name in ELIGIBLE}
