"""The named fields of the notices' paragraph templates, in Chinese.

A template writes its fields between braces in Chinese (``{统计期间}``, ``{按时办结率}``); the
builders keep their internal English keys (those of ``Notice.facts``) and fill a template through
:func:`fill`, which maps each key to its Chinese name by the one table
:data:`govwatch.vocabulary.NOTICE_TEMPLATE_FIELDS`. Overrides written before the fields had
Chinese names use the English keys: :func:`to_chinese` translates them, so they still render.

Which fields a template may use is fixed (:func:`allowed_fields`): the fields every paragraph of
its kind has (:data:`COMMON`) and those its shipped text uses. An edited template naming any
other field is refused in Chinese, naming the field and listing the allowed ones.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from govwatch.errors import InputError
from govwatch.vocabulary import NOTICE_TEMPLATE_FIELDS

# Fields filled before any paragraph of the kind is written (so any paragraph may use them).
COMMON: Mapping[str, tuple[str, ...]] = {
    "supervision": (
        "issuer",
        "scope",
        "period",
        "start",
        "end",
        "prev_period",
        "cases",
        "finished",
        "ontime",
        "overdue",
        "ontime_rate",
        "overdue_rate",
        "prev_ontime_rate",
        "reply_days",
    ),
    "evaluation": (
        "round_name",
        "round_id",
        "system_name",
        "period_start",
        "period_end",
        "units",
        "mean_score",
        "max_score",
        "min_score",
        "stars_5",
        "stars_4",
        "stars_3",
        "stars_2",
        "stars_0",
    ),
}


def _table(kind: str) -> Mapping[str, tuple[str, str]]:
    return NOTICE_TEMPLATE_FIELDS[kind]


def _english(kind: str) -> dict[str, str]:
    """Chinese field name → internal key."""
    return {cn: key for key, (cn, _) in _table(kind).items()}


def _parse(text: str, what: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InputError(
            f"通报模板“{what}”格式有误：花括号须成对出现，字段写作 {{字段名}}，"
            f"正文中的花括号写作 {{{{ 或 }}}}（{exc}）"
        ) from None


def field_names(text: str, what: str = "段落") -> list[str]:
    """The field names a template uses, in order (repeats kept)."""
    return [name for _, name, _, _ in _parse(text, what) if name is not None]


def to_chinese(kind: str, text: str) -> str:
    """``text`` with every field written by its internal English key renamed to its Chinese
    name (a template saved before r15fields); other fields and the literal text unchanged."""
    table = _table(kind)
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return text  # refused with its message when filled or checked
    if not any(name in table for _, name, _, _ in parts):
        return text
    out = []
    for literal, name, spec, conversion in parts:
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        cn = table[name][0] if name in table else name
        out.append(
            "{" + cn + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        )
    return "".join(out)


def allowed_fields(kind: str, default_text: str) -> tuple[str, ...]:
    """The internal keys a template may use: the kind's common fields and those its shipped
    text (``default_text``, Chinese names) uses, in the table's order."""
    english = _english(kind)
    own = {english.get(n, n) for n in field_names(to_chinese(kind, default_text))}
    wanted = set(COMMON[kind]) | own
    return tuple(k for k in _table(kind) if k in wanted)


def legend(kind: str, default_text: str) -> list[tuple[str, str]]:
    """(Chinese name, what it holds) of each field the template may use."""
    table = _table(kind)
    return [table[k] for k in allowed_fields(kind, default_text)]


def allowed_text(kind: str, default_text: str) -> str:
    return "、".join(f"{{{cn}}}" for cn, _ in legend(kind, default_text))


def check(kind: str, what: str, text: str, default_text: str) -> str:
    """``text`` with its fields in Chinese; refused when it names a field ``what`` (the
    template's Chinese name) may not use."""
    chinese = to_chinese(kind, text)
    allowed = {_table(kind)[k][0] for k in allowed_fields(kind, default_text)}
    for name in field_names(chinese, what):
        if name not in allowed:
            shown = f"{{{name}}}" if name else "{}（空字段名）"
            raise InputError(
                f"通报模板“{what}”中的字段 {shown} 不存在：该段可用的字段为 "
                f"{allowed_text(kind, default_text)}"
            )
    return chinese


def fill(kind: str, what: str, text: str, default_text: str, values: Mapping[str, Any]) -> str:
    """The template filled from ``values`` (internal keys); see :func:`check`."""
    chinese = check(kind, what, text, default_text)
    table = _table(kind)
    by_name = {table[k][0]: v for k, v in values.items() if k in table}
    try:
        return chinese.format_map(by_name)
    except KeyError as exc:  # a field allowed but not filled: a builder's bug, said plainly
        raise InputError(f"通报模板“{what}”中的字段 {{{exc.args[0]}}} 暂无数据") from None
    except (ValueError, IndexError) as exc:
        raise InputError(
            f"通报模板“{what}”的字段格式有误（{exc}）：字段应写作 {{字段名}}"
        ) from None


__all__ = ["COMMON", "allowed_fields", "check", "fill", "legend", "to_chinese"]
