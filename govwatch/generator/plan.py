"""A case plan: every decision about one case, before it is rendered into events.

The planner (cases.py) and the injections (injections.py) fill a :class:`Plan`; the renderer
(render.py) turns it into events on working-day ordinals and assigns times of day. A plan is
a mutable builder on purpose: it is filled step by step and used once, a million times a run.

Time in a plan is counted in working-day ordinals from the acceptance day. *Work* is the sum
of the gaps and step durations (plus a forced day after an after-hours step end); pauses add
days to the timeline but not to the work, so a case is on time exactly when its work is at
most its budget (the deadline's ordinal minus the acceptance ordinal, pauses excluded).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from govwatch.generator.items import ItemSpec


@dataclass(frozen=True)
class Pause:
    """Something that happens in a gap between steps: a pause, an extension, an orphan event.

    ``kind`` is ``supplement``, ``special``, ``suspend`` (pauses of ``length`` ordinals),
    ``extension`` (special_start kind 1, adds ``limit`` to both limits, takes no time),
    ``orphan_received``, ``orphan_special_end``, ``orphan_resume`` (an end without a start).
    ``materials`` is what a supplement asks for. Lengths counted in natural days depend on
    the dates, so ``natural`` lets the renderer fit them once the case is placed.
    """

    position: int  # gap index: 0 before the first step, len(steps) before the finish
    kind: str
    length: int = 0
    limit: int = 0
    unit: str = "W"
    procedure_type: str = ""
    materials: tuple[str, ...] = ()
    natural: int = 0  # 0: length is exact; 1: longest <= length within limit natural days;
    #                   2: shortest lasting more than limit natural days (length bounds it)


class Plan:
    """Decisions about one case (see the module docs)."""

    __slots__ = (
        "apply_lag",
        "correction_after",
        "correction_before",
        "decided",
        "durations",
        "extra_material",
        "finish_item_code",
        "gaps",
        "item",
        "late_step",
        "missing",
        "missing_absent",
        "mode",
        "open_elapsed",
        "open_start_last",
        "outcome",
        "overrun",
        "pauses",
        "payments",
        "promised_offset",
        "rating",
        "relation_step",
        "restart_after_finish",
        "result",
        "returns",
        "same_actor",
        "separation_violated",
        "single_review_step",
        "steps",
        "truth",
        "unknown_code",
        "with_basis",
        "with_licence",
        "with_reason",
    )  # fmt: skip

    def __init__(self, item: ItemSpec) -> None:
        self.item = item
        self.outcome = "finish"  # finish | reject | terminate | open
        self.result = "6"
        self.with_reason = True
        self.with_basis = True
        self.with_licence = True
        self.steps: list[int] = []  # step indices in the order they run
        self.durations: list[int] = []
        self.gaps: list[int] = []  # len(steps) + 1
        self.pauses: list[Pause] = []
        self.returns: dict[int, int] = {}  # run position -> number of returns
        self.single_review_step = -1  # two_person_review broken on this step
        self.late_step = -1  # office_hours broken on this step
        self.separation_violated = False
        self.relation_step = -1  # no_conflict_of_interest broken on this step
        self.same_actor = False  # accept and finish by one clerk (no risk point concerned)
        self.correction_after = False
        self.correction_before = False
        self.payments: list[tuple[str, float, float | None]] = []  # (when, amount, quantity)
        self.extra_material = ""
        self.missing: list[str] = []
        self.missing_absent = False
        self.promised_offset: int | None = None  # promised_finish_at = deadline + offset
        self.decided: tuple[str, float] | None = None
        self.unknown_code = ""  # the whole case names an unknown item
        self.finish_item_code = ""  # the finish event names an unknown item
        self.restart_after_finish = False
        self.rating = True
        self.apply_lag = 0
        self.mode = "clean"  # clean | yellow | red | fixed (durations and gaps set already)
        self.overrun = 1  # red: days of work beyond the legal budget
        self.open_elapsed = 0
        self.open_start_last = False
        self.truth: list[tuple[str, str, str, int]] = []  # (rule, key, level, pause index)

    def add_truth(self, rule: str, key: str, level: str, pause_index: int = -1) -> None:
        self.truth.append((rule, key, level, pause_index))

    @property
    def pause_ordinals(self) -> int:
        """An upper bound of the ordinals the pauses take (natural-day ones are fitted later)."""
        return sum(p.limit + 1 + p.length if p.natural == 2 else p.length for p in self.pauses)

    @property
    def extension(self) -> int:
        return sum(p.limit for p in self.pauses if p.kind == "extension")

    @property
    def forced(self) -> int:
        return 1 if self.late_step >= 0 else 0

    def run_limits(self) -> list[int]:
        return [self.item.step_limits[s] for s in self.steps]


def spread(rng: random.Random, limits: list[int], total: int) -> tuple[list[int], list[int]]:
    """Share ``total`` days of work between steps (each within its limit) and the gaps."""
    n = len(limits)
    durations = [0] * n
    rest = total
    for i in range(n):
        if rest <= 0:
            break
        top = limits[i] if limits[i] < rest else rest
        d = int(rng.random() * (top + 1))
        durations[i] = d
        rest -= d
    gaps = [0] * (n + 1)
    while rest > 0:
        g = 1 + int(rng.random() * rest)
        gaps[int(rng.random() * (n + 1))] += g
        rest -= g
    return durations, gaps


def clean_total(rng: random.Random, budget: int) -> int:
    """Work for an on-time case: mostly well inside the budget, sometimes exactly on it."""
    if budget <= 0:
        return 0
    u = rng.random()
    if u < 0.04:
        return budget  # finishing on the deadline day is on time
    if u < 0.9:
        return min(budget, int(budget * rng.random() * rng.random() * 1.6))
    return int(rng.random() * budget)
