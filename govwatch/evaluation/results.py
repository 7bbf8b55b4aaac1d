"""Evaluating units on a system: scores, stars, ranks, coverage, explanation and robustness.

:func:`evaluate` is the pure function of (system, values, groups) that the stateless
``govwatch evaluate`` command, rounds and the web app all call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from govwatch.evaluation.robustness import DEFAULT_SEED, DEFAULT_SPREAD, robustness
from govwatch.evaluation.scoring import (
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
from govwatch.evaluation.system import IndicatorSystem

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
            out["gain_most"] = [{"indicator": i, "points": p} for i, p in self.gains]
        return out


@dataclass(frozen=True)
class Evaluation:
    system: IndicatorSystem
    results: tuple[UnitResult, ...]
    uncertainty_runs: int = 0

    def ordered(self) -> list[UnitResult]:
        """Results by rank, then unit."""
        return sorted(self.results, key=lambda r: (r.rank, r.unit))

    def poorly_covered(self) -> list[UnitResult]:
        return [r for r in self.results if r.poorly_covered]

    def by_unit(self) -> dict[str, UnitResult]:
        return {r.unit: r for r in self.results}


def _node_scores(system: IndicatorSystem, points_row: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for node in system.nodes():
        out[node.id] = 0.0
    for leaf in system.leaves:
        for ancestor in leaf.path:
            out[ancestor] += points_row[leaf.id]
    return out


def evaluate(
    system: IndicatorSystem,
    matrix: ValueMatrix,
    *,
    uncertainty: int = 0,
    seed: int = DEFAULT_SEED,
    spread: float = DEFAULT_SPREAD,
) -> Evaluation:
    """Score, rate and rank every unit of ``matrix`` on ``system``."""
    earned = fractions(system, matrix)
    weights = leaf_weights(system)
    points = earned * weights[None, :]
    totals = points.sum(axis=1)
    codes, _ = group_codes(matrix.groups)
    ranks = competition_ranks(totals)
    granks = group_ranks(totals, codes)
    thresholds = threshold_matrix(system, matrix.groups)
    gates = gates_open(system, matrix)
    stars = star_levels(totals, thresholds, gates)
    present = matrix.present
    n_leaves = len(matrix.leaf_ids)
    coverage = present.sum(axis=1) / n_leaves if n_leaves else np.ones(len(matrix.units))
    lost = weights[None, :] - points

    robust = (
        robustness(earned, weights, thresholds, gates, stars, uncertainty, spread=spread, seed=seed)
        if uncertainty > 0 and len(matrix.units)
        else None
    )
    results = []
    for i, unit in enumerate(matrix.units):
        row = {leaf_id: float(points[i, j]) for j, leaf_id in enumerate(matrix.leaf_ids)}
        order = np.argsort(-lost[i], kind="stable")[:GAIN_TOP]
        gains = tuple((matrix.leaf_ids[j], float(lost[i, j])) for j in order if lost[i, j] > 1e-9)
        results.append(
            UnitResult(
                unit=unit,
                group=matrix.groups[i],
                score=float(totals[i]),
                stars=int(stars[i]),
                rank=int(ranks[i]),
                group_rank=int(granks[i]),
                points=row,
                missing=tuple(
                    leaf_id for j, leaf_id in enumerate(matrix.leaf_ids) if not present[i, j]
                ),
                coverage=float(coverage[i]),
                poorly_covered=bool(coverage[i] < system.coverage_min),
                node_scores=_node_scores(system, row),
                gains=gains,
                rank_interval=(
                    (int(robust.rank_low[i]), int(robust.rank_high[i])) if robust else None
                ),
                star_stability=float(robust.star_stability[i]) if robust else None,
            )
        )
    return Evaluation(system, tuple(results), uncertainty if robust else 0)


def evaluate_records(
    system: IndicatorSystem,
    records: Sequence[Mapping[str, Any]],
    groups: Mapping[str, str] | None = None,
    *,
    uncertainty: int = 0,
    seed: int = DEFAULT_SEED,
) -> Evaluation:
    """Convenience: evaluate ``unit, indicator, value`` records directly."""
    from govwatch.evaluation.values import build_matrix

    return evaluate(
        system, build_matrix(system, records, groups), uncertainty=uncertainty, seed=seed
    )
