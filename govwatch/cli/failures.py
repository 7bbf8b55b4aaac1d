"""Every failure of a command as one Chinese line and a documented exit code.

A user of ``govwatch`` never sees a Python traceback: :func:`run` catches whatever a command
raises and :func:`describe` turns it into :class:`Failure`, one line saying what went wrong,
where (the file, record or field; the command) and what to do. ``--debug`` prints the
traceback above that line. The exit codes are :class:`ExitCode`, tabled in ``docs/cli.md``.

Expected failures are :class:`~govwatch.errors.GovwatchError`, whose messages already say all
of that. Everything else is classified by kind: click's usage errors (in Chinese, see
:mod:`govwatch.cli.click_text`), files that cannot be opened or decoded, malformed JSON, YAML
or CSV, database errors (a rule setting whose SQL fails, a server that went away), missing
optional components, and last, a defect of govwatch itself (exit code 70).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import os
import re
import sys
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from json import JSONDecodeError
from pathlib import Path
from typing import Any

import click

from govwatch.cli.options import RUN
from govwatch.errors import DatabaseBusyError, GovwatchError

DETAIL_CHARS = 200
_DRIVER_PREFIX = re.compile(r"^[A-Za-z ]*Error:\s*")
_CLICK_STOP = re.compile(r"(['”])\.(?=\s|$)")


class ExitCode(IntEnum):
    """Exit codes of every command (``docs/cli.md`` tables them)."""

    OK = 0
    CHECK_FAILED = 1  # the command ran and found something that needs action (doctor, verify)
    INPUT = 2  # usage, an option's value, a file or its content, a refused operation
    DATABASE_UNAVAILABLE = 3  # the database cannot be opened or reached (busy, down, refused)
    DATABASE_ERROR = 4  # a statement failed (e.g. a rule setting whose SQL cannot run)
    MISSING_COMPONENT = 5  # an optional component is not installed
    INTERNAL = 70  # a defect of govwatch: report it with the --debug output
    INTERRUPTED = 130  # Ctrl-C
    BROKEN_PIPE = 141  # the reader of stdout went away (``govwatch audit … | head``)


@dataclass(frozen=True)
class Failure:
    code: ExitCode
    message: str  # one line, Chinese; empty for a closed pipe


_STRERROR = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许此操作",
    errno.EISDIR: "这是一个目录，应为文件",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
    errno.EEXIST: "已存在",
    errno.ENAMETOOLONG: "名称过长",
    errno.EMFILE: "打开的文件过多",
}


def _one_line(text: object, limit: int = DETAIL_CHARS) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _first_line(text: object) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return _one_line(lines[0] if lines else text)


def _files() -> list[str]:
    """The files and directories the running command was given."""
    out: list[str] = []
    for name, value in RUN.params:
        values = value if isinstance(value, tuple | list) else (value,)
        for item in values:
            if isinstance(item, Path) or (
                isinstance(item, str) and name.endswith(("path", "paths", "file", "files"))
            ):
                out.append(str(item))
    return out


def _reading() -> str:
    files = _files()
    if not files:
        return ""
    return f"读取 {'、'.join(files[:3])}{' 等文件' if len(files) > 3 else ''} 时："


def _help_hint(command_path: str) -> str:
    return f"用 {command_path} --help 查看用法"


def _module(exc: BaseException) -> str:
    return type(exc).__module__ or ""


def _is_database_error(exc: BaseException) -> bool:
    return _module(exc).split(".")[0] in ("duckdb", "_duckdb", "psycopg")


def _is_connection_problem(exc: BaseException) -> bool:
    name = type(exc).__name__
    return _is_database_error(exc) and name in (
        "OperationalError",
        "InterfaceError",
        "ConnectionException",
        "IOException",
    )


def _database_input_problem(exc: BaseException) -> bool:
    """DuckDB reading a file the user gave (CSV sniffing, JSON, encodings)."""
    text = str(exc).lower()
    return type(exc).__name__ in ("InvalidInputException", "ConversionException") and any(
        word in text for word in ("csv", "json", "unicode", "utf-8", "utf8")
    )


def describe(exc: BaseException) -> Failure:
    """The one line and exit code for ``exc``, raised by the running command."""
    command = RUN.command_path
    if isinstance(exc, KeyboardInterrupt | click.exceptions.Abort):
        return Failure(ExitCode.INTERRUPTED, "已中止")
    if isinstance(exc, BrokenPipeError):
        return Failure(ExitCode.BROKEN_PIPE, "")
    if isinstance(exc, click.UsageError):
        where = exc.ctx.command_path if exc.ctx is not None else command
        message = _one_line(exc.format_message(), 400).replace(" （", "（")
        # click joins some parts itself, English style: "缺少选项 '--role'. 可选：…"
        message = _CLICK_STOP.sub(r"\1。", message).replace("。 ", "。").rstrip("。.")
        return Failure(ExitCode.INPUT, f"{message}（{where}）；{_help_hint(where)}")
    if isinstance(exc, click.ClickException):
        return Failure(ExitCode.INPUT, f"{_one_line(exc.format_message(), 400)}（{command}）")
    if isinstance(exc, GovwatchError):
        return _govwatch_failure(exc)
    if isinstance(exc, UnicodeError):
        start = getattr(exc, "start", None)
        at = f"（第 {start + 1} 个字节附近）" if isinstance(start, int) else ""
        return Failure(
            ExitCode.INPUT,
            f"{_reading()}内容不是有效的 UTF-8 文本{at}：请将文件另存为 UTF-8 编码后重试",
        )
    if isinstance(exc, JSONDecodeError):
        return Failure(
            ExitCode.INPUT,
            f"{_reading()}JSON 格式有误（第 {exc.lineno} 行第 {exc.colno} 列）："
            "请检查括号、引号与逗号，每行一条记录（JSON Lines）",
        )
    if isinstance(exc, csv.Error):
        return Failure(
            ExitCode.INPUT,
            f"{_reading()}CSV 格式有误（{_one_line(exc)}）：请检查引号与分隔符，"
            "首行为字段名（见 docs/data.md）",
        )
    if isinstance(exc, zipfile.BadZipFile) or type(exc).__name__ == "InvalidFileException":
        return Failure(
            ExitCode.INPUT,
            f"{_reading()}不是有效的 Excel 文件（.xlsx）：请用 Excel 另存为 .xlsx，或导出为 CSV",
        )
    if _module(exc).startswith("yaml"):
        mark = getattr(exc, "problem_mark", None)
        at = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列）" if mark is not None else ""
        return Failure(ExitCode.INPUT, f"{_reading()}YAML 格式有误{at}：请检查缩进与冒号")
    if type(exc).__name__ == "ValidationError" and _module(exc).startswith("pydantic"):
        return Failure(ExitCode.INPUT, f"{_reading()}{_pydantic_detail(exc)}")
    if _module(exc).startswith("pyarrow") and type(exc).__name__ in (
        "ArrowInvalid",
        "ArrowTypeError",
    ):
        return Failure(
            ExitCode.INPUT,
            f"{_reading()}内容无法解析（{_first_line(exc)}）：请检查文件格式（见 docs/data.md）",
        )
    if isinstance(exc, ModuleNotFoundError):
        return Failure(
            ExitCode.MISSING_COMPONENT,
            f"缺少组件 {exc.name}（{command}）：请安装 govwatch 的相应可选组件"
            "（网页与 API：govwatch[web]；Spark：govwatch[spark]）",
        )
    if _is_database_error(exc):
        return _database_failure(exc, command)
    if isinstance(exc, OSError):
        return _os_failure(exc, command)
    return Failure(
        ExitCode.INTERNAL,
        f"内部错误（{command}）：{type(exc).__name__}: {_first_line(exc)}；"
        "这是 govwatch 的缺陷，请加 --debug 重新运行，并把输出报告给维护者",
    )


def _govwatch_failure(exc: GovwatchError) -> Failure:
    message = _one_line(exc, 600)
    cause = exc.__cause__
    if isinstance(exc, DatabaseBusyError) or (cause is not None and _is_connection_problem(cause)):
        return Failure(ExitCode.DATABASE_UNAVAILABLE, message)
    return Failure(ExitCode.INPUT, message)


def _database_failure(exc: BaseException, command: str) -> Failure:
    # DuckDB prefixes its messages with the error's kind ("Conversion Error: …")
    detail = _DRIVER_PREFIX.sub("", _first_line(exc))
    if _database_input_problem(exc):
        return Failure(
            ExitCode.INPUT,
            f"{_reading()}内容无法解析（{detail}）：请检查文件格式与编码（UTF-8，见 docs/data.md）",
        )
    if _is_connection_problem(exc):
        return Failure(
            ExitCode.DATABASE_UNAVAILABLE,
            f"数据库不可用（{command}）：{detail}；请确认数据库在运行、地址（--db）正确，"
            "或用 govwatch doctor 检查",
        )
    return Failure(
        ExitCode.DATABASE_ERROR,
        f"数据库执行出错（{command}）：{detail}；若刚改过规则设置或自定义规则，"
        "用 govwatch rules history 查看并改回，或加 --debug 查看详情",
    )


def _os_failure(exc: OSError, command: str) -> Failure:
    reason = _STRERROR.get(exc.errno or -1) or _one_line(exc.strerror or exc)
    where = f" {exc.filename}" if exc.filename else (f" {'、'.join(_files())}" if _files() else "")
    return Failure(
        ExitCode.INPUT,
        f"无法访问{where}（{command}）：{reason}；请检查路径与权限",
    )


def _pydantic_detail(exc: BaseException) -> str:
    errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
    if not errors:
        return "设置不符合要求：请对照文档检查"
    first = errors[0]
    loc = ".".join(str(p) for p in first.get("loc", ())) or "（整体）"
    more = f"（另有 {len(errors) - 1} 处）" if len(errors) > 1 else ""
    return f"字段 {loc} 不符合要求：{_one_line(first.get('msg', ''))}{more}；请对照文档修改"


def run(invoke: Callable[[], Any]) -> int:
    """Run the command line; the exit code. A failure prints one line on stderr (and the
    traceback above it with ``--debug``); a command's own ``sys.exit`` passes through."""
    try:
        result = invoke()
    except SystemExit:
        raise
    except BaseException as exc:  # every failure ends here: one line, never a traceback
        if type(exc).__name__ == "NoArgsIsHelpError" and isinstance(exc, click.UsageError):
            # a group named without a command: its help, as click shows it, on stderr
            click.echo(exc.format_message(), err=True)
            return int(ExitCode.INPUT)
        failure = describe(exc)
        if failure.code is ExitCode.BROKEN_PIPE:
            _silence_stdout()
            return int(failure.code)
        if RUN.debug:
            traceback.print_exception(exc, file=sys.stderr)
        click.echo(f"错误：{failure.message}", err=True)
        return int(failure.code)
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def _silence_stdout() -> None:
    """After a closed pipe, Python's own flush of stdout at exit must not fail again."""
    with contextlib.suppress(OSError):
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - until exit
