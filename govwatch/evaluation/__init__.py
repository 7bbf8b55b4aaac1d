"""Evaluation (评估评价): indicator systems, scoring, stars, ranks, robustness, metrics, rounds.

Public API for other parts (web, reports):

- :func:`load_system`, :func:`parse_system`, :class:`IndicatorSystem`: indicator systems.
- :func:`evaluate`, :func:`evaluate_records`, :class:`Evaluation`, :class:`UnitResult`: scoring.
- :func:`build_matrix`, :func:`read_values`, :func:`read_groups`: value files.
"""

from __future__ import annotations

from govwatch.evaluation.systems.results import Evaluation, UnitResult, evaluate, evaluate_records
from govwatch.evaluation.systems.system import IndicatorSystem, Leaf, Node
from govwatch.evaluation.systems.system_file import load_system, parse_system
from govwatch.evaluation.systems.values import build_matrix, read_groups, read_values

__all__ = [
    "Evaluation",
    "IndicatorSystem",
    "Leaf",
    "Node",
    "UnitResult",
    "build_matrix",
    "evaluate",
    "evaluate_records",
    "load_system",
    "parse_system",
    "read_groups",
    "read_values",
]
