"""Rounds as departments and evaluators work them: what each owes, its sheets, the batch import.

- :func:`fill_todo`: a department's values still to fill, across the rounds collecting them,
  per unit of its own and ``filled`` leaf, with the fill deadline;
- :func:`fill_sheet`: one round's ``filled`` leaves per unit of the department, with each
  value, its checker's verdict and its evidence files;
- :func:`check_sheet`: one round's commissioned leaves per unit for an evaluator (its
  progress: entered / commissioned per unit) and the departments' values it may verify;
- :func:`appeal_sheet`: a department's result per unit in review, the points lost per
  indicator, its appeals with their files and the window;
- :func:`import_values`: a batch of values from an XLSX or CSV sheet (columns
  :data:`IMPORT_COLUMNS`), each row applied on its own; a row in error is applied not at all
  and reported with its row number, column and what was expected.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import openpyxl
import orjson

from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.commission import (
    commissioned_leaves,
    commissioned_rounds,
)
from govwatch.evaluation.rounds.digest import plain
from govwatch.evaluation.rounds.review import appeal_files
from govwatch.evaluation.rounds.values import (
    EDITABLE,
    Actor,
    check_evidence_url,
    round_row,
    round_system,
    submit_value,
)
from govwatch.evaluation.systems.system import IndicatorSystem, Leaf
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.evaluation.systems.values import parse_value
from govwatch.storage import Database

# The batch import's columns, in order (the sheet's first row names them).
IMPORT_COLUMNS = ("单位代码", "指标", "值", "证据链接", "说明")
REQUIRED_COLUMNS = ("单位代码", "指标", "值")
IMPORT_MAX_ROWS = 5000
IMPORT_MAX_BYTES = 5 * 2**20
VALUE_STATUS_NAMES = {
    "submitted": "已提交，待核验",
    "verified": "已核验",
    "disputed": "有异议",
    "computed": "监测数据计算",
}


def _units(db: Database, round_id: str) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT unit, unit_name, group_name FROM eval_units WHERE round_id = ? ORDER BY unit",
        [round_id],
    )


def _values(db: Database, round_id: str, units: Sequence[str]) -> dict[tuple[str, str], Any]:
    if not units:
        return {}
    return {
        (str(v["unit"]), str(v["indicator"])): {k: plain(x) for k, x in v.items()}
        | {"status_name": VALUE_STATUS_NAMES.get(str(v["status"]), str(v["status"]))}
        for v in db.query_dicts(
            "SELECT unit, indicator, value, source, status, entered_by, entered_at, verified_by, "
            "verified_at, note, evidence_url, check_note FROM eval_values "
            "WHERE round_id = ? AND unit = ANY(?)",
            [round_id, list(units)],
        )
    }


def _evidence(db: Database, round_id: str, units: Sequence[str]) -> dict[tuple[str, str], Any]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if not units:
        return out
    for e in db.query_dicts(
        "SELECT evidence_id, unit, indicator, file_name, content_type, size_bytes, sha256, "
        "uploaded_by, uploaded_at FROM eval_evidence WHERE round_id = ? AND unit = ANY(?) "
        "ORDER BY uploaded_at, evidence_id",
        [round_id, list(units)],
    ):
        item = {k: plain(x) for k, x in e.items()}
        out.setdefault((str(e["unit"]), str(e["indicator"])), []).append(item)
    return out


def _meta(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("round_id", "name", "status", "period_start", "period_end", "fill_deadline_at")
    return {k: plain(row.get(k)) for k in (*keys, "review_until_at")}


def _leaf(leaf: Leaf) -> dict[str, Any]:
    return {
        "id": leaf.id,
        "name": leaf.name,
        "points": leaf.points,
        "scale": leaf.scale,
        "source": leaf.source,
    }


def _open_for_filling(row: dict[str, Any], at: datetime) -> bool:
    deadline = row.get("fill_deadline_at")
    return row["status"] in EDITABLE and (deadline is None or at <= deadline)


def fill_todo(db: Database, actor: Actor, at: datetime) -> list[dict[str, Any]]:
    """A department's values still to fill, in the rounds collecting values (configured or
    collecting, before the fill deadline), nearest deadline first: one row per round and unit
    with the leaves still empty."""
    units = sorted(actor.own_units)
    if actor.role != "department" or not units or not db.table_exists("eval_rounds"):
        return []
    rounds = db.query_dicts(
        "SELECT DISTINCT r.round_id, r.name, r.status, r.fill_deadline_at, r.system_yaml "
        "FROM eval_rounds r JOIN eval_units u ON u.round_id = r.round_id "
        "WHERE r.status IN ('configured', 'collecting', 'computed') AND u.unit = ANY(?)",
        [units],
    )
    out: list[dict[str, Any]] = []
    for r in rounds:
        if not _open_for_filling(r, at):
            continue
        try:
            leaves = list(parse_system(str(r["system_yaml"])).leaves)
        except GovwatchError:
            continue
        filled = [lf for lf in leaves if lf.source == "filled"]
        if not filled:
            continue
        mine = [u for u in _units(db, str(r["round_id"])) if str(u["unit"]) in actor.own_units]
        done = _values(db, str(r["round_id"]), [str(u["unit"]) for u in mine])
        for u in mine:
            pending = [lf for lf in filled if (str(u["unit"]), lf.id) not in done]
            if not pending:
                continue
            out.append(
                {
                    "round_id": r["round_id"],
                    "round_name": r["name"],
                    "unit": u["unit"],
                    "unit_name": u["unit_name"] or u["unit"],
                    "deadline": r["fill_deadline_at"],
                    "pending": [{"id": lf.id, "name": lf.name} for lf in pending],
                    "filled": len(filled) - len(pending),
                    "total": len(filled),
                }
            )
    far = datetime.max
    out.sort(key=lambda x: (x["deadline"] or far, str(x["round_id"]), str(x["unit"])))
    return [x | {"deadline": plain(x["deadline"])} for x in out]


def fill_sheet(db: Database, round_id: str, actor: Actor, at: datetime) -> dict[str, Any]:
    """One round's ``filled`` leaves for each of the department's units in it."""
    row = round_row(db, round_id)
    system = round_system(row)
    leaves = [lf for lf in system.leaves if lf.source == "filled"]
    mine = [u for u in _units(db, round_id) if str(u["unit"]) in actor.own_units]
    if not mine:
        raise InputError(f"本单位不是评估批次“{round_id}”的评估对象，没有要填报的指标")
    codes = [str(u["unit"]) for u in mine]
    values = _values(db, round_id, codes)
    files = _evidence(db, round_id, codes)
    return {
        "round": _meta(row),
        "open": _open_for_filling(row, at),
        "leaves": [_leaf(lf) for lf in leaves],
        "units": [
            {
                "unit": u["unit"],
                "unit_name": u["unit_name"] or u["unit"],
                "cells": [
                    {
                        "leaf": lf.id,
                        "value": values.get((str(u["unit"]), lf.id)),
                        "files": files.get((str(u["unit"]), lf.id), []),
                    }
                    for lf in leaves
                ],
                "filled": sum(1 for lf in leaves if (str(u["unit"]), lf.id) in values),
            }
            for u in mine
        ],
    }


def check_sheet(db: Database, round_id: str, actor: Actor) -> dict[str, Any]:
    """One round as its commissioned evaluator works it: the commissioned leaves per unit
    with their values and files, its progress (entered / commissioned per unit), and the
    values others entered that it may verify or dispute (departments' filled values)."""
    row = round_row(db, round_id)
    system = round_system(row)
    allowed = commissioned_leaves(db, round_id, actor)
    if actor.role == "evaluator" and round_id not in commissioned_rounds(db, actor):
        raise InputError(f"未受托评估批次“{round_id}”")
    leaves = [lf for lf in system.leaves if lf.id in allowed]
    units = _units(db, round_id)
    codes = [str(u["unit"]) for u in units]
    values = _values(db, round_id, codes)
    files = _evidence(db, round_id, codes)
    filled = [lf for lf in system.leaves if lf.source == "filled"]
    to_verify = [
        {
            "unit": u["unit"],
            "unit_name": u["unit_name"] or u["unit"],
            "leaf": _leaf(lf),
            "value": values[(str(u["unit"]), lf.id)],
            "files": files.get((str(u["unit"]), lf.id), []),
        }
        for u in units
        for lf in filled
        if (str(u["unit"]), lf.id) in values
    ]
    progress = [
        {
            "unit": u["unit"],
            "unit_name": u["unit_name"] or u["unit"],
            "entered": sum(1 for lf in leaves if (str(u["unit"]), lf.id) in values),
            "commissioned": len(leaves),
            "cells": [
                {
                    "leaf": lf.id,
                    "value": values.get((str(u["unit"]), lf.id)),
                    "files": files.get((str(u["unit"]), lf.id), []),
                }
                for lf in leaves
            ],
        }
        for u in units
    ]
    return {
        "round": _meta(row),
        "open": row["status"] in EDITABLE,
        "leaves": [_leaf(lf) for lf in leaves],
        "units": progress,
        "entered": sum(p["entered"] for p in progress),
        "commissioned": len(leaves) * len(units),
        "to_verify": to_verify,
        "unchecked": sum(1 for v in to_verify if v["value"]["status"] == "submitted"),
    }


def appeal_sheet(db: Database, round_id: str, actor: Actor, at: datetime) -> dict[str, Any]:
    """A department's results in a round under review (and after): per own unit its score,
    stars, rank and the points lost per indicator; its appeals with their files; whether the
    window is open."""
    row = round_row(db, round_id)
    if row["status"] not in ("review", "published", "closed"):
        raise InputError(f"评估批次“{round_id}”尚未进入复核，结果还不能查看")
    system = round_system(row)
    mine = [u for u in _units(db, round_id) if str(u["unit"]) in actor.own_units]
    if not mine:
        raise InputError(f"本单位不是评估批次“{round_id}”的评估对象")
    codes = [str(u["unit"]) for u in mine]
    results = {
        str(r["unit"]): r
        for r in db.query_dicts(
            "SELECT unit, score, stars, rank, group_rank, points, missing FROM eval_results "
            "WHERE round_id = ? AND unit = ANY(?)",
            [round_id, codes],
        )
    }
    appeals = [
        {k: plain(x) for k, x in a.items()}
        for a in db.query_dicts(
            "SELECT appeal_id, unit, indicator, reason, status, decision, submitted_by, "
            "submitted_at, decided_at FROM eval_appeals WHERE round_id = ? AND unit = ANY(?) "
            "ORDER BY submitted_at, appeal_id",
            [round_id, codes],
        )
    ]
    files = appeal_files(db, [str(a["appeal_id"]) for a in appeals])
    for a in appeals:
        a["files"] = [{k: plain(x) for k, x in f.items()} for f in files.get(a["appeal_id"], [])]
    until = row.get("review_until_at")
    return {
        "round": _meta(row),
        "open": row["status"] == "review" and (until is None or at <= until),
        "leaves": [_leaf(lf) for lf in system.leaves],
        "units": [_unit_result(u, results.get(str(u["unit"])), system) for u in mine],
        "appeals": appeals,
    }


def _unit_result(u: dict[str, Any], r: dict[str, Any] | None, system: IndicatorSystem) -> Any:
    earned = orjson.loads(r["points"]) if r and r["points"] else {}
    return {
        "unit": u["unit"],
        "unit_name": u["unit_name"] or u["unit"],
        "score": float(r["score"]) if r else None,
        "stars": int(r["stars"]) if r else None,
        "rank": int(r["rank"]) if r else None,
        "lost": [
            {
                "id": lf.id,
                "name": lf.name,
                "points": lf.points,
                "earned": round(float(earned.get(lf.id, 0.0)), 2),
                "lost": round(lf.points - float(earned.get(lf.id, 0.0)), 2),
            }
            for lf in system.leaves
        ]
        if r
        else [],
    }


@dataclass(frozen=True)
class RowError:
    """A row of an imported sheet that was not applied: where, and what was expected."""

    row: int  # the sheet's row number (the header is row 1)
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class ImportResult:
    applied: int
    errors: tuple[RowError, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "errors": [e.as_dict() for e in self.errors]}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_sheet(name: str, content: bytes) -> list[tuple[int, dict[str, object]]]:
    """The data rows of an XLSX or CSV sheet, each with its row number, keyed by the header
    row's column names; a missing required column is an error naming it."""
    if len(content) > IMPORT_MAX_BYTES:
        raise InputError(f"导入文件“{name}”超过 {IMPORT_MAX_BYTES // 2**20} MB")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    rows: list[list[object]]
    if ext == "xlsx":
        if not content.startswith(b"PK\x03\x04"):
            raise InputError(f"导入文件“{name}”的内容不是 Excel 表格（.xlsx）")
        try:
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"导入文件“{name}”无法作为 Excel 表格读取：{exc}") from None
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
    elif ext == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                raise InputError(f"导入文件“{name}”不是 UTF-8 或 GBK 编码的 CSV") from None
        rows = [list(r) for r in csv.reader(io.StringIO(text))]
    else:
        raise InputError(f"导入文件“{name}”的类型不支持：应为 Excel 表格（.xlsx）或 CSV（.csv）")
    if not rows:
        raise InputError(f"导入文件“{name}”是空的：第 1 行应为表头 {'、'.join(IMPORT_COLUMNS)}")
    header = [_cell(h) for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"导入文件“{name}”第 1 行缺少列 {'、'.join(missing)}："
            f"表头应为 {'、'.join(IMPORT_COLUMNS)}（证据链接、说明可省略）"
        )
    data = [
        (n, {h: (r[i] if i < len(r) else None) for i, h in enumerate(header) if h})
        for n, r in enumerate(rows[1:], start=2)
        if any(_cell(c) for c in r)
    ]
    if len(data) > IMPORT_MAX_ROWS:
        raise InputError(f"导入文件“{name}”有 {len(data)} 行：一次最多导入 {IMPORT_MAX_ROWS} 行")
    return data


def _find_leaf(system: IndicatorSystem, text: str) -> Leaf | None:
    for lf in system.leaves:
        if text in (lf.id, lf.name):
            return lf
    return None


def _row_error(
    system: IndicatorSystem,
    units: set[str],
    allowed: frozenset[str],
    n: int,
    cells: dict[str, object],
) -> RowError | None:
    unit = _cell(cells.get("单位代码"))
    if not unit:
        return RowError(n, "单位代码", "不能为空：应为本批次评估对象的单位代码")
    if unit not in units:
        return RowError(
            n, "单位代码", f"“{unit}”不是本批次的评估对象：应为本批次评估对象的单位代码"
        )
    text = _cell(cells.get("指标"))
    leaf = _find_leaf(system, text) if text else None
    if leaf is None:
        return RowError(n, "指标", f"“{text}”不是本批次指标体系的叶子指标：应为指标编码或名称")
    if leaf.id not in allowed:
        return RowError(n, "指标", f"“{leaf.name}”未委托给你：应为委托给你的指标")
    raw = cells.get("值")
    try:
        if raw is None or _cell(raw) == "":
            raise InputError("")
        number = parse_value(raw)
        if math.isnan(number):
            raise InputError("")
    except InputError:
        return RowError(n, "值", f"“{_cell(raw)}”无法识别：应为数字（如 0.85 或 85%）或 是/否")
    try:
        check_evidence_url(_cell(cells.get("证据链接")))
    except InputError:
        return RowError(n, "证据链接", "应为以 http:// 或 https:// 开头的网址，或留空")
    return None


def import_values(
    db: Database,
    round_id: str,
    rows: Iterable[tuple[int, dict[str, object]]],
    actor: Actor,
    at: datetime,
) -> ImportResult:
    """Apply each row on its own (one value each, as :func:`submit_value`); a row in error is
    not applied and is reported with its row number, column and what was expected."""
    row = round_row(db, round_id)
    system = round_system(row)
    units = {str(u["unit"]) for u in _units(db, round_id)}
    allowed = commissioned_leaves(db, round_id, actor) if actor.role == "evaluator" else None
    if allowed is None:
        allowed = frozenset(lf.id for lf in system.leaves)
    applied = 0
    errors: list[RowError] = []
    for n, cells in rows:
        error = _row_error(system, units, allowed, n, cells)
        if error is not None:
            errors.append(error)
            continue
        leaf = _find_leaf(system, _cell(cells.get("指标")))
        assert leaf is not None
        try:
            submit_value(
                db,
                round_id,
                _cell(cells.get("单位代码")),
                leaf.id,
                cells.get("值"),
                actor,
                at,
                _cell(cells.get("说明")) or None,
                evidence_url=_cell(cells.get("证据链接")) or None,
            )
        except GovwatchError as exc:
            errors.append(RowError(n, "值", str(exc)))
            continue
        applied += 1
    return ImportResult(applied, tuple(errors))
