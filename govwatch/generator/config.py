"""What a generation run is asked for: size, seed, window, violation rates; validated once.

The window is fixed inside the years the official calendar covers: cases are applied from
``START_AT`` on, and the audit moment is ``END_AT`` (a working day, 2026-06-30 22:00), early
enough that no deadline of an open case reaches a provisional year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from govwatch.errors import InputError

# The 21 default rules of spec/rules.md, in the order of the catalog.
RULES: tuple[str, ...] = (
    "near_deadline",
    "step_overdue",
    "case_overdue",
    "missing_step",
    "step_out_of_order",
    "event_out_of_order",
    "repeated_supplement",
    "special_procedure_overrun",
    "long_suspension",
    "repeated_return",
    "result_without_reason",
    "licence_missing",
    "adverse_decision_without_basis",
    "missing_materials",
    "unknown_item",
    "materials_beyond_guide",
    "promise_mismatch",
    "discretion_out_of_band",
    "unlisted_fee",
    "fee_mismatch",
    "risk_measure_violated",
)

# Kinds of fault injected into service guides (generator/guides.py), in the order they are drawn.
GUIDE_FAULTS: tuple[str, ...] = (
    "unpublished",
    "missing",
    "malformed",
    "dead_link",
    "wrong_legal_limit",
    "wrong_promised_limit",
    "wrong_fee",
    "wrong_materials",
    "wrong_process",
    "unlisted_step",
)

START_ON = date(2025, 1, 1)
END_ON = date(2026, 6, 30)
START_AT = "2025-01-01T00:00:00+08:00"
END_AT = "2026-06-30T22:00:00+08:00"
DEFAULT_RATE = 0.01
DEFAULT_GUIDE_RATE = 0.01  # share of the items given each kind of guide fault
DEFAULT_CHUNK = 20_000


@dataclass(frozen=True)
class GeneratorConfig:
    """A validated request. ``rates`` holds the probability that a case breaks each rule;
    ``guide_rates`` the share of the items whose guide gets each kind of fault."""

    cases: int
    seed: int = 0
    rates: Mapping[str, float] = field(default_factory=dict)
    compact_time_share: float = 0.0
    chunk_size: int = DEFAULT_CHUNK
    workers: int = 0  # 0: one per CPU; 1: no subprocesses
    guide_rates: Mapping[str, float] = field(default_factory=dict)

    @property
    def total_rate(self) -> float:
        return sum(self.rates.values())

    @property
    def chunks(self) -> int:
        return max(1, -(-self.cases // self.chunk_size))


def parse_rate_overrides(values: tuple[str, ...] | list[str]) -> dict[str, float]:
    """``RULE=RATE`` strings (``--rule-rate``) into a mapping, checked against the rule ids."""
    out: dict[str, float] = {}
    for text in values:
        rule, sep, rate = text.partition("=")
        rule = rule.strip()
        if not sep or rule not in RULES:
            raise InputError(
                f"--rule-rate “{text}” 无法识别：应为 规则编号=比例，规则编号为 {'、'.join(RULES)} 之一"
            )
        try:
            out[rule] = float(rate)
        except ValueError:
            raise InputError(f"--rule-rate “{text}” 的比例应为 0–1 之间的小数") from None
    return out


def parse_guide_rate_overrides(values: tuple[str, ...] | list[str]) -> dict[str, float]:
    """``KIND=RATE`` strings (a guide fault's share of the items) into a mapping."""
    out: dict[str, float] = {}
    for text in values:
        kind, sep, rate = text.partition("=")
        kind = kind.strip()
        if not sep or kind not in GUIDE_FAULTS:
            raise InputError(
                f"“{text}” 无法识别：应为 指南问题类型=比例，类型为 {'、'.join(GUIDE_FAULTS)} 之一"
            )
        try:
            out[kind] = float(rate)
        except ValueError:
            raise InputError(f"“{text}” 的比例应为 0–1 之间的小数") from None
    return out


def _guide_rates(rate: float, overrides: Mapping[str, float] | None) -> dict[str, float]:
    rates = dict.fromkeys(GUIDE_FAULTS, rate)
    rates.update(overrides or {})
    for kind, value in rates.items():
        if kind not in GUIDE_FAULTS:
            raise InputError(f"未知的指南问题类型 {kind}：应为 {'、'.join(GUIDE_FAULTS)} 之一")
        if not 0 <= value <= 1:
            raise InputError(f"指南问题 {kind} 的事项比例应在 0–1 之间，实际为 {value}")
    if sum(rates.values()) > 1:
        raise InputError(
            f"各类指南问题的事项比例之和为 {sum(rates.values()):.3f}，超过 1：每个事项的指南至多"
            "注入一个问题，请降低比例"
        )
    return rates


def make_config(
    cases: int,
    seed: int = 0,
    violation_rate: float = DEFAULT_RATE,
    overrides: Mapping[str, float] | None = None,
    compact_time_share: float = 0.0,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 0,
    *,
    guide_fault_rate: float = DEFAULT_GUIDE_RATE,
    guide_overrides: Mapping[str, float] | None = None,
) -> GeneratorConfig:
    if cases < 1:
        raise InputError(f"--cases 应为正整数，实际为 {cases}")
    if not 0 <= seed < 2**63:
        raise InputError(f"--seed 应为 0 到 2^63-1 之间的整数，实际为 {seed}")
    rates = {rule: violation_rate for rule in RULES}
    rates.update(overrides or {})
    for rule, rate in rates.items():
        if not 0 <= rate <= 1:
            raise InputError(f"规则 {rule} 的违规比例应在 0–1 之间，实际为 {rate}")
    total = sum(rates.values())
    if total > 1:
        raise InputError(
            f"各规则违规比例之和为 {total:.3f}，超过 1：每个办件至多违反一条规则，"
            f"请降低 --violation-rate（21 条规则，每条不超过 {1 / len(RULES):.4f}）"
        )
    if not 0 <= compact_time_share <= 1:
        raise InputError(f"--compact-time-share 应在 0–1 之间，实际为 {compact_time_share}")
    if chunk_size < 1:
        raise InputError(f"分块大小应为正整数，实际为 {chunk_size}")
    if workers < 0:
        raise InputError(f"--workers 应为不小于 0 的整数，实际为 {workers}")
    guide_rates = _guide_rates(guide_fault_rate, guide_overrides)
    return GeneratorConfig(cases, seed, rates, compact_time_share, chunk_size, workers, guide_rates)
