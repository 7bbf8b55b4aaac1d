"""Rule settings in Chinese: a parameter's value with its unit, a setting, a change.

What the rules page, its history and its exports show, and what the API gives beside the
codes: ``预警提前天数 3 天``, ``行政区划 杭州市（330100）：停用；允许的收费差额 0.5 元``,
``级别：黄牌 → 红牌``. Never a parameter key, a code or a Python value (``{'warn_days': 3}``
was shown). The labels themselves live in :mod:`govwatch.vocabulary`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from govwatch.rules.model import Param, ParamValue, Rule
from govwatch.rules.settings import Scope, Setting, param_label, shown_number
from govwatch.rules.views import CASE_VIEW_COLUMNS
from govwatch.vocabulary import (
    CASE_VIEW_COLUMN_NAMES,
    LEVEL_NAMES,
    UNIT_NAMES,
    VIEW_COLUMN_TYPE_NAMES,
    label,
)

# A parameter counted in another parameter's unit, by rule: long_suspension's max_days are
# working or natural days as its ``unit`` says.
UNIT_FROM: Mapping[str, Mapping[str, str]] = {"long_suspension": {"max_days": "unit"}}
# A parameter whose days follow each item's promised limit (工作日 or 自然日 per item).
PROMISED_UNIT = frozenset({("near_deadline", "warn_days")})

ENABLED_TEXT = {True: "启用", False: "停用"}


def unit_of(rule: Rule, param: Param, values: Mapping[str, object] | None = None) -> str:
    """The unit a numeric parameter's value is shown with: 元, 次, 天 (in the item's promised
    unit), or the working/natural days another parameter of the rule names."""
    _, unit = param_label(rule.id, param)
    linked = UNIT_FROM.get(rule.id, {}).get(param.name)
    if linked is not None:
        code = (values or {}).get(linked)
        if code is None:
            code = next((p.default for p in rule.params if p.name == linked), None)
        return f"个{label(UNIT_NAMES, code)}" if code else unit
    return unit


def value_text(
    rule: Rule, param: Param, value: object, values: Mapping[str, object] | None = None
) -> str:
    """A parameter's value in Chinese: ``3 天``, ``0.5 元``, ``30 个自然日``, ``红牌``, ``工作日``."""
    if param.kind == "level":
        return label(LEVEL_NAMES, value)
    if param.kind == "unit":
        return label(UNIT_NAMES, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = shown_number(value)
    else:
        number = str(value)
    unit = unit_of(rule, param, values)
    if not unit:
        return number
    return f"{number}{unit}" if unit.startswith("个") else f"{number} {unit}"


def plain_description(rule: Rule) -> str:
    """The rule's description with its parameters named in Chinese (``warn_days`` →
    “预警提前天数”): the descriptions were written for the command line."""
    text = rule.description
    for param in sorted(rule.params, key=lambda p: len(p.name), reverse=True):
        text = re.sub(
            rf" ?\b{re.escape(param.name)}\b ?", f"“{param_label(rule.id, param)[0]}”", text
        )
    return text


def unit_hint(rule: Rule, param: Param) -> str:
    """What a form says beside the field about the unit (the item's unit, for warn_days)."""
    if (rule.id, param.name) in PROMISED_UNIT:
        return "按事项承诺时限的单位计（工作日或自然日）"
    if param.name in UNIT_FROM.get(rule.id, {}):
        return (
            "单位见“" + param_label(rule.id, _param(rule, UNIT_FROM[rule.id][param.name]))[0] + "”"
        )
    return ""


def _param(rule: Rule, name: str) -> Param:
    for p in rule.params:
        if p.name == name:
            return p
    return Param(name, "", "int", name)


def setting_parts(rule: Rule, setting: Setting) -> list[str]:
    """What a setting sets, one Chinese phrase each: 停用, 级别 红牌, 预警提前天数 3 天."""
    parts: list[str] = []
    if setting.enabled is not None:
        parts.append(ENABLED_TEXT[setting.enabled])
    if setting.level is not None:
        parts.append(f"级别 {label(LEVEL_NAMES, setting.level)}")
    values = dict(setting.params)
    for name, value in setting.params:
        param = _param(rule, name)
        parts.append(f"{param_label(rule.id, param)[0]} {value_text(rule, param, value, values)}")
    return parts


def setting_text(rule: Rule, setting: Setting, scope_name: str = "") -> str:
    """A setting in one line: 行政区划 杭州市（330100）：预警提前天数 3 天；停用."""
    parts = setting_parts(rule, setting) or ["（无调整内容）"]
    return f"{setting.scope.title(scope_name)}：{'；'.join(parts)}"


# -- the case view's columns, for custom rules' expressions ----------------------------------------


@dataclass(frozen=True)
class ViewColumn:
    """A column a custom rule's expression may use: its identifier (what the expression
    writes), its Chinese name, its type and its meaning in Chinese."""

    name: str
    label: str
    kind: str
    meaning: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def view_columns() -> list[ViewColumn]:
    """Every column of the case view, in the view's order (cases, times, counts, fees, the
    promised clock, the legal clock), each by its Chinese name."""
    return [
        ViewColumn(
            name,
            CASE_VIEW_COLUMN_NAMES.get(name, meaning),
            label(VIEW_COLUMN_TYPE_NAMES, kind),
            meaning,
        )
        for name, (kind, meaning) in CASE_VIEW_COLUMNS.items()
    ]


# A quoted literal (kept as written) or a word (a column, a keyword, a function).
_EXPRESSION_TOKEN = re.compile(r"'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_]*")


def expression_text(expression: str) -> str:
    """A custom rule's expression with each column named in Chinese, in 〔〕:
    ``promised_days_late > 3`` → ``〔超出承诺期限〕 > 3``; quoted values and the rest as written
    (the expression itself goes beside it, on hover)."""

    def name(match: re.Match[str]) -> str:
        word = match.group()
        if word in CASE_VIEW_COLUMNS:
            return f"〔{CASE_VIEW_COLUMN_NAMES.get(word, word)}〕"
        return word

    return _EXPRESSION_TOKEN.sub(name, expression)


# -- changes between two versions -----------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One attribute of one rule at one scope, before and after a version (None: not set there).

    ``field`` is ``enabled``, ``level``, ``params.<name>``, or ``custom`` for a custom rule
    added (``new``) or removed (``old``), whose value is then its description."""

    rule: str
    scope: Scope
    field: str
    old: ParamValue | bool | None
    new: ParamValue | bool | None


def field_label(rule: Rule | None, field: str) -> str:
    if field == "enabled":
        return "启用状态"
    if field == "level":
        return "级别"
    if field == "custom":
        return "自定义规则"
    name = field.removeprefix("params.")
    if rule is None:
        return name
    return param_label(rule.id, _param(rule, name))[0]


def _value(rule: Rule | None, field: str, value: object, values: Mapping[str, object]) -> str:
    if field == "enabled":
        return ENABLED_TEXT[bool(value)]
    if field == "level":
        return label(LEVEL_NAMES, value)
    if field == "custom" or rule is None:
        return str(value)
    return value_text(rule, _param(rule, field.removeprefix("params.")), value, values)


def change_text(
    rule: Rule | None, change: Change, default: object = None, values: Mapping[str, object] = {}
) -> tuple[str, str, str]:
    """(field, old, new) in Chinese. A value not set before or after reads 默认 … at the
    global scope (``default``: the rule's own) and 未单独设置 at a narrower one."""
    name = field_label(rule, change.field)
    if change.field == "custom":
        return (
            name,
            "—" if change.old is None else "已删除",
            "新增" if change.new is not None else "删除",
        )

    def side(value: object) -> str:
        if value is not None:
            return _value(rule, change.field, value, values)
        if change.scope.kind == "all" and default is not None:
            return "默认 " + _value(rule, change.field, default, values)
        return "未单独设置"

    return (name, side(change.old), side(change.new))
