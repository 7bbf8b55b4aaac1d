"""National table files (CSV, Excel, JSON Lines) read into rows keyed by standard column names.

Chinese exports are often GBK/GB18030 rather than UTF-8, put several tables in one workbook,
and write times as numbers or Excel dates; this module smooths those differences away so that
the mapping in ``national.py`` and ``legacy.py`` sees one shape: a :class:`Table` per CSV file,
JSON Lines file or worksheet, whose rows are ``dict[str, str]`` with empty cells as ``""``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl

from govwatch.errors import InputError

Row = dict[str, str]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
TABLE_SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES + JSONL_SUFFIXES
_NULLS = {"null", "none", "nan", "nat"}

# Column names seen in real exports for the standard's names (GB/T 39046 wording on the right).
COLUMN_ALIASES: dict[str, str] = {
    "申办流水号": "办件编号",
    "申请人名称": "申请者名称",
    "申请人类型": "申请者类型",
    "申请人证件类型": "申请者证件类型",
    "申请人证件号码": "申请者证件号码",
    "手机号码": "手机",
    "联系人手机": "手机",
    "联系人手机号码": "手机",
    "受理人": "受理人员",
    "办结结果代码": "办结结果",
    "评价内容": "文字评价",
    "收费项目": "收费项目名称",
    "特别程序启动理由或依据": "启动理由或依据",
    "启动理由": "启动理由或依据",
    "收取数量": "数量",
}


@dataclass(frozen=True)
class Table:
    """One table: where it came from, a name (file stem or sheet), its columns and its rows.

    ``rows`` yields ``(line, row)`` once; ``line`` is the file line (CSV, JSON Lines) or the
    sheet row number (Excel), the header being line 1 in a CSV file and an Excel sheet.
    """

    source: str
    name: str
    columns: frozenset[str]
    rows: Iterator[tuple[int, Row]]


def column_name(raw: object) -> str:
    """Normalise a header cell: trimmed, BOM removed, ASCII codes upper-cased, aliases resolved."""
    text = clean_text(raw).lstrip("\ufeff").strip().strip('"')
    if text.isascii():
        # Canonical event columns (``kind``) stay lower-case so that they are recognised.
        return text if text.lower() == "kind" else text.upper()
    return COLUMN_ALIASES.get(text, text)


def clean_text(value: object) -> str:
    """A cell as text: times as ``YYYYMMDDhhmmss``, whole numbers without ``.0``, nulls empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    text = str(value).strip()
    return "" if text.lower() in _NULLS else text


def sniff_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the start of the file decodes as such, else GB18030."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"  # a superset of GBK and GB2312
    return "utf-8-sig"


def read_tables(path: Path, *, header_only: bool = False) -> Iterator[Table]:
    """The tables in a file; nothing for a file type that cannot hold national tables."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        yield from _csv_tables(path, header_only)
    elif suffix in XLSX_SUFFIXES:
        yield from _xlsx_tables(path, header_only)
    elif suffix in JSONL_SUFFIXES:
        yield from _jsonl_tables(path, header_only)


def _csv_tables(path: Path, header_only: bool) -> Iterator[Table]:
    encoding = sniff_encoding(path)
    # telling the layout reads the header only: a byte that does not decode there is the
    # canonical reader's to judge (govwatch.formats), not a reason to refuse the file
    errors = "replace" if header_only else "strict"
    with path.open(encoding=encoding, newline="", errors=errors) as handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}：无法按 {encoding} 解码，应为 UTF-8 或 GBK/GB18030 编码"
            ) from exc
        delimiter = "\t" if "\t" in first and "," not in first else ","
        header = [column_name(c) for c in next(csv.reader([first], delimiter=delimiter), [])]
        if not any(header):
            return
        rows = iter(()) if header_only else _csv_rows(path, handle, header, delimiter)
        yield Table(str(path), path.stem, frozenset(header), rows)


def _csv_rows(
    path: Path, handle: io.TextIOBase, header: list[str], delimiter: str
) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(handle, delimiter=delimiter)
    last_line = 1
    try:
        for cells in reader:
            line = last_line + 1
            last_line = 1 + reader.line_num
            if not cells:
                continue
            yield line, _row(header, cells)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path} 第 {last_line} 行后无法解码：应为 UTF-8 或 GBK/GB18030 编码"
        ) from exc


def _row(header: list[str], cells: Sequence[object]) -> Row:
    row: Row = {}
    for name, cell in zip(header, cells, strict=False):
        if name:
            row[name] = clean_text(cell)
    return row


def _xlsx_tables(path: Path, header_only: bool) -> Iterator[Table]:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(f"{path}：无法作为 Excel（.xlsx）工作簿读取") from exc
    try:
        sheets = list(workbook.worksheets)
        for sheet in sheets:
            values = sheet.iter_rows(values_only=True)
            header_at = 0
            header: list[str] = []
            for header_at, cells in enumerate(values, start=1):  # noqa: B007
                header = [column_name(c) for c in cells]
                if any(header):
                    break
            if not any(header):
                continue
            name = sheet.title if len(sheets) > 1 else path.stem
            source = f"{path}#{sheet.title}" if len(sheets) > 1 else str(path)
            rows = iter(()) if header_only else _xlsx_rows(values, header, header_at)
            yield Table(source, name, frozenset(header), rows)
    finally:
        workbook.close()


def _xlsx_rows(
    values: Iterator[tuple[object, ...]], header: list[str], header_at: int
) -> Iterator[tuple[int, Row]]:
    for line, cells in enumerate(values, start=header_at + 1):
        row = _row(header, cells)
        if any(row.values()):
            yield line, row


def _jsonl_tables(path: Path, header_only: bool) -> Iterator[Table]:
    encoding = sniff_encoding(path)
    # replace: a byte that does not decode is the canonical importer's to report, per line
    with path.open(encoding=encoding, errors="replace") as handle:
        first: dict[str, object] | None = None
        for text in handle:
            if text.strip():
                try:
                    parsed = json.loads(text)
                except ValueError:
                    return
                if not isinstance(parsed, dict):
                    return
                first = parsed
                break
        if first is None:
            return
        columns = frozenset(column_name(k) for k in first)
        rows = iter(()) if header_only else _jsonl_rows(path, encoding)
        yield Table(str(path), path.stem, columns, rows)


def _jsonl_rows(path: Path, encoding: str) -> Iterator[tuple[int, Row]]:
    with path.open(encoding=encoding) as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                # Not an object: a row with nothing usable, so that it is flagged, not dropped.
                yield line, {"_RAW": text.strip()}
                continue
            yield line, {column_name(k): clean_text(v) for k, v in parsed.items()}
