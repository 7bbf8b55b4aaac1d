"""XLSX writer: one sheet per table of the notice, named by the table's Chinese title."""

from __future__ import annotations

import re
from pathlib import Path

import xlsxwriter

from govwatch.reports.model import Notice

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(title: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("", title).strip() or "表"
    base = base[:31]
    name, n = base, 2
    while name in used:
        suffix = f"（{n}）"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def write_xlsx(notice: Notice, path: Path) -> Path:
    """One sheet per table: a title row, the header, the rows, the note under them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    try:
        title_fmt = wb.add_format({"bold": True, "font_size": 14})
        head_fmt = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1})
        cell_fmt = wb.add_format({"border": 1})
        used: set[str] = set()
        tables = notice.tables()
        if not tables:
            ws = wb.add_worksheet(_sheet_name(notice.title, used))
            ws.write(0, 0, notice.title, title_fmt)
            ws.write(1, 0, "本通报无附表")
        for table in tables:
            ws = wb.add_worksheet(_sheet_name(table.title, used))
            ws.write(0, 0, table.title, title_fmt)
            for c, col in enumerate(table.columns):
                ws.write(1, c, col, head_fmt)
                ws.set_column(c, c, max(10, min(40, 2 * len(col) + 4)))
            for r, row in enumerate(table.rows, start=2):
                for c, v in enumerate(row):
                    if v is None:
                        ws.write_blank(r, c, None, cell_fmt)
                    else:
                        ws.write(r, c, v, cell_fmt)
            if table.note:
                ws.write(len(table.rows) + 3, 0, table.note)
            ws.freeze_panes(2, 0)
    finally:
        wb.close()
    return path
