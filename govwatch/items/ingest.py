"""Importing the service item catalog: every format, aliases, validation, upsert by item_code.

A catalog is small (hundreds to tens of thousands of items), so each record is validated in
Python by :func:`govwatch.items.model.parse_item`; a malformed item goes to the quarantine
with its file, line and field. Re-importing an item replaces it (idempotent); the cases of a
changed item are re-evaluated, since their limits may have changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson
import pyarrow as pa

from govwatch.errors import InputError, ValidationError
from govwatch.events import quarantine
from govwatch.events.cases import rebuild_cases
from govwatch.events.ingest import ImportReport, Problem, _record_run
from govwatch.formats import RawRecord, read_records
from govwatch.items.model import Item, parse_item
from govwatch.storage import Database


def _rows(items: Sequence[Item]) -> dict[str, pa.Table]:
    def col(values: list[object], typ: pa.DataType) -> pa.Array:
        return pa.array(values, typ)

    online = [i.online for i in items]
    tables = {
        "items": pa.table(
            {
                "item_code": col([i.item_code for i in items], pa.string()),
                "base_code": col([i.base_code for i in items], pa.string()),
                "name": col([i.name for i in items], pa.string()),
                "item_type": col([i.item_type for i in items], pa.string()),
                "department_code": col([i.department_code for i in items], pa.string()),
                "department_name": col([i.department_name for i in items], pa.string()),
                "region_code": col([i.region_code for i in items], pa.string()),
                "level": col([i.level for i in items], pa.string()),
                "case_kind": col([i.case_kind for i in items], pa.string()),
                "legal_limit": col([i.legal_limit for i in items], pa.int32()),
                "legal_limit_unit": col([i.legal_limit_unit for i in items], pa.string()),
                "promised_limit": col([i.promised_limit for i in items], pa.int32()),
                "promised_limit_unit": col([i.promised_limit_unit for i in items], pa.string()),
                "has_fee": col([i.fee is not None for i in items], pa.bool_()),
                "fee_basis": col([i.fee.basis if i.fee else None for i in items], pa.string()),
                "fee_amount": col([i.fee.amount if i.fee else None for i in items], pa.float64()),
                "fee_unit_price": col(
                    [i.fee.unit_price if i.fee else None for i in items], pa.float64()
                ),
                "fee_unit": col([i.fee.unit if i.fee else None for i in items], pa.string()),
                "online_depth": col([o.depth if o else None for o in online], pa.int32()),
                "unified_identity": col(
                    [o.unified_identity if o else None for o in online], pa.bool_()
                ),
                "e_license": col([o.e_license if o else None for o in online], pa.bool_()),
                "online_payment": col(
                    [o.online_payment if o else None for o in online], pa.bool_()
                ),
                "delivery": col([o.delivery if o else None for o in online], pa.bool_()),
                "max_visits": col([o.max_visits if o else None for o in online], pa.int32()),
                "doc": col([i.doc for i in items], pa.string()),
            }
        ),
        "item_steps": pa.Table.from_pylist(
            [
                {
                    "item_code": i.item_code,
                    "seq": n,
                    "name": s.name,
                    "limit_days": s.limit,
                    "unit": s.unit,
                    "mandatory": s.mandatory,
                }
                for i in items
                for n, s in enumerate(i.steps, start=1)
            ]
        ),
        "item_materials": pa.Table.from_pylist(
            [
                {
                    "item_code": i.item_code,
                    "seq": n,
                    "name": m.name,
                    "required": m.required,
                    "originals": m.originals,
                    "copies": m.copies,
                }
                for i in items
                for n, m in enumerate(i.materials, start=1)
            ]
        ),
        "item_tiers": pa.Table.from_pylist(
            [
                {
                    "item_code": i.item_code,
                    "tier": t.tier,
                    "min_value": t.min_value,
                    "max_value": t.max_value,
                }
                for i in items
                for t in {t.tier: t for t in i.discretion}.values()
            ]
        ),
        "item_risk_points": pa.Table.from_pylist(
            [
                {
                    "item_code": i.item_code,
                    "seq": n,
                    "step": r.step,
                    "level": r.level,
                    "description": r.description,
                    "measure": r.measure,
                }
                for i in items
                for n, r in enumerate(i.risk_points, start=1)
            ]
        ),
    }
    return tables


def store_items(db: Database, items: Sequence[Item]) -> int:
    """Upsert items (and their steps, materials, tiers, risk points); returns how many changed."""
    latest = {i.item_code: i for i in items}  # a later record of the same item wins
    if not latest:
        return 0
    codes = list(latest)
    existing = {
        r[0]: r[1]
        for r in _query_in(db, "SELECT item_code, doc FROM items WHERE item_code IN ({})", codes)
    }
    changed = [i for i in latest.values() if existing.get(i.item_code) != i.doc]
    if not changed:
        return 0
    changed_codes = [i.item_code for i in changed]
    tables = _rows(changed)
    with db.transaction():
        for table in ("items", "item_steps", "item_materials", "item_tiers", "item_risk_points"):
            _execute_in(db, f"DELETE FROM {table} WHERE item_code IN ({{}})", changed_codes)
        for table, data in tables.items():
            if data.num_rows:
                db.insert_arrow(table, data)
    return len(changed)


def _query_in(db: Database, sql: str, values: list[str]) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for start in range(0, len(values), 500):
        part = values[start : start + 500]
        rows += db.query(sql.format(", ".join("?" for _ in part)), part)
    return rows


def _execute_in(db: Database, sql: str, values: list[str]) -> None:
    for start in range(0, len(values), 500):
        part = values[start : start + 500]
        db.execute(sql.format(", ".join("?" for _ in part)), part)


def import_catalog_records(db: Database, records: Iterable[RawRecord]) -> ImportReport:
    report = ImportReport()
    items: list[Item] = []
    bad: list[quarantine.QuarantineEntry] = []
    for index, record in enumerate(records):
        report.read += 1
        try:
            raw = orjson.loads(record.text)
            if not isinstance(raw, dict):
                raise ValidationError("不是 JSON 对象：每条事项应为一个对象", field="record")
            items.append(parse_item(raw))
        except orjson.JSONDecodeError:
            message = f"{record.source} 第 {record.line} 行：不是合法的 JSON 对象"
            bad.append(
                quarantine.QuarantineEntry(
                    "item", record.source, record.line, "record", message, record.text
                )
            )
            report.problems.append(Problem(record.source, record.line, index, "record", message))
        except ValidationError as exc:
            message = f"{record.source} 第 {record.line} 行：{exc}"
            bad.append(
                quarantine.QuarantineEntry(
                    "item", record.source, record.line, exc.field, message, record.text
                )
            )
            report.problems.append(Problem(record.source, record.line, index, exc.field, message))
    quarantine.add(db, bad)
    report.quarantined = len(bad)
    changed = store_items(db, items)
    report.applied = changed
    report.duplicates = len(items) - changed
    if changed:
        report.case_ids = _items_changed(db, [i.item_code for i in items])
    return report


def _items_changed(db: Database, codes: list[str]) -> list[str]:
    """Cases of changed items take the new limits: rebuild their state; returns them.

    Their clocks and rules follow through :mod:`govwatch.live.pipeline` (``import_item_files``).
    """
    case_ids = sorted(
        str(r[0]) for r in _query_in(db, "SELECT case_id FROM cases WHERE item_code IN ({})", codes)
    )
    if case_ids:
        rebuild_cases(db, case_ids)
    return case_ids


def import_catalog(db: Database, paths: Sequence[Path | str]) -> ImportReport:
    """Import catalog files (JSON Lines, YAML, CSV, Excel, Parquet)."""
    files = [Path(p) for p in paths]
    for path in files:
        if not path.exists():
            raise InputError(f"文件 {path} 不存在")

    def records() -> Iterable[RawRecord]:
        for path in files:
            yield from read_records(path)

    report = import_catalog_records(db, records())
    _record_run(db, "item", [str(p) for p in files], report)
    return report
