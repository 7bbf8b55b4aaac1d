"""What a supervision rule is, and what it finds.

A rule is metadata (id, class, type, level, parameters, legal basis, a Chinese description)
plus one set-based SQL query over the canonical case views (:mod:`govwatch.rules.views`). The
query is written once in the SQL subset DuckDB and PostgreSQL share; sqlglot carries it to
Spark. A query selects ``case_id``, ``key``, ``level``, ``arose_at`` and then the rule's evidence
columns, in that order, and joins ``gw_case AS s`` so that parameters and levels can depend on
the case's region, department and item (see :mod:`govwatch.rules.settings`).

``arose_at`` is when the anomaly arose, at the level found (an alert's ``occurred_at``, beside
``first_seen_at``, when govwatch detected it): the moment a limit or a warning point was passed,
from the clocks (timeliness rules and the overruns of pauses); the moment of the event that
broke the rule (event and content rules); for a count over a limit (``repeated_supplement``,
``repeated_return``) the event that went over it; for a graded rule the moment its current
level was reached. It is computed in the same set-based query, never per row in Python, and is
not part of the audit's output (spec/interface.md). The column is not called ``occurred_at``
because several rules have evidence of that name (the offending event's time).

Placeholders in the query: ``{level}`` is the rule's level for the case, ``{<param>}`` each
parameter's value for the case, both already SQL expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from govwatch import vocabulary

Level = Literal["warning", "yellow", "red"]
LEVELS: tuple[Level, ...] = ("warning", "yellow", "red")
LEVEL_NAMES: Mapping[str, str] = vocabulary.LEVEL_NAMES
LEVEL_RANK: Mapping[str, int] = {"warning": 1, "yellow": 2, "red": 3}

CLASS_NAMES: Mapping[str, str] = vocabulary.CLASS_NAMES
# The eleven seed types of rules.md and the class each belongs to.
TYPE_CLASSES: Mapping[str, str] = vocabulary.ANOMALY_TYPE_CLASSES

ParamValue = int | float | str
ParamKind = Literal["int", "float", "unit", "level"]


@dataclass(frozen=True)
class Param:
    """A tunable parameter of a rule, with its default and what it means (Chinese)."""

    name: str
    default: ParamValue
    kind: ParamKind
    description: str

    def coerce(self, value: object) -> ParamValue:
        """Check a value given by an administrator; raise ValueError saying what is expected."""
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int | str | float):
                raise ValueError(f"参数 {self.name} 应为非负整数，收到“{value}”")
            try:
                number = int(str(value))
            except ValueError as exc:
                raise ValueError(f"参数 {self.name} 应为非负整数，收到“{value}”") from exc
            if number < 0:
                raise ValueError(f"参数 {self.name} 应为非负整数，收到“{value}”")
            return number
        if self.kind == "float":
            try:
                real = float(str(value))
            except ValueError as exc:
                raise ValueError(f"参数 {self.name} 应为非负数，收到“{value}”") from exc
            if real < 0:
                raise ValueError(f"参数 {self.name} 应为非负数，收到“{value}”")
            return real
        if self.kind == "unit":
            if value not in ("W", "N"):
                raise ValueError(f"参数 {self.name} 应为 W（工作日）或 N（自然日），收到“{value}”")
            return str(value)
        if value not in LEVELS:
            raise ValueError(f"参数 {self.name} 应为 warning、yellow 或 red，收到“{value}”")
        return str(value)


Evidence = dict[str, Any]
MessageFn = Callable[[Evidence], str]


@dataclass(frozen=True)
class Rule:
    """One rule of the catalog (built-in or custom)."""

    id: str
    rule_class: str
    rule_type: str
    level: Level
    description: str
    legal_basis: str
    sql: str
    evidence: tuple[str, ...]
    message: MessageFn
    key: str = ""
    params: tuple[Param, ...] = ()
    # Graded rules compute their level in SQL from level-valued parameters; ``level`` is then
    # the lowest level they raise and cannot be overridden directly.
    graded: bool = False
    # Findings that appear or change with the passing of time alone (the sweeper's concern).
    time_driven: bool = False
    custom: bool = False
    needs_clock: bool = False

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = "、".join(p.name for p in self.params) or "（无参数）"
        raise KeyError(f"规则 {self.id} 没有参数 {name}；可用参数：{known}")


@dataclass(frozen=True)
class Finding:
    """One finding: a rule that holds on a case, at a level, with its evidence."""

    case_id: str
    rule: str
    rule_class: str
    rule_type: str
    level: str
    key: str
    message: str
    evidence: Evidence = field(default_factory=dict)
    # When the anomaly arose: the query's ``arose_at``, never after the moment evaluated; the
    # alert's ``occurred_at``. Not part of the output record of interface.md (see as_dict).
    occurred_at: datetime | None = None

    def identity(self) -> tuple[str, str, str]:
        return (self.case_id, self.rule, self.key)

    def as_dict(self) -> dict[str, Any]:
        """The output record of interface.md, keys in its order."""
        return {
            "case_id": self.case_id,
            "rule": self.rule,
            "class": self.rule_class,
            "type": self.rule_type,
            "level": self.level,
            "key": self.key,
            "message": self.message,
            "evidence": self.evidence,
        }


def unit_name(unit: object) -> str:
    """A limit's unit as it follows a number in a message: ``3个工作日``."""
    return "个" + vocabulary.unit_name(unit)
