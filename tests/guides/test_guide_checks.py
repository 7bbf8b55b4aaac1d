"""Completeness and consistency of hand-written guides (docs/guides.md, "The three checks")."""

from __future__ import annotations

from typing import Any

import pytest

from govwatch.guides.checks import check_records, completeness, consistency
from govwatch.guides.elements import ELEMENTS, is_form
from govwatch.vocabulary import GUIDE_ELEMENT_NAMES
from tests.guides.guide_records import record


def _found(rec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.element, f.check) for f in check_records([rec])}


def test_a_guide_publishing_every_element_right_has_no_finding() -> None:
    assert check_records([record()]) == []


def test_every_element_has_a_chinese_name() -> None:
    assert {e.code for e in ELEMENTS} == set(GUIDE_ELEMENT_NAMES)


@pytest.mark.parametrize("guide", [{"published": False, "name": "测试许可"}, None])
def test_an_unpublished_guide_is_one_finding_and_nothing_else_is_checked(guide: Any) -> None:
    rec = record(guide=guide)
    (finding,) = check_records([rec])
    assert (finding.element, finding.check) == ("guide", "completeness")
    assert finding.expected == "公开办事指南"
    assert finding.found == ("未公开" if guide else "目录中无办事指南")
    assert "未公开办事指南" in finding.message


def test_a_missing_element_is_reported_where_the_item_type_requires_it() -> None:
    rec = record()
    for key in ("materials", "conditions", "place", "fee", "phone"):
        del rec["guide"][key]
    # 行政许可 is applied for: it owes applicants materials, conditions, place, fees
    assert _found(rec) == {
        ("basic.conditions", "completeness"),
        ("basic.place", "completeness"),
        ("basic.contact", "completeness"),
        ("materials", "completeness"),
        ("fees", "completeness"),
    }
    finding = next(f for f in completeness(rec) if f.element == "materials")
    assert finding.found == "缺失" and finding.message.startswith("办事指南缺少“申请材料”")
    # 行政处罚 is exercised ex officio: only the contact is owed of these
    penalty = record(item_type="02")
    penalty["guide"]["item_type"] = "02"
    for key in ("materials", "conditions", "place", "fee", "phone"):
        del penalty["guide"][key]
    assert _found(penalty) == {("basic.contact", "completeness")}


@pytest.mark.parametrize(
    ("change", "element", "problem"),
    [
        ({"phone": "电话待定"}, "basic.contact", "不是有效的电话号码"),
        ({"complaint_phone": "见公告"}, "basic.complaint", "不是有效的电话号码"),
        ({"hours": "详见大厅公告"}, "basic.hours", "未写明具体时刻"),
        ({"basis": "相关法律法规"}, "basic.basis", "未写明法律法规名称"),
        ({"item_type": "行政许可"}, "basic.item_type", "不是规定的代码"),
        ({"legal_limit": "二十个工作日"}, "basic.legal_limit", "应为非负整数"),
        ({"promised_limit": 25}, "basic.promised_limit", "超过法定时限"),
        ({"fee": "无"}, "fees", "应写明“不收费”"),
        ({"fee": {"charged": True, "basis": "《标准》"}}, "fees", "未写明收费标准"),
        ({"online_depth": 4, "online_url": None}, "online", "网上办理入口"),
        ({"online_depth": 7}, "online", "应为 0–5"),
        ({"item_code": "待定编码"}, "basic.codes", "字母数字"),
    ],
)
def test_a_malformed_element_is_one_completeness_finding_saying_what_is_wrong(
    change: dict[str, Any], element: str, problem: str
) -> None:
    rec = record()
    rec["guide"].update(change)
    (finding,) = check_records([rec])
    assert (finding.element, finding.check) == (element, "completeness")
    assert problem in finding.found and problem in finding.message
    assert finding.evidence["problems"] and finding.evidence["url"] == rec["guide"]["url"]


def test_materials_listed_twice_are_malformed_and_not_compared_with_the_list() -> None:
    rec = record()
    rec["guide"]["materials"].append(dict(rec["guide"]["materials"][1]))
    assert _found(rec) == {("materials", "completeness")}


def test_each_form_material_needs_a_blank_form_and_a_sample_and_no_dead_link() -> None:
    assert is_form("申请表") and is_form("授权委托书") and not is_form("居民身份证")
    rec = record()
    del rec["guide"]["materials"][0]["sample"]
    (finding,) = completeness(rec)
    assert finding.element == "downloads" and "未提供样表下载" in finding.found
    rec = record()
    rec["guide"]["materials"][0]["form"] = {
        "url": "/downloads/T0001/gone/1-form.docx",
        "status": 404,
    }
    (finding,) = completeness(rec)
    assert finding.element == "downloads"
    assert "链接失效" in finding.found and "/downloads/T0001/gone/1-form.docx" in finding.found
    rec = record()
    rec["guide"]["materials"][0]["form"] = "见附件"
    assert "不是有效网址" in completeness(rec)[0].found
    # a link nobody has checked yet is judged by its form; a redirect is alive
    rec = record()
    rec["guide"]["materials"][0]["form"] = "https://zwfw.example.test/f.docx"
    rec["guide"]["materials"][0]["sample"] = {"url": "/s.pdf", "status": 302}
    assert completeness(rec) == []
    # no form material, no downloads due
    rec = record()
    rec["guide"]["materials"] = [rec["guide"]["materials"][1]]
    rec["materials"] = [rec["materials"][1]]
    assert check_records([rec]) == []


def test_limits_fee_steps_and_materials_are_compared_with_the_implementation_list() -> None:
    rec = record()
    g = rec["guide"]
    g["promised_limit"] = 8
    g["legal_limit_unit"] = "N"
    g["fee"]["amount"] = 80.0
    g["process"][1], g["process"][2] = g["process"][2], g["process"][1]
    g["materials"][1]["copies"] = 2
    found = {f.element: f for f in consistency(rec)}
    assert set(found) == {
        "basic.legal_limit",
        "basic.promised_limit",
        "fees",
        "process",
        "materials",
    }
    assert all(f.check == "consistency" for f in found.values())
    promised = found["basic.promised_limit"]
    assert (promised.expected, promised.found) == ("10 个工作日", "8 个工作日")
    assert promised.evidence["guide"] == [8, "W"] and promised.evidence["list"] == [10, "W"]
    assert found["basic.legal_limit"].found == "20 个自然日"
    assert "80.00 元" in found["fees"].found and "50.00 元" in found["fees"].expected
    assert "环节顺序为受理→决定→审查，清单为受理→审查→决定" in found["process"].message
    assert "“居民身份证”复印件份数指南为 2，清单为 1" in found["materials"].message


def test_a_material_or_step_left_out_or_added_and_a_fee_written_free() -> None:
    rec = record()
    g = rec["guide"]
    g["materials"] = [g["materials"][0], {"name": "户籍证明", "required": True, "copies": 1}]
    g["process"] = g["process"][:2]
    g["fee"] = "不收费"
    found = {f.element: f for f in consistency(rec)}
    assert "未列清单中的“居民身份证”" in found["materials"].message
    assert "多列清单中没有的“户籍证明”" in found["materials"].message
    assert "未列清单中的环节“决定”" in found["process"].message
    assert found["fees"].found == "不收费" and found["fees"].expected.startswith("收费 50.00 元")


def test_a_free_item_agrees_with_a_guide_written_free_and_a_unit_price_is_compared() -> None:
    free = record(fee=None)
    free["guide"]["fee"] = {"charged": False}
    assert consistency(free) == []
    priced = record(fee={"basis": "《查询收费标准》", "unit_price": 1.0, "unit": "页"})
    priced["guide"]["fee"] = {"charged": True, "basis": "《查询收费标准》", "unit_price": 1.0,
                              "unit": "页"}  # fmt: skip
    assert consistency(priced) == []
    priced["guide"]["fee"]["unit_price"] = 2.0
    (finding,) = consistency(priced)
    assert finding.found == "收费 2.00 元/页，依据《查询收费标准》"
