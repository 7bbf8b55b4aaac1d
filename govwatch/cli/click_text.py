"""click's own words in Chinese: usage errors, help headings, "Show this message and exit.".

click looks every message up through :mod:`gettext` (``_`` and ``ngettext`` imported into each
of its modules), so installing a catalog is the hook it offers. A ``.mo`` file would need a
locale on the user's machine; instead :func:`install` puts a lookup into this table in place
of those two names. A message click adds later and this table lacks stays English, and
``tests/cli/test_failures.py`` fails on it.

The table must be installed before any command is defined: ``click.Path`` looks up its kind
(file, directory, path) when it is constructed. ``govwatch/cli/__init__.py`` installs it first.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def install() -> None:
    """Put the Chinese lookups in place of click's ``_`` and ``ngettext`` (idempotent)."""
    for name in _CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            setattr(module, "_", gettext)  # noqa: B010 - click's own name for gettext
        if hasattr(module, "ngettext"):
            setattr(module, "ngettext", ngettext)  # noqa: B010
