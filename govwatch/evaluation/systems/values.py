"""Indicator values and unit groups: reading files, parsing cells, building the value matrix.

``VALUES`` files hold ``unit, indicator, value`` (one row per unit and leaf indicator),
``GROUPS`` files ``unit, group``; both as CSV (header row) or JSON Lines (one object per
line; a JSON array is accepted too). An empty value, ``NA``, ``null`` or ``-`` is missing.
Booleans may be written ``true/false``, ``是/否``, ``yes/no`` or ``1/0``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from govwatch.errors import InputError
from govwatch.evaluation.systems.scoring import ValueMatrix
from govwatch.evaluation.systems.system import IndicatorSystem

_MISSING = {"", "na", "n/a", "null", "none", "-", "nan"}
_TRUE = {"true", "t", "yes", "y", "是", "有", "√"}
_FALSE = {"false", "f", "no", "n", "否", "无", "×"}

Record = Mapping[str, Any]


def parse_value(raw: Any, where: str = "") -> float:
    """A cell as a float; NaN when missing; booleans as 1.0 / 0.0."""
    if raw is None:
        return math.nan
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float):
        return float(raw) if math.isfinite(raw) else math.nan
    text = str(raw).strip()
    low = text.lower()
    if low in _MISSING:
        return math.nan
    if low in _TRUE:
        return 1.0
    if low in _FALSE:
        return 0.0
    try:
        number = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        raise InputError(
            f"{where}值“{text}”无法识别：应为数字（如 0.85 或 85%）、是/否 或留空表示缺失"
        ) from None
    return number if math.isfinite(number) else math.nan


def read_records(path: str | Path, required: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of a CSV or JSON Lines file, with keys lower-cased and the required ones checked."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"无法读取文件 {p}：{exc.strerror}") from exc
    stripped = text.lstrip()
    rows: list[dict[str, Any]]
    if p.suffix.lower() in {".jsonl", ".json", ".ndjson"} or stripped.startswith(("{", "[")):
        rows = _json_rows(text, p)
    else:
        reader = csv.DictReader(io.StringIO(text))
        rows = [dict(r) for r in reader]
        if reader.fieldnames is None:
            rows = []
    out = []
    for number, row in enumerate(rows, start=1):
        clean = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        for name in required:
            if name not in clean or clean[name] is None or str(clean[name]).strip() == "":
                if name == "value" and name in clean:
                    continue
                raise InputError(
                    f"{p} 第 {number} 条记录缺少字段 {name}：每条记录应有 {', '.join(required)}"
                )
        out.append(clean)
    return out


def _json_rows(text: str, path: Path) -> list[dict[str, Any]]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            data = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{path} 不是合法的 JSON：{exc}") from exc
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(f"{path} 应为对象数组或 JSON Lines")
        return data
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{path} 第 {number} 行不是合法的 JSON：{exc}") from exc
        if not isinstance(row, dict):
            raise InputError(f"{path} 第 {number} 行应为 JSON 对象")
        rows.append(row)
    return rows


def read_values(path: str | Path) -> list[dict[str, Any]]:
    return read_records(path, ("unit", "indicator", "value"))


def read_groups(path: str | Path) -> dict[str, str]:
    groups: dict[str, str] = {}
    for row in read_records(path, ("unit", "group")):
        unit = str(row["unit"]).strip()
        group = str(row["group"]).strip()
        if unit in groups and groups[unit] != group:
            raise InputError(f"分组文件中单位“{unit}”出现在两个分组：{groups[unit]}、{group}")
        groups[unit] = group
    return groups


def build_matrix(
    system: IndicatorSystem,
    records: Iterable[Record],
    groups: Mapping[str, str] | None = None,
) -> ValueMatrix:
    """The value matrix of ``system``'s leaves for every unit named by values or groups.

    Units keep the order in which they first appear (values, then groups). An indicator that
    is not a leaf of the system, or a unit given two values for one indicator, is refused.
    """
    leaf_ids = system.leaf_ids
    column = {leaf_id: j for j, leaf_id in enumerate(leaf_ids)}
    unit_index: dict[str, int] = {}
    cells: list[tuple[int, int, float]] = []
    seen: set[tuple[int, int]] = set()
    for number, row in enumerate(records, start=1):
        unit = str(row["unit"]).strip()
        indicator = str(row["indicator"]).strip()
        if indicator not in column:
            raise InputError(
                f"第 {number} 条指标值的指标“{indicator}”不是指标体系“{system.name}”的叶子指标"
            )
        i = unit_index.setdefault(unit, len(unit_index))
        j = column[indicator]
        if (i, j) in seen:
            raise InputError(
                f"单位“{unit}”的指标“{indicator}”有多个值：每个单位每个指标只能有一个值"
            )
        seen.add((i, j))
        cells.append((i, j, parse_value(row.get("value"), f"单位“{unit}”指标“{indicator}”的")))
    for unit in groups or {}:
        unit_index.setdefault(unit, len(unit_index))
    values = np.full((len(unit_index), len(leaf_ids)), np.nan)
    for i, j, value in cells:
        values[i, j] = value
    units = tuple(unit_index)
    group_of = groups or {}
    return ValueMatrix(
        units=units,
        leaf_ids=leaf_ids,
        values=values,
        groups=tuple(group_of.get(u) for u in units),
    )
