"""The catalog as data: settings that enable, disable, re-level and re-parameterise rules.

A setting names a rule and a scope (everything, a region, a department or an item) and sets
any of ``enabled``, ``level`` and ``params``. For each case the most specific setting that
sets an attribute wins: item, then department, then region (a longer region prefix first:
``330100`` covers ``3301xx``), then everything, then the rule's default.

Resolution happens in SQL: each attribute becomes one expression over the case's scope
columns (``s.item_code``, ``s.department_code``, ``s.region_code``), a literal when nothing
narrower than "everything" sets it. The rule's query then runs once for all cases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from govwatch.errors import ValidationError
from govwatch.rules.model import LEVELS, Param, ParamValue, Rule
from govwatch.vocabulary import (
    LEVEL_NAMES,
    RULE_NAMES,
    RULE_PARAM_LABELS,
    SCOPE_NAMES,
    UNIT_NAMES,
    label,
    rule_name,
)

ScopeKind = Literal["all", "region", "department", "item"]
SCOPE_KINDS: tuple[ScopeKind, ...] = ("all", "region", "department", "item")


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind = "all"
    code: str = ""

    @staticmethod
    def parse(text: str | None) -> Scope:
        """``all``, ``region:330100``, ``department:CODE`` or ``item:CODE``."""
        if not text or text == "all":
            return Scope()
        kind, _, code = text.partition(":")
        if kind not in SCOPE_KINDS[1:] or not code.strip():
            raise ValidationError(
                f"适用范围“{text[:80]}”无法识别：应为 all（全局）、region:区划代码、"
                "department:部门编码 或 item:事项编码",
                field="scope",
            )
        return Scope(kind, code.strip())

    def __str__(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.code}"

    def title(self, name: str = "") -> str:
        """The scope in Chinese: 全局, or its kind's name and what it names, by ``name`` with
        the code in parentheses (部门 市场监管局（1139…）), by its code alone without one."""
        kind = label(SCOPE_NAMES, self.kind)
        if self.kind == "all":
            return kind
        return (
            f"{kind} {name}（{self.code}）" if name and name != self.code else f"{kind} {self.code}"
        )

    def region_prefix(self) -> str:
        """The code without its trailing ``00`` pairs: the prefix of the regions it covers."""
        prefix = self.code
        while len(prefix) > 2 and prefix.endswith("00"):
            prefix = prefix[:-2]
        return prefix

    def rank(self) -> tuple[int, int]:
        """Higher is more specific."""
        order = {"all": 0, "region": 1, "department": 2, "item": 3}[self.kind]
        return (order, len(self.region_prefix()) if self.kind == "region" else 0)


@dataclass(frozen=True)
class Setting:
    rule: str
    scope: Scope = field(default_factory=Scope)
    enabled: bool | None = None
    level: str | None = None
    params: tuple[tuple[str, ParamValue], ...] = ()

    def as_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"rule": self.rule, "scope": str(self.scope)}
        if self.enabled is not None:
            doc["enabled"] = self.enabled
        if self.level is not None:
            doc["level"] = self.level
        if self.params:
            doc["params"] = dict(self.params)
        return doc


def sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and not math.isfinite(value):
        # validate_setting refuses these; a query must never read ``nan`` as a column name
        raise ValidationError(f"参数值“{value}”不是有限数，不能用于规则查询", field="params")
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _condition(scope: Scope) -> str:
    if scope.kind == "item":
        return f"s.item_code = {sql_literal(scope.code)}"
    if scope.kind == "department":
        return f"s.department_code = {sql_literal(scope.code)}"
    return f"s.region_code LIKE {sql_literal(scope.region_prefix() + '%')}"


def resolve(settings: Sequence[tuple[Scope, object]], default: object) -> str:
    """A SQL expression choosing, per case, the most specific value set."""
    base = default
    narrow = []
    for scope, value in sorted(settings, key=lambda sv: sv[0].rank(), reverse=True):
        if scope.kind == "all":
            base = value
            break
        narrow.append((scope, value))
    if not narrow:
        return sql_literal(base)
    whens = " ".join(f"WHEN {_condition(sc)} THEN {sql_literal(v)}" for sc, v in narrow)
    return f"(CASE {whens} ELSE {sql_literal(base)} END)"


# The range a numeric parameter takes when its rule gives none (catalog.PARAM_RANGES does for
# every built-in parameter): finite, not negative, and small enough for any SQL engine.
DEFAULT_RANGE = (0.0, 1_000_000.0)
Range = tuple[float, float]
_INTEGER = re.compile(r"^[+-]?[0-9]{1,18}$")


def rule_title(rule: Rule) -> str:
    """A rule's Chinese name: the vocabulary's for a built-in rule, a custom rule's description
    (it has no other name; its id is only a key)."""
    if rule.id in RULE_NAMES:
        return rule_name(rule.id)
    return rule.description or rule.id


def param_label(rule_id: str, param: Param) -> tuple[str, str]:
    """(Chinese name, unit) of a rule's parameter; a parameter the vocabulary does not list
    (a newer rule's) is named by its description, without a unit."""
    return RULE_PARAM_LABELS.get(f"{rule_id}.{param.name}", (param.description, ""))


def shown_number(number: float) -> str:
    """A parameter's number as a person writes it: ``3``, ``0.01`` (never ``3.0``)."""
    return str(int(number)) if float(number).is_integer() else repr(float(number))


class ParamValueError(ValidationError):
    """A parameter's value refused: what was expected and what came, for the field it belongs to.

    ``str()`` names the rule and the parameter (in Chinese, with the parameter's key for the
    command line and the API); ``expected`` and ``received`` are what a form shows beside the
    field, which its label already names."""

    def __init__(
        self, rule: Rule, param: Param, expected: str, received: str, note: str = ""
    ) -> None:
        name, _ = param_label(rule.id, param)
        self.expected = expected
        self.received = received
        self.note = note
        super().__init__(
            f"规则“{rule_title(rule)}”的参数“{name}”（{param.name}）{self.beside_field}",
            field=f"params.{param.name}",
        )

    @property
    def beside_field(self) -> str:
        return f"{self.expected}，收到“{self.received}”" + (f"，{self.note}" if self.note else "")


def check_number(rule: Rule, param: Param, value: object, bounds: Range) -> int | float:
    """A numeric parameter's value, refused unless it is a finite number within ``bounds``.

    ``nan``, ``inf``, ``1e400``, text that is not a number, a boolean and anything out of the
    range are refused with a message naming the rule, the parameter and its range.
    """
    low, high = bounds
    whole = param.kind == "int"
    _, unit = param_label(rule.id, param)
    expected = (
        f"应为 {shown_number(low)} 到 {shown_number(high)} 之间的{'整数' if whole else '数'}"
        + (f"（单位：{unit}）" if unit else "")
    )
    shown = str(value)[:40]
    number: int | float | None = None
    if isinstance(value, bool) or value is None:
        number = None
    elif isinstance(value, int | float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            number = int(text)
        elif not whole and len(text) <= 40:
            try:
                number = float(text)
            except ValueError:
                number = None
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        raise ParamValueError(rule, param, expected, shown)
    if whole:
        if isinstance(number, float) and not number.is_integer():
            raise ParamValueError(rule, param, expected, shown)
        number = int(number)
    if not low <= number <= high:
        raise ParamValueError(rule, param, expected, shown, "超出允许范围")
    return number if whole else float(number)


# The values of level- and unit-valued parameters, by code, with their Chinese names.
LEVEL_CHOICES: Mapping[str, str] = {lv: label(LEVEL_NAMES, lv) for lv in LEVELS}
UNIT_CHOICES: Mapping[str, str] = {u: label(UNIT_NAMES, u) for u in ("W", "N")}


def _check_choice(rule: Rule, param: Param, value: object) -> str:
    """A level- or unit-valued parameter's value, by its code (``red``, ``W``)."""
    choices = LEVEL_CHOICES if param.kind == "level" else UNIT_CHOICES
    if isinstance(value, str) and value in choices:
        return value
    names = "、".join(f"{code}（{name}）" for code, name in choices.items())
    raise ParamValueError(rule, param, f"应为 {names} 之一", str(value)[:40])


def validate_setting(
    rule: Rule, setting: Setting, ranges: Mapping[str, Range] | None = None
) -> Setting:
    """Check a setting against its rule; return it with parameters coerced.

    ``ranges`` gives the allowed range of the rule's numeric parameters by name (the
    catalog's :data:`~govwatch.rules.catalog.PARAM_RANGES`); one not given takes
    :data:`DEFAULT_RANGE`. Every face (command line, page, API) saves through here.
    """
    title = rule_title(rule)
    if setting.level is not None:
        if rule.graded:
            names = "、".join(
                f"“{param_label(rule.id, p)[0]}”（{p.name}）"
                for p in rule.params
                if p.kind == "level"
            )
            raise ValidationError(
                f"规则“{title}”的级别由参数决定，不能直接设置级别（level）；请改设参数 {names}",
                field="level",
            )
        if setting.level not in LEVELS:
            raise ValidationError(
                f"级别“{str(setting.level)[:40]}”无法识别：应为 warning（预警）、yellow（黄牌）"
                "或 red（红牌）",
                field="level",
            )
    known = {p.name: p for p in rule.params}
    coerced: list[tuple[str, ParamValue]] = []
    for name, value in setting.params:
        param = known.get(name)
        if param is None:
            offered = "、".join(f"“{param_label(rule.id, p)[0]}”（{p.name}）" for p in rule.params)
            raise ValidationError(
                f"规则“{title}”没有参数“{name[:40]}”；可用参数：{offered or '（无参数）'}",
                field=f"params.{name}",
            )
        if param.kind in ("int", "float"):
            bounds = (ranges or {}).get(name, DEFAULT_RANGE)
            coerced.append((name, check_number(rule, param, value, bounds)))
        else:
            coerced.append((name, _check_choice(rule, param, value)))
    return Setting(setting.rule, setting.scope, setting.enabled, setting.level, tuple(coerced))


@dataclass(frozen=True)
class RenderedRule:
    """A rule's query with every placeholder resolved, and its enablement."""

    rule: Rule
    sql: str


def render(rule: Rule, settings: tuple[Setting, ...]) -> RenderedRule | None:
    """The rule's query for these settings, or None when it is disabled everywhere."""
    mine = [s for s in settings if s.rule == rule.id]
    enabled = [(s.scope, s.enabled) for s in mine if s.enabled is not None]
    levels = [(s.scope, s.level) for s in mine if s.level is not None]
    values: dict[str, str] = {"level": resolve(levels, rule.level)}
    for param in rule.params:
        found = [(s.scope, v) for s in mine for n, v in s.params if n == param.name]
        values[param.name] = resolve(found, param.default)
    sql = (
        rule.sql.format(**values)
        if not rule.custom
        else rule.sql.replace("{level}", values["level"])
    )
    gate = resolve(enabled, True)
    if gate == "FALSE":
        return None
    if gate != "TRUE":
        sql = (
            f"SELECT r.* FROM ({sql}) r JOIN gw_case s ON s.case_id = r.case_id WHERE {gate} = TRUE"
        )
    return RenderedRule(rule, sql)


def setting_subject(
    rule_id: str, scope: Scope | None = None, *, scope_name: str = "", title: str = ""
) -> str:
    """What a rule change concerns, in Chinese, for the job list and the change history:
    规则“超期办结”（全局）, 规则“办件超期”（行政区划 西湖区（330106））. ``title`` names a custom
    rule (:func:`rule_title`; by default its id), ``scope_name`` what the scope names."""
    text = f"规则“{title or rule_name(rule_id)}”"
    return text if scope is None else f"{text}（{scope.title(scope_name)}）"
