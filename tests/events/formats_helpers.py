"""Write the same records as JSON Lines, CSV, Excel and Parquet, for the format tests."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import orjson


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return value


def write_all_formats(records: list[dict[str, Any]], directory: Path, stem: str) -> list[Path]:
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    for record in records:
        names += [k for k in record if k not in names]
    jsonl = directory / f"{stem}.jsonl"
    jsonl.write_text("\n".join(orjson.dumps(r).decode() for r in records) + "\n", encoding="utf-8")
    csv_path = directory / f"{stem}.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for record in records:
            writer.writerow(["" if record.get(n) is None else _cell(record.get(n)) for n in names])
    xlsx = directory / f"{stem}.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(names)
    for record in records:
        sheet.append([_cell(record.get(n)) for n in names])
    book.save(xlsx)
    parquet = directory / f"{stem}.parquet"
    columns = {
        n: [None if r.get(n) is None else str(_cell(r.get(n))) for r in records] for n in names
    }
    pq.write_table(pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()}), parquet)
    return [jsonl, csv_path, xlsx, parquet]
