"""The service item catalog of the synthetic province (spec/data.md §1).

:func:`build_catalog` turns the templates into items, one per implementing department, with
steps, materials, fees, discretion tiers, risk points, an online profile and a guide. Each
item is kept twice: as the catalog record written to ``catalog.jsonl`` and as an
:class:`ItemSpec`, the flattened facts the case builder plans with.

Catalog invariants the case builder relies on (see docs/generator.md):

- a risk point never sits on an optional step nor on the last mandatory step, so that a case
  that skips the last mandatory step (``missing_step``) leaves every risk step intact;
- an item's risk points have distinct measures;
- the step limits of a promised item add up to less than its promised limit, so that one
  step can overrun by a day while the case stays on time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from govwatch.generator.geography import DEPARTMENTS, Province
from govwatch.generator.guides import base_guide
from govwatch.generator.templates import FLOWS, RISK_TEXT, TEMPLATES, Template

MEASURES = (
    "two_person_review",
    "separation_of_duties",
    "no_conflict_of_interest",
    "office_hours",
    "no_edit_after_finish",
)
RISK_LEVEL_ALERT = {"高": "red", "中": "yellow", "低": "warning"}
_DEPT_INDEX = {kind: i + 1 for i, (kind, _name) in enumerate(DEPARTMENTS)}
# Templates most people use: weight of the item's share of cases.
_POPULAR = {"个体工商户登记": 6.0, "社会保障卡申领": 6.0, "医保参保登记": 6.0, "居民身份证换领": 5.0,
            "不动产登记": 5.0, "婚姻登记": 3.0, "企业设立登记": 4.0, "机动车驾驶证换证": 4.0,
            "失业保险金申领": 3.0, "不动产登记资料查询": 3.0, "食品经营许可": 2.0}  # fmt: skip


@dataclass(frozen=True)
class RiskSpec:
    step: int  # index into the item's steps
    level: str  # 高 中 低
    measure: str

    @property
    def alert_level(self) -> str:
        return RISK_LEVEL_ALERT[self.level]


@dataclass(frozen=True)
class ItemSpec:
    index: int
    code: str
    name: str
    item_type: str
    department_code: str
    region_code: str
    kind: str  # case kind: 1 instant, 2 promised
    legal: int
    promised: int
    unit: str  # unit of both limits
    step_names: tuple[str, ...]
    step_limits: tuple[int, ...]
    step_mandatory: tuple[bool, ...]
    last_mandatory: int
    risks: tuple[RiskSpec, ...]
    materials: tuple[tuple[str, bool], ...]
    fee_amount: float | None
    fee_unit_price: float | None
    fee_name: str
    tiers: tuple[tuple[str, float, float], ...]
    licence: str | None
    applicants: str
    basis: str
    clerks: tuple[str, ...]
    staff: tuple[str, ...]
    person_regions: tuple[str, ...]  # county codes the applicants' ID numbers come from
    weight: float

    @property
    def has_fee(self) -> bool:
        return self.fee_amount is not None or self.fee_unit_price is not None

    def measures_on(self, step: int) -> tuple[str, ...]:
        return tuple(r.measure for r in self.risks if r.step == step)

    @property
    def step_bound_risk(self) -> bool:
        """A measure checked on a step's events (two handlers, office hours)."""
        return any(r.measure in ("two_person_review", "office_hours") for r in self.risks)


def _step_limits(template: Template, flow: tuple[tuple[str, int, bool], ...]) -> list[int]:
    if template.case_kind == "1":
        return [0] * len(flow)
    share = max(template.promised - 1, 0)
    total = sum(w for _n, w, _m in flow)
    limits = [round(share * w / total) for _n, w, _m in flow]
    while sum(limits) > share:
        limits[limits.index(max(limits))] -= 1
    return limits


def _risks(rng: random.Random, flow: tuple[tuple[str, int, bool], ...]) -> list[RiskSpec]:
    mandatory = [i for i, (_n, _w, m) in enumerate(flow) if m]
    eligible = mandatory[:-1]
    if not eligible:
        return []
    count = rng.choices((0, 1, 2, 3), weights=(20, 35, 30, 15))[0]
    names = [flow[i][0] for i in eligible]
    out = []
    for measure in rng.sample(MEASURES, count):
        preferred = {
            "two_person_review": ("决定", "审核"),
            "separation_of_duties": ("决定", "审核"),
            "no_conflict_of_interest": ("现场核查", "调查取证", "审查", "审核"),
            "office_hours": ("现场核查", "审查", "审核"),
            "no_edit_after_finish": ("决定", "审核"),
        }[measure]
        step = next(
            (eligible[names.index(p)] for p in preferred if p in names), rng.choice(eligible)
        )
        level = rng.choices(("高", "中", "低"), weights=(30, 40, 30))[0]
        out.append(RiskSpec(step, level, measure))
    return out


def _tiers(fine: int) -> tuple[tuple[str, float, float], ...]:
    if not fine:
        return ()
    return (
        ("轻微", 0.0, fine * 0.1),
        ("一般", fine * 0.1, fine * 0.5),
        ("严重", fine * 0.5, float(fine)),
    )


def _online(rng: random.Random, template: Template) -> dict[str, Any]:
    depth = rng.choices((0, 1, 2, 3, 4, 5), weights=(2, 4, 8, 16, 35, 35))[0]
    return {
        "depth": depth,
        "unified_identity": depth >= 3 or rng.random() < 0.3,
        "e_license": template.licence is not None and rng.random() < 0.7,
        "online_payment": template.fee is not None and depth >= 4,
        "delivery": depth >= 4 and rng.random() < 0.6,
        "max_visits": 0 if depth == 5 else 1 if depth >= 3 else 2,
    }


def _guide(
    rng: random.Random, template: Template, record: dict[str, Any], region: str
) -> dict[str, Any]:
    """The item's guide, every element right (faults come later, from their own stream).

    Before guides were generated in full (issue 16) the catalog's stream drew one number here,
    and two more for published guides; drawing them still keeps every later item, and so every
    case, what it was for a seed.
    """
    if rng.random() < 0.95:
        rng.random()
        rng.random()
    return base_guide(record, template, region)


def _regions_for(province: Province, level: str) -> list[str]:
    return [r.code for r in province.regions if r.level == level]


def build_catalog(
    rng: random.Random, province: Province
) -> tuple[list[dict[str, Any]], list[ItemSpec]]:
    """Catalog records (spec/data.md §1) and the case builder's view of the same items."""
    records: list[dict[str, Any]] = []
    specs: list[ItemSpec] = []
    for t_index, template in enumerate(TEMPLATES):
        flow = FLOWS[template.flow]
        limits = _step_limits(template, flow)
        base_code = f"{template.item_type}{t_index + 1:04d}000"
        for region_code in _regions_for(province, template.level):
            dept = province.departments[(region_code, template.department)]
            risks = _risks(rng, flow)
            steps = [
                {"name": n, "limit": lim, "unit": "W", "mandatory": m}
                for (n, _w, m), lim in zip(flow, limits, strict=True)
            ]
            code = f"{region_code}{_DEPT_INDEX[template.department]:02d}{base_code}01"
            fee: dict[str, Any] | None = None
            if template.fee is not None:
                fee = {"basis": template.fee.basis}
                if template.fee.amount is not None:
                    fee["amount"] = template.fee.amount
                else:
                    fee["unit_price"] = template.fee.unit_price
                    fee["unit"] = template.fee.unit
            tiers = _tiers(template.fine)
            record: dict[str, Any] = {
                "item_code": code,
                "base_code": base_code,
                "name": template.name,
                "item_type": template.item_type,
                "department_code": dept.code,
                "department_name": dept.name,
                "region_code": region_code,
                "level": template.level,
                "case_kind": template.case_kind,
                "legal_limit": template.legal,
                "legal_limit_unit": template.unit,
                "promised_limit": template.promised,
                "promised_limit_unit": template.unit,
                "steps": steps,
                "materials": [
                    {"name": n, "required": r, "originals": o, "copies": c}
                    for n, r, o, c in template.materials
                ],
                "fee": fee,
                "discretion": [{"tier": n, "min": lo, "max": hi} for n, lo, hi in tiers] or None,
                "risk_points": [
                    {
                        "step": flow[r.step][0],
                        "level": r.level,
                        "description": RISK_TEXT[r.measure],
                        "measure": r.measure,
                    }
                    for r in risks
                ],
                "online": _online(rng, template),
            }
            record["guide"] = _guide(rng, template, record, dept.region.name)
            records.append(record)
            mandatory = [i for i, (_n, _w, m) in enumerate(flow) if m]
            counties = [c.code for c in province.counties if c.code.startswith(region_code[:4])]
            person_regions = (
                [region_code]
                if template.level == "4"
                else counties or [c.code for c in province.counties]
            )
            specs.append(
                ItemSpec(
                    index=len(specs),
                    code=code,
                    name=template.name,
                    item_type=template.item_type,
                    department_code=dept.code,
                    region_code=region_code,
                    kind=template.case_kind,
                    legal=template.legal,
                    promised=template.promised,
                    unit=template.unit,
                    step_names=tuple(n for n, _w, _m in flow),
                    step_limits=tuple(limits),
                    step_mandatory=tuple(m for _n, _w, m in flow),
                    last_mandatory=mandatory[-1],
                    risks=tuple(risks),
                    materials=tuple((n, r) for n, r, _o, _c in template.materials),
                    fee_amount=template.fee.amount if template.fee else None,
                    fee_unit_price=template.fee.unit_price if template.fee else None,
                    fee_name=f"{template.name}费" if template.fee else "",
                    tiers=tiers,
                    licence=template.licence,
                    applicants=template.applicants,
                    basis=template.basis,
                    clerks=dept.clerks,
                    staff=dept.staff,
                    person_regions=tuple(person_regions),
                    weight=_POPULAR.get(template.name, 1.0) * rng.uniform(0.5, 1.5),
                )
            )
    return records, specs
