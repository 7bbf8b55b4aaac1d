"""The elements a service guide (办事指南) must publish, and how each is read from a guide.

docs/guides.md gives the sources (the national requirements for guides and implementation
lists) and the same table in words. Each :class:`Element` has a stable English code (the
``element`` of a finding), the ``guide`` object fields it reads, whether it is required of
every item or only of items applied for (依申请), and whether the consistency and practice
checks compare it. Its Chinese name lives in :data:`govwatch.vocabulary.GUIDE_ELEMENT_NAMES`.

:func:`read` returns a :class:`Reading` of one element of one guide: absent, or present with
its value and the problems that make it malformed (Chinese phrases). The checks only compare
elements that are present and well-formed, so a malformed element is reported once, by the
completeness check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from govwatch.guides.model import GuideFee, GuideLimit, GuideMaterial, GuideStep, Link
from govwatch.vocabulary import (
    GUIDE_ELEMENT_NAMES,
    GUIDE_GROUP_NAMES,
    ITEM_LEVEL_NAMES,
    ITEM_TYPE_NAMES,
    label,
)

# Item types (A.1) applied for by a person or organisation (依申请): the guide tells an
# applicant what to bring, where, when, at what cost. The others are exercised ex officio
# (依职权: 处罚, 强制, 征收, 检查); their guides publish the basis, body, limits and process.
APPLICATION_TYPES = frozenset({"01", "05", "07", "08", "09", "10", "20"})

# A material is a form the applicant fills in (a blank form and a sample are due) when its
# name ends so: 申请表, 申报表, 申请书, 授权委托书, 无配偶声明, 承诺书.
FORM_SUFFIXES = ("表", "申请书", "委托书", "声明", "承诺书")


@dataclass(frozen=True)
class Element:
    code: str
    fields: tuple[str, ...]
    on_application: bool  # required only of items applied for (APPLICATION_TYPES)
    consistency: bool = False  # compared with the implementation list
    practice: bool = False  # compared with what the item's cases show
    requirement: str = ""  # what a well-formed element holds (Chinese)

    @property
    def name(self) -> str:
        return label(GUIDE_ELEMENT_NAMES, self.code)

    @property
    def group(self) -> str:
        return self.code.split(".")[0]

    @property
    def group_name(self) -> str:
        return label(GUIDE_GROUP_NAMES, self.group)

    def required_for(self, item_type: str | None) -> bool:
        return not self.on_application or item_type in APPLICATION_TYPES


E = Element
ELEMENTS: tuple[Element, ...] = (
    E("guide", ("published",), False, requirement="公开办事指南"),
    E("basic.name", ("name",), False, requirement="写明事项名称"),
    E("basic.codes", ("item_code", "base_code"), False,
      requirement="写明实施编码（不超过 24 位字母数字），基本编码不超过 10 位"),
    E("basic.item_type", ("item_type",), False, requirement="写明事项类型（GB/T 39046 A.1 代码）"),
    E("basic.basis", ("basis",), False, requirement="写明设定依据（法律法规名称，用《》标明）"),
    E("basic.department", ("department",), False, requirement="写明实施主体名称"),
    E("basic.level", ("level",), False, requirement="写明行使层级（A.2 代码）"),
    E("basic.conditions", ("conditions",), True, requirement="写明受理条件"),
    E("basic.legal_limit", ("legal_limit", "legal_limit_unit"), False, consistency=True,
      requirement="写明法定办结时限（非负整数，单位为工作日或自然日）"),
    E("basic.promised_limit", ("promised_limit", "promised_limit_unit"), True, consistency=True,
      practice=True, requirement="写明承诺办结时限（非负整数，单位为工作日或自然日，不超过法定时限）"),
    E("basic.place", ("place",), True, requirement="写明办理地点"),
    E("basic.hours", ("hours",), True, requirement="写明办理时间（含具体时刻，如 09:00-17:00）"),
    E("basic.contact", ("phone",), False, requirement="写明咨询电话"),
    E("basic.complaint", ("complaint_phone",), False, requirement="写明监督投诉电话"),
    E("materials", ("materials",), True, consistency=True, practice=True,
      requirement="逐项列明申请材料的名称、是否必需、原件和复印件份数"),
    E("process", ("process",), False, consistency=True, practice=True,
      requirement="按顺序列明办理环节"),
    E("downloads", ("materials",), True,
      requirement="为表格类申请材料提供空白表格和样表下载，且链接有效"),
    E("fees", ("fee",), True, consistency=True, practice=True,
      requirement="写明是否收费；收费的写明收费依据和标准"),
    E("online", ("online_depth", "online_url"), True,
      requirement="写明网上办理深度（0–5）；可在线预审及以上的写明网上办理入口"),
)  # fmt: skip
BY_CODE: Mapping[str, Element] = {e.code: e for e in ELEMENTS}
ORDER: Mapping[str, int] = {e.code: i for i, e in enumerate(ELEMENTS)}


def element(code: str) -> Element:
    return BY_CODE[code]


def is_form(material_name: str) -> bool:
    """Whether a material is a form to fill in (a blank form and a sample are due)."""
    return material_name.endswith(FORM_SUFFIXES)


@dataclass(frozen=True)
class Reading:
    """One element of one guide: absent, or present with a value and its problems."""

    present: bool
    value: Any = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.present and not self.problems


ABSENT = Reading(False)
_PHONE = re.compile(r"^(?:0\d{2,3}-?\d{7,8}|1[3-9]\d{9}|1\d{4}|400-?\d{3}-?\d{4})$")
_PHONE_SEP = re.compile(r"[、，,;；/\s]+")
_TIME = re.compile(r"\d{1,2}[:：]\d{2}")
_URL = re.compile(r"^(?:https?://[^\s/?#]+[^\s]*|/[^\s]*)$")
_CODE = re.compile(r"^[0-9A-Za-z]+$")
UNITS = ("W", "N")


def _text(guide: Mapping[str, Any], key: str) -> str | None:
    value = guide.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    """A non-negative integer, or None (booleans and fractions are not limits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def well_formed_url(url: str) -> bool:
    return bool(_URL.match(url))


def _present_text(
    guide: Mapping[str, Any], key: str, check: Callable[[str], str | None]
) -> Reading:
    text = _text(guide, key)
    if text is None:
        return ABSENT
    problem = check(text)
    return Reading(True, text, (problem,) if problem else ())


def _phone(text: str) -> str | None:
    numbers = [n for n in _PHONE_SEP.split(text) if n]
    if numbers and all(_PHONE.match(n) for n in numbers):
        return None
    return f"“{text}”不是有效的电话号码"


def _codes(guide: Mapping[str, Any]) -> Reading:
    code = _text(guide, "item_code")
    if code is None:
        return ABSENT
    problems = []
    if len(code) > 24 or not _CODE.match(code):
        problems.append(f"实施编码“{code}”应为不超过 24 位的字母数字")
    base = _text(guide, "base_code")
    if base is not None and (len(base) > 10 or not _CODE.match(base)):
        problems.append(f"基本编码“{base}”应为不超过 10 位的字母数字")
    return Reading(True, (code, base), tuple(problems))


def _limit(guide: Mapping[str, Any], key: str) -> Reading:
    raw = guide.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ABSENT
    unit = guide.get(f"{key}_unit") or "W"
    problems = []
    limit = _int(raw)
    if limit is None:
        problems.append(f"时限“{raw}”应为非负整数天数")
    if unit not in UNITS:
        problems.append(f"时限单位“{unit}”应为 W（工作日）或 N（自然日）")
    if problems:
        return Reading(True, None, tuple(problems))
    assert limit is not None
    return Reading(True, GuideLimit(limit, str(unit)))


def _promised(guide: Mapping[str, Any]) -> Reading:
    reading = _limit(guide, "promised_limit")
    legal = _limit(guide, "legal_limit")
    if reading.ok and legal.ok:
        p, lg = reading.value, legal.value
        if p.unit == lg.unit and p.limit > lg.limit:
            return Reading(True, p, (f"承诺时限 {p.limit} 天超过法定时限 {lg.limit} 天",))
    return reading


def _link(raw: Any, what: str) -> tuple[Link | None, list[str]]:
    if raw is None:
        return None, []
    if isinstance(raw, str):
        raw = {"url": raw}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("url"), str):
        return None, [f"{what}链接应为网址"]
    url = raw["url"].strip()
    status = raw.get("status")
    size = raw.get("size")
    link = Link(
        url,
        status if isinstance(status, int) and not isinstance(status, bool) else None,
        raw.get("content_type") if isinstance(raw.get("content_type"), str) else None,
        size if isinstance(size, int) and not isinstance(size, bool) else None,
    )
    if not well_formed_url(url):
        return link, [f"{what}链接“{url}”不是有效网址"]
    return link, []


def read_materials(guide: Mapping[str, Any]) -> Reading:
    raw = guide.get("materials")
    if raw is None or raw == []:
        return ABSENT
    if not isinstance(raw, list):
        return Reading(True, None, ("申请材料应为逐项列出的清单",))
    out: list[GuideMaterial] = []
    problems: list[str] = []
    for i, entry in enumerate(raw, 1):
        if isinstance(entry, str):
            entry = {"name": entry}
        name = str(entry.get("name") or "").strip() if isinstance(entry, Mapping) else ""
        if not name:
            problems.append(f"第 {i} 项材料没有名称")
            continue
        assert isinstance(entry, Mapping)
        required = entry.get("required", True)
        originals, copies = entry.get("originals"), entry.get("copies")
        o = _int(originals) if originals is not None else None
        c = _int(copies) if copies is not None else None
        if not isinstance(required, bool):
            problems.append(f"材料“{name}”是否必需应为是或否")
        if (originals is not None and o is None) or (copies is not None and c is None):
            problems.append(f"材料“{name}”的份数应为非负整数")
        elif o == 0 and c == 0:
            problems.append(f"材料“{name}”原件和复印件份数均为 0")
        # a link's problems belong to the downloads element (read_downloads), not to the list
        form, _ = _link(entry.get("form"), "")
        sample, _ = _link(entry.get("sample"), "")
        out.append(GuideMaterial(name, required is not False, o, c, form, sample))
    names = [m.name for m in out]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"材料“{name}”重复列出")
    return Reading(True, tuple(out), tuple(problems))


def read_downloads(guide: Mapping[str, Any]) -> Reading:
    """The form and sample links of the guide's form materials (present when any is given).

    Read from the raw entries so that a malformed link is a problem of this element.
    """
    raw = guide.get("materials")
    if not isinstance(raw, list):
        return ABSENT
    links: list[tuple[str, str, Link]] = []
    problems: list[str] = []
    any_link = False
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        name = str(entry.get("name") or "").strip()
        for key, what in (("form", "空白表格"), ("sample", "样表")):
            if entry.get(key) is not None:
                any_link = True
            if not name or not is_form(name):
                continue
            link, bad = _link(entry.get(key), f"材料“{name}”的{what}")
            problems += bad
            if link is None and not bad:
                problems.append(f"表格类材料“{name}”未提供{what}下载")
            elif link is not None:
                links.append((name, key, link))
                if link.dead and not bad:
                    problems.append(
                        f"材料“{name}”的{what}链接失效（{link.url}，状态 {link.status}）"
                    )
    if not any_link:
        return ABSENT
    return Reading(True, tuple(links), tuple(problems))


def read_process(guide: Mapping[str, Any]) -> Reading:
    raw = guide.get("process")
    if raw is None or raw == []:
        return ABSENT
    if not isinstance(raw, list):
        return Reading(True, None, ("办理流程应为按顺序列出的环节",))
    out: list[GuideStep] = []
    problems: list[str] = []
    for i, entry in enumerate(raw, 1):
        if isinstance(entry, str):
            entry = {"name": entry}
        name = str(entry.get("name") or "").strip() if isinstance(entry, Mapping) else ""
        if not name:
            problems.append(f"第 {i} 个环节没有名称")
            continue
        assert isinstance(entry, Mapping)
        limit_raw, unit = entry.get("limit"), entry.get("unit")
        limit = _int(limit_raw) if limit_raw is not None else None
        if limit_raw is not None and limit is None:
            problems.append(f"环节“{name}”的时限应为非负整数")
        if unit is not None and unit not in UNITS:
            problems.append(f"环节“{name}”的时限单位应为 W 或 N")
        out.append(GuideStep(name, limit, unit if unit in UNITS else None))
    names = [s.name for s in out]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"环节“{name}”重复列出")
    return Reading(True, tuple(out), tuple(problems))


def read_fee(guide: Mapping[str, Any]) -> Reading:
    raw = guide.get("fee")
    if raw is None:
        return ABSENT
    if isinstance(raw, str):
        if raw.strip() == "不收费":
            return Reading(True, GuideFee(False))
        return Reading(True, None, (f"收费信息“{raw}”应写明“不收费”或收费依据和标准",))
    if not isinstance(raw, Mapping) or not isinstance(raw.get("charged"), bool):
        return Reading(True, None, ("收费信息应写明是否收费",))
    if not raw["charged"]:
        return Reading(True, GuideFee(False))
    basis = _text(raw, "basis")
    amount, price = _number(raw.get("amount")), _number(raw.get("unit_price"))
    unit = _text(raw, "unit")
    problems = []
    if basis is None:
        problems.append("收费未写明收费依据")
    if amount is not None and amount > 0 and price is None:
        fee = GuideFee(True, basis, amount=amount)
    elif price is not None and price > 0 and unit is not None and amount is None:
        fee = GuideFee(True, basis, unit_price=price, unit=unit)
    else:
        problems.append("收费未写明收费标准（固定金额，或单价及计价单位）")
        fee = GuideFee(True, basis, amount, price, unit)
    return Reading(True, fee, tuple(problems))


def _online(guide: Mapping[str, Any]) -> Reading:
    raw = guide.get("online_depth")
    if raw is None:
        return ABSENT
    depth = _int(raw)
    if depth is None or depth > 5:
        return Reading(True, None, (f"网上办理深度“{raw}”应为 0–5",))
    url = _text(guide, "online_url")
    if depth >= 3 and url is None:
        return Reading(True, depth, ("可在线办理的事项未写明网上办理入口",))
    if url is not None and not well_formed_url(url):
        return Reading(True, depth, (f"网上办理入口“{url}”不是有效网址",))
    return Reading(True, depth)


def _coded(table: Mapping[str, str], what: str) -> Callable[[str], str | None]:
    return lambda text: None if text in table else f"{what}“{text}”不是规定的代码"


def _basis(text: str) -> str | None:
    return None if re.search(r"《[^》]+》", text) else f"设定依据“{text}”未写明法律法规名称"


def _hours(text: str) -> str | None:
    return None if _TIME.search(text) else f"办理时间“{text}”未写明具体时刻"


READERS: Mapping[str, Callable[[Mapping[str, Any]], Reading]] = {
    "basic.name": lambda g: _present_text(g, "name", lambda t: None),
    "basic.codes": _codes,
    "basic.item_type": lambda g: _present_text(g, "item_type", _coded(ITEM_TYPE_NAMES, "事项类型")),
    "basic.basis": lambda g: _present_text(g, "basis", _basis),
    "basic.department": lambda g: _present_text(g, "department", lambda t: None),
    "basic.level": lambda g: _present_text(g, "level", _coded(ITEM_LEVEL_NAMES, "行使层级")),
    "basic.conditions": lambda g: _present_text(g, "conditions", lambda t: None),
    "basic.legal_limit": lambda g: _limit(g, "legal_limit"),
    "basic.promised_limit": _promised,
    "basic.place": lambda g: _present_text(g, "place", lambda t: None),
    "basic.hours": lambda g: _present_text(g, "hours", _hours),
    "basic.contact": lambda g: _present_text(g, "phone", _phone),
    "basic.complaint": lambda g: _present_text(g, "complaint_phone", _phone),
    "materials": read_materials,
    "process": read_process,
    "downloads": read_downloads,
    "fees": read_fee,
    "online": _online,
}


def published(guide: Any) -> bool:
    """A guide object that is there and not marked ``"published": false``."""
    return isinstance(guide, Mapping) and guide.get("published", True) is not False


def read(guide: Mapping[str, Any], code: str) -> Reading:
    return READERS[code](guide)


class Readings:
    """The readings of one guide, each element read once (the three checks share them)."""

    def __init__(self, guide: Mapping[str, Any]) -> None:
        self.guide = guide
        self._done: dict[str, Reading] = {}

    def __call__(self, code: str) -> Reading:
        reading = self._done.get(code)
        if reading is None:
            reading = self._done[code] = READERS[code](self.guide)
        return reading

    def downloads_due(self, item_type: str | None) -> bool:
        """Downloads are due when the item is applied for and its guide lists a form."""
        if not element("downloads").required_for(item_type):
            return False
        materials = self("materials")
        return materials.ok and any(is_form(m.name) for m in materials.value)


def downloads_due(guide: Mapping[str, Any], item_type: str | None) -> bool:
    """Downloads are due when the item is applied for and its guide lists a form material."""
    return Readings(guide).downloads_due(item_type)
