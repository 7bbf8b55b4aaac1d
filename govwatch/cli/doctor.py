"""``govwatch doctor``: one line per health check, non-zero exit when something needs action."""

from __future__ import annotations

import sys

import click

from govwatch.cli.failures import ExitCode
from govwatch.cli.options import db_option, echo_json, format_option
from govwatch.live.health import run_checks


@click.command("doctor")
@db_option()
@format_option(("table", "json"))
def doctor_command(db_url: str, fmt: str) -> None:
    """检查运行状况：数据库、工作日历、实时队列、巡检、账本、磁盘、字体、PDF 转换、版本。

    每项一行：✓ 正常，✗ 需要处理（并说明怎么做），! 可选组件缺失。有 ✗ 时退出码为 1。
    """
    report = run_checks(db_url)
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        for check in report.checks:
            click.echo(check.line())
    if report.needs_action:
        failing = sum(1 for c in report.checks if c.status == "fail")
        click.echo(f"{failing} 项需要处理", err=True)
        sys.exit(int(ExitCode.CHECK_FAILED))


def register(group: click.Group) -> None:
    group.add_command(doctor_command)
