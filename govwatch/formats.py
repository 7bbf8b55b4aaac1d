"""Reading records from the supported file formats, streaming, with their line numbers.

Every reader yields :class:`RawRecord` values: where the record came from (file and line or
row) and the record as JSON text. JSON Lines pass through untouched, so that a line that is
not JSON reaches the quarantine whole; CSV, Excel and Parquet rows become JSON objects of
their cells (empty cells left out); YAML (catalogs) is a list of mappings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import orjson
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


def _dumps(row: dict[str, Any]) -> str:
    return orjson.dumps(row, default=str).decode()


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
        head = handle.read(64).lstrip()
    if head.startswith(b"["):
        try:
            data = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise InputError(f"文件 {path} 不是合法的 JSON 数组：{exc}") from exc
        for i, row in enumerate(data, start=1):
            yield RawRecord(source, i, _dumps(row) if not isinstance(row, str) else row)
        return
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if text:
                yield RawRecord(source, number, text)


def open_text(path: Path) -> io.TextIOWrapper:
    """Open a text export: UTF-8 (with or without BOM), else GB18030 as Chinese systems write."""
    raw = path.open("rb")
    sample = raw.read(1 << 16)
    raw.seek(0)
    try:
        sample.decode("utf-8")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the sample's end is still UTF-8
        encoding = "utf-8-sig" if exc.start >= len(sample) - 3 else "gb18030"
    return io.TextIOWrapper(raw, encoding=encoding, newline="")


def _read_csv(path: Path) -> Iterator[RawRecord]:
    source = str(path)
    with open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        names = [h.strip() for h in header]
        while True:
            line = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            if not any(cell.strip() for cell in row):
                continue
            record: dict[str, Any] = {
                n: v for n, v in zip(names, row, strict=False) if n and v.strip() != ""
            }
            if len(row) > len(names):
                record["_extra_cells"] = row[len(names) :]
            yield RawRecord(source, line, _dumps(record))


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
