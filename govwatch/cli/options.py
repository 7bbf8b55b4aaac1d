"""The options command modules share, defined once: ``--db``, ``--format``, ``--at`` and the
acting-user options.

Each is a factory returning a click decorator (``@db_option()``), so that a command that
differs (``deadline``'s optional database, ``audit``'s csv output) says how by an argument
rather than by a copy. Option names, defaults and outputs are the contract of
``spec/interface.md``: change them here and every command changes with them.
"""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click
import orjson

from govwatch.evaluation.rounds.values import Actor
from govwatch.storage import DEFAULT_URL, Database, connect
from govwatch.timeutil import now, parse_timestamp

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = "数据库：duckdb:///文件路径 或 postgresql://…"
TABULAR_FORMATS = ("table", "json", "jsonl")
ACTOR_ROLES = ("admin", "department", "evaluator")


def db_option(*, required: bool = True, help: str = DB_HELP) -> Callable[[F], F]:
    """``--db URL`` as ``db_url`` (env ``GOVWATCH_DB``).

    ``required=False`` leaves the default ``None``, for commands that can also work on files.
    """
    return click.option(
        "--db",
        "db_url",
        default=DEFAULT_URL if required else None,
        show_default=required,
        envvar="GOVWATCH_DB",
        help=help,
    )


def format_option(
    choices: Sequence[str] = TABULAR_FORMATS, *, default: str | None = None
) -> Callable[[F], F]:
    """``--format`` as ``fmt``: one of ``choices``, the first by default."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default or choices[0],
        show_default=True,
    )


def at_option(help: str = "时刻（默认现在）", *, default_now: bool = True) -> Callable[[F], F]:
    """``--at TIME`` as ``at``: a moment read by :func:`govwatch.timeutil.parse_timestamp`.

    Missing, it is :func:`govwatch.timeutil.now` (or ``None`` with ``default_now=False``, for
    commands whose default moment depends on other options). A malformed time raises the
    parser's :class:`~govwatch.errors.InputError`, reported like every expected failure.
    """

    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
        if value:
            return parse_timestamp(value)
        return now() if default_now else None

    return click.option("--at", "at", default=None, callback=parse, metavar="TIME", help=help)


def actor_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--at``, ``--actor``, ``--role``, ``--org``: who acts, in which role, and when.

    The command receives them as ``at`` and one ``actor`` (:class:`Actor`; the system user
    when ``--actor`` is not given).
    """

    @functools.wraps(f)
    def with_actor(
        *args: Any, actor_name: str | None, role: str, org: str | None, **kw: Any
    ) -> Any:
        return f(*args, actor=make_actor(actor_name, role, org), **kw)

    command: Callable[..., Any] = with_actor
    command = click.option("--org", default=None, help="部门账号所代表的评估对象（单位编码）")(
        command
    )
    command = click.option(
        "--role",
        type=click.Choice(ACTOR_ROLES),
        default="admin",
        show_default=True,
        help="操作角色",
    )(command)
    command = click.option(
        "--actor", "actor_name", default=None, help="操作人（默认当前系统用户）"
    )(command)
    return at_option("操作时刻（默认现在）")(command)


def make_actor(name: str | None, role: str, org: str | None) -> Actor:
    """The actor the acting-user options name (the system user by default)."""
    return Actor(name or getpass.getuser(), role, org)


def open_db(db_url: str) -> Database:
    return connect(db_url)


def echo_json(data: Any) -> None:
    """One JSON document on stdout (dates and other values as text)."""
    click.echo(orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS).decode())


def emit(rows: list[dict[str, Any]], fmt: str) -> None:
    """Rows as JSON (an array), JSON Lines, or a plain table."""
    if fmt == "json":
        click.echo(orjson.dumps(rows, default=str).decode())
    elif fmt == "jsonl":
        for row in rows:
            click.echo(orjson.dumps(row, default=str).decode())
    else:
        for row in rows:
            click.echo("  ".join("" if v is None else str(v) for v in row.values()))
