"""The shipped presets load, name real metrics, explain every weight, and are documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from govwatch.errors import InputError
from govwatch.evaluation.metrics.definitions import METRICS
from govwatch.evaluation.presets import load_preset, preset_names, resolve_system

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_both_presets_ship() -> None:
    assert preset_names() == ["online-service", "supervision-performance"]


@pytest.mark.parametrize("name", ["online-service", "supervision-performance"])
def test_preset_leaves_name_catalog_metrics_and_say_why(name: str) -> None:
    system = load_preset(name)
    metric_ids = {m.id for m in METRICS}
    for leaf in system.leaves:
        assert leaf.description, f"{leaf.id} has no why"
        if leaf.source == "metric":
            assert leaf.metric in metric_ids, leaf.id
        if leaf.metric:
            assert leaf.metric in metric_ids, leaf.id
    doc = (DOCS / "presets.md").read_text(encoding="utf-8")
    assert all(f"`{leaf.id}`" in doc for leaf in system.leaves)


def test_online_service_has_the_five_dimensions() -> None:
    system = load_preset("online-service")
    assert [n.name for n in system.indicators] == [
        "服务方式完备度",
        "服务事项覆盖度",
        "办事指南准确度",
        "在线服务深度",
        "在线服务成效度",
    ]
    sources = {leaf.source for leaf in system.leaves}
    assert {"metric", "filled", "check", "rating", "survey"} <= sources


def test_unknown_preset_name_is_refused() -> None:
    with pytest.raises(InputError):
        load_preset("nope")
    with pytest.raises(InputError):
        resolve_system("nope")
