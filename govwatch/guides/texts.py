"""Guide values as the findings show them, in Chinese: limits, fees, steps, materials, shares."""

from __future__ import annotations

from collections.abc import Iterable

from govwatch.guides.model import GuideFee, GuideLimit, GuideMaterial, GuideStep
from govwatch.vocabulary import unit_name

MAX_LISTED = 8


def limit_text(limit: GuideLimit) -> str:
    return f"{limit.limit} 个{unit_name(limit.unit)}"


def money(amount: float) -> str:
    return f"{amount:.2f} 元"


def fee_text(fee: GuideFee) -> str:
    if not fee.charged:
        return "不收费"
    if fee.amount is not None:
        standard = money(fee.amount)
    elif fee.unit_price is not None:
        standard = f"{money(fee.unit_price)}/{fee.unit or '件'}"
    else:
        standard = "未写明标准"
    basis = f"，依据{fee.basis}" if fee.basis else ""
    return f"收费 {standard}{basis}"


def step_text(step: GuideStep) -> str:
    if step.limit is None:
        return step.name
    return f"{step.name}（{step.limit} 个{unit_name(step.unit)}）"


def steps_text(steps: Iterable[GuideStep], *, limits: bool = False) -> str:
    return "→".join(step_text(s) if limits else s.name for s in steps)


def material_text(m: GuideMaterial) -> str:
    parts = ["必需" if m.required else "非必需"]
    if m.originals:
        parts.append(f"原件 {m.originals} 份")
    if m.copies:
        parts.append(f"复印件 {m.copies} 份")
    return f"{m.name}（{'，'.join(parts)}）"


def names_text(names: Iterable[str]) -> str:
    listed = [f"“{n}”" for n in names]
    more = f"等 {len(listed)} 项" if len(listed) > MAX_LISTED else ""
    return "、".join(listed[:MAX_LISTED]) + more


def share_text(part: int, whole: int) -> str:
    return f"{part} / {whole} 件（{part / whole:.0%}）" if whole else f"{part} 件"
