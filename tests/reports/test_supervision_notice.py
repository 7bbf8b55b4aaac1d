"""The supervision notice (电子监察通报): every number the DOCX, PDF and XLSX state equals an
independent query over a generated province, on both engines; the DOCX follows GB/T 9704's
measures; a bad period is refused in Chinese.

One notice per engine (a module fixture): LibreOffice converts each once.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from docx import Document
from docx.shared import Pt
from openpyxl import load_workbook

from govwatch.reports.document import Notice, write_all
from govwatch.reports.period import PeriodError, parse_period
from govwatch.reports.supervision import build_supervision_notice
from govwatch.storage import connect
from tests.conftest import drop_pg_schema, pg_url
from tests.reports.seed import generate_province, seed

AT = datetime(2026, 7, 1, 9, 0)  # the generated province ends on 2026-06-30
START, END = datetime(2026, 6, 1), datetime(2026, 7, 1)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def written(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    province, end_at = generate_province(tmp_path_factory.mktemp("province"))
    tmp = tmp_path_factory.mktemp(f"notice-{request.param}")
    url = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(url)
    try:
        seed(db, province, end_at)
        notice = build_supervision_notice(db, "2026-06", None, AT)
        docx, pdf, xlsx = write_all(notice, tmp / "out", "supervision-2026-06")
        yield {
            "db": db,
            "notice": notice,
            "docx": docx,
            "pdf": pdf,
            "xlsx": xlsx,
            "engine": request.param,
        }
    finally:
        if request.param == "postgres":
            drop_pg_schema(db)
        db.close()


def _expected(db: Any) -> dict[str, int]:
    """The headline numbers, counted here with SQL of the test's own."""
    overdue = (
        "SELECT DISTINCT case_id FROM alerts WHERE rule = 'case_overdue' AND status = 'active'"
    )
    one = lambda sql: int(db.scalar(sql, [START, END]) or 0)  # noqa: E731
    return {
        "cases": one("SELECT COUNT(*) FROM cases WHERE applied_at >= ? AND applied_at < ?"),
        "finished": one("SELECT COUNT(*) FROM cases WHERE finished_at >= ? AND finished_at < ?"),
        "ontime": one(
            "SELECT COUNT(*) FROM cases WHERE finished_at >= ? AND finished_at < ? "
            f"AND case_id NOT IN ({overdue})"
        ),
        "overdue": one(
            "SELECT COUNT(*) FROM cases WHERE applied_at >= ? AND applied_at < ? "
            f"AND case_id IN ({overdue})"
        ),
        "alerts": one("SELECT COUNT(*) FROM alerts WHERE occurred_at >= ? AND occurred_at < ?"),
        "red": one(
            "SELECT COUNT(*) FROM alerts WHERE occurred_at >= ? AND occurred_at < ? AND level = 'red'"
        ),
        "yellow": one(
            "SELECT COUNT(*) FROM alerts WHERE occurred_at >= ? AND occurred_at < ? "
            "AND level = 'yellow'"
        ),
        "warning": one(
            "SELECT COUNT(*) FROM alerts WHERE occurred_at >= ? AND occurred_at < ? "
            "AND level = 'warning'"
        ),
        "orders_issued": one("SELECT COUNT(*) FROM orders WHERE issued_at >= ? AND issued_at < ?"),
    }


def _docx_text(path: Path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        parts += [c.text for row in t.rows for c in row.cells]
    return "\n".join(parts)


def _pdf_text(path: Path) -> str:
    with pdfplumber.open(str(path)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def test_headline_numbers_equal_independent_queries(written: dict[str, Any]) -> None:
    notice: Notice = written["notice"]
    expected = _expected(written["db"])
    assert expected["cases"] > 0 and expected["alerts"] > 0  # the province has June's work
    for key, value in expected.items():
        assert notice.facts[key] == value, key
    assert notice.facts["ontime_rate"] == round(expected["ontime"] * 100 / expected["finished"], 2)


def test_docx_and_pdf_state_the_numbers_of_the_facts(written: dict[str, Any]) -> None:
    notice: Notice = written["notice"]
    expected = _expected(written["db"])
    sentence = (
        f"共受理办件{expected['cases']:,}件，办结{expected['finished']:,}件，"
        f"其中按时办结{expected['ontime']:,}件，按时办结率为{notice.facts['ontime_rate']:.2f}%"
    )
    alerts = (
        f"共产生监察告警{expected['alerts']:,}条，其中红牌{expected['red']:,}条、"
        f"黄牌{expected['yellow']:,}条、预警{expected['warning']:,}条"
    )
    docx = _docx_text(written["docx"])
    pdf = "".join(_pdf_text(written["pdf"]).split())  # lines wrap anywhere in the PDF
    for text in (sentence, alerts, f"发出督办{expected['orders_issued']:,}件", notice.doc_number):
        assert text in docx
        assert "".join(text.split()) in pdf


def test_xlsx_has_every_table_with_counts_equal_to_the_queries(written: dict[str, Any]) -> None:
    notice: Notice = written["notice"]
    wb = load_workbook(written["xlsx"], read_only=True)
    assert len(wb.sheetnames) == len(notice.tables())
    rows = list(wb["监察告警分类统计"].iter_rows(min_row=3, values_only=True))
    expected = _expected(written["db"])
    by_column = {
        name: sum(int(r[i] or 0) for r in rows if r[0])
        for i, name in ((2, "red"), (3, "yellow"), (4, "warning"), (5, "alerts"))
    }
    assert by_column == {k: expected[k] for k in ("red", "yellow", "warning", "alerts")}
    # names, not codes: the class column reads in Chinese
    assert all(not str(r[0]).isascii() for r in rows if r[0] and not str(r[0]).startswith("注"))


def test_docx_layout_follows_gbt_9704(written: dict[str, Any]) -> None:
    doc = Document(str(written["docx"]))
    s = doc.sections[0]

    def mm(length: Any) -> float:  # stored in twips: compare to a tenth of a millimetre
        return round(length.mm, 1)

    assert (mm(s.page_width), mm(s.page_height)) == (210.0, 297.0)
    margins = (s.top_margin, s.bottom_margin, s.left_margin, s.right_margin)
    assert tuple(mm(m) for m in margins) == (37.0, 35.0, 28.0, 26.0)
    title = next(p for p in doc.paragraphs if p.text == written["notice"].title)
    assert title.runs[0].font.size == Pt(22)
    body = next(p for p in doc.paragraphs if "共受理办件" in p.text)
    assert body.runs[0].font.size == Pt(16)
    assert body.paragraph_format.line_spacing == Pt(28.95)
    assert "FangSong" not in body.runs[0].font.name  # the free stand-in, named in docs/reports.md
    assert doc.paragraphs[0].text == written["notice"].issuer  # 版头 first


def test_pdf_pages_render_for_review(written: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / f"supervision-{written['engine']}"
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "3", str(written["pdf"]), str(prefix)],
        check=True,
    )
    pages = sorted(ARTIFACTS.glob(f"supervision-{written['engine']}-*.png"))
    assert len(pages) == 3 and all(p.stat().st_size > 10_000 for p in pages)


@pytest.mark.parametrize("bad", ["2026-13", "2026-Q5", "六月", "2026-06-30..2026-06-01"])
def test_bad_period_is_refused_in_chinese(bad: str) -> None:
    with pytest.raises(PeriodError) as e:
        parse_period(bad)
    assert bad in str(e.value) and "应为" in str(e.value)


def test_periods_and_their_previous_periods() -> None:
    assert parse_period("2026-Q1").previous().code == "2025-Q4"
    assert parse_period("2026-03").previous().code == "2026-02"
    assert parse_period("2026").previous().code == "2025"
    assert parse_period("2026-06-01..2026-06-10").previous().code == "2026-05-22..2026-05-31"
