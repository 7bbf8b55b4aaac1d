"""Each scale and direction of spec/evaluation.md, on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from .helpers import run, system


def one_leaf(points_rest: float = 0, **leaf: object) -> object:
    leaves = [{"id": "x", "name": "被测", "points": 100 - points_rest, "source": "metric", **leaf}]
    if points_rest:
        leaves.append(
            {
                "id": "rest",
                "name": "其余",
                "points": points_rest,
                "source": "filled",
                "scale": "boolean",
            }
        )
    return system(leaves)


def points_of(sys_: object, **values: object) -> dict[str, float]:
    res = run(sys_, {u: {"x": v} for u, v in values.items()})  # type: ignore[arg-type]
    return {u: r.points["x"] for u, r in res.items()}


def test_ratio_higher_earns_points_times_clamped_value() -> None:
    s = one_leaf(scale="ratio", points_rest=80)  # 20 points
    got = points_of(s, a=0.85, b=1.3, c=-0.2, d=0)
    assert got == pytest.approx({"a": 17.0, "b": 20.0, "c": 0.0, "d": 0.0})


def test_ratio_lower_earns_points_times_one_minus_value() -> None:
    s = one_leaf(scale="ratio", better="lower", points_rest=80)
    got = points_of(s, a=0.25, b=1.5, c=-1)
    assert got == pytest.approx({"a": 15.0, "b": 0.0, "c": 20.0})


def test_target_higher_is_capped_at_full_points() -> None:
    s = one_leaf(scale="target", target=0.9, points_rest=90)  # 10 points
    got = points_of(s, a=0.45, b=0.9, c=0.99, d=0)
    assert got == pytest.approx({"a": 5.0, "b": 10.0, "c": 10.0, "d": 0.0})


def test_target_lower_gives_full_points_at_or_below_target_and_for_zero() -> None:
    s = one_leaf(scale="target", target=2, better="lower", points_rest=90)
    got = points_of(s, a=4, b=2, c=1, d=0)
    assert got == pytest.approx({"a": 5.0, "b": 10.0, "c": 10.0, "d": 10.0})


def test_minmax_higher_spreads_points_between_group_min_and_max() -> None:
    s = one_leaf(scale="minmax", points_rest=90)
    got = points_of(s, a=10, b=20, c=30, d=15)
    assert got == pytest.approx({"a": 0.0, "b": 5.0, "c": 10.0, "d": 2.5})


def test_minmax_lower_reverses_direction() -> None:
    s = one_leaf(scale="minmax", better="lower", points_rest=90)
    got = points_of(s, a=10, b=20, c=30)
    assert got == pytest.approx({"a": 10.0, "b": 5.0, "c": 0.0})


def test_minmax_all_equal_earns_full_points() -> None:
    s = one_leaf(scale="minmax", points_rest=90)
    assert points_of(s, a=3, b=3) == pytest.approx({"a": 10.0, "b": 10.0})


def test_minmax_single_unit_earns_full_points() -> None:
    s = one_leaf(scale="minmax", points_rest=90)
    assert points_of(s, a=0.1) == pytest.approx({"a": 10.0})


def test_minmax_is_computed_within_each_group() -> None:
    s = one_leaf(scale="minmax", points_rest=90)
    res = run(
        s,
        {"a": {"x": 10}, "b": {"x": 20}, "c": {"x": 100}, "d": {"x": 200}},
        groups={"a": "城市", "b": "城市", "c": "县区", "d": "县区"},
    )
    assert {u: r.points["x"] for u, r in res.items()} == pytest.approx(
        {"a": 0.0, "b": 10.0, "c": 0.0, "d": 10.0}
    )


def test_minmax_ignores_units_missing_the_value() -> None:
    s = one_leaf(scale="minmax", points_rest=90)
    res = run(s, {"a": {"x": 10}, "b": {"x": 20}, "c": {"x": None}})
    assert res["c"].points["x"] == 0.0 and "x" in res["c"].missing
    assert res["b"].points["x"] == pytest.approx(10.0)


def test_bands_higher_take_first_listed_band_reached() -> None:
    s = one_leaf(scale="bands", bands=[[0.9, 10], [0.8, 6], [0.5, 2]], points_rest=90)
    got = points_of(s, a=0.95, b=0.9, c=0.85, d=0.5, e=0.49)
    assert got == pytest.approx({"a": 10.0, "b": 10.0, "c": 6.0, "d": 2.0, "e": 0.0})


def test_bands_lower_match_value_at_or_below_bound_in_listed_order() -> None:
    # spec example: average visits, better lower, [[0, 5], [1, 3], [2, 1]]
    s = one_leaf(scale="bands", better="lower", bands=[[0, 5], [1, 3], [2, 1]], points_rest=95)
    got = points_of(s, a=0, b=0.5, c=1, d=1.7, e=2, f=2.1)
    assert got == pytest.approx({"a": 5.0, "b": 3.0, "c": 3.0, "d": 1.0, "e": 1.0, "f": 0.0})


def test_bands_order_listed_wins_over_best_band() -> None:
    # listed order decides: a low bound first catches every value above it
    s = one_leaf(scale="bands", bands=[[0, 1], [10, 5]], points_rest=95)
    assert points_of(s, a=20) == pytest.approx({"a": 1.0})


@pytest.mark.parametrize("value", [1, "1", True, "true", "是", "TRUE"])
def test_boolean_true_forms_earn_points(value: object) -> None:
    s = one_leaf(scale="boolean", points_rest=95)
    assert points_of(s, a=value) == {"a": 5.0}


@pytest.mark.parametrize("value", [0, "0", False, "false", "否", 0.5, 2])
def test_boolean_other_values_earn_nothing(value: object) -> None:
    s = one_leaf(scale="boolean", points_rest=95)
    assert points_of(s, a=value) == {"a": 0.0}


def test_boolean_lower_earns_points_when_false() -> None:
    s = one_leaf(scale="boolean", better="lower", points_rest=95)
    assert points_of(s, a=0, b=1) == {"a": 5.0, "b": 0.0}


def test_percent_text_is_a_ratio() -> None:
    s = one_leaf(scale="ratio", points_rest=80)
    assert points_of(s, a="85%") == pytest.approx({"a": 17.0})


def test_node_score_is_sum_of_children_and_total_of_top_nodes() -> None:
    s = system(
        [
            {
                "id": "a",
                "name": "A",
                "children": [
                    {"id": "a.1", "name": "A1", "points": 30, "scale": "ratio"},
                    {
                        "id": "a.2",
                        "name": "A2",
                        "children": [
                            {"id": "a.2.x", "name": "A2x", "points": 20, "scale": "boolean"},
                        ],
                    },
                ],
            },
            {"id": "b", "name": "B", "points": 50, "scale": "target", "target": 10},
        ]
    )
    res = run(s, {"u": {"a.1": 0.5, "a.2.x": "是", "b": 4}})["u"]
    assert res.node_scores == pytest.approx({"a": 35.0, "a.2": 20.0})
    assert res.score == pytest.approx(15 + 20 + 20)
    assert not math.isnan(res.score)
