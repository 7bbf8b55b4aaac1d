"""The ``govwatch`` command line.

Each part of the system keeps its commands in its own ``commands.py`` and registers them
here. ``--format json`` output goes to stdout only; messages and progress go to stderr.
Expected failures (:class:`GovwatchError`) print one line and exit with status 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from govwatch import __version__
from govwatch.errors import GovwatchError

# Modules that define ``register(group)``; listed explicitly so that a broken one fails loudly.
COMMAND_MODULES = (
    "govwatch.cli.calendar",
    "govwatch.cli.deadlines",
    "govwatch.cli.evaluation",
    "govwatch.cli.events",
    "govwatch.cli.items",
    "govwatch.cli.generate",
    "govwatch.cli.rules",
    "govwatch.cli.auth",
    "govwatch.cli.alerts",
    "govwatch.cli.ledger",
    "govwatch.cli.serve",
    "govwatch.cli.demo",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govwatch")
def cli() -> None:
    """govwatch：互联网+政务服务 电子监察与评估评价。"""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except GovwatchError as exc:
        click.echo(f"错误：{exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("已中止", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
