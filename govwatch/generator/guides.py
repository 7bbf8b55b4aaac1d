"""The service guides of the synthetic province, and the faults injected into some of them.

Every item gets a guide (办事指南) that publishes each element of
:mod:`govwatch.guides.elements` correctly: the implementation list's limits, materials, steps
and fee, with a blank form and a sample to download for each form material. Then
:func:`inject_faults`, on a random stream of its own (so that the catalog's other fields, and
so every case, stay what they were for a seed), gives a share of the items one fault each:

======================  ==============================================  =====================
kind                    what the guide (or the cases) then shows        findings
======================  ==============================================  =====================
``unpublished``         ``"published": false``                          guide/completeness
``missing``             one required element left out                   element/completeness
``malformed``           one required element not well-formed            element/completeness
``dead_link``           a form or sample link the portal does not serve downloads/completeness
``wrong_legal_limit``   legal limit longer than the list's              consistency
``wrong_promised_limit`` promised limit shorter or longer               consistency (+practice)
``wrong_fee``           other amount, free instead of charged, other    consistency (+practice)
                        basis, or a fee on a free item
``wrong_materials``     a material left out or added, other copies or   consistency (+practice)
                        required flag
``wrong_process``       two steps swapped, a step left out or added,    consistency (+practice)
                        a step limit changed
``unlisted_step``       the guide is right, but the item's cases run a  practice (if enough
                        step it does not list (see guide_practice.py)   cases)
======================  ==============================================  =====================

"+practice": when the item's cases, which follow the implementation list, then contradict the
guide in enough of them (:mod:`govwatch.generator.guide_practice` counts them). A dead link's
address lies under ``/downloads/<item_code>/gone/``, which the portal renderer never creates,
and the guide records the status a link check found (404), as a crawled guide does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govwatch.generator.config import GUIDE_FAULTS
from govwatch.generator.templates import Template
from govwatch.guides.elements import (
    ELEMENTS,
    ORDER,
    downloads_due,
    element,
    is_form,
)

ONLINE_BASE = "https://zwfw.jiangchuan.example/item/"
HOURS = "工作日 09:00-12:00，13:30-17:30"
COMPLAINT_PHONE = "12345"
# Materials no list names, added to a guide (not forms: no downloads are then due for them).
EXTRA_MATERIALS = ("社区居住证明", "单位推荐信", "个人信用报告", "户籍证明")
EXTRA_STEPS = ("集体讨论", "领导签批", "专家论证")
# Steps the cases of an item with ``unlisted_step`` run before their first step.
UNLISTED_STEPS = ("预审", "内部会签", "集体研究")


def download_url(item_code: str, seq: int, kind: str, *, dead: bool = False) -> str:
    """``/downloads/<item_code>/<seq>-form.docx`` (or ``-sample.pdf``); dead links lie under
    ``/downloads/<item_code>/gone/``, a folder the portal renderer never creates."""
    ext = "docx" if kind == "form" else "pdf"
    return f"/downloads/{item_code}/{'gone/' if dead else ''}{seq}-{kind}.{ext}"


def _phone(region_code: str, dept_no: int) -> str:
    return f"0{390 + int(region_code[2:4])}-6{region_code[4:6]}{dept_no:02d}00"


def base_guide(record: Mapping[str, Any], template: Template, region_name: str) -> dict[str, Any]:
    """A guide publishing every element correctly (docs/guides.md, "The guide object")."""
    code = record["item_code"]
    applied_for = element("materials").required_for(record["item_type"])
    materials = []
    for seq, m in enumerate(record["materials"], 1):
        entry: dict[str, Any] = {
            "name": m["name"],
            "required": m["required"],
            "originals": m["originals"],
            "copies": m["copies"],
        }
        if applied_for and is_form(m["name"]):
            entry["form"] = {"url": download_url(code, seq, "form"), "status": 200}
            entry["sample"] = {"url": download_url(code, seq, "sample"), "status": 200}
        materials.append(entry)
    fee = record["fee"]
    fee_doc: dict[str, Any] = {"charged": False}
    if fee is not None:
        fee_doc = {"charged": True, **fee}
    depth = record["online"]["depth"]
    guide: dict[str, Any] = {
        "published": True,
        "name": record["name"],
        "item_code": code,
        "base_code": record["base_code"],
        "item_type": record["item_type"],
        "basis": template.basis,
        "department": record["department_name"],
        "level": record["level"],
        "conditions": f"符合{template.basis}规定的条件",
        "legal_limit": record["legal_limit"],
        "legal_limit_unit": record["legal_limit_unit"],
        "promised_limit": record["promised_limit"],
        "promised_limit_unit": record["promised_limit_unit"],
        "place": f"{region_name}政务服务中心",
        "hours": HOURS,
        "phone": _phone(record["region_code"], int(code[6:8])),
        "complaint_phone": COMPLAINT_PHONE,
        "materials": materials,
        "process": [
            {"name": s["name"], "limit": s["limit"], "unit": s["unit"]} for s in record["steps"]
        ],
        "fee": fee_doc,
        "online_depth": depth,
    }
    if depth >= 3:
        guide["online_url"] = ONLINE_BASE + code
    return guide


@dataclass(frozen=True)
class Fault:
    """One item's injected fault and the completeness/consistency findings it must cause.

    Practice findings are not listed: whether the cases contradict the guide in enough of
    them is counted while they are generated (guide_practice.py).
    """

    item_code: str
    kind: str
    detail: str
    findings: tuple[tuple[str, str], ...]  # (element, check)
    unlisted_step: str = ""


Guide = dict[str, Any]
Record = Mapping[str, Any]
Injector = Callable[
    [random.Random, Guide, Record], "tuple[str, tuple[tuple[str, str], ...]] | None"
]


def _required(record: Record, guide: Guide) -> list[str]:
    out = []
    for e in ELEMENTS:
        if e.code == "guide":
            continue
        if e.code == "downloads":
            if downloads_due(guide, record["item_type"]):
                out.append(e.code)
        elif e.required_for(record["item_type"]):
            out.append(e.code)
    return out


def _pick(rng: random.Random, seq: Sequence[Any]) -> Any:
    return seq[int(rng.random() * len(seq))]


def _form_links(guide: Guide) -> list[tuple[dict[str, Any], str]]:
    return [(m, key) for m in guide["materials"] for key in ("form", "sample") if key in m]


def unpublished(rng: random.Random, guide: Guide, record: Record) -> Any:
    keep = {k: guide[k] for k in ("name", "item_code")}
    guide.clear()
    guide.update({"published": False, **keep})
    return "指南未公开", (("guide", "completeness"),)


def missing(rng: random.Random, guide: Guide, record: Record) -> Any:
    code = _pick(rng, _required(record, guide))
    if code == "downloads":
        for m, key in _form_links(guide):
            del m[key]
    else:
        for name in element(code).fields:
            guide.pop(name, None)
    return f"缺少{code}", ((code, "completeness"),)


def _malform(code: str, guide: Guide, rng: random.Random) -> bool:
    """Make one element malformed in a way only the completeness check sees."""
    if code == "basic.codes":
        guide["item_code"] = "待定"
    elif code == "basic.item_type":
        guide["item_type"] = "行政许可事项"
    elif code == "basic.basis":
        guide["basis"] = "相关法律法规"
    elif code == "basic.level":
        guide["level"] = "县级"
    elif code == "basic.legal_limit":
        guide["legal_limit"] = f"{guide['legal_limit']}日内"
    elif code == "basic.promised_limit":
        if guide.get("legal_limit_unit") != guide.get("promised_limit_unit"):
            return False
        guide["promised_limit"] = int(guide["legal_limit"]) + 5
    elif code == "basic.hours":
        guide["hours"] = "详见大厅公告"
    elif code in ("basic.contact", "basic.complaint"):
        guide["phone" if code == "basic.contact" else "complaint_phone"] = "电话待定"
    elif code == "materials":
        guide["materials"] = [*guide["materials"], dict(guide["materials"][0])]
    elif code == "process":
        guide["process"] = [*guide["process"], {"name": ""}]
    elif code == "downloads":
        m, key = _pick(rng, _form_links(guide))
        m[key] = {"url": "见附件"}
    elif code == "fees":
        guide["fee"] = {"charged": True} if guide["fee"]["charged"] else "无"
    elif code == "online":
        if guide["online_depth"] >= 3:
            del guide["online_url"]
        else:
            guide["online_depth"] = 9
    else:
        return False
    return True


def malformed(rng: random.Random, guide: Guide, record: Record) -> Any:
    candidates = _required(record, guide)
    for _ in range(len(candidates)):
        code = _pick(rng, candidates)
        if _malform(code, guide, rng):
            return f"{code}不规范", ((code, "completeness"),)
        candidates.remove(code)
    return None


def dead_link(rng: random.Random, guide: Guide, record: Record) -> Any:
    if "downloads" not in _required(record, guide):
        return None
    m, key = _pick(rng, _form_links(guide))
    seq = 1 + next(i for i, e in enumerate(guide["materials"]) if e is m)
    m[key] = {"url": download_url(guide["item_code"], seq, key, dead=True), "status": 404}
    return f"{m['name']}的{key}链接失效", (("downloads", "completeness"),)


def wrong_legal_limit(rng: random.Random, guide: Guide, record: Record) -> Any:
    guide["legal_limit"] = int(guide["legal_limit"]) + _pick(rng, (5, 10, 15))
    return f"法定时限改为{guide['legal_limit']}", (("basic.legal_limit", "consistency"),)


def wrong_promised_limit(rng: random.Random, guide: Guide, record: Record) -> Any:
    if not element("basic.promised_limit").required_for(record["item_type"]):
        return None
    promised, legal = int(record["promised_limit"]), int(record["legal_limit"])
    options = list(range(0, promised))
    if record["promised_limit_unit"] == record["legal_limit_unit"]:
        options += range(promised + 1, legal + 1)
    if not options:
        return None
    guide["promised_limit"] = _pick(rng, options)
    return f"承诺时限改为{guide['promised_limit']}", (("basic.promised_limit", "consistency"),)


def wrong_fee(rng: random.Random, guide: Guide, record: Record) -> Any:
    if not element("fees").required_for(record["item_type"]):
        return None
    fee = guide["fee"]
    if not fee["charged"]:
        guide["fee"] = {"charged": True, "basis": "《行政事业性收费标准》", "amount": 20.0}
        detail = "免费事项写为收费"
    else:
        variant = int(rng.random() * 3)
        if variant == 0 and "amount" in fee:
            fee["amount"] = round(fee["amount"] * 1.5, 2)
            detail = "收费金额不符"
        elif variant == 0:
            fee["unit_price"] = round(fee["unit_price"] * 2, 2)
            detail = "收费单价不符"
        elif variant == 1:
            guide["fee"] = {"charged": False}
            detail = "收费事项写为不收费"
        else:
            fee["basis"] = "《政务服务收费管理办法》"
            detail = "收费依据不符"
    return detail, (("fees", "consistency"),)


def wrong_materials(rng: random.Random, guide: Guide, record: Record) -> Any:
    if not element("materials").required_for(record["item_type"]):
        return None
    materials = guide["materials"]
    variant = int(rng.random() * 4)
    if variant == 0 and len(materials) > 1:
        gone = materials.pop(int(rng.random() * len(materials)))
        detail = f"漏列{gone['name']}"
    elif variant <= 1:
        names = {m["name"] for m in materials}
        extra = _pick(rng, [n for n in EXTRA_MATERIALS if n not in names])
        materials.insert(
            int(rng.random() * (len(materials) + 1)),
            {"name": extra, "required": True, "originals": 1, "copies": 0},
        )
        detail = f"多列{extra}"
    elif variant == 2:
        m = _pick(rng, materials)
        m["copies"] = int(m["copies"]) + 1
        detail = f"{m['name']}份数不符"
    else:
        m = _pick(rng, materials)
        m["required"] = not m["required"]
        detail = f"{m['name']}是否必需不符"
    return detail, (("materials", "consistency"),)


def wrong_process(rng: random.Random, guide: Guide, record: Record) -> Any:
    steps = guide["process"]
    if len(steps) < 2:
        return None
    variant = int(rng.random() * 4)
    if variant == 0:
        i = int(rng.random() * (len(steps) - 1))
        steps[i], steps[i + 1] = steps[i + 1], steps[i]
        detail = f"{steps[i + 1]['name']}与{steps[i]['name']}顺序颠倒"
    elif variant == 1:
        gone = steps.pop(int(rng.random() * len(steps)))
        detail = f"漏列{gone['name']}"
    elif variant == 2:
        names = {s["name"] for s in steps}
        extra = _pick(rng, [n for n in EXTRA_STEPS if n not in names])
        steps.insert(int(rng.random() * (len(steps) + 1)), {"name": extra, "limit": 1, "unit": "W"})
        detail = f"多列{extra}"
    else:
        s = _pick(rng, steps)
        s["limit"] = int(s["limit"] or 0) + 2
        detail = f"{s['name']}时限不符"
    return detail, (("process", "consistency"),)


def unlisted_step(rng: random.Random, guide: Guide, record: Record) -> Any:
    names = {s["name"] for s in record["steps"]}
    return _pick(rng, [n for n in UNLISTED_STEPS if n not in names]), ()


INJECTORS: Mapping[str, Injector] = {
    "unpublished": unpublished,
    "missing": missing,
    "malformed": malformed,
    "dead_link": dead_link,
    "wrong_legal_limit": wrong_legal_limit,
    "wrong_promised_limit": wrong_promised_limit,
    "wrong_fee": wrong_fee,
    "wrong_materials": wrong_materials,
    "wrong_process": wrong_process,
    "unlisted_step": unlisted_step,
}
assert tuple(INJECTORS) == GUIDE_FAULTS


def inject_faults(
    records: Sequence[dict[str, Any]], rng: random.Random, rates: Mapping[str, float]
) -> list[Fault]:
    """Give ``round(rate × items)`` items each kind of fault (an item at most one), in place.

    Items are drawn in a shuffled order; an item the kind does not fit (a fee fault on an item
    exercised ex officio, a dead link where no form is published) is passed over for the next.
    """
    order = list(range(len(records)))
    rng.shuffle(order)
    taken: set[int] = set()
    faults: list[Fault] = []
    for kind in GUIDE_FAULTS:
        want = round(rates.get(kind, 0.0) * len(records))
        for index in order:
            if want <= 0:
                break
            if index in taken:
                continue
            record = records[index]
            trial = _copy(record["guide"])
            result = INJECTORS[kind](rng, trial, record)
            if result is None:
                continue
            detail, findings = result
            record["guide"].clear()
            record["guide"].update(trial)
            taken.add(index)
            want -= 1
            faults.append(
                Fault(
                    record["item_code"],
                    kind,
                    detail,
                    findings,
                    detail if kind == "unlisted_step" else "",
                )
            )
    return sorted(faults, key=lambda f: f.item_code)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def fault_findings(faults: Sequence[Fault]) -> set[tuple[str, str, str]]:
    return {
        (f.item_code, element_code, check) for f in faults for element_code, check in f.findings
    }


def sort_key(finding: tuple[str, str, str]) -> tuple[str, int, int]:
    item_code, element_code, check = finding
    return item_code, ORDER[element_code], ("completeness", "consistency", "practice").index(check)
