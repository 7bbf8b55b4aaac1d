"""click's own words in Chinese: usage errors, help headings, "Show this message and exit.".

click looks every message up through :mod:`gettext` (``_`` and ``ngettext`` imported into each
of its modules), so installing a catalog is the hook it offers. A ``.mo`` file would need a
locale on the user's machine; instead :func:`install` puts a lookup into this table in place
of those two names. A message click adds later and this table lacks stays English, and
``tests/cli/test_failures.py`` fails on it.

The table must be installed before any command is defined: ``click.Path`` looks up its kind
(file, directory, path) when it is constructed. ``govwatch/cli/__init__.py`` installs it first.

Two things click writes without gettext are put into Chinese by :func:`localise`, run over the
whole command tree once every command is registered: the placeholders (``[OPTIONS]``,
``COMMAND [ARGS]...``, a type's name such as ``TEXT`` or ``INTEGER``, an argument's name such as
``ROUND_ID``), from :data:`TYPE_METAVARS` and :data:`ARGUMENT_NAMES`. And click measures help
columns in characters: :func:`install` makes it measure display columns (a Chinese character is
two), so that Chinese placeholders keep the help texts in one column and wrapped lines within
the width. ``tests/cli/test_help_chinese.py`` walks every command's help and fails on English.
"""

from __future__ import annotations

import importlib
import unicodedata
from typing import Any

import click
from click._compat import _ansi_re, strip_ansi

MESSAGES: dict[str, str] = {
    # help pages
    "Usage:": "用法:",
    "Options": "选项",
    "Commands": "命令",
    "Positional arguments": "位置参数",
    "Show this message and exit.": "显示此帮助并退出。",
    "Show the version and exit.": "显示版本并退出。",
    "%(prog)s, version %(version)s": "%(prog)s 版本 %(version)s",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "(dynamic)": "（动态）",
    "deprecated": "已弃用",
    "Choose from:\n\t{choices}": "可选：{choices}",
    "Choice({choices})": "选项（{choices}）",
    # usage errors
    "Error: {message}": "错误：{message}",
    "Try '{command} {option}' for help.": "用 “{command} {option}” 查看用法。",
    "Missing command.": "缺少命令。",
    "No such command {name!r}.": "没有命令“{name}”",
    "No such option {name!r}.": "没有选项“{name}”",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing {param_type}": "缺少{param_type}",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Could not open file {filename!r}: {message}": "无法打开文件“{filename}”：{message}",
    "unknown error": "未知错误",
    "Aborted!": "已中止",
    "Invalid start character for option ({option})": "选项的开头字符无效（{option}）",
    "Option {name!r} does not take a value.": "选项“{name}”不接受取值。",
    "Argument {name!r} takes {nargs} values.": "参数“{name}”需要 {nargs} 个值。",
    "Value must be an iterable.": "取值应为一组值。",
    # parameter types
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "“{value}”不是有效的是/否取值，可用：{states}"
    ),
    "{value!r} is not a valid {number_type}.": "“{value}”不是有效的{number_type}。",
    "{value!r} is not a valid UUID.": "“{value}”不是有效的 UUID。",
    "{name} {filename!r} does not exist.": "{name}“{filename}”不存在。",
    "{name} {filename!r} is a file.": "{name}“{filename}”是文件，应为目录。",
    "{name} {filename!r} is a directory.": "{name}“{filename}”是目录，应为文件。",
    "{name} {filename!r} is not readable.": "{name}“{filename}”不可读。",
    "{name} {filename!r} is not writable.": "{name}“{filename}”不可写。",
    "{name} {filename!r} is not executable.": "{name}“{filename}”不可执行。",
    # prompts
    "Repeat for confirmation": "再次输入以确认",
    "Error: The two entered values do not match.": "错误：两次输入不一致。",
    "Error: invalid input": "错误：输入无效",
    "Do you want to continue?": "是否继续？",
    "Confirm the action without prompting.": "不询问，直接确认。",
    "Press any key to continue...": "按任意键继续…",
}

# ngettext pairs: (singular, plural) -> Chinese (no plural forms)
PLURALS: dict[tuple[str, str], str] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"): (
        "多余的参数（{args}）"
    ),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"): (
        "（是否想用：{possibilities}？）"
    ),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."): (
        "选项“{name}”需要取值。"
    ),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."): (
        "需要 {nargs} 个值，实际给出 {len} 个。"
    ),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."): (
        "“{value}”无效，应为 {choices} 之一。"
    ),
    (
        "{value!r} does not match the format {format}.",
        "{value!r} does not match the formats {formats}.",
    ): "“{value}”不符合格式 {formats}。",
    (
        "{len_type} values are required, but {len_value} was given.",
        "{len_type} values are required, but {len_value} were given.",
    ): "需要 {len_type} 个值，实际给出 {len_value} 个。",
}

# Type names click puts into messages as they are (``number_type``), not through gettext.
TYPE_NAMES = {"integer": "整数", "float": "数值", "text": "文本", "boolean": "是/否取值"}

# Placeholders of options (click's type names, and the ones commands give), in Chinese.
TYPE_METAVARS = {
    "TEXT": "文本",
    "INTEGER": "整数",
    "INTEGER RANGE": "整数",
    "FLOAT": "数值",
    "FLOAT RANGE": "数值",
    "BOOLEAN": "是/否",
    "FILENAME": "文件名",
    "PATH": "路径",
    "FILE": "文件",
    "DIR": "目录",
    "DATE": "日期",
    "TIME": "时刻",
    "URL": "地址",
    "RULE=RATE": "规则=比例",
}

# Placeholders of arguments, by the argument's name (click would show the name in capitals).
ARGUMENT_NAMES = {
    "appeal_id": "申诉编号",
    "assignment": "字段=值",
    "entry_id": "记录编号",
    "file": "文件",
    "files": "文件",
    "ids": "记录编号",
    "more_events": "事件文件",
    "name": "名称",
    "org_code": "机构编码",
    "path": "文件",
    "paths": "文件",
    "questionnaire_id": "问卷编号",
    "rating_id": "评价编号",
    "round_id": "批次编号",
    "rule_id": "规则编号",
    "token_id": "令牌编号",
    "url": "网址",
    "username": "用户名",
    "value": "取值",
    "webhook_id": "推送编号",
    "year": "年份",
}

OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVARS = {
    "COMMAND [ARGS]...": "命令 [参数]...",
    "[COMMAND] [ARGS]...": "[命令] [参数]...",
}

_CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
)


class _Template(str):
    """A Chinese template; click formats it with the English one's fields.

    ``ngettext``'s callers pass the fields of both English forms (``choice`` and ``choices``),
    so the one Chinese form uses either. Type names click inserts as they are (``integer``)
    are put into Chinese here.
    """

    def format(self, *args: Any, **kwargs: Any) -> str:
        if "number_type" in kwargs:
            kwargs["number_type"] = TYPE_NAMES.get(
                str(kwargs["number_type"]), kwargs["number_type"]
            )
        return str.format(self, *args, **kwargs)


def gettext(message: str) -> str:
    found = MESSAGES.get(message)
    return message if found is None else _Template(found)


def ngettext(singular: str, plural: str, n: int) -> str:
    found = PLURALS.get((singular, plural))
    if found is None:
        return singular if n == 1 else plural
    return _Template(found)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """How many terminal columns ``text`` takes (a Chinese character two; colours none)."""
    return sum(_char_width(ch) for ch in strip_ansi(text))


def _truncate_to_width(text: str, columns: int) -> str:
    """The longest start of ``text`` that fits in ``columns`` (at least one character), never
    cutting inside a colour escape: click's ``_truncate_visible`` by display width."""
    if columns <= 0:
        return ""
    used, i, cut = 0, 0, 0
    while i < len(text):
        escape = _ansi_re.match(text, i)
        if escape is not None:
            i = escape.end()
            continue
        width = _char_width(text[i])
        if used + width > columns:
            return text[: cut or i + 1]
        used += width
        i += 1
        cut = i
    return text[:cut]


def install() -> None:
    """Put the Chinese lookups in place of click's ``_`` and ``ngettext``, and make its help
    formatter measure display columns (idempotent)."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            setattr(module, "_", gettext)  # noqa: B010 - click's own name for gettext
        if hasattr(module, "ngettext"):
            setattr(module, "ngettext", ngettext)  # noqa: B010
    formatting = importlib.import_module("click.formatting")
    wrapping = importlib.import_module("click._textwrap")
    setattr(formatting, "term_len", display_width)  # noqa: B010 - click's own names
    setattr(wrapping, "term_len", display_width)  # noqa: B010
    setattr(wrapping, "_truncate_visible", _truncate_to_width)  # noqa: B010


def _option_metavar(option: click.Option, ctx: click.Context) -> str | None:
    if option.is_flag or option.count:
        return None
    if option.metavar is not None:
        return TYPE_METAVARS.get(option.metavar, option.metavar)
    if option.type.get_metavar(option, ctx) is not None:  # a choice lists its values
        return None
    name = option.type.name.upper()
    return TYPE_METAVARS.get(name, name) + ("..." if option.nargs != 1 else "")


def _argument_metavar(argument: click.Argument, ctx: click.Context) -> str | None:
    if argument.metavar is not None or argument.type.get_metavar(argument, ctx) is not None:
        return None
    name = str(argument.name)
    shown = ARGUMENT_NAMES.get(name, name.upper())
    if not argument.required:
        shown = f"[{shown}]"
    return shown + ("..." if argument.nargs != 1 else "")


def localise(command: click.Command) -> None:
    """Chinese placeholders for ``command`` and every command under it (run once, after the
    commands are registered)."""
    ctx = click.Context(command)
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = OPTIONS_METAVAR
    for param in command.params:
        if isinstance(param, click.Option):
            shown = _option_metavar(param, ctx)
        elif isinstance(param, click.Argument):
            shown = _argument_metavar(param, ctx)
        else:
            shown = None
        if shown is not None:
            param.metavar = shown
    if isinstance(command, click.Group):
        if command.subcommand_metavar in SUBCOMMAND_METAVARS:
            command.subcommand_metavar = SUBCOMMAND_METAVARS[command.subcommand_metavar]
        for sub in command.commands.values():
            localise(sub)
