"""The ``govwatch`` command line.

Each part of the system keeps its commands in its own module under ``govwatch/cli`` and
registers them here. ``--format json`` output goes to stdout only; messages and progress go to
stderr. Every failure prints one Chinese line and exits with a documented code
(:mod:`govwatch.cli.failures`, ``docs/cli.md``); ``--debug`` shows the traceback too. click's own
messages are in Chinese (:mod:`govwatch.cli.click_text`, installed before any command exists).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import click

from govwatch.cli import click_text

click_text.install()

from govwatch import __version__  # noqa: E402 - after click's messages are in Chinese
from govwatch.cli.failures import run  # noqa: E402
from govwatch.cli.options import RUN, global_options, record_params  # noqa: E402

# Modules that define ``register(group)``; listed explicitly so that a broken one fails loudly.
COMMAND_MODULES = (
    "govwatch.cli.calendar",
    "govwatch.cli.deadlines",
    "govwatch.cli.evaluation",
    "govwatch.cli.evaluation_remind",  # govwatch evaluation remind (round notices due now)
    "govwatch.cli.events",
    "govwatch.cli.items",
    "govwatch.cli.generate",
    "govwatch.cli.guides",
    "govwatch.cli.rules",
    "govwatch.cli.auth",
    "govwatch.cli.alerts",
    "govwatch.cli.ledger",
    "govwatch.cli.serve",
    "govwatch.cli.demo",
    "govwatch.cli.doctor",
    "govwatch.cli.report",
    "govwatch.cli.report_flow",  # govwatch report schedule|draft|approve|issue|notices|verify
)


def _wants_debug(args: Sequence[str]) -> bool:
    """``--debug`` anywhere before ``--`` (or GOVWATCH_DEBUG): known before click parses, so a
    failure while parsing shows its traceback too."""
    words = list(args)
    words = words[: words.index("--")] if "--" in words else words
    return "--debug" in words or os.environ.get("GOVWATCH_DEBUG", "") not in ("", "0")


class GovwatchGroup(click.Group):
    """The root group: runs a command through :func:`govwatch.cli.failures.run`."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        RUN.reset(debug=_wants_debug(argv))

        def invoke() -> Any:
            return click.Group.main(
                self, argv, prog_name or "govwatch", complete_var, False, **extra
            )

        sys.exit(run(invoke))


@click.group(
    "govwatch",
    cls=GovwatchGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="govwatch")
def cli() -> None:
    """govwatch：互联网+政务服务 电子监察与评估评价。

    数据库地址（--db 或环境变量 GOVWATCH_DB）：文件路径、duckdb:///相对路径、duckdb:////绝对路径（四条斜线）或 postgresql://…；退出码见 docs/cli.md。
    """


cli.params.extend(global_options())

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def _leaves(group: click.Group) -> Iterator[click.Command]:
    for command in group.commands.values():
        if isinstance(command, click.Group):
            yield from _leaves(command)
        else:
            yield command


def _remembering(callback: Any) -> Any:
    @functools.wraps(callback)
    def remember(*args: Any, **kwargs: Any) -> Any:
        record_params(click.get_current_context())
        return callback(*args, **kwargs)

    return remember


# Every command accepts --debug and --quiet after its name too, and remembers its parameters
# for the failure message (the files it was given).
for _command in _leaves(cli):
    _command.params.extend(global_options(hidden=True))
    if _command.callback is not None:
        _command.callback = _remembering(_command.callback)

# Placeholders in Chinese ([选项], 文本, 批次编号…): click makes them in English from types and
# names; click_text.install() already made its help columns count a Chinese character as two.
click_text.localise(cli)


def main() -> None:
    cli.main()


if __name__ == "__main__":
    main()
