"""Evaluating units on a system: scores, stars, ranks, coverage, explanation and robustness.

:func:`evaluate` is the pure function of (system, values, groups) that the stateless
``govwatch evaluate`` command, rounds and the web app all call.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from govwatch.evaluation.systems.robustness import (
    DEFAULT_SEED,
    DEFAULT_SPREAD,
    Robustness,
    robustness,
)
from govwatch.evaluation.systems.scoring import (
    BoolArray,
    FloatArray,
    IntArray,
    ValueMatrix,
    competition_ranks,
    fractions,
    gates_open,
    group_codes,
    group_ranks,
    leaf_weights,
    star_levels,
    threshold_matrix,
)
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.values import build_matrix

GAIN_TOP = 3


@dataclass(frozen=True)
class UnitResult:
    unit: str
    group: str | None
    score: float
    stars: int
    rank: int
    group_rank: int
    points: Mapping[str, float]
    missing: tuple[str, ...]
    coverage: float
    poorly_covered: bool
    node_scores: Mapping[str, float]
    gains: tuple[tuple[str, float], ...]
    lost: Mapping[str, float]
    rank_interval: tuple[int, int] | None = None
    star_stability: float | None = None

    def to_json(self, *, explain: bool = False) -> dict[str, Any]:
        """The record ``govwatch evaluate --format json`` prints (spec/interface.md)."""
        out: dict[str, Any] = {
            "unit": self.unit,
            "group": self.group,
            "score": self.score,
            "stars": self.stars,
            "rank": self.rank,
            "group_rank": self.group_rank,
            "points": dict(self.points),
            "missing": list(self.missing),
        }
        if self.rank_interval is not None:
            out["rank_interval"] = list(self.rank_interval)
            out["star_stability"] = self.star_stability
        if explain:
            out["coverage"] = self.coverage
            out["poorly_covered"] = self.poorly_covered
            out["nodes"] = dict(self.node_scores)
            out["lost"] = dict(self.lost)
            out["gain_most"] = [{"indicator": i, "points": p} for i, p in self.gains]
        return out


@dataclass(frozen=True)
class Evaluation:
    """Every unit's result, held as arrays; per-unit records are built when first asked for.

    ``points`` is the ``units × leaves`` matrix of points earned; ``scores``, ``stars``,
    ``ranks``, ``group_ranks`` and ``coverage`` are per unit, in the order of ``units``.
    """

    system: IndicatorSystem
    units: tuple[str, ...]
    groups: tuple[str | None, ...]
    points: FloatArray
    present: BoolArray
    scores: FloatArray
    stars: IntArray
    ranks: IntArray
    group_ranks: IntArray
    coverage: FloatArray
    robust: Robustness | None = None

    @property
    def uncertainty_runs(self) -> int:
        return self.robust.runs if self.robust else 0

    @functools.cached_property
    def results(self) -> tuple[UnitResult, ...]:
        return tuple(_records(self))

    def ordered(self) -> list[UnitResult]:
        """Results by rank, then unit."""
        return sorted(self.results, key=lambda r: (r.rank, r.unit))

    def poorly_covered(self) -> list[UnitResult]:
        return [r for r in self.results if r.poorly_covered]

    def by_unit(self) -> dict[str, UnitResult]:
        return {r.unit: r for r in self.results}


def _node_matrix(system: IndicatorSystem) -> tuple[tuple[str, ...], FloatArray]:
    """Node ids and a ``leaves × nodes`` 0/1 matrix: which leaves each node sums."""
    node_ids = tuple(node.id for node in system.nodes())
    column = {node_id: k for k, node_id in enumerate(node_ids)}
    member = np.zeros((len(system.leaves), len(node_ids)))
    for j, leaf in enumerate(system.leaves):
        for ancestor in leaf.path:
            member[j, column[ancestor]] = 1.0
    return node_ids, member


def _records(ev: Evaluation) -> list[UnitResult]:
    """Per-unit records from whole-matrix operations (node sums, top losses) turned to lists."""
    system = ev.system
    weights = leaf_weights(system)
    lost = weights[None, :] - ev.points
    node_ids, member = _node_matrix(system)
    node_points = (ev.points @ member).tolist()
    top = np.argsort(-lost, axis=1, kind="stable")[:, :GAIN_TOP].tolist()
    leaf_ids = system.leaf_ids
    points_rows = ev.points.tolist()
    lost_rows = lost.tolist()
    present_rows = ev.present.tolist()
    robust = ev.robust
    out = []
    for i, unit in enumerate(ev.units):
        out.append(
            UnitResult(
                unit=unit,
                group=ev.groups[i],
                score=float(ev.scores[i]),
                stars=int(ev.stars[i]),
                rank=int(ev.ranks[i]),
                group_rank=int(ev.group_ranks[i]),
                points=dict(zip(leaf_ids, points_rows[i], strict=True)),
                missing=tuple(
                    leaf_id
                    for leaf_id, here in zip(leaf_ids, present_rows[i], strict=True)
                    if not here
                ),
                coverage=float(ev.coverage[i]),
                poorly_covered=bool(ev.coverage[i] < system.coverage_min),
                node_scores=dict(zip(node_ids, node_points[i], strict=True)),
                lost=dict(zip(leaf_ids, lost_rows[i], strict=True)),
                gains=tuple(
                    (leaf_ids[j], lost_rows[i][j]) for j in top[i] if lost_rows[i][j] > 1e-9
                ),
                rank_interval=(
                    (int(robust.rank_low[i]), int(robust.rank_high[i])) if robust else None
                ),
                star_stability=float(robust.star_stability[i]) if robust else None,
            )
        )
    return out


def evaluate(
    system: IndicatorSystem,
    matrix: ValueMatrix,
    *,
    uncertainty: int = 0,
    seed: int = DEFAULT_SEED,
    spread: float = DEFAULT_SPREAD,
) -> Evaluation:
    """Score, rate and rank every unit of ``matrix`` on ``system`` (vectorised)."""
    earned = fractions(system, matrix)
    weights = leaf_weights(system)
    points = earned * weights[None, :]
    totals = points.sum(axis=1)
    codes, _ = group_codes(matrix.groups)
    thresholds = threshold_matrix(system, matrix.groups)
    gates = gates_open(system, matrix)
    stars = star_levels(totals, thresholds, gates)
    present = matrix.present
    n_leaves = len(matrix.leaf_ids)
    coverage = present.sum(axis=1) / n_leaves if n_leaves else np.ones(len(matrix.units))
    robust = (
        robustness(earned, weights, thresholds, gates, stars, uncertainty, spread=spread, seed=seed)
        if uncertainty > 0 and len(matrix.units)
        else None
    )
    return Evaluation(
        system=system,
        units=matrix.units,
        groups=matrix.groups,
        points=points,
        present=present,
        scores=totals,
        stars=stars,
        ranks=competition_ranks(totals),
        group_ranks=group_ranks(totals, codes),
        coverage=coverage,
        robust=robust,
    )


def evaluate_records(
    system: IndicatorSystem,
    records: Sequence[Mapping[str, Any]],
    groups: Mapping[str, str] | None = None,
    *,
    uncertainty: int = 0,
    seed: int = DEFAULT_SEED,
) -> Evaluation:
    """Convenience: evaluate ``unit, indicator, value`` records directly."""
    return evaluate(
        system, build_matrix(system, records, groups), uncertainty=uncertainty, seed=seed
    )
