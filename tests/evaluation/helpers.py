"""Small builders for evaluation tests: systems from dicts, evaluation from rows."""

from __future__ import annotations

from typing import Any

from govwatch.evaluation import evaluate_records
from govwatch.evaluation.systems.results import Evaluation, UnitResult
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.system_file import system_from_dict


def system(leaves: list[dict[str, Any]], **top: Any) -> IndicatorSystem:
    return system_from_dict({"name": "测试体系", "indicators": leaves, **top})


def run(
    sys_: IndicatorSystem,
    values: dict[str, dict[str, Any]],
    groups: dict[str, str] | None = None,
    uncertainty: int = 0,
) -> dict[str, UnitResult]:
    rows = [
        {"unit": unit, "indicator": ind, "value": v}
        for unit, per in values.items()
        for ind, v in per.items()
    ]
    result: Evaluation = evaluate_records(sys_, rows, groups, uncertainty=uncertainty)
    return result.by_unit()
