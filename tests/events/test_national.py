"""GB/T 39046 tables and the legacy SBLSH layout map to the canonical events of spec/data.md §2.

Expectations are written out by hand from docs/national-tables.md; the fixtures are in
tests/fixtures/national/ (gbt/ one CSV per table, 事项受理.csv GBK-encoded; legacy/ one CSV per
stage; xlsx/ the GB/T tables as sheets of one workbook; malformed/ rows the importer must flag).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from govwatch.events.national import detect_layout, iter_national

NATIONAL = Path(__file__).parent.parent / "fixtures" / "national"
GBT = NATIONAL / "gbt"
LEGACY = NATIONAL / "legacy"

C1, C2, C3 = "BJ20250901001", "BJ20250901002", "BJ20250902003"
ITEM1, ITEM2 = "440300-XK-0001", "440300-XK-0002"
ORG = "11440300MB2C00001X"


def records(paths: list[Path]) -> list[tuple[str, int, dict[str, object]]]:
    """(file name, line, record without event_id)."""
    out = []
    for source, line, record in iter_national(paths):
        body = {k: v for k, v in record.items() if k != "event_id"}
        out.append((Path(source.split("#")[0]).name, line, body))
    return out


def table(name: str) -> list[tuple[int, dict[str, object]]]:
    return [(line, rec) for _, line, rec in records([GBT / name])]


def test_application_table_gives_apply_with_its_materials_table_and_channel_codes() -> None:
    assert table("办事申请.csv") == [
        (
            2,
            {
                "case_id": C1,
                "kind": "apply",
                "occurred_at": "20250901093000",
                "item_code": ITEM1,
                "applicant_name": "深圳市示例餐饮有限公司",
                "applicant_id_type": "统一社会信用代码",
                "applicant_id": "91440300MA5EXAMP1A",
                "phone": "13800138000",
                "channel": "2",
                "materials": [
                    {"name": "营业执照", "provided": True},
                    {"name": "经营场所使用证明", "provided": True},
                ],
            },
        ),
        (
            3,
            {
                "case_id": C2,
                "kind": "apply",
                "occurred_at": "20250901140000",
                "item_code": ITEM1,
                "applicant_name": "李四",
                "applicant_id_type": "身份证",
                "applicant_id": "110101199001011234",
                "phone": "13900139000",
                "channel": "1",
                "materials": [
                    {"name": "身份证", "provided": True},
                    {"name": "健康证明", "provided": False},
                ],
            },
        ),
        (
            4,
            {
                "case_id": C3,
                "kind": "apply",
                "occurred_at": "20250902090000",
                "item_code": ITEM2,
                "applicant_name": "王小五",
                "applicant_id_type": "身份证",
                "applicant_id": "440301199202023456",
                "phone": "13700137000",
                "channel": "3",
            },
        ),
    ]


def test_materials_table_alone_yields_nothing_when_its_applications_are_in_the_export() -> None:
    assert table("申请材料.csv") == []


def test_gbk_encoded_acceptance_table_gives_accept_with_case_kind_and_promise() -> None:
    assert table("事项受理.csv") == [
        (
            2,
            {
                "case_id": C1,
                "kind": "accept",
                "occurred_at": "20250901100000",
                "item_code": ITEM1,
                "org_code": ORG,
                "actor": "王五",
                "case_kind": "2",
                "promised_finish_at": "20250912180000",
            },
        ),
        (
            3,
            {
                "case_id": C2,
                "kind": "accept",
                "occurred_at": "20250901141000",
                "item_code": ITEM1,
                "org_code": ORG,
                "actor": "王五",
                "case_kind": "1",
            },
        ),
        (
            4,
            {
                "case_id": C3,
                "kind": "accept",
                "occurred_at": "20250902093000",
                "item_code": ITEM2,
                "org_code": ORG,
                "actor": "王五",
                "case_kind": "2",
                "promised_finish_at": "20250916180000",
            },
        ),
    ]


def test_handling_table_gives_steps_actions_and_an_extension() -> None:
    assert table("事项办理.csv") == [
        (
            2,
            {
                "case_id": C1,
                "kind": "step_start",
                "occurred_at": "20250901100000",
                "step": "审查",
                "actor": "王五",
            },
        ),
        (
            2,
            {
                "case_id": C1,
                "kind": "step_end",
                "occurred_at": "20250903170000",
                "step": "审查",
                "actor": "王五",
                "action": "pass",
                "opinion": "材料齐全",
            },
        ),
        (
            3,
            {
                "case_id": C1,
                "kind": "step_start",
                "occurred_at": "20250903170000",
                "step": "决定",
                "actor": "赵六",
            },
        ),
        (
            3,
            {
                "case_id": C1,
                "kind": "step_end",
                "occurred_at": "20250910160000",
                "step": "决定",
                "actor": "赵六",
                "action": "pass",
                "opinion": "同意许可",
            },
        ),
        (
            3,
            {
                "case_id": C1,
                "kind": "special_start",
                "occurred_at": "20250904090000",
                "procedure_kind": "1",
                "reason": "需现场核查，延长审批期限",
            },
        ),
        (
            3,
            {
                "case_id": C1,
                "kind": "special_end",
                "occurred_at": "20250905170000",
                "result": "同意延长10个工作日",
            },
        ),
        (
            4,
            {
                "case_id": C2,
                "kind": "step_start",
                "occurred_at": "20250901141000",
                "step": "审查",
                "actor": "王五",
            },
        ),
        (
            4,
            {
                "case_id": C2,
                "kind": "step_end",
                "occurred_at": "20250901150000",
                "step": "审查",
                "actor": "王五",
                "action": "return",
                "opinion": "健康证明未提供",
            },
        ),
        # 环节办理状态 1 待办: the step has begun and not ended.
        (
            5,
            {
                "case_id": C3,
                "kind": "step_start",
                "occurred_at": "20250902093000",
                "step": "审查",
                "actor": "王五",
            },
        ),
    ]


def test_finish_table_infers_result_from_licence_and_leaves_paid_fee_to_payment_table() -> None:
    assert table("事项办结.csv") == [
        (
            2,
            {
                "case_id": C1,
                "kind": "finish",
                "occurred_at": "20250910160000",
                "actor": "赵六",
                "result": "0",
                "reason": "准予许可",
                "license_no": "JY14403000000001",
            },
        ),
        (
            3,
            {
                "case_id": C2,
                "kind": "finish",
                "occurred_at": "20250901153000",
                "actor": "王五",
                "result": "6",
                "reason": "准予许可（当场办结）",
            },
        ),
    ]


def test_payment_table_gives_payment_in_yuan() -> None:
    assert table("支付.csv") == [
        (
            2,
            {
                "case_id": C1,
                "kind": "payment",
                "occurred_at": "20250910153000",
                "org_code": ORG,
                "amount": 50.0,
            },
        ),
    ]


def test_rating_table_gives_rating_levels_and_named_channels() -> None:
    assert table("政务服务绩效评价.csv") == [
        (
            2,
            {
                "case_id": C1,
                "kind": "rating",
                "occurred_at": "20250910170000",
                "level": "1",
                "channel": "PC端",
                "text": "办事效率高",
            },
        ),
        (
            3,
            {
                "case_id": C3,
                "kind": "rating",
                "occurred_at": "20250903100000",
                "level": "4",
                "channel": "移动端",
                "text": "等待时间太长",
            },
        ),
    ]


def test_legacy_tables_map_every_stage() -> None:
    got = {(name, line, rec["kind"]): rec for name, line, rec in records(sorted(LEGACY.iterdir()))}
    s1, s2 = "44030020250901000001", "44030020250901000002"
    assert got == {
        ("申办.csv", 2, "apply"): {
            "case_id": s1,
            "kind": "apply",
            "occurred_at": "20250901093000",
            "item_code": ITEM1,
            "applicant_type": "2",
            "applicant_name": "深圳市示例餐饮有限公司",
            "applicant_id": "91440300MA5EXAMP1A",
            "phone": "13800138000",
            "channel": "2",
        },
        ("申办.csv", 3, "apply"): {
            "case_id": s2,
            "kind": "apply",
            "occurred_at": "20250901100000",
            "item_code": ITEM2,
            "applicant_type": "1",
            "applicant_name": "李四",
            "applicant_id": "110101199001011234",
            "phone": "13900139000",
            "channel": "1",
        },
        ("受理.csv", 2, "accept"): {
            "case_id": s1,
            "kind": "accept",
            "occurred_at": "20250902090000",
            "item_code": ITEM1,
        },
        ("受理.csv", 3, "accept"): {
            "case_id": s2,
            "kind": "accept",
            "occurred_at": "20250901110000",
            "item_code": ITEM2,
        },
        ("补正告知.csv", 2, "supplement_request"): {
            "case_id": s1,
            "kind": "supplement_request",
            "occurred_at": "20250901150000",
            "item_code": ITEM1,
            "reason": "材料不全",
            "materials": ["营业执照副本", "经营场所使用证明"],
        },
        ("审批过程.csv", 2, "step_end"): {
            "case_id": s1,
            "kind": "step_end",
            "occurred_at": "20250903170000",
            "item_code": ITEM1,
            "step": "审查",
            "actor": "王五",
            "opinion": "材料齐全",
        },
        ("审批过程.csv", 3, "step_end"): {
            "case_id": s1,
            "kind": "step_end",
            "occurred_at": "20250915150000",
            "item_code": ITEM1,
            "step": "决定",
            "actor": "赵六",
            "opinion": "同意许可",
        },
        ("特别程序.csv", 2, "special_start"): {
            "case_id": s1,
            "kind": "special_start",
            "occurred_at": "20250904",
            "item_code": ITEM1,
            "procedure_kind": "1",
            "reason": "情况复杂需延长审批期限",
            "approved_by": "陈七",
            "limit": 10,
            "limit_unit": "W",
        },
        ("特别程序.csv", 2, "special_end"): {
            "case_id": s1,
            "kind": "special_end",
            "occurred_at": "20250912",
            "item_code": ITEM1,
            "result": "同意延长10个工作日",
        },
        ("特别程序.csv", 3, "special_start"): {
            "case_id": s2,
            "kind": "special_start",
            "occurred_at": "20250905090000",
            "item_code": ITEM2,
            "procedure_kind": "2",
            "procedure_type": "专家评审",
            "reason": "需组织专家评审",
            "approved_by": "陈七",
            "limit": 5,
            "limit_unit": "N",
        },
        ("办结.csv", 2, "finish"): {
            "case_id": s1,
            "kind": "finish",
            "occurred_at": "20250915160000",
            "item_code": ITEM1,
            "result": "0",
            "reason": "出证办结",
            "license_no": "XK4403-2025-0001",
        },
        ("办结.csv", 2, "payment"): {
            "case_id": s1,
            "kind": "payment",
            "occurred_at": "20250915160000",
            "item_code": ITEM1,
            "amount": 100.0,
        },
    }


def test_wide_legacy_row_yields_only_the_stages_it_has_reached(tmp_path: Path) -> None:
    wide = tmp_path / "BUSINESS_INDEX.csv"
    wide.write_text(
        "sblsh,sxbm,sbsj,sqrlx,sqrmc,ywslsj,spsj,sphjmc,bzgzsj,tbcxksrq,tbcxjsrq,bjsj,bjjgdm,bjjgms\n"
        "S1,X1,20250901090000,1,张三,20250901100000,20250902100000,审查,,,,,,\n"
        "S2,X1,20250901090000,1,李四,,,,,,,20250901093000,1,申请人撤回\n",
        encoding="utf-8",
    )
    kinds = [(line, rec["kind"]) for _, line, rec in records([wide])]
    assert detect_layout(wide) == "legacy"
    assert kinds == [(2, "apply"), (2, "accept"), (2, "step_end"), (3, "apply"), (3, "finish")]


def test_csv_and_xlsx_give_the_same_records() -> None:
    from_csv = sorted(
        records(sorted(GBT.iterdir())), key=lambda r: (r[0].removesuffix(".csv"), r[1])
    )
    from_xlsx = records([NATIONAL / "xlsx" / "gbt39046.xlsx"])
    assert len(from_xlsx) == len(from_csv) == 20
    # Sheets are named after the tables; compare table by table, row by row.
    xlsx_by_table = {}
    for source, line, record in iter_national([NATIONAL / "xlsx" / "gbt39046.xlsx"]):
        xlsx_by_table.setdefault(source.split("#")[1], []).append((line, record))
    csv_by_table = {}
    for source, line, record in iter_national(sorted(GBT.iterdir())):
        csv_by_table.setdefault(Path(source).stem, []).append((line, record))
    assert xlsx_by_table == {k: v for k, v in csv_by_table.items() if v}


def test_rows_without_case_or_with_bad_or_no_time_come_out_flagged() -> None:
    got = records([NATIONAL / "malformed" / "事项办结.csv"])
    assert [(line, "case_id" in rec, rec.get("occurred_at")) for _, line, rec in got] == [
        (2, False, "20250910160000"),  # no 办件编号: importer quarantines on case_id
        (3, True, "2025年9月10日"),  # passed as given: importer quarantines on occurred_at
        (4, True, None),  # no 办结时间: a finish without occurred_at
    ]


def test_event_ids_are_stable_distinct_sha256() -> None:
    first = [r["event_id"] for _, _, r in iter_national(sorted(GBT.iterdir()))]
    again = [r["event_id"] for _, _, r in iter_national(sorted(GBT.iterdir()))]
    assert first == again
    assert len(set(first)) == len(first)
    assert all(isinstance(i, str) and re.fullmatch(r"[0-9a-f]{64}", i) for i in first)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gbt/办事申请.csv", "gbt39046"),
        ("gbt/事项受理.csv", "gbt39046"),
        ("gbt/申请材料.csv", "gbt39046"),
        ("legacy/特别程序.csv", "legacy"),
        ("xlsx/gbt39046.xlsx", "gbt39046"),
    ],
)
def test_layout_is_detected_by_header(name: str, expected: str) -> None:
    assert detect_layout(NATIONAL / name) == expected


def test_canonical_event_files_are_not_national_tables(tmp_path: Path) -> None:
    canonical = tmp_path / "events.csv"
    canonical.write_text("办件编号,kind,时间\nC1,apply,20250901090000\n", encoding="utf-8")
    aliased = tmp_path / "events.jsonl"
    aliased.write_text('{"SBLSH": "C1", "kind": "accept", "occurred_at": "20250901"}\n')
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    assert [detect_layout(p) for p in (canonical, aliased, other)] == [None, None, None]
    assert list(iter_national([canonical, aliased, other])) == []
