"""Stars, gates, ranks with ties, groups and group thresholds, missing values and coverage."""

from __future__ import annotations

import pytest

from .helpers import run, system

# Four leaves of 25 points: a unit's score is 25 × (number of true values) plus ratio parts.
LEAVES = [
    {"id": "a", "name": "甲", "points": 40, "scale": "ratio"},
    {"id": "b", "name": "乙", "points": 30, "scale": "ratio"},
    {"id": "gate", "name": "网上预审", "points": 10, "scale": "boolean"},
    {"id": "c", "name": "丙", "points": 20, "scale": "ratio"},
]


def with_score(score: float, gate: object = 1) -> dict[str, object]:
    """Values giving exactly ``score`` with the gate leaf at ``gate``: fill a, b, c in order."""
    rest = score - (10 if gate in (1, "是") else 0)
    a = min(rest, 40)
    b = min(rest - a, 30)
    c = rest - a - b
    return {"a": a / 40, "b": b / 30, "gate": gate, "c": c / 20}


def test_stars_follow_default_thresholds_and_zero_below_the_lowest() -> None:
    s = system(LEAVES)
    res = run(
        s,
        {
            "u59": with_score(59.99),
            "u60": with_score(60),
            "u75": with_score(75),
            "u80": with_score(80),
            "u90": with_score(90),
            "u100": with_score(100),
        },
    )
    assert {u: r.stars for u, r in res.items()} == {
        "u59": 0,
        "u60": 2,
        "u75": 3,
        "u80": 4,
        "u90": 5,
        "u100": 5,
    }


def test_stars_use_the_system_thresholds() -> None:
    s = system(LEAVES, thresholds={2: 50, 3: 65, 4: 85, 5: 95})
    res = run(s, {"x": with_score(64.5), "y": with_score(94), "z": with_score(49)})
    assert (res["x"].stars, res["y"].stars, res["z"].stars) == (2, 4, 0)


def test_score_summed_in_float_still_reaches_threshold() -> None:
    # 0.1 + 0.2 + 0.4 is 0.7000000000000001 in floats; 70 points must still earn 3 stars
    s = system(
        [
            {"id": "p", "name": "p", "points": 10, "scale": "ratio"},
            {"id": "q", "name": "q", "points": 20, "scale": "ratio"},
            {"id": "r", "name": "r", "points": 70, "scale": "ratio"},
        ]
    )
    res = run(s, {"u": {"p": 1.0, "q": 1.0, "r": 0.1 / 0.7 + 0.2 / 0.7 + 0.4 / 0.7 - 3 / 7}})
    assert res["u"].score == pytest.approx(70.0)
    assert res["u"].stars == 3


def test_failed_gate_caps_stars_below_its_level() -> None:
    s = system(LEAVES, gates={3: ["gate"]})
    res = run(s, {"open": with_score(95, gate=1), "shut": with_score(89, gate=0)})
    assert res["open"].stars == 5
    # 89 points would be 4 stars; the 3-star gate fails, so at most 2
    assert res["shut"].stars == 2


def test_gate_of_a_lower_level_also_blocks_higher_levels() -> None:
    s = system(LEAVES, gates={2: ["gate"]})
    res = run(s, {"u": with_score(85, gate=0)})
    assert res["u"].stars == 0


def test_missing_gate_value_fails_the_gate() -> None:
    s = system(LEAVES, gates={4: ["gate"]})
    values = with_score(85)
    values.pop("gate")
    values["c"] = 1.0  # 40 + 30 + 20 = 90 without the gate leaf
    res = run(s, {"u": values})
    assert res["u"].score == pytest.approx(90)
    assert res["u"].stars == 3


def test_equal_scores_share_a_rank_and_the_next_rank_is_skipped() -> None:
    s = system(LEAVES)
    res = run(
        s, {"a": with_score(90), "b": with_score(80), "c": with_score(80), "d": with_score(70)}
    )
    assert {u: r.rank for u, r in res.items()} == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_ties_from_different_float_sums_are_equal() -> None:
    s = system(
        [
            {"id": "p", "name": "p", "points": 50, "scale": "ratio"},
            {"id": "q", "name": "q", "points": 50, "scale": "ratio"},
        ]
    )
    res = run(s, {"a": {"p": 0.1, "q": 0.2}, "b": {"p": 0.2, "q": 0.1}, "c": {"p": 0.3, "q": 0.0}})
    assert {r.rank for r in res.values()} == {1}


def test_group_ranks_rank_within_each_group() -> None:
    s = system(LEAVES)
    groups = {"a": "城市", "b": "县区", "c": "城市", "d": "县区", "e": "县区"}
    res = run(
        s,
        {
            "a": with_score(95),
            "b": with_score(90),
            "c": with_score(70),
            "d": with_score(90),
            "e": with_score(60),
        },
        groups,
    )
    assert {u: (r.rank, r.group_rank, r.group) for u, r in res.items()} == {
        "a": (1, 1, "城市"),
        "b": (2, 1, "县区"),
        "c": (4, 2, "城市"),
        "d": (2, 1, "县区"),
        "e": (5, 3, "县区"),
    }


def test_without_groups_group_is_none_and_group_rank_is_rank() -> None:
    s = system(LEAVES)
    res = run(s, {"a": with_score(95), "b": with_score(90)})
    assert [(r.group, r.group_rank) for r in res.values()] == [(None, 1), (None, 2)]


def test_group_thresholds_replace_the_levels_they_name() -> None:
    s = system(LEAVES, group_thresholds={"县区": {2: 55, 3: 65}})
    groups = {"city": "城市", "county": "县区", "county2": "县区"}
    res = run(
        s, {"city": with_score(66), "county": with_score(66), "county2": with_score(56)}, groups
    )
    assert res["city"].stars == 2
    assert res["county"].stars == 3
    assert res["county2"].stars == 2


def test_missing_values_earn_zero_and_are_listed_in_system_order() -> None:
    s = system(LEAVES)
    res = run(s, {"u": {"c": 1.0, "a": 0.5}})["u"]
    assert res.points == {"a": 20.0, "b": 0.0, "gate": 0.0, "c": 20.0}
    assert res.missing == ("b", "gate")
    assert res.score == 40.0


def test_unit_with_less_than_65_percent_of_indicators_is_poorly_covered() -> None:
    s = system(LEAVES)
    res = run(s, {"two": {"a": 1, "b": 1}, "three": {"a": 1, "b": 1, "c": 1}})
    assert res["two"].coverage == 0.5 and res["two"].poorly_covered
    assert res["three"].coverage == 0.75 and not res["three"].poorly_covered


def test_unit_only_in_groups_file_has_everything_missing() -> None:
    s = system(LEAVES)
    res = run(s, {"a": with_score(80)}, {"a": "城市", "ghost": "城市"})
    assert res["ghost"].score == 0.0 and res["ghost"].missing == ("a", "b", "gate", "c")
    assert res["ghost"].poorly_covered and res["ghost"].group_rank == 2


def test_gain_most_lists_the_largest_lost_points() -> None:
    s = system(LEAVES)
    res = run(s, {"u": {"a": 1.0, "b": 0.5, "gate": 0, "c": 0.0}})["u"]
    assert res.gains == (("c", 20.0), ("b", 15.0), ("gate", 10.0))
