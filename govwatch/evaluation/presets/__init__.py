"""Shipped indicator systems: ``online-service`` and ``supervision-performance``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from govwatch.errors import InputError
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.system_file import load_system, parse_system


def preset_names() -> list[str]:
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(".yaml")
    )


def load_preset(name: str) -> IndicatorSystem:
    if name not in preset_names():
        raise InputError(f"没有名为“{name}”的预置指标体系：可用 {', '.join(preset_names())}")
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return parse_system(text, origin=f"预置指标体系 {name}")


def resolve_system(name_or_path: str) -> IndicatorSystem:
    """A YAML file path, or the name of a preset."""
    path = Path(name_or_path)
    if not path.exists() and name_or_path in preset_names():
        return load_preset(name_or_path)
    return load_system(path)
