"""Indicator system files: the spec's example loads; malformed systems are refused clearly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from govwatch.errors import ValidationError
from govwatch.evaluation.systems.system_file import load_system, parse_system

SPEC_EXAMPLE = """
name: 网上政务服务能力评估
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
gates:
  3: [online.preaccept]
indicators:
  - id: reach
    name: 服务方式完备度
    children:
      - {id: reach.channels, name: 多渠道服务, points: 5, source: filled, scale: ratio}
      - {id: reach.identity, name: 统一身份认证, points: 5, source: metric, scale: boolean}
  - id: online
    name: 在线办理
    children:
      - {id: online.preaccept, name: 网上预审, points: 10, source: check, scale: boolean}
      - {id: online.rating, name: 好评率, points: 55, source: rating, scale: ratio}
  - id: depth
    name: 在线服务深度
    children:
      - {id: depth.full_online, name: 全程网办比例, points: 20, source: metric, scale: target,
         target: 0.9}
      - {id: depth.visits, name: 平均跑动次数, points: 5, source: metric, scale: bands,
         better: lower,
         bands: [[0, 5], [1, 3], [2, 1]]}
"""


def refuse(text: str) -> str:
    with pytest.raises(ValidationError) as info:
        parse_system(textwrap.dedent(text))
    return str(info.value)


def leafy(*leaves: str, extra: str = "") -> str:
    body = "\n".join(f"  - {leaf}" for leaf in leaves)
    return f"name: 测试\n{extra}indicators:\n{body}\n"


def test_spec_example_loads_with_its_tree_and_defaults() -> None:
    s = parse_system(SPEC_EXAMPLE)
    assert s.leaf_ids == (
        "reach.channels",
        "reach.identity",
        "online.preaccept",
        "online.rating",
        "depth.full_online",
        "depth.visits",
    )
    visits = s.leaf("depth.visits")
    assert visits.better == "lower" and visits.bands == ((0, 5), (1, 3), (2, 1))
    assert visits.path == ("depth",)
    assert s.thresholds == {2: 60, 3: 70, 4: 80, 5: 90}
    assert s.gates == {3: ("online.preaccept",)}
    assert s.leaf("reach.channels").better == "higher"


def test_load_system_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC_EXAMPLE, encoding="utf-8")
    assert load_system(path).name == "网上政务服务能力评估"


def test_points_not_adding_to_100_are_refused_with_the_sum() -> None:
    msg = refuse(leafy("{id: a, points: 60, scale: ratio}", "{id: b, points: 35, scale: ratio}"))
    assert "95" in msg and "100" in msg


def test_points_above_100_are_refused_with_the_sum() -> None:
    msg = refuse(leafy("{id: a, points: 60, scale: ratio}", "{id: b, points: 45.5, scale: ratio}"))
    assert "105.5" in msg


def test_deep_tree_sums_leaves_at_every_depth() -> None:
    s = parse_system(
        leafy(
            "{id: a, children: [{id: a.b, children: [{id: a.b.c, points: 70, scale: ratio}]}]}",
            "{id: d, points: 30, scale: boolean}",
        )
    )
    assert s.leaf("a.b.c").path == ("a", "a.b")


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ("{id: a, points: 100, scale: linear}", "scale"),
        ("{id: a, points: 100}", "scale"),
        ("{id: a, points: 100, scale: ratio, source: guess}", "source"),
        ("{id: a, points: 100, scale: ratio, better: bigger}", "better"),
        ("{id: a, points: 100, scale: target}", "target"),
        ("{id: a, points: 100, scale: target, target: 0}", "target"),
        ("{id: a, points: 100, scale: bands}", "bands"),
        ("{id: a, points: 100, scale: bands, bands: [[1]]}", "[界值, 分值]"),
        ("{id: a, points: 100, scale: bands, bands: [[1, 120]]}", "分档分值"),
        ("{id: a, scale: ratio}", "points"),
        ("{id: a, points: -100, scale: ratio}", "points"),
        ("{id: a, points: abc, scale: ratio}", "数字"),
        ("{name: 无编号, points: 100, scale: ratio}", "id"),
        ("{id: a, points: 100, scale: ratio, wieght: 3}", "wieght"),
        ("{id: a, children: []}", "children"),
    ],
)
def test_malformed_leaf_is_refused_naming_the_problem(leaf: str, expected: str) -> None:
    assert expected in refuse(leafy(leaf))


def test_duplicate_ids_are_refused() -> None:
    assert "重复" in refuse(
        leafy("{id: a, points: 50, scale: ratio}", "{id: a, points: 50, scale: ratio}")
    )


def test_gate_on_unknown_indicator_is_refused() -> None:
    msg = refuse(leafy("{id: a, points: 100, scale: ratio}", extra="gates: {3: [nope]}\n"))
    assert "nope" in msg


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("thresholds: {1: 50}\n", "星级"),
        ("thresholds: {2: 70, 3: 60}\n", "应高于"),
        ("thresholds: {2: 160}\n", "0–100"),
        ("group_thresholds: {城市: {3: 50}}\n", "应高于"),
        ("gates: {6: [a]}\n", "星级"),
        ("colour: red\n", "colour"),
    ],
)
def test_malformed_thresholds_and_top_level_are_refused(extra: str, expected: str) -> None:
    assert expected in refuse(leafy("{id: a, points: 100, scale: ratio}", extra=extra))


def test_node_points_must_match_its_leaves() -> None:
    msg = refuse(leafy("{id: a, points: 50, children: [{id: a.1, points: 100, scale: ratio}]}"))
    assert "50" in msg and "100" in msg


def test_not_yaml_and_not_a_mapping_are_refused() -> None:
    assert "YAML" in refuse("name: [unclosed")
    assert "映射" in refuse("- just a list")


def test_system_digest_is_stable_and_changes_with_weights() -> None:
    a = parse_system(
        leafy("{id: a, points: 60, scale: ratio}", "{id: b, points: 40, scale: ratio}")
    )
    b = parse_system(
        leafy("{id: a, points: 60, scale: ratio}", "{id: b, points: 40, scale: ratio}")
    )
    c = parse_system(
        leafy("{id: a, points: 50, scale: ratio}", "{id: b, points: 50, scale: ratio}")
    )
    assert a.digest() == b.digest() != c.digest()


def test_category_names_item_type_codes() -> None:
    s = parse_system(leafy("{id: a, points: 100, scale: ratio, category: '01, 20'}"))
    assert s.leaf("a").item_types == ("01", "20")
    assert "category" in refuse(leafy("{id: a, points: 100, scale: ratio, category: 企业}"))
