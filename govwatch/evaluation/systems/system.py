"""Indicator systems (指标体系): the frozen model of spec/evaluation.md's YAML file.

A system is a tree of nodes of any depth whose leaves carry points, a source, a scale and
a direction; leaf points add up to 100. Reading and validation are in ``system_file.py``
(``load_system``, ``parse_system``, ``system_from_dict``); every later part (scoring, stars,
rounds) trusts a :class:`IndicatorSystem`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

SCALES: tuple[str, ...] = ("ratio", "target", "minmax", "bands", "boolean")
SOURCES: tuple[str, ...] = ("metric", "filled", "check", "survey", "rating")
STAR_LEVELS: tuple[int, ...] = (2, 3, 4, 5)
DEFAULT_THRESHOLDS: dict[int, float] = {2: 60.0, 3: 70.0, 4: 80.0, 5: 90.0}
TOTAL_POINTS = 100.0
POINTS_TOLERANCE = 1e-6
COVERAGE_MIN = 0.65
# 事项类型 (GB/T 39046, data.md A.1): an item category restricts a leaf's metric to these.
ITEM_TYPES: tuple[str, ...] = ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20")


@dataclass(frozen=True)
class Leaf:
    """A scored indicator. ``path`` lists the ids of its ancestors, top first."""

    id: str
    name: str
    points: float
    scale: str
    source: str = "filled"
    better: str = "higher"
    target: float | None = None
    bands: tuple[tuple[float, float], ...] = ()
    metric: str | None = None
    category: str | None = None
    description: str = ""
    path: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def lower_is_better(self) -> bool:
        return self.better == "lower"

    @property
    def item_types(self) -> tuple[str, ...]:
        """The 事项类型 codes of the item category this leaf counts (empty: all items)."""
        return tuple(c.strip() for c in (self.category or "").split(",") if c.strip())


@dataclass(frozen=True)
class Node:
    """A group of indicators; its score is the sum of its children's."""

    id: str
    name: str
    children: tuple[Node | Leaf, ...]
    description: str = ""
    path: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorSystem:
    name: str
    indicators: tuple[Node | Leaf, ...]
    thresholds: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    gates: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    group_thresholds: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    version: str = ""
    description: str = ""
    coverage_min: float = COVERAGE_MIN
    unit_kind: str = ""
    source_text: str = ""

    @functools.cached_property
    def leaves(self) -> tuple[Leaf, ...]:
        return tuple(_iter_leaves(self.indicators))

    @functools.cached_property
    def leaf_ids(self) -> tuple[str, ...]:
        return tuple(leaf.id for leaf in self.leaves)

    def leaf(self, leaf_id: str) -> Leaf:
        for leaf in self.leaves:
            if leaf.id == leaf_id:
                return leaf
        raise KeyError(leaf_id)

    def nodes(self) -> tuple[Node, ...]:
        return self._nodes

    @functools.cached_property
    def _nodes(self) -> tuple[Node, ...]:
        return tuple(_iter_nodes(self.indicators))

    def thresholds_for(self, group: str | None) -> dict[int, float]:
        """The star thresholds of a group: its own levels over the system's."""
        merged = dict(self.thresholds)
        if group is not None and group in self.group_thresholds:
            merged.update(self.group_thresholds[group])
        return merged

    def digest(self) -> str:
        """SHA-256 of the system's canonical form (what a round freezes)."""
        return hashlib.sha256(
            orjson.dumps(system_to_dict(self), option=orjson.OPT_SORT_KEYS)
        ).hexdigest()


def _iter_leaves(nodes: Sequence[Node | Leaf]) -> list[Leaf]:
    out: list[Leaf] = []
    for node in nodes:
        if isinstance(node, Leaf):
            out.append(node)
        else:
            out.extend(_iter_leaves(node.children))
    return out


def _iter_nodes(nodes: Sequence[Node | Leaf]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Node):
            out.append(node)
            out.extend(_iter_nodes(node.children))
    return out


# -- canonical form --------------------------------------------------------------------------


def _node_to_dict(node: Node | Leaf) -> dict[str, Any]:
    if isinstance(node, Node):
        return {
            "id": node.id,
            "name": node.name,
            "children": [_node_to_dict(c) for c in node.children],
        }
    out: dict[str, Any] = {
        "id": node.id,
        "name": node.name,
        "points": node.points,
        "source": node.source,
        "scale": node.scale,
        "better": node.better,
    }
    if node.target is not None:
        out["target"] = node.target
    if node.bands:
        out["bands"] = [list(b) for b in node.bands]
    if node.metric:
        out["metric"] = node.metric
    if node.category:
        out["category"] = node.category
    if node.params:
        out["params"] = dict(node.params)
    return out


def system_to_dict(system: IndicatorSystem) -> dict[str, Any]:
    """The system as plain data (canonical: what scoring depends on, not comments)."""
    return {
        "name": system.name,
        "version": system.version,
        "thresholds": {str(k): v for k, v in sorted(system.thresholds.items())},
        "gates": {str(k): list(v) for k, v in sorted(system.gates.items())},
        "group_thresholds": {
            g: {str(k): v for k, v in sorted(t.items())}
            for g, t in sorted(system.group_thresholds.items())
        },
        "coverage_min": system.coverage_min,
        "indicators": [_node_to_dict(n) for n in system.indicators],
    }
