"""Weight perturbation: rank intervals and star stability."""

from __future__ import annotations

import numpy as np
import pytest

from govwatch.evaluation.systems.robustness import perturbed_weights
from govwatch.evaluation.systems.scoring import column_ranks, competition_ranks

from .helpers import run, system

TWO = [
    {"id": "p", "name": "p", "points": 50, "scale": "ratio"},
    {"id": "q", "name": "q", "points": 50, "scale": "ratio"},
]


def test_perturbed_weights_stay_within_twenty_percent_and_sum_to_100() -> None:
    w = np.array([50.0, 30.0, 20.0])
    runs = perturbed_weights(w, 2000, seed=1)
    assert runs.shape == (2000, 3)
    assert np.allclose(runs.sum(axis=1), 100.0)
    ratio = runs / w
    # ±20% before rescaling; rescaling keeps ratios within 0.8·0.8/1.2 … 1.2·1.2/0.8
    assert ratio.min() > 0.8 * 0.8 / 1.2 and ratio.max() < 1.2 * 1.2 / 0.8
    assert ratio.min() < 0.85 and ratio.max() > 1.15


def test_column_ranks_match_competition_ranks_of_each_column() -> None:
    rng = np.random.default_rng(3)
    totals = np.round(rng.uniform(0, 100, size=(40, 7)), 0)  # many ties
    got = column_ranks(totals)
    for j in range(7):
        assert (got[:, j] == competition_ranks(totals[:, j])).all()


def test_unit_dominating_on_every_indicator_keeps_rank_and_stars() -> None:
    s = system(TWO)
    res = run(
        s,
        {"top": {"p": 1, "q": 1}, "mid": {"p": 0.7, "q": 0.7}, "low": {"p": 0.1, "q": 0.2}},
        uncertainty=500,
    )
    assert res["top"].rank_interval == (1, 1) and res["top"].star_stability == 1.0
    assert res["mid"].rank_interval == (2, 2) and res["mid"].star_stability == 1.0
    assert res["low"].rank_interval == (3, 3)


def test_units_trading_off_indicators_get_wide_intervals() -> None:
    s = system(TWO)
    res = run(s, {"a": {"p": 1.0, "q": 0.0}, "b": {"p": 0.0, "q": 1.0}}, uncertainty=1000)
    assert res["a"].rank_interval == (1, 2) and res["b"].rank_interval == (1, 2)


def test_score_on_a_threshold_keeps_its_star_in_about_half_the_runs() -> None:
    # 50 + 20 = 70 exactly: 3 stars; any weight shift between p and q moves it across 70
    s = system(TWO)
    res = run(s, {"edge": {"p": 1.0, "q": 0.4}, "safe": {"p": 1.0, "q": 1.0}}, uncertainty=2000)
    assert res["edge"].stars == 3
    assert res["edge"].star_stability == pytest.approx(0.5, abs=0.05)
    assert res["safe"].star_stability == 1.0


def test_uncertainty_is_deterministic_for_a_seed() -> None:
    s = system(TWO)
    values = {
        u: {"p": v, "q": 1 - v}
        for u, v in zip("abcdef", [0.1, 0.3, 0.45, 0.5, 0.7, 0.9], strict=True)
    }
    one = run(s, values, uncertainty=300)
    two = run(s, values, uncertainty=300)
    assert {u: (r.rank_interval, r.star_stability) for u, r in one.items()} == {
        u: (r.rank_interval, r.star_stability) for u, r in two.items()
    }


def test_without_uncertainty_no_interval_is_given() -> None:
    res = run(system(TWO), {"a": {"p": 1, "q": 1}})
    assert res["a"].rank_interval is None and "rank_interval" not in res["a"].to_json()
