"""The three guide checks, item by item and element by element (docs/guides.md).

- **completeness** (要素完整性): every element the item's type requires is present and
  well-formed (:mod:`govwatch.guides.elements`); an unpublished guide is one finding, on
  ``guide``, and nothing else of it is checked;
- **consistency** (与实施清单一致性): the guide's limits, fee, steps and materials agree with
  the implementation list's fields of the same catalog record;
- **practice** (与办理实际一致性): the item's cases agree with the guide
  (:mod:`govwatch.guides.practice`).

Only elements that are present and well-formed are compared, so an element is reported by one
check at most, except that a guide wrong about what the list and the cases both say is
reported by consistency and by practice. :func:`run_checks` is the public entry: it reads the
catalog (``items.doc``) and the events of a :class:`~govwatch.storage.Database` and returns the
findings in a stable order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from govwatch.guides.elements import (
    ELEMENTS,
    ORDER,
    Readings,
    element,
    published,
)
from govwatch.guides.model import (
    CHECKS,
    GuideFee,
    GuideFinding,
    GuideLimit,
    GuideMaterial,
    GuideStep,
)
from govwatch.guides.practice import Counts, PracticeGuide, contradicted, practice_counts
from govwatch.guides.texts import (
    fee_text,
    limit_text,
    material_text,
    names_text,
    share_text,
    steps_text,
)
from govwatch.storage import Database

Record = Mapping[str, Any]


def _finding(
    rec: Record,
    code: str,
    check: str,
    expected: str,
    found: str,
    message: str,
    evidence: Mapping[str, Any] | None = None,
) -> GuideFinding:
    guide = rec.get("guide")
    ev = dict(evidence or {})
    if isinstance(guide, Mapping) and isinstance(guide.get("url"), str):
        ev.setdefault("url", guide["url"])
    return GuideFinding(str(rec["item_code"]), code, check, expected, found, message, ev)


# -- completeness -------------------------------------------------------------------------


def completeness(rec: Record, readings: Readings | None = None) -> list[GuideFinding]:
    guide = rec.get("guide")
    if not published(guide):
        found = "未公开" if isinstance(guide, Mapping) else "目录中无办事指南"
        return [
            _finding(
                rec,
                "guide",
                "completeness",
                "公开办事指南",
                found,
                f"事项“{rec.get('name', '')}”未公开办事指南",
            )
        ]
    assert isinstance(guide, Mapping)
    read = readings or Readings(guide)
    item_type = rec.get("item_type")
    out = []
    for e in ELEMENTS[1:]:
        due = read.downloads_due(item_type) if e.code == "downloads" else e.required_for(item_type)
        if not due:
            continue
        reading = read(e.code)
        if not reading.present:
            out.append(
                _finding(
                    rec,
                    e.code,
                    "completeness",
                    e.requirement,
                    "缺失",
                    f"办事指南缺少“{e.name}”：应{e.requirement}",
                    {"fields": list(e.fields)},
                )
            )
        elif reading.problems:
            problems = "；".join(reading.problems)
            out.append(
                _finding(
                    rec,
                    e.code,
                    "completeness",
                    e.requirement,
                    problems,
                    f"办事指南的“{e.name}”不规范：{problems}",
                    {"fields": list(e.fields), "problems": list(reading.problems)},
                )
            )
    return out


# -- consistency --------------------------------------------------------------------------


def _list_limit(rec: Record, key: str) -> GuideLimit | None:
    value = rec.get(key)
    if value is None:
        return None
    return GuideLimit(int(value), str(rec.get(f"{key}_unit") or "W"))


def _list_fee(rec: Record) -> GuideFee:
    fee = rec.get("fee")
    if not isinstance(fee, Mapping) or (
        fee.get("amount") is None and fee.get("unit_price") is None
    ):
        return GuideFee(False)
    amount, price = fee.get("amount"), fee.get("unit_price")
    return GuideFee(
        True,
        fee.get("basis"),
        None if amount is None else float(amount),
        None if price is None else float(price),
        fee.get("unit"),
    )


def _same_fee(a: GuideFee, b: GuideFee) -> bool:
    def close(x: float | None, y: float | None) -> bool:
        return (x is None) == (y is None) and (x is None or abs(x - (y or 0.0)) < 0.005)

    if a.charged != b.charged:
        return False
    if not a.charged:
        return True
    return (
        close(a.amount, b.amount)
        and close(a.unit_price, b.unit_price)
        and (a.unit or "") == (b.unit or "")
        and _norm(a.basis) == _norm(b.basis)
    )


def _norm(text: str | None) -> str:
    return "".join((text or "").split())


def _material_diffs(guide: tuple[GuideMaterial, ...], listed: list[GuideMaterial]) -> list[str]:
    g = {m.name: m for m in guide}
    lst = {m.name: m for m in listed}
    diffs = []
    if missing := [n for n in lst if n not in g]:
        diffs.append(f"未列清单中的{names_text(missing)}")
    if extra := [n for n in g if n not in lst]:
        diffs.append(f"多列清单中没有的{names_text(extra)}")
    for name in (n for n in g if n in lst):
        a, b = g[name], lst[name]
        if a.required != b.required:
            diffs.append(
                f"“{name}”指南为{'必需' if a.required else '非必需'}，清单为"
                f"{'必需' if b.required else '非必需'}"
            )
        for what, x, y in (("原件", a.originals, b.originals), ("复印件", a.copies, b.copies)):
            if x is not None and y is not None and x != y:
                diffs.append(f"“{name}”{what}份数指南为 {x}，清单为 {y}")
    return diffs


def _step_diffs(guide: tuple[GuideStep, ...], listed: list[GuideStep]) -> list[str]:
    g_names, l_names = [s.name for s in guide], [s.name for s in listed]
    diffs = []
    if missing := [n for n in l_names if n not in g_names]:
        diffs.append(f"未列清单中的环节{names_text(missing)}")
    if extra := [n for n in g_names if n not in l_names]:
        diffs.append(f"多列清单中没有的环节{names_text(extra)}")
    common_g = [n for n in g_names if n in l_names]
    common_l = [n for n in l_names if n in g_names]
    if common_g != common_l:
        diffs.append(f"环节顺序为{'→'.join(common_g)}，清单为{'→'.join(common_l)}")
    by_name = {s.name: s for s in listed}
    for s in guide:
        other = by_name.get(s.name)
        if other is None or s.limit is None or other.limit is None:
            continue
        if (s.limit, s.unit or "W") != (other.limit, other.unit or "W"):
            diffs.append(f"环节“{s.name}”时限指南为 {s.limit} 天，清单为 {other.limit} 天")
    return diffs


def _list_materials(rec: Record) -> list[GuideMaterial]:
    return [
        GuideMaterial(
            str(m["name"]), bool(m.get("required", True)), m.get("originals"), m.get("copies")
        )
        for m in rec.get("materials") or ()
    ]


def _list_steps(rec: Record) -> list[GuideStep]:
    return [
        GuideStep(str(s["name"]), s.get("limit"), s.get("unit")) for s in rec.get("steps") or ()
    ]


def consistency(rec: Record, readings: Readings | None = None) -> list[GuideFinding]:
    guide = rec.get("guide")
    if not published(guide):
        return []
    assert isinstance(guide, Mapping)
    read = readings or Readings(guide)
    out = []

    def differ(code: str, expected: str, found: str, detail: str, evidence: dict[str, Any]) -> None:
        name = element(code).name
        out.append(
            _finding(
                rec,
                code,
                "consistency",
                expected,
                found,
                f"办事指南的“{name}”与实施清单不一致：{detail}",
                evidence,
            )
        )

    for code, key in (
        ("basic.legal_limit", "legal_limit"),
        ("basic.promised_limit", "promised_limit"),
    ):
        reading, listed = read(code), _list_limit(rec, key)
        if reading.ok and listed is not None and reading.value != listed:
            g, lst = limit_text(reading.value), limit_text(listed)
            differ(
                code,
                lst,
                g,
                f"指南为 {g}，清单为 {lst}",
                {
                    "guide": [reading.value.limit, reading.value.unit],
                    "list": [listed.limit, listed.unit],
                },
            )
    fee = read("fees")
    if fee.ok and not _same_fee(fee.value, _list_fee(rec)):
        g, lst = fee_text(fee.value), fee_text(_list_fee(rec))
        differ("fees", lst, g, f"指南为{g}，清单为{lst}", {"guide": g, "list": lst})
    steps, listed_steps = read("process"), _list_steps(rec)
    if steps.ok and listed_steps and (diffs := _step_diffs(steps.value, listed_steps)):
        differ(
            "process",
            steps_text(listed_steps, limits=True),
            steps_text(steps.value, limits=True),
            "；".join(diffs),
            {"differences": diffs},
        )
    materials, listed_materials = read("materials"), _list_materials(rec)
    if (
        materials.ok
        and listed_materials
        and (diffs := _material_diffs(materials.value, listed_materials))
    ):
        differ(
            "materials",
            "、".join(map(material_text, listed_materials)),
            "、".join(map(material_text, materials.value)),
            "；".join(diffs),
            {"differences": diffs},
        )
    return out


# -- practice -----------------------------------------------------------------------------


def practice_guide(rec: Record, readings: Readings | None = None) -> PracticeGuide | None:
    guide = rec.get("guide")
    if not published(guide):
        return None
    assert isinstance(guide, Mapping)
    read = readings or Readings(guide)
    materials, steps = read("materials"), read("process")
    fee, promised = read("fees"), read("basic.promised_limit")
    if not (materials.ok or steps.ok or fee.ok or promised.ok):
        return None
    return PracticeGuide(
        str(rec["item_code"]),
        tuple(m.name for m in materials.value) if materials.ok else None,
        steps.value if steps.ok else None,
        fee.value if fee.ok else None,
        promised.value if promised.ok else None,
    )


def _practice_finding(rec: Record, g: PracticeGuide, code: str, c: Counts) -> GuideFinding:
    evidence: dict[str, Any] = {"cases": c.cases, "contradicting": c.bad, "examples": c.examples}
    if c.details:
        evidence["details"] = c.details
    share = share_text(c.bad, c.cases)
    if code == "materials":
        expected = f"申请材料以指南所列为限：{names_text(g.materials or ())}"
        found = "、".join(
            f"“{d['material']}”（{share_text(d['cases'], c.cases)}办件要求提交）" for d in c.details
        )
        message = f"办件实际要求了办事指南未列的材料：{found}"
    elif code == "process":
        parts = [
            f"办理了指南未列的环节“{d['step']}”（{d['cases']} 件）"
            if "after" not in d
            else f"“{d['step']}”在“{d['after']}”之后才开始（{d['cases']} 件）"
            for d in c.details[:5]
        ]
        expected = f"按指南流程办理：{steps_text(g.steps or ())}"
        found = f"{share}办件：{'；'.join(parts)}"
        message = f"办件实际的办理流程与办事指南不符：{found}"
    elif code == "fees":
        assert g.fee is not None
        common = c.details[0] if c.details else None
        usual = (
            f"，最常见的实收金额为 {common['paid']:.2f} 元（{common['cases']} 件）"
            if common
            else ""
        )
        expected = fee_text(g.fee)
        found = f"收费办件中 {share}与指南不符{usual}"
        message = f"办件实际收费与办事指南不符（指南：{expected}）：{found}"
    else:
        assert g.promised is not None
        longest = c.details[0] if c.details else None
        most = (
            f"，最长用时 {longest['longest']} 个{'自然日' if longest['unit'] == 'N' else '工作日'}"
            if longest
            else ""
        )
        expected = f"承诺 {limit_text(g.promised)}内办结"
        found = f"办结办件中 {share}超过指南承诺时限{most}"
        message = f"办件实际用时与办事指南的承诺办结时限不符：{found}"
    return _finding(rec, code, "practice", expected, found, message, evidence)


# -- all three ----------------------------------------------------------------------------


def check_records(records: Sequence[Record]) -> list[GuideFinding]:
    """Completeness and consistency of catalog records (no cases needed)."""
    out = []
    for rec in records:
        reading = _readings(rec)
        out += completeness(rec, reading)
        out += consistency(rec, reading)
    return out


def _readings(rec: Record) -> Readings | None:
    guide = rec.get("guide")
    return Readings(guide) if published(guide) and isinstance(guide, Mapping) else None


def _sort_key(f: GuideFinding) -> tuple[str, int, int]:
    return f.item_code, ORDER.get(f.element, len(ORDER)), CHECKS.index(f.check)


def load_records(db: Database) -> list[dict[str, Any]]:
    return [orjson.loads(doc) for (doc,) in db.query("SELECT doc FROM items ORDER BY item_code")]


def run_checks(db: Database, at: datetime) -> list[GuideFinding]:
    """Every guide finding for the catalog and events in ``db``, as of ``at``.

    Ordered by item code, then element (the order of :data:`~govwatch.guides.elements.ELEMENTS`),
    then check (completeness, consistency, practice).
    """
    records = load_records(db)
    findings: list[GuideFinding] = []
    guides: dict[str, PracticeGuide] = {}
    for rec in records:
        reading = _readings(rec)
        findings += completeness(rec, reading)
        findings += consistency(rec, reading)
        guide = practice_guide(rec, reading)
        if guide is not None:
            guides[guide.item_code] = guide
    by_code = {str(r["item_code"]): r for r in records}
    for (code, element_code), counts in contradicted(
        practice_counts(db, at, guides.values())
    ).items():
        findings.append(_practice_finding(by_code[code], guides[code], element_code, counts))
    return sorted(findings, key=_sort_key)
