"""Plan and place the cases of one chunk: clean cases here, injected ones in injections.py.

A :class:`Builder` owns one chunk's random stream. For every case it draws at most one rule to
break (with the configured rates), plans the case, places it in the window so that every
event falls on or before the audit day, and renders it.

Clean cases break no rule at all (docs/generator.md lists the precautions): finished and
terminated cases keep within their promised deadline, steps within their limits, pauses
within theirs; open cases stand at least three working days from their promised deadline
with every risk step already done.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Sequence

from govwatch.generator.config import END_ON, RULES, START_ON, GeneratorConfig
from govwatch.generator.injections import INJECTIONS, eligible_items
from govwatch.generator.items import ItemSpec
from govwatch.generator.plan import Pause, Plan, clean_total, spread
from govwatch.generator.render import PROCEDURE_TYPES, Renderer
from govwatch.generator.workdays import WorkCalendar

LICENCE_RESULTS = ("0",) * 88 + ("7",) * 5 + ("1", "1", "2", "5", "5", "3", "4", "4")
OTHER_RESULTS = ("6",) * 90 + ("7",) * 4 + ("1", "2", "3", "5", "4", "4")


class Builder:
    def __init__(self, cal: WorkCalendar, specs: Sequence[ItemSpec], config: GeneratorConfig,
                 rng: random.Random) -> None:  # fmt: skip
        self.cal = cal
        self.specs = list(specs)
        self.rng = rng
        self.lo = cal.next_ordinal(cal.index(START_ON))
        self.end = cal.ordinal(cal.index(END_ON))
        self.render = Renderer(cal, rng, config.compact_time_share, self.end)
        total = 0.0
        self.weights: list[float] = []
        for s in self.specs:
            total += s.weight
            self.weights.append(total)
        self.rules: list[str] = []
        self.cum_rates: list[float] = []
        acc = 0.0
        for rule in RULES:
            if config.rates.get(rule, 0.0) > 0:
                acc += config.rates[rule]
                self.rules.append(rule)
                self.cum_rates.append(acc)
        self.total_rate = acc
        self.injections: dict[str, Callable[[Builder], Plan]] = INJECTIONS
        self.eligible = {rule: eligible_items(rule, self.specs) for rule in RULES}

    # -- helpers --------------------------------------------------------------------------
    def pick(self, seq: Sequence[ItemSpec]) -> ItemSpec:
        return seq[int(self.rng.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def popular_item(self) -> ItemSpec:
        i = bisect.bisect(self.weights, self.rng.random() * self.weights[-1])
        return self.specs[min(i, len(self.specs) - 1)]

    # -- one case -------------------------------------------------------------------------
    def build(self, case_no: int) -> tuple[list[bytes], list[bytes]]:
        u = self.rng.random()
        if u < self.total_rate:
            rule = self.rules[min(bisect.bisect(self.cum_rates, u), len(self.rules) - 1)]
            plan = self.injections[rule](self)
        else:
            plan = self.clean(self.popular_item())
        return self.render.render(plan, self.place(plan), case_no)

    def base(self, item: ItemSpec, result: str | None = None) -> Plan:
        """A finished case with nothing optional: the starting point of an injection."""
        rng = self.rng
        plan = Plan(item)
        plan.steps = list(range(len(item.step_names)))
        if result is None:
            result = "0" if item.licence else "6"
        plan.result = result
        plan.apply_lag = 0 if item.kind == "1" or rng.random() < 0.7 else 1
        plan.rating = rng.random() < 0.6
        plan.promised_offset = 0 if rng.random() < 0.5 else None
        if result in ("0", "6"):
            if item.has_fee:
                plan.payments = [
                    self.fee_payment(item, "pre_finish" if rng.random() < 0.8 else "post_finish")
                ]
            if item.tiers:
                plan.decided = self.in_band(item)
        return plan

    def fee_payment(self, item: ItemSpec, when: str) -> tuple[str, float, float | None]:
        if item.fee_amount is not None:
            return (when, item.fee_amount, None)
        assert item.fee_unit_price is not None
        quantity = 1 + int(self.rng.random() * 30)
        return (when, round(item.fee_unit_price * quantity, 2), float(quantity))

    def in_band(self, item: ItemSpec) -> tuple[str, float]:
        tier, low, high = item.tiers[int(self.rng.random() * len(item.tiers))]
        value = low + (high - low) * (0.05 + 0.9 * self.rng.random())
        return tier, float(round(value, -2) if high - low >= 2000 else round(value, 2))

    def clean(self, item: ItemSpec) -> Plan:
        rng = self.rng
        r = rng.random()
        if r < 0.02 and not item.step_bound_risk:
            plan = self.base(item)
            plan.outcome = "reject"
            plan.payments, plan.decided, plan.rating = [], None, rng.random() < 0.3
            return plan
        if item.kind == "2" and item.unit == "W" and item.promised >= 3 and r < 0.05:
            return self.open_plan(item, int(rng.random() * (item.promised - 2)))
        plan = self.base(item, (LICENCE_RESULTS if item.licence else OTHER_RESULTS)[
            int(rng.random() * 100)])  # fmt: skip
        if r < 0.065 and item.kind == "2":
            plan.outcome = "terminate"
            plan.steps = plan.steps[: item.last_mandatory]
            plan.payments, plan.decided = [], None
        elif not item.step_mandatory[-1] and rng.random() < 0.3:
            plan.steps = plan.steps[: item.last_mandatory + 1]
        measures = {r.measure for r in item.risks}
        if item.kind == "2":
            if item.unit == "W":
                self.clean_pauses(plan)
            if rng.random() < 0.03:
                # on the acceptance day: never after the original deadline
                plan.pauses.append(
                    Pause(0, "extension", limit=5 if item.unit == "W" else 7, unit=item.unit)
                )
            if rng.random() < 0.1:
                free = [i for i, s in enumerate(plan.steps) if not item.measures_on(s)]
                for _ in range((1 + (rng.random() < 0.3)) if free else 0):
                    pos = free[int(rng.random() * len(free))]
                    plan.returns[pos] = plan.returns.get(pos, 0) + 1
        if "no_edit_after_finish" in measures:
            plan.correction_before = rng.random() < 0.01
        else:
            plan.correction_after = plan.outcome == "finish" and rng.random() < 0.02
        if "no_conflict_of_interest" not in measures and plan.steps and rng.random() < 0.005:
            plan.relation_step = plan.steps[0]
        if "separation_of_duties" not in measures and item.kind == "1":
            plan.same_actor = rng.random() < 0.3
        return plan

    def clean_pauses(self, plan: Plan) -> None:
        rng, item = self.rng, plan.item
        n = len(plan.steps) + 1
        if rng.random() < 0.06:
            names = [m for m, _r in item.materials]
            plan.pauses.append(Pause(int(rng.random() * n), "supplement", 1 + int(rng.random() * 5),
                                     materials=(names[int(rng.random() * len(names))],)))  # fmt: skip
        if rng.random() < 0.03:
            kind = PROCEDURE_TYPES[int(rng.random() * len(PROCEDURE_TYPES))]
            if rng.random() < 0.5:
                limit = 5 + int(rng.random() * 10)
                plan.pauses.append(Pause(int(rng.random() * n), "special", 1 + int(rng.random() * limit), limit,
                                         "W", kind))  # fmt: skip
            else:
                limit = 10 + int(rng.random() * 20)
                plan.pauses.append(
                    Pause(int(rng.random() * n), "special", limit, limit, "N", kind, natural=1)
                )
        if rng.random() < 0.02:
            plan.pauses.append(Pause(int(rng.random() * n), "suspend", 1 + int(rng.random() * 15), 30,
                                     "N", natural=1))  # fmt: skip

    def open_plan(self, item: ItemSpec, elapsed: int) -> Plan:
        """A case still open on the audit day, accepted ``elapsed`` working days before it."""
        plan = self.base(item)
        plan.outcome = "open"
        plan.steps = plan.steps[: item.last_mandatory]
        plan.payments, plan.decided, plan.rating = [], None, False
        plan.open_elapsed = elapsed
        plan.open_start_last = self.rng.random() < 0.5
        return plan

    # -- placing a case in the window -----------------------------------------------------
    def place(self, plan: Plan) -> int:
        """Choose the acceptance ordinal and settle the work; returns the acceptance ordinal."""
        rng, item, cal = self.rng, plan.item, self.cal
        if plan.outcome == "open":
            accept = self.end - plan.open_elapsed
            work = int(rng.random() * (plan.open_elapsed + 1))
            plan.durations, plan.gaps = spread(rng, plan.run_limits(), work)
            return accept
        lag = plan.apply_lag
        if plan.outcome == "reject":
            return self.lo + lag + int(rng.random() * (self.end - 1 - self.lo - lag))
        ext = plan.extension
        if plan.mode == "fixed":
            work_max = sum(plan.durations) + sum(plan.gaps)
        else:
            work_max = (item.legal if plan.mode != "clean" else item.promised) + ext + 1
            work_max += plan.overrun if plan.mode == "red" else 0
        span = lag + work_max + plan.forced + plan.pause_ordinals + 3
        accept = self.lo + lag + int(rng.random() * (self.end - span - self.lo - lag + 1))
        if plan.mode != "fixed":
            budget_p = cal.deadline_ordinal(accept, item.promised + ext, item.unit) - accept
            budget_l = cal.deadline_ordinal(accept, item.legal + ext, item.unit) - accept
            if plan.mode == "clean":
                work = clean_total(rng, budget_p - plan.forced)
            elif plan.mode == "yellow" and budget_l > budget_p:
                work = budget_p + 1 + int(rng.random() * (budget_l - budget_p)) - plan.forced
            else:
                if plan.mode == "yellow":
                    raise AssertionError(
                        f"{item.code}: no room between promised and legal deadline"
                    )
                work = budget_l + plan.overrun - plan.forced
            plan.durations, plan.gaps = spread(rng, plan.run_limits(), work)
        if plan.restart_after_finish:
            plan.gaps[0] += plan.gaps[-1]
            plan.gaps[-1] = 0
        return accept
