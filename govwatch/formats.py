"""Reading records from the supported file formats, streaming, with their line numbers.

Every reader yields :class:`RawRecord` values: where the record came from (file and line or
row) and the record as JSON text. JSON Lines pass through untouched, so that a line that is
not JSON reaches the quarantine whole; CSV, Excel and Parquet rows become JSON objects of
their cells (empty cells left out); YAML (catalogs) is a list of mappings.

Bytes are read as they are: a JSON Lines file is split on ``\n`` only (a carriage return
inside a record neither splits it nor shifts the line numbers after it; a ``\r\n`` ending
is dropped), and each line is decoded on its own, so that one line that is not UTF-8 is one
malformed record (its ``problem``) and the others import. A CSV file's encoding is decided
by its first text that is not ASCII: UTF-8 when that decodes as UTF-8, else GB18030 (a
superset of GBK, as Chinese systems write); a row that then does not decode in the file's
encoding is one malformed record, kept as it reads in the other encoding so that it can be
checked, fixed and retried (see :func:`_read_csv`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from govwatch.errors import InputError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
SUPPORTED = (*JSONL_SUFFIXES, ".csv", ".xlsx", ".parquet", ".yaml", ".yml")


@dataclass(frozen=True)
class RawRecord:
    source: str
    line: int
    text: str
    # What the reader already knows is wrong with the record as a whole (field ``record``),
    # e.g. a line that is not UTF-8: the importer quarantines it with this message.
    problem: str | None = None


def _dumps(row: Any) -> str:
    try:
        return orjson.dumps(row, default=str).decode()
    except orjson.JSONEncodeError:
        # an integer beyond 64 bits (an Excel 1e20 read as a whole number), nesting orjson
        # does not write: the standard library writes it, and the importer judges the text
        return json.dumps(row, default=str, ensure_ascii=False)


def read_records(path: Path) -> Iterator[RawRecord]:
    """Yield the records of one file, in file order."""
    if not path.exists():
        raise InputError(f"文件 {path} 不存在")
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        yield from _read_json(path)
    elif suffix == ".csv":
        yield from _read_csv(path)
    elif suffix == ".xlsx":
        yield from _read_xlsx(path)
    elif suffix == ".parquet":
        yield from _read_parquet(path)
    elif suffix in (".yaml", ".yml"):
        yield from _read_yaml(path)
    else:
        raise InputError(f"文件 {path} 的格式无法识别：支持 {', '.join(SUPPORTED)}（按扩展名判断）")


def _read_json(path: Path) -> Iterator[RawRecord]:
    source = str(path)
    with path.open("rb") as handle:
        head = handle.read(64).removeprefix(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"["):
        try:
            data = orjson.loads(path.read_bytes().removeprefix(codecs.BOM_UTF8))
        except orjson.JSONDecodeError:
            # not one JSON array: JSON Lines whose first line is not a record (or an array
            # cut short), read line by line so that each bad line is one malformed record
            data = None
        if isinstance(data, list):
            for i, row in enumerate(data, start=1):
                # an element that is a string is a string, not the record its text may spell
                yield RawRecord(source, i, _dumps(row))
            return
    with path.open("rb") as handle:
        # binary lines end at b"\n" only: a lone b"\r" stays inside its record
        lines = (
            line.removeprefix(codecs.BOM_UTF8) if number == 0 else line
            for number, line in enumerate(handle)
        )
        yield from _decode_lines(source, lines, 0)


def jsonl_is_lines(path: Path) -> bool:
    """Whether a JSON file reads as JSON Lines (its first text is not ``[``: no array)."""
    if path.suffix.lower() not in JSONL_SUFFIXES:
        return False
    with path.open("rb") as handle:
        head = handle.read(64).removeprefix(codecs.BOM_UTF8).lstrip()
    return not head.startswith(b"[")


# bytes read from a JSON Lines file at a time by :func:`read_jsonl_columns`
JSONL_BLOCK = 32 << 20
JSONL_COLUMNS = pa.schema([("line", pa.int64()), ("text", pa.string()), ("problem", pa.string())])


def read_jsonl_columns(path: Path, block: int = JSONL_BLOCK) -> Iterator[pa.Table]:
    """The records of a JSON Lines file as Arrow tables (line, text, problem), in file order.

    The same records as :func:`read_records` gives (lines split on ``\n`` only, JSON white
    space around a record dropped, blank lines skipped, a leading byte order mark dropped, a
    line that is not UTF-8 a record with its ``problem``), without a Python object per line:
    a block of the file is split by NumPy and decoded by Arrow; only a block holding bytes
    that are not UTF-8 is read line by line. Memory: one block and its table.
    """
    source = str(path)
    base = 0  # lines before this block
    rest = b""
    with path.open("rb") as handle:
        first = True
        while True:
            data = handle.read(block)
            if first:
                data = data.removeprefix(codecs.BOM_UTF8)
                first = False
            if not data:
                if rest:
                    yield _jsonl_block(source, rest + b"\n", base)
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            table = _jsonl_block(source, data[:cut], base)
            base += data.count(b"\n", 0, cut)
            if table.num_rows:
                yield table


def _jsonl_block(source: str, data: bytes, base: int) -> pa.Table:
    """The records of ``data`` (whole lines, each ending in ``\n``); ``base`` lines before."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    count = len(ends)
    offsets = np.empty(count + 1, np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), count, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    numbers = pa.array(np.arange(base + 1, base + count + 1, dtype=np.int64))
    try:
        texts = lines.cast(pa.large_string())
    except pa.ArrowInvalid:  # bytes that are not UTF-8 in the block: line by line
        return _jsonl_lines(source, data, base)
    texts = pc.utf8_trim(texts, " \t\r\n")
    keep = pc.greater(pc.binary_length(texts), 0)
    return pa.table(
        {
            "line": numbers.filter(keep),
            "text": texts.filter(keep).cast(pa.string()),
            "problem": pa.nulls(int(pc.sum(keep).as_py() or 0), pa.string()),
        },
        schema=JSONL_COLUMNS,
    )


def _jsonl_lines(source: str, data: bytes, base: int) -> pa.Table:
    records = list(_decode_lines(source, data.split(b"\n")[:-1], base))
    return pa.table(
        {
            "line": [r.line for r in records],
            "text": [r.text for r in records],
            "problem": [r.problem for r in records],
        },
        schema=JSONL_COLUMNS,
    )


def _decode_lines(source: str, lines: Iterable[bytes], base: int) -> Iterator[RawRecord]:
    for number, line in enumerate(lines, start=base + 1):
        raw = line.strip(JSON_SPACE)
        if not raw:
            continue
        try:
            yield RawRecord(source, number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield RawRecord(
                source,
                number,
                raw.decode("utf-8", "backslashreplace"),
                f"第 {exc.start + 1} 个字节（0x{raw[exc.start]:02X}）起不是合法的 UTF-8："
                "每行应为 UTF-8 编码的 JSON 对象（原文中无法解码的字节记为 \\xNN）",
            )


# JSON's own white space (RFC 8259): what may surround a record on its line
JSON_SPACE = b" \t\r\n"
# A CSV cell may be as large as one record may be (the importer judges the size): Python's
# csv module refuses cells over 128 KB by default, which would stop the whole file.
CSV_FIELD_LIMIT = 4 << 20


def _escape_errors(exc: UnicodeError) -> tuple[str | bytes, int]:
    """``surrogateescape`` that also counts: rows are checked only once a byte failed."""
    _DECODE_FAILURES[0] += 1
    return codecs.lookup_error("surrogateescape")(exc)


_DECODE_FAILURES = [0]
codecs.register_error("govwatch-csv", _escape_errors)


def _read_csv(path: Path) -> Iterator[RawRecord]:
    """The rows of a CSV file, each with the line it starts on.

    The file is decoded as UTF-8 with undecodable bytes kept aside (``surrogateescape``), so
    that every byte survives to be judged row by row; a CSV's structure (commas, quotes, line
    ends) is ASCII, and no byte of a GBK character is one of those, so rows split the same
    whatever the encoding. The file's encoding is that of its first text that is not ASCII:
    UTF-8 when it decodes as such, else GB18030. A row that is not valid in the file's
    encoding is a malformed record whose problem says so, its cells as they read in the other
    encoding (a file that turns from UTF-8 to GBK midway keeps its UTF-8 rows; each GBK row is
    quarantined, readable, to be retried once checked).
    """
    source = str(path)
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    failures = _DECODE_FAILURES[0]
    encoding: str | None = None  # decided by the first row that is not ASCII
    with path.open("rb") as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="govwatch-csv", newline="")
        reader = csv.reader(handle)
        names: list[str] | None = None
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RawRecord(
                    source,
                    line,
                    "",
                    f"无法按 CSV 读取（{exc}）：应为逗号分隔、引号成对、单元格不超过 4 MB 的表格行",
                )
                continue
            problem = None
            if encoding != "utf-8" or _DECODE_FAILURES[0] != failures:
                row, problem, encoding = _decoded(row, encoding)
            if names is None:  # the header: names as they read, whatever the problem
                names = [h.strip() for h in row]
                continue
            if not any(cell.strip() for cell in row):
                continue
            record: dict[str, Any] = {
                n: v for n, v in zip(names, row, strict=False) if n and v.strip() != ""
            }
            if len(row) > len(names):
                record["_extra_cells"] = row[len(names) :]
            yield RawRecord(source, line, _dumps(record), problem)


def _decoded(row: list[str], encoding: str | None) -> tuple[list[str], str | None, str | None]:
    """A CSV row in the file's encoding: (cells, problem or None, the file's encoding)."""
    if encoding is None:
        if all(cell.isascii() for cell in row):
            return row, None, None  # nothing decided yet: ASCII reads the same in both
        encoding = "utf-8" if _is_text(row) else "gb18030"
    if encoding == "utf-8":
        if _is_text(row):
            return row, None, encoding
        return (
            [_bytes(cell).decode("gb18030", "replace") for cell in row],
            "这一行不是 UTF-8 编码（本文件此前的文字是 UTF-8）：一个文件应整体使用同一种编码；"
            "该行已按 GBK/GB18030 解读保存，核对无误后可重试",
            encoding,
        )
    try:
        return [_bytes(cell).decode("gb18030") for cell in row], None, encoding
    except UnicodeDecodeError:
        return (
            [_bytes(cell).decode("utf-8", "replace") for cell in row],
            "这一行无法按 GBK/GB18030 解码（本文件此前的文字是 GBK/GB18030）："
            "一个文件应整体使用同一种编码",
            encoding,
        )


def _is_text(row: list[str]) -> bool:
    """No cell holds a byte the UTF-8 decoding set aside (a lone surrogate)."""
    try:
        for cell in row:
            cell.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bytes(cell: str) -> bytes:
    return cell.encode("utf-8", "surrogateescape")


def _cell(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_xlsx(path: Path) -> Iterator[RawRecord]:
    source = str(path)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return
        names = [str(h).strip() if h is not None else "" for h in header]
        for number, row in enumerate(rows, start=2):
            record = {
                n: _cell(v)
                for n, v in zip(names, row, strict=False)
                if n and v is not None and str(v).strip() != ""
            }
            if record:
                yield RawRecord(source, number, _dumps(record))
    finally:
        book.close()


def _read_parquet(path: Path) -> Iterator[RawRecord]:
    source = str(path)
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65536):
        for row in batch.to_pylist():
            number += 1
            yield RawRecord(source, number, _dumps({k: v for k, v in row.items() if v is not None}))


def _read_yaml(path: Path) -> Iterator[RawRecord]:
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"文件 {path} 不是合法的 YAML：{exc}") from exc
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if not isinstance(data, list):
        raise InputError(f"文件 {path}：YAML 目录应为事项列表（或含 items: 列表）")
    for i, row in enumerate(data, start=1):
        yield RawRecord(source, i, _dumps(row))
