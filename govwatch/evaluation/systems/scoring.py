"""Scoring: a pure, vectorised function of (system, values, groups).

Values are a ``units × leaves`` float matrix with NaN for a missing value. Every scale maps a
value to the *fraction* of the leaf's points it earns, in [0, 1]; points are that fraction
times the leaf's weight. Keeping the fraction separate from the weight is what lets the
robustness analysis re-weight thousands of times with one matrix product
(:mod:`govwatch.evaluation.systems.robustness`). ``bands`` earn a fixed number of points per band,
so their fraction is the band's points over the leaf's points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from govwatch.evaluation.systems.system import IndicatorSystem, Leaf

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

# Scores are sums of floats; two units whose scores differ by less than this share a rank and
# a star level (0.1 + 0.2 must tie with 0.3).
SCORE_DECIMALS = 9


@dataclass(frozen=True)
class ValueMatrix:
    """Values of every leaf for every unit, and each unit's group (``None``: no group)."""

    units: tuple[str, ...]
    leaf_ids: tuple[str, ...]
    values: FloatArray
    groups: tuple[str | None, ...]

    @property
    def present(self) -> BoolArray:
        return ~np.isnan(self.values)


def group_codes(groups: Sequence[str | None]) -> tuple[IntArray, list[str | None]]:
    """Integer code per unit and the distinct groups in order of first appearance."""
    names: list[str | None] = []
    index: dict[str | None, int] = {}
    codes = np.empty(len(groups), dtype=np.int64)
    for i, group in enumerate(groups):
        if group not in index:
            index[group] = len(names)
            names.append(group)
        codes[i] = index[group]
    return codes, names


def _scale_fraction(leaf: Leaf, column: FloatArray, codes: IntArray, n_groups: int) -> FloatArray:
    lower = leaf.lower_is_better
    with np.errstate(divide="ignore", invalid="ignore"):
        if leaf.scale == "ratio":
            clamped = np.clip(column, 0.0, 1.0)
            return 1.0 - clamped if lower else clamped
        if leaf.scale == "target":
            assert leaf.target is not None
            if lower:
                # value 0 (or below) earns full points: nothing can beat it
                frac = np.where(column <= 0, 1.0, leaf.target / column)
            else:
                frac = column / leaf.target
            return np.clip(frac, 0.0, 1.0)
        if leaf.scale == "boolean":
            hit = column == 1.0
            return np.where(~hit if lower else hit, 1.0, 0.0)
        if leaf.scale == "bands":
            frac = np.zeros_like(column)
            done = np.zeros(column.shape, dtype=bool)
            for bound, band_points in leaf.bands:
                match = (column <= bound) if lower else (column >= bound)
                take = match & ~done
                frac[take] = band_points / leaf.points
                done |= take
            return frac
        if leaf.scale == "minmax":
            return _minmax(column, codes, n_groups, lower)
    raise AssertionError(leaf.scale)


def _minmax(column: FloatArray, codes: IntArray, n_groups: int, lower: bool) -> FloatArray:
    """Min–max within each unit's group, over the units of that group that have a value."""
    finite = ~np.isnan(column)
    lo = np.full(n_groups, np.inf)
    hi = np.full(n_groups, -np.inf)
    np.minimum.at(lo, codes[finite], column[finite])
    np.maximum.at(hi, codes[finite], column[finite])
    span = (hi - lo)[codes]
    base = (hi[codes] - column) if lower else (column - lo[codes])
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(span > 0, base / span, 1.0)
    return np.clip(frac, 0.0, 1.0)


def fractions(system: IndicatorSystem, matrix: ValueMatrix) -> FloatArray:
    """Share of each leaf's points each unit earns (0 where the value is missing)."""
    leaves = system.leaves
    if tuple(leaf.id for leaf in leaves) != matrix.leaf_ids:
        raise ValueError("value matrix columns must be the system's leaves, in order")
    codes, names = group_codes(matrix.groups)
    out = np.zeros(matrix.values.shape, dtype=np.float64)
    for j, leaf in enumerate(leaves):
        column = matrix.values[:, j]
        frac = _scale_fraction(leaf, column, codes, len(names))
        out[:, j] = np.where(np.isnan(column), 0.0, frac)
    return out


def leaf_weights(system: IndicatorSystem) -> FloatArray:
    return np.array([leaf.points for leaf in system.leaves], dtype=np.float64)


def competition_ranks(scores: FloatArray) -> IntArray:
    """Rank highest first; equal scores share a rank (1, 2, 2, 4)."""
    keys = np.round(scores, SCORE_DECIMALS)
    ordered = np.sort(keys)
    return (len(keys) - np.searchsorted(ordered, keys, side="right") + 1).astype(np.int64)


def group_ranks(scores: FloatArray, codes: IntArray) -> IntArray:
    out = np.empty(len(scores), dtype=np.int64)
    for code in np.unique(codes):
        mask = codes == code
        out[mask] = competition_ranks(scores[mask])
    return out


def column_ranks(totals: FloatArray) -> IntArray:
    """Competition ranks of every column of a ``units × runs`` matrix, at once.

    Each run (a column, handled as a contiguous row) is sorted highest first; in sorted order
    a unit's rank is one more than the position of the first unit with its score, carried
    forward with a running maximum; the ranks are then scattered back to the units. The
    order among tied units does not matter, so the fast unstable sort is enough.
    """
    keys = np.ascontiguousarray(np.round(totals, SCORE_DECIMALS).T)
    order = np.argsort(-keys, axis=1)
    ordered = np.take_along_axis(keys, order, axis=1)
    positions = np.arange(keys.shape[1], dtype=np.int64)[None, :]
    starts = np.ones(keys.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
    ranks = np.empty(keys.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, first + 1, axis=1)
    out: IntArray = ranks.T
    return out


def threshold_matrix(system: IndicatorSystem, groups: Sequence[str | None]) -> FloatArray:
    """``units × 4`` minimum scores for 2…5 stars (NaN: the level is not awarded)."""
    levels = (2, 3, 4, 5)
    cache: dict[str | None, list[float]] = {}
    rows = []
    for group in groups:
        if group not in cache:
            own = system.thresholds_for(group)
            cache[group] = [own.get(level, np.nan) for level in levels]
        rows.append(cache[group])
    return np.array(rows, dtype=np.float64).reshape(len(groups), 4)


def gates_open(system: IndicatorSystem, matrix: ValueMatrix) -> BoolArray:
    """``units × 4``: may the unit hold 2…5 stars, as far as gates go (cumulative)."""
    index = {leaf_id: j for j, leaf_id in enumerate(matrix.leaf_ids)}
    n = len(matrix.units)
    allowed = np.ones(n, dtype=bool)
    out = np.zeros((n, 4), dtype=bool)
    for k, level in enumerate((2, 3, 4, 5)):
        for gate_id in system.gates.get(level, ()):
            column = matrix.values[:, index[gate_id]]
            allowed = allowed & ~np.isnan(column) & (column != 0)
        out[:, k] = allowed
    return out


def star_levels(totals: FloatArray, thresholds: FloatArray, gates: BoolArray) -> IntArray:
    """Stars for scores ``totals`` (units, or units × runs): 0, or 2…5."""
    keys = np.round(totals, SCORE_DECIMALS)
    two_d = keys.ndim == 2
    stars = np.zeros(keys.shape, dtype=np.int64)
    for k, level in enumerate((2, 3, 4, 5)):
        thr = thresholds[:, k]
        ok = gates[:, k]
        if two_d:
            reached = (keys >= np.round(thr, SCORE_DECIMALS)[:, None]) & ok[:, None]
            reached &= ~np.isnan(thr)[:, None]
        else:
            reached = (keys >= np.round(thr, SCORE_DECIMALS)) & ok & ~np.isnan(thr)
        stars = np.where(reached, level, stars)
    return stars
