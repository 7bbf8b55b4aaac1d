"""导出: any list as an Excel workbook (.xlsx) or a CSV file, the one writer every page uses.

A page gives :func:`sheet_response` its title, the filter the user chose (as Chinese
name/value pairs), the Chinese column headers and the rows (any iterable: a cursor or a
generator is read once, row by row). The sheet opens with what was exported and when::

    预警列表
    筛选条件: 区划 = 杭州市；状态 = 待处理
    导出时间: 2026-06-30 22:00
    (empty row)
    header row
    rows…

so that a printed or forwarded file still says which list it is. Large lists are never held in
memory: xlsxwriter's constant-memory workbook writes each row to a temporary file on disk, the
finished file is streamed back in chunks and removed. Rows are written while the request still holds its
database connection (before the response starts), so a lazy cursor may be passed.

Cells: times are real Excel dates shown ``yyyy-mm-dd hh:mm`` (a date ``yyyy-mm-dd``), numbers
stay numbers, ``True``/``False`` become 是/否, ``None`` an empty cell, and text a spreadsheet
would run as a formula is neutralised by :mod:`govwatch.exports`. CSV is UTF-8 with a BOM (so
that Excel and WPS read the Chinese), times written ``2026-06-30 22:00``.

xlsxwriter writes, openpyxl (the importers' reader) reads: openpyxl's write-only mode also keeps
memory flat, but took three times as long (200,000 rows of seven columns: 68 s against 24 s on
the development machine), and a user waits for the whole file before the download starts.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Literal

import xlsxwriter
from fastapi.responses import Response, StreamingResponse

from govwatch.exports import SafeCsvWriter, content_disposition, neutralise
from govwatch.timeutil import now

SheetFormat = Literal["xlsx", "csv"]
FORMATS: tuple[SheetFormat, ...] = ("xlsx", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
CHUNK = 64 * 1024
HEADER_ROWS = 5  # title, filter, export moment, an empty row, the column headers
EXCEL_ROWS = 1_048_576  # a sheet's last row; a longer list ends with a note there
TOO_MANY_ROWS = "（超出 Excel 的行数上限：只导出了前 {count} 行；请缩小筛选范围，或导出 CSV）"
# Excel's limit on a sheet's name (31 characters, none of []:*?/\)
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def filter_line(filters: Sequence[tuple[str, str]]) -> str:
    """``筛选条件: 区划 = 杭州市；状态 = 待处理`` (``无（全部）`` without a filter)."""
    chosen = "；".join(f"{name} = {value}" for name, value in filters if str(value) != "")
    return f"筛选条件: {chosen or '无（全部）'}"


def exported_line(moment: datetime) -> str:
    return f"导出时间: {moment.strftime('%Y-%m-%d %H:%M')}"


def csv_value(value: object) -> object:
    """A cell for CSV: times without a ``T`` or seconds, 是/否, '' for nothing, numbers as
    numbers (a negative number is not neutralised), anything else as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return str(value)


def _excel_value(value: object) -> tuple[Any, str | None]:
    """A cell's value for openpyxl and its number format (None: the default)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("是" if value else "否"), None
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # Excel has no time zones; stored times are Shanghai wall time
            value = value.replace(tzinfo=None)
        return value, DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, int | float | Decimal):
        number = float(value) if isinstance(value, Decimal) else value
        if isinstance(number, float) and not math.isfinite(number):
            return str(value), None  # Excel has no NaN or infinity
        return number, None
    return neutralise(str(value)), None


def _sheet_title(title: str) -> str:
    return (_SHEET_NAME_BAD.sub("_", title).strip("'") or "导出")[:31]


def _column_width(header: str) -> float:
    # a Chinese character is about two character widths; room for a time (16 characters)
    wide = sum(2 if ord(ch) > 0x2E7F else 1 for ch in header)
    return float(min(max(wide + 4, 12), 60))


def write_xlsx(
    out: IO[bytes],
    *,
    title: str,
    filters: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    exported_at: datetime,
) -> int:
    """Write the workbook into ``out`` row by row (constant memory); the number of data rows."""
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,  # each row goes to a temporary file once written
            "in_memory": False,
            # text stays text: never read as a formula, a link or a number
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet(_sheet_title(title))
    bold = book.add_format({"bold": True})
    formats = {
        DATETIME_FORMAT: book.add_format({"num_format": DATETIME_FORMAT}),
        DATE_FORMAT: book.add_format({"num_format": DATE_FORMAT}),
    }
    for index, header in enumerate(columns):
        sheet.set_column(index, index, _column_width(header))
    sheet.write_string(0, 0, neutralise(title), bold)
    sheet.write_string(1, 0, filter_line(filters))
    sheet.write_string(2, 0, exported_line(exported_at))
    for index, header in enumerate(columns):
        sheet.write_string(4, index, neutralise(header), bold)
    count = 0
    for line, row in enumerate(rows, start=HEADER_ROWS):
        if line == EXCEL_ROWS - 1:
            sheet.write_string(line, 0, TOO_MANY_ROWS.format(count=count))
            break
        for index, value in enumerate(row):
            converted, number_format = _excel_value(value)
            if converted is None:
                continue
            if number_format is not None:
                sheet.write_datetime(line, index, converted, formats[number_format])
            elif isinstance(converted, str):
                sheet.write_string(line, index, converted)
            else:
                sheet.write_number(line, index, converted)
        count += 1
    book.close()
    return count


def write_csv(
    out: IO[str],
    *,
    title: str,
    filters: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    exported_at: datetime,
) -> int:
    """The same layout as CSV (BOM first); the number of data rows."""
    out.write("\ufeff")
    writer = SafeCsvWriter(out, lineterminator="\r\n")
    writer.writerow([title])
    writer.writerow([filter_line(filters)])
    writer.writerow([exported_line(exported_at)])
    writer.writerow([])
    writer.writerow(list(columns))
    count = 0
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
        count += 1
    return count


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(CHUNK):
            yield chunk
    finally:
        spool.close()


def sheet_response(
    *,
    title: str,
    filters: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    fmt: Literal["xlsx", "csv"],
    filename: str,
    exported_at: datetime | None = None,
) -> Response:
    """The list as a download: ``filename`` gets the extension of ``fmt`` when it lacks it.

    ``filters`` are (Chinese name, Chinese value) pairs of the filter the list was read with
    (empty values are left out); ``exported_at`` defaults to the clock (Shanghai wall time).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    moment = exported_at or now()
    if not filename.lower().endswith("." + fmt):
        filename = f"{filename}.{fmt}"
    # On disk, not in memory: an anonymous temporary file (gone when closed).
    spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _chunks
    try:
        write_sheet(spool, fmt, title, filters, columns, rows, moment)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return StreamingResponse(
        _chunks(spool),
        media_type=MEDIA_TYPES[fmt],
        headers={**download_headers(filename), "Content-Length": str(size)},
    )


def write_sheet(
    out: IO[bytes],
    fmt: SheetFormat,
    title: str,
    filters: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    exported_at: datetime,
) -> None:
    """The list written to ``out`` as XLSX or as CSV (UTF-8 with BOM); ``out`` stays open."""
    if fmt == "xlsx":
        write_xlsx(
            out, title=title, filters=filters, columns=columns, rows=rows, exported_at=exported_at
        )
        return
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    write_csv(
        text, title=title, filters=filters, columns=columns, rows=rows, exported_at=exported_at
    )
    text.flush()
    text.detach()  # keep ``out`` open


def download_headers(filename: str) -> dict[str, str]:
    """The headers of every list download: an attachment by its Chinese name, never sniffed
    or kept by the browser."""
    return {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


def export_format(value: str) -> SheetFormat | None:
    """A query's ``format`` as a sheet format (None when it names none)."""
    return "xlsx" if value == "xlsx" else "csv" if value == "csv" else None
