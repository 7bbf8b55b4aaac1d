"""The decisions docs/national-tables.md makes where GB/T 39046 and the legacy layout are silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from govwatch.events.national import detect_layout, iter_national


def write(directory: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_text(text, encoding=encoding)
    return path


def kinds_and(records: list[dict[str, object]], *fields: str) -> list[tuple[object, ...]]:
    return [(r["kind"], *(r.get(f) for f in fields)) for r in records]


def run(*paths: Path) -> list[dict[str, object]]:
    return [record for _, _, record in iter_national(list(paths))]


@pytest.mark.parametrize(
    ("licence", "description", "result"),
    [("ZZ-1", "准予许可", "0"), ("", "准予许可", "6"), ("", "不予许可：不符合法定条件", "7")],
)
def test_finish_result_is_inferred_from_licence_and_description(
    tmp_path: Path, licence: str, description: str, result: str
) -> None:
    path = write(
        tmp_path,
        "事项办结.csv",
        f"办件编号,办结时间,结果证照编号,办件结果描述\nC1,20250910160000,{licence},{description}\n",
    )
    assert kinds_and(run(path), "result", "reason") == [("finish", result, description)]


def test_explicit_result_code_column_wins(tmp_path: Path) -> None:
    path = write(
        tmp_path, "事项办结.csv", "办件编号,办结时间,办结结果,结果证照编号\nC1,20250910,2,ZZ\n"
    )
    assert kinds_and(run(path), "result") == [("finish", "2")]


def test_fee_charged_without_payment_row_gives_payment_without_amount(tmp_path: Path) -> None:
    path = write(tmp_path, "事项办结.csv", "办件编号,办结时间,是否收费\nC1,20250910160000,是\n")
    assert kinds_and(run(path), "occurred_at", "amount") == [
        ("finish", "20250910160000", None),
        ("payment", "20250910160000", None),
    ]


def test_fee_charged_with_payment_row_in_the_same_export_is_not_counted_twice(
    tmp_path: Path,
) -> None:
    finish = write(tmp_path, "事项办结.csv", "办件编号,办结时间,是否收费\nC1,20250910160000,1\n")
    write(
        tmp_path, "支付.csv", "办件编号,缴款单号,收费金额,收费时间\nC1,JK1,12.50,20250910150000\n"
    )
    # Handed over alone, the 办结 table still sees its sibling 支付 table.
    assert kinds_and(run(finish), "amount") == [("finish", None)]


@pytest.mark.parametrize(
    ("state", "end", "kinds"),
    [
        ("2", "20250902100000", ["step_start", "step_end"]),
        ("1", "20250902100000", ["step_start"]),  # 待办: an end time is not an end
        ("", "20250902100000", ["step_start", "step_end"]),
        ("2", "", ["step_start", "step_end"]),  # 已办 without an end time: flagged step_end
    ],
)
def test_step_state_decides_whether_a_step_ended(
    tmp_path: Path, state: str, end: str, kinds: list[str]
) -> None:
    path = write(
        tmp_path,
        "事项办理.csv",
        "办件编号,环节名称,环节开始时间,环节结束时间,环节办理状态,业务动作\n"
        f"C1,审查,20250901100000,{end},{state},其他\n",
    )
    records = run(path)
    assert [r["kind"] for r in records] == kinds
    if "step_end" in kinds:
        assert records[-1]["action"] == "other"
        assert ("occurred_at" in records[-1]) == bool(end)


def test_special_procedure_kinds_units_and_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "特别程序.csv",
        "办件编号,特别程序种类,特别程序名称,特别程序开始时间,特别程序时限,特别程序时限单位\n"
        "C1,延长审批,,20250901,10,工作日\n"
        "C1,2,检测,20250902,5,自然日\n"
        "C1,2,抽查,20250903,,\n",
    )
    assert kinds_and(run(path), "procedure_kind", "procedure_type", "limit", "limit_unit") == [
        ("special_start", "1", None, 10, "W"),
        ("special_start", "2", "检测", 5, "N"),
        ("special_start", "2", "其他", None, None),
    ]


def test_rating_levels_and_channels_given_as_text_or_codes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "好差评.csv",
        "办件编号,评价渠道,评价时间,满意度\nC1,7,20250901,非常不满意\nC2,二维码,20250901,3\n",
    )
    assert kinds_and(run(path), "level", "channel") == [
        ("rating", "5", "短信"),
        ("rating", "3", "二维码"),
    ]


def test_unknown_codes_pass_unchanged_for_the_importer_to_reject(tmp_path: Path) -> None:
    path = write(tmp_path, "评价.csv", "办件编号,评价时间,满意度,评价渠道\nC1,20250901,很好,微博\n")
    assert kinds_and(run(path), "level", "channel") == [("rating", "很好", "微博")]


def test_materials_of_an_application_missing_from_the_export_are_flagged(tmp_path: Path) -> None:
    write(tmp_path, "办事申请.csv", "办件编号,实施编码,申请时间\nC1,X1,20250901\n")
    materials = write(tmp_path, "申请材料.csv", "办件编号,材料名称,是否收取\nC1,甲,1\nC9,乙,0\n")
    records = run(materials)
    assert kinds_and(records, "case_id", "occurred_at", "materials") == [
        ("apply", "C9", None, [{"name": "乙", "provided": False}]),
    ]


def test_json_lines_tables_work_like_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sxsl.jsonl",
        '{"办件编号": "C1", "实施编码": "X1", "受理时间": "20250901100000", "办件类型": "即办件"}\n'
        "not json\n",
    )
    got = [(line, r["kind"], r.get("case_kind")) for _, line, r in iter_national([path])]
    assert detect_layout(path) == "gbt39046"
    assert got == [(1, "accept", "1"), (2, "accept", None)]


def test_legacy_codes_extension_and_fee(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "BJ.csv",
        "SBLSH,SXBM,BJSJ,BJJGDM,BJJGMS,SFJE\nS1,X1,20250910,1,申请人撤回,0\nS2,X1,20250910,6,,35\n",
        encoding="gb18030",
    )
    assert kinds_and(run(path), "case_id", "result", "amount") == [
        ("finish", "S1", "1", None),
        ("finish", "S2", "6", None),
        ("payment", "S2", None, 35.0),
    ]


def test_an_unreadable_sibling_file_does_not_stop_the_import(tmp_path: Path) -> None:
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    path = write(tmp_path, "支付.csv", "办件编号,收费金额,收费时间\nC1,5,20250901\n")
    assert kinds_and(run(path), "amount") == [("payment", 5.0)]
