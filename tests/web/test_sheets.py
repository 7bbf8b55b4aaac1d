"""导出: the one sheet writer (issue 14 item 7) read back with openpyxl and csv."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from urllib.parse import unquote

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.exports import content_disposition
from govwatch.web.pages import sheets
from govwatch.web.pages.sheets import sheet_response

AT = datetime(2026, 6, 30, 22, 0)
COLUMNS = ("案件编号", "单位名称", "发现时间", "办结日期", "超期天数", "已办结", "备注")
ROWS: list[Sequence[object]] = [
    ("C001", "杭州市市场监管局", datetime(2026, 6, 1, 9, 30, 15), date(2026, 6, 3), 3, True, None),
    ("C002", '=HYPERLINK("http://x")', datetime(2026, 6, 2, 10, 0), None, -2, False, "@SUM(1)"),
    ("C003", "西湖区", datetime(2026, 6, 3, 8, 5), None, Decimal("1.5"), False, "+1"),
]
FILTERS = (("区划", "杭州市"), ("状态", "待处理"), ("规则", ""))


def _app(rows: Sequence[Sequence[object]] = ROWS) -> FastAPI:
    app = FastAPI()

    @app.get("/x.{fmt}")
    def export(fmt: Literal["xlsx", "csv"]) -> object:
        return sheet_response(
            title="预警列表",
            filters=FILTERS,
            columns=COLUMNS,
            rows=iter(rows),
            fmt=fmt,
            filename="预警列表-杭州市",
            exported_at=AT,
        )

    return app


def _get(fmt: str) -> tuple[bytes, dict[str, str]]:
    answer = TestClient(_app()).get(f"/x.{fmt}")
    assert answer.status_code == 200
    return answer.content, dict(answer.headers)


def test_xlsx_has_filter_block_chinese_headers_real_dates_and_numbers() -> None:
    content, headers = _get("xlsx")
    assert headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.active
    assert sheet is not None and sheet.title == "预警列表"
    cells = [list(row) for row in sheet.iter_rows()]
    assert cells[0][0].value == "预警列表"
    # the empty filter (规则) is left out
    assert cells[1][0].value == "筛选条件: 区划 = 杭州市；状态 = 待处理"
    assert cells[2][0].value == "导出时间: 2026-06-30 22:00"
    assert all(c.value is None for c in cells[3])
    assert [c.value for c in cells[4]] == list(COLUMNS)
    first = cells[5]
    assert first[2].value == datetime(2026, 6, 1, 9, 30, 15)
    assert first[2].is_date and first[2].number_format == "yyyy-mm-dd hh:mm"
    assert first[3].is_date and first[3].number_format == "yyyy-mm-dd"
    assert first[4].value == 3 and first[4].data_type == "n"
    assert first[5].value == "是"
    assert first[6].value is None
    second = cells[6]
    assert second[4].value == -2 and second[4].data_type == "n"  # a negative number stays one
    assert second[5].value == "否"
    assert cells[7][4].value == 1.5 and cells[7][4].data_type == "n"


def test_xlsx_text_that_would_run_is_text() -> None:
    content, _ = _get("xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    data = [list(row) for row in sheet.iter_rows(min_row=6)]
    texts = [data[1][1], data[1][6], data[2][6]]
    assert [c.value for c in texts] == ['\'=HYPERLINK("http://x")', "'@SUM(1)", "'+1"]
    assert all(c.data_type == "s" for c in texts)


def test_csv_is_utf8_with_bom_and_the_same_layout() -> None:
    content, headers = _get("csv")
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == ["预警列表"]
    assert rows[1] == ["筛选条件: 区划 = 杭州市；状态 = 待处理"]
    assert rows[2] == ["导出时间: 2026-06-30 22:00"]
    assert rows[3] == []
    assert rows[4] == list(COLUMNS)
    assert rows[5] == ["C001", "杭州市市场监管局", "2026-06-01 09:30", "2026-06-03", "3", "是", ""]
    assert rows[6][1] == '\'=HYPERLINK("http://x")'
    assert rows[6][4] == "-2"
    assert rows[7][6] == "'+1"
    assert len(rows) == 8


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_chinese_filename_in_content_disposition(fmt: str) -> None:
    _, headers = _get(fmt)
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="' in disposition  # an ASCII fallback for old clients
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == f"预警列表-杭州市.{fmt}"
    disposition.encode("latin-1")  # a header must be latin-1: the Chinese is percent-encoded


def test_content_disposition_cleans_the_name() -> None:
    value = content_disposition('a"b/c;d.csv')
    assert value.startswith('attachment; filename="a_b_c_d.csv"')
    assert content_disposition("预警.xlsx").startswith('attachment; filename="export.xlsx"')


def test_rows_are_read_lazily_once() -> None:
    """A generator is consumed once, row by row; a long list round-trips."""
    seen: list[int] = []

    def rows() -> Iterator[tuple[object, ...]]:
        for i in range(3000):
            seen.append(i)
            yield (f"C{i:05d}", "单位", AT, None, i, False, None)

    app = FastAPI()

    @app.get("/big")
    def big() -> object:
        return sheet_response(
            title="案件列表",
            filters=(),
            columns=COLUMNS,
            rows=rows(),
            fmt="xlsx",
            filename="案件列表",
            exported_at=AT,
        )

    answer = TestClient(app).get("/big")
    assert answer.status_code == 200
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert seen == list(range(3000))
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content), read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "筛选条件: 无（全部）"
    assert len(values) == 5 + 3000
    assert values[-1][0] == "C02999" and values[-1][4] == 2999


def test_a_list_longer_than_a_sheet_ends_with_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets, "EXCEL_ROWS", 10)  # Excel's 1,048,576, made small
    out = io.BytesIO()
    rows = ((f"C{i}", i) for i in range(100))
    written = sheets.write_xlsx(
        out, title="案件列表", filters=(), columns=("案件", "序号"), rows=rows, exported_at=AT
    )
    assert written == 4
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert [v[0] for v in values[5:9]] == ["C0", "C1", "C2", "C3"]
    assert values[9][0] == "（超出 Excel 的行数上限：只导出了前 4 行；请缩小筛选范围，或导出 CSV）"


def test_numbers_excel_cannot_hold_are_written_as_text() -> None:
    out = io.BytesIO()
    sheets.write_xlsx(
        out, title="t", filters=(), columns=("a", "b"), rows=[(float("nan"), 2.5)], exported_at=AT
    )
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    assert sheet is not None
    assert list(sheet.iter_rows(min_row=6, values_only=True)) == [("nan", 2.5)]
