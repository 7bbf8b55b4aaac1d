"""The options command modules share, defined once: ``--db``, ``--format``, ``--at``, the
acting user (``--as``, :func:`as_option`), and the global ``--debug`` and ``--quiet`` (state
in :data:`RUN`).

Each is a factory returning a click decorator (``@db_option()``), so that a command that
differs (``deadline``'s optional database, ``audit``'s csv output) says how by an argument
rather than by a copy. Option names, defaults and outputs are the contract of
``spec/interface.md``: change them here and every command changes with them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import click
import orjson

from govwatch.auth.operator import Operator, require_role, resolve_operator
from govwatch.evaluation.rounds.values import Actor
from govwatch.storage import DEFAULT_URL, Database, connect, misread_absolute
from govwatch.timeutil import now, parse_timestamp

F = TypeVar("F", bound=Callable[..., Any])

DB_HELP = (
    "数据库地址（环境变量 GOVWATCH_DB）：文件路径（如 data/govwatch.duckdb）、"
    "duckdb:///相对路径、duckdb:////绝对路径（四条斜线）或 postgresql://用户@主机/库名"
)
TABULAR_FORMATS = ("table", "json", "jsonl")


@dataclass
class RunState:
    """What the global options set for one run of the command line.

    ``debug``: show the traceback of a failure; ``quiet``: no progress bars; ``warned``: the
    addresses already warned about (once per run); ``params``: the running command's path and
    parameters, for naming its files when a failure does not name them itself.
    """

    debug: bool = False
    quiet: bool = False
    warned: frozenset[str] = frozenset()
    command_path: str = "govwatch"
    params: tuple[tuple[str, Any], ...] = ()

    def reset(self, *, debug: bool = False) -> None:
        self.debug, self.quiet, self.warned = debug, False, frozenset()
        self.command_path, self.params = "govwatch", ()


RUN = RunState()


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    RUN.debug = RUN.debug or value
    RUN.command_path = ctx.command_path


def _set_quiet(_ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    RUN.quiet = RUN.quiet or value


def global_options(*, hidden: bool = False) -> list[click.Option]:
    """``--debug`` and ``--quiet``: on the ``govwatch`` group (``govwatch --debug …``) and,
    hidden, on every command, so that they also work after the command's name."""
    return [
        click.Option(
            ["--debug"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            hidden=hidden,
            callback=_set_debug,
            help="出错时显示完整的调用栈（Traceback），便于报告问题",
        ),
        click.Option(
            ["--quiet", "-q"],
            is_flag=True,
            expose_value=False,
            hidden=hidden,
            callback=_set_quiet,
            help="不显示进度条",
        ),
    ]


def record_params(ctx: click.Context) -> None:
    """Remember the running command and its parameters (see :class:`RunState`)."""
    RUN.command_path = ctx.command_path
    RUN.params = tuple(ctx.params.items())


def _warn_address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Warn (stderr, once per address) when ``duckdb:///x/…`` reads relative although ``/x``
    exists: the user most likely meant the absolute path (see govwatch.storage.address)."""
    if value and value not in RUN.warned:
        misread = misread_absolute(value)
        if misread is not None:
            RUN.warned = RUN.warned | {value}
            relative, absolute = misread
            click.echo(
                f"提示：数据库地址 {value} 按相对路径 {relative} 解读；如指绝对路径请写 {absolute}",
                err=True,
            )
    return value


def db_option(*, required: bool = True, help: str = DB_HELP) -> Callable[[F], F]:
    """``--db URL`` as ``db_url`` (env ``GOVWATCH_DB``).

    ``required=False`` leaves the default ``None``, for commands that can also work on files.
    An address that looks absolute but reads relative is warned about on stderr.
    """
    return click.option(
        "--db",
        "db_url",
        default=DEFAULT_URL if required else None,
        show_default=required,
        envvar="GOVWATCH_DB",
        metavar="URL",
        callback=_warn_address,
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


AS_HELP = "以此账号操作（默认环境变量 GOVWATCH_OPERATOR 所指的账号）"


@dataclass(frozen=True)
class ActAs:
    """Who a stateful command acts as (``--as``, else ``GOVWATCH_OPERATOR``), and the roles
    that may do what it does; :meth:`actor` checks the account in the command's database."""

    named: str | None
    roles: tuple[str, ...]
    what: str

    def operator(self, db: Database) -> Operator:
        """The account, refused (naming the role needed) when its role may not do this."""
        found = resolve_operator(db, self.named)
        require_role(found, self.roles, self.what)
        return found

    def actor(self, db: Database) -> Actor:
        """The account as the evaluation functions' :class:`Actor` (name, role, unit)."""
        found = self.operator(db)
        return Actor(found.username, found.role, found.org_code)


def as_option(roles: Sequence[str], what: str, *, at: bool = True) -> Callable[[F], F]:
    """``--as USER`` (and ``--at TIME`` unless ``at=False``): the command receives ``acting``
    (:class:`ActAs`) and ``at``. ``roles`` may do ``what``; any other account is refused with
    the role it would need (spec/interface.md, "Stateful commands")."""

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def with_user(*args: Any, as_user: str | None, **kw: Any) -> Any:
            return f(*args, acting=ActAs(as_user, tuple(roles), what), **kw)

        command: Callable[..., Any] = click.option(
            "--as", "as_user", default=None, metavar="用户", help=AS_HELP
        )(with_user)
        if at:
            command = at_option("操作时刻（默认现在）")(command)
        return command  # type: ignore[return-value]

    return decorate


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
