"""Robustness of ranks and stars to the weights (spec/evaluation.md, "Beyond one number").

Weights are judgements. Each run multiplies every leaf weight by a factor drawn uniformly from
[1 − spread, 1 + spread] and rescales the weights to 100; a unit's points in a run are its
earned fractions (fixed by its values) times the run's weights, so all runs are one matrix
product. The result is each unit's rank interval (5th–95th percentile of its rank over the
runs) and the share of runs in which it keeps the star level it has with the published
weights. Runs are seeded: the same seed gives the same intervals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from govwatch.evaluation.systems.scoring import (
    BoolArray,
    FloatArray,
    IntArray,
    column_ranks,
    star_levels,
)

DEFAULT_SPREAD = 0.2
DEFAULT_SEED = 20180101
STABLE_SHARE = 0.5
_CHUNK = 256


@dataclass(frozen=True)
class Robustness:
    runs: int
    rank_low: IntArray
    rank_high: IntArray
    star_stability: FloatArray


def perturbed_weights(
    weights: FloatArray, runs: int, *, spread: float = DEFAULT_SPREAD, seed: int = DEFAULT_SEED
) -> FloatArray:
    """``runs × leaves`` weights: each leaf × U(1 − spread, 1 + spread), rescaled to the total."""
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1.0 - spread, 1.0 + spread, size=(runs, len(weights)))
    drawn = factors * weights[None, :]
    scaled: FloatArray = drawn * (weights.sum() / drawn.sum(axis=1, keepdims=True))
    return scaled


def robustness(
    earned: FloatArray,
    weights: FloatArray,
    thresholds: FloatArray,
    gates: BoolArray,
    base_stars: IntArray,
    runs: int,
    *,
    spread: float = DEFAULT_SPREAD,
    seed: int = DEFAULT_SEED,
) -> Robustness:
    """Rank intervals and star stability of ``units`` from ``runs`` perturbed weightings.

    ``earned`` is the ``units × leaves`` matrix of earned fractions (scoring.fractions).
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    all_weights = perturbed_weights(weights, runs, spread=spread, seed=seed)
    units = earned.shape[0]
    ranks = np.empty((units, runs), dtype=np.int64)
    kept = np.zeros(units, dtype=np.int64)
    for start in range(0, runs, _CHUNK):
        chunk = all_weights[start : start + _CHUNK]
        totals = earned @ chunk.T
        ranks[:, start : start + chunk.shape[0]] = column_ranks(totals)
        stars = star_levels(totals, thresholds, gates)
        kept += (stars == base_stars[:, None]).sum(axis=1)
    low = np.quantile(ranks, 0.05, axis=1, method="inverted_cdf").astype(np.int64)
    high = np.quantile(ranks, 0.95, axis=1, method="inverted_cdf").astype(np.int64)
    return Robustness(runs, low, high, kept / runs)
