"""Reading and validating indicator system files (the YAML of spec/evaluation.md).

Validation happens here, once, at the edge: a malformed system is refused with a one-line
Chinese message naming the indicator, the field and what was expected; everything later
(scoring, stars, rounds) trusts the frozen :class:`IndicatorSystem` it returns.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from govwatch.errors import ValidationError
from govwatch.evaluation.systems.system import (
    COVERAGE_MIN,
    DEFAULT_THRESHOLDS,
    ITEM_TYPES,
    POINTS_TOLERANCE,
    SCALES,
    SOURCES,
    STAR_LEVELS,
    TOTAL_POINTS,
    IndicatorSystem,
    Leaf,
    Node,
    _iter_leaves,
)

_LEAF_KEYS = {
    "id",
    "name",
    "points",
    "source",
    "scale",
    "better",
    "target",
    "bands",
    "metric",
    "category",
    "description",
    "why",
    "unit",
    "params",
}
_NODE_KEYS = {"id", "name", "children", "points", "description", "why"}
_TOP_KEYS = {
    "name",
    "version",
    "description",
    "thresholds",
    "gates",
    "group_thresholds",
    "indicators",
    "coverage_min",
    "unit_kind",
}


def load_system(path: str | Path) -> IndicatorSystem:
    """Read and validate an indicator system YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"无法读取指标体系文件 {p}：{exc.strerror}", record=str(p)) from exc
    return parse_system(text, origin=str(p))


def parse_system(text: str, *, origin: str = "指标体系") -> IndicatorSystem:
    """Parse and validate a system's YAML text (cached: rounds re-read their frozen text)."""
    return _parse_cached(text, origin)


@functools.lru_cache(maxsize=64)
def _parse_cached(text: str, origin: str) -> IndicatorSystem:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise ValidationError(f"{origin} 不是合法的 YAML：{str(exc).splitlines()[0]}") from exc
    system = system_from_dict(raw, origin=origin)
    return IndicatorSystem(**{**_fields(system), "source_text": text})


def _fields(system: IndicatorSystem) -> dict[str, Any]:
    return {name: getattr(system, name) for name in system.__dataclass_fields__}


def _fail(origin: str, message: str, field_name: str = "") -> ValidationError:
    return ValidationError(f"{origin}：{message}", field=field_name, record=origin)


def _number(value: Any, what: str, origin: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(origin, f"{what} 应为数字，实际为“{value}”", what)
    return float(value)


def _level(key: Any, what: str, origin: str) -> int:
    try:
        level = int(key)
    except (TypeError, ValueError):
        level = -1
    if level not in STAR_LEVELS or str(key).strip() != str(level):
        raise _fail(origin, f"{what} 的星级“{key}”不合法：星级应为 2、3、4、5 之一", what)
    return level


def _thresholds(raw: Any, what: str, origin: str, *, partial: bool) -> dict[int, float]:
    if not isinstance(raw, Mapping) or (not raw and not partial):
        raise _fail(
            origin, f"{what} 应为“星级: 最低分”的映射，如 {{2: 60, 3: 70, 4: 80, 5: 90}}", what
        )
    out: dict[int, float] = {}
    for key, value in raw.items():
        level = _level(key, what, origin)
        score = _number(value, f"{what}.{level}", origin)
        if not 0 <= score <= TOTAL_POINTS:
            raise _fail(origin, f"{what}.{level} = {score:g} 超出 0–100", what)
        out[level] = score
    return out


def _check_increasing(thresholds: Mapping[int, float], what: str, origin: str) -> None:
    levels = sorted(thresholds)
    for low, high in itertools.pairwise(levels):
        if thresholds[high] <= thresholds[low]:
            raise _fail(
                origin,
                f"{what} 中 {high} 星的最低分 {thresholds[high]:g} 应高于 {low} 星的 "
                f"{thresholds[low]:g}",
                what,
            )


def system_from_dict(raw: Any, *, origin: str = "指标体系") -> IndicatorSystem:
    """Validate a parsed YAML document; raise :class:`ValidationError` saying what is wrong."""
    if not isinstance(raw, Mapping):
        raise _fail(origin, "应为一个映射，至少包含 name 和 indicators")
    unknown = set(map(str, raw)) - _TOP_KEYS
    if unknown:
        raise _fail(origin, f"未知的字段 {sorted(unknown)}；可用字段：{sorted(_TOP_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(origin, "缺少 name（指标体系名称）", "name")
    indicators_raw = raw.get("indicators")
    if not isinstance(indicators_raw, list) or not indicators_raw:
        raise _fail(origin, "indicators 应为非空列表", "indicators")

    seen: set[str] = set()
    indicators = tuple(_parse_node(item, (), seen, origin) for item in indicators_raw)
    leaves = _iter_leaves(indicators)
    total = math.fsum(leaf.points for leaf in leaves)
    if abs(total - TOTAL_POINTS) > POINTS_TOLERANCE:
        raise _fail(
            origin, f"叶子指标分值合计为 {total:g}，应为 100：请调整各叶子指标的 points", "points"
        )

    thresholds = (
        _thresholds(raw["thresholds"], "thresholds", origin, partial=False)
        if raw.get("thresholds") is not None
        else dict(DEFAULT_THRESHOLDS)
    )
    _check_increasing(thresholds, "thresholds", origin)

    group_thresholds: dict[str, dict[int, float]] = {}
    gt_raw = raw.get("group_thresholds") or {}
    if not isinstance(gt_raw, Mapping):
        raise _fail(origin, "group_thresholds 应为“分组: {星级: 最低分}”的映射", "group_thresholds")
    for group, levels in gt_raw.items():
        what = f"group_thresholds.{group}"
        own = _thresholds(levels, what, origin, partial=True)
        _check_increasing({**thresholds, **own}, what, origin)
        group_thresholds[str(group)] = own

    leaf_ids = {leaf.id for leaf in leaves}
    gates: dict[int, tuple[str, ...]] = {}
    gates_raw = raw.get("gates") or {}
    if not isinstance(gates_raw, Mapping):
        raise _fail(origin, "gates 应为“星级: [指标 id, …]”的映射", "gates")
    for key, ids in gates_raw.items():
        level = _level(key, "gates", origin)
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _fail(origin, f"gates.{level} 应为指标 id 列表", "gates")
        for gate_id in ids:
            if gate_id not in leaf_ids:
                raise _fail(
                    origin, f"gates.{level} 引用的指标“{gate_id}”不是本体系的叶子指标", "gates"
                )
        gates[level] = tuple(ids)

    coverage = raw.get("coverage_min", COVERAGE_MIN)
    coverage = _number(coverage, "coverage_min", origin)
    if not 0 <= coverage <= 1:
        raise _fail(origin, f"coverage_min = {coverage:g} 应在 0–1 之间", "coverage_min")
    unit_kind = str(raw.get("unit_kind") or "")
    return IndicatorSystem(
        name=name.strip(),
        indicators=indicators,
        thresholds=thresholds,
        gates=gates,
        group_thresholds=group_thresholds,
        version=str(raw.get("version") or ""),
        description=str(raw.get("description") or ""),
        coverage_min=coverage,
        unit_kind=unit_kind,
    )


def _parse_node(raw: Any, path: tuple[str, ...], seen: set[str], origin: str) -> Node | Leaf:
    if not isinstance(raw, Mapping):
        raise _fail(origin, f"指标应为映射（含 id、name），实际为“{raw}”")
    node_id = raw.get("id")
    if not isinstance(node_id, str) or not node_id.strip():
        raise _fail(origin, f"指标缺少 id：{dict(raw)}", "id")
    where = f"指标“{node_id}”"
    if node_id in seen:
        raise _fail(origin, f"{where} 的 id 重复：每个指标 id 只能出现一次", "id")
    seen.add(node_id)
    name = str(raw.get("name") or node_id)
    description = str(raw.get("description") or raw.get("why") or "")
    if "children" in raw:
        unknown = set(map(str, raw)) - _NODE_KEYS
        if unknown:
            raise _fail(origin, f"{where} 有子指标，不应有字段 {sorted(unknown)}", "children")
        children_raw = raw["children"]
        if not isinstance(children_raw, list) or not children_raw:
            raise _fail(origin, f"{where} 的 children 应为非空列表", "children")
        children = tuple(_parse_node(c, (*path, node_id), seen, origin) for c in children_raw)
        if raw.get("points") is not None:
            declared = _number(raw["points"], f"{where} 的 points", origin)
            found = math.fsum(leaf.points for leaf in _iter_leaves(children))
            if abs(declared - found) > POINTS_TOLERANCE:
                raise _fail(
                    origin, f"{where} 标明 {declared:g} 分，但其叶子指标合计 {found:g} 分", "points"
                )
        return Node(node_id, name, children, description, path)
    return _parse_leaf(raw, node_id, name, description, path, origin)


def _parse_leaf(
    raw: Mapping[str, Any],
    leaf_id: str,
    name: str,
    description: str,
    path: tuple[str, ...],
    origin: str,
) -> Leaf:
    where = f"指标“{leaf_id}”"
    unknown = set(map(str, raw)) - _LEAF_KEYS
    if unknown:
        raise _fail(origin, f"{where} 有未知字段 {sorted(unknown)}；可用字段：{sorted(_LEAF_KEYS)}")
    if raw.get("points") is None:
        raise _fail(
            origin, f"{where} 缺少 points（叶子指标须有分值，或用 children 列出子指标）", "points"
        )
    points = _number(raw["points"], f"{where} 的 points", origin)
    if points <= 0:
        raise _fail(origin, f"{where} 的 points 应大于 0，实际为 {points:g}", "points")
    scale = raw.get("scale")
    if scale not in SCALES:
        raise _fail(
            origin, f"{where} 的 scale“{scale}”不合法：应为 {'、'.join(SCALES)} 之一", "scale"
        )
    source = raw.get("source", "filled")
    if source not in SOURCES:
        raise _fail(
            origin, f"{where} 的 source“{source}”不合法：应为 {'、'.join(SOURCES)} 之一", "source"
        )
    better = raw.get("better", "higher")
    if better not in ("higher", "lower"):
        raise _fail(origin, f"{where} 的 better“{better}”不合法：应为 higher 或 lower", "better")
    target: float | None = None
    if scale == "target":
        if raw.get("target") is None:
            raise _fail(origin, f"{where} 的 scale 为 target，须给出 target（目标值）", "target")
        target = _number(raw["target"], f"{where} 的 target", origin)
        if target <= 0:
            raise _fail(origin, f"{where} 的 target 应大于 0，实际为 {target:g}", "target")
    elif raw.get("target") is not None:
        raise _fail(origin, f"{where} 的 target 只用于 scale: target", "target")
    bands: tuple[tuple[float, float], ...] = ()
    if scale == "bands":
        bands = _parse_bands(raw.get("bands"), where, points, origin)
    elif raw.get("bands") is not None:
        raise _fail(origin, f"{where} 的 bands 只用于 scale: bands", "bands")
    metric = raw.get("metric")
    category = raw.get("category")
    if category is not None:
        category = (
            ",".join(str(c) for c in category) if isinstance(category, list) else str(category)
        )
        codes = [c.strip() for c in category.split(",") if c.strip()]
        if not codes or not all(c in ITEM_TYPES for c in codes):
            raise _fail(
                origin,
                f"{where} 的 category“{category}”应为事项类型代码（{'、'.join(ITEM_TYPES)}），"
                "多个用逗号分隔",
                "category",
            )
        category = ",".join(codes)
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise _fail(origin, f"{where} 的 params 应为映射", "params")
    return Leaf(
        id=leaf_id,
        name=name,
        points=points,
        scale=str(scale),
        source=str(source),
        better=str(better),
        target=target,
        bands=bands,
        metric=str(metric) if metric is not None else None,
        category=category,
        description=description,
        path=path,
        params=tuple(sorted((str(k), v) for k, v in params.items())),
    )


def _parse_bands(
    raw: Any, where: str, points: float, origin: str
) -> tuple[tuple[float, float], ...]:
    example = "如 [[0, 5], [1, 3], [2, 1]]"
    if not isinstance(raw, list) or not raw:
        raise _fail(
            origin,
            f"{where} 的 scale 为 bands，须给出 bands：[下限, 分值] 列表，{example}",
            "bands",
        )
    out = []
    for band in raw:
        if not isinstance(band, list | tuple) or len(band) != 2:
            raise _fail(origin, f"{where} 的分档“{band}”应为 [界值, 分值]，{example}", "bands")
        bound = _number(band[0], f"{where} 的分档界值", origin)
        band_points = _number(band[1], f"{where} 的分档分值", origin)
        if not 0 <= band_points <= points + POINTS_TOLERANCE:
            raise _fail(
                origin,
                f"{where} 的分档分值 {band_points:g} 应在 0 到该指标分值 {points:g} 之间",
                "bands",
            )
        out.append((bound, band_points))
    return tuple(out)
