"""``govwatch guides run`` and ``govwatch guides runs``: guide check runs kept in a database.

``guides check`` is stateless (files in, findings out); ``guides run`` checks the catalog in a
database (or a crawl's fragment against it), keeps the run for evaluation and the pages, and
raises or clears the item-information alerts (事项公开信息异常) it shows. It acts as a named
user (``--as``): an account of the database with the administrator's role, or, without
``--as``, the operating-system user, recorded as given.
"""

from __future__ import annotations

import getpass
from datetime import datetime
from pathlib import Path

import click

from govwatch.auth.users import get_user
from govwatch.cli.options import at_option, db_option, echo_json, emit, format_option, open_db
from govwatch.errors import InputError
from govwatch.guides.runs import list_runs
from govwatch.live.guide_runs import guide_check_run
from govwatch.storage import Database
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_RUN_SOURCE_NAMES, ROLE_NAMES, label

RUN_ROLES = ("admin",)


def acting_user(db: Database, name: str | None) -> str:
    """Who runs: ``--as`` names an account that must exist, be active and be an administrator;
    without it, the operating-system user."""
    if name is None:
        return getpass.getuser()
    user = get_user(db, name) if db.table_exists("users") else None
    if user is None or not user.active:
        raise InputError(f"用户“{name}”不存在或已停用：请用 govwatch users list 查看账号")
    if user.role not in RUN_ROLES:
        raise InputError(
            f"用户“{name}”的角色是{label(ROLE_NAMES, user.role)}，无权运行办事指南核查"
            "（须为政务服务管理机构管理员）"
        )
    return user.username


@click.command("run")
@db_option()
@click.option("--as", "as_user", default=None, metavar="用户", help="以此账号运行（须为管理员）")
@click.option(
    "--crawl",
    "crawl_dir",
    default=None,
    type=click.Path(path_type=Path, file_okay=False),
    help="核查门户抓取结果（guides crawl 的输出目录），而非事项目录中的办事指南",
)
@at_option("核查时点（默认当前时间）；之后发生的事件不计")
@format_option(("table", "json"))
def run_cmd(
    db_url: str, as_user: str | None, crawl_dir: Path | None, at: datetime, fmt: str
) -> None:
    """运行一次办事指南核查并保存结果，据此产生或消除事项公开信息异常告警。"""
    db = open_db(db_url)
    try:
        who = acting_user(db, as_user)
        outcome = guide_check_run(
            db, at, who, source="crawl" if crawl_dir else "catalog", folder=crawl_dir
        )
    finally:
        db.close()
    run = outcome.run
    if fmt == "json":
        echo_json({**run.as_dict(), "alerts": outcome.alerts})
        return
    by_check = run.counts.get("by_check", {})
    checks = "、".join(f"{label(GUIDE_CHECK_NAMES, c)} {n} 条" for c, n in by_check.items() if n)
    a = outcome.alerts
    click.echo(
        f"第 {run.seq} 次办事指南核查（{label(GUIDE_RUN_SOURCE_NAMES, run.source)}，"
        f"核查时点 {run.checked_at:%Y-%m-%d %H:%M}，{who}）：{run.items} 个事项，"
        f"{run.findings} 条发现" + (f"（{checks}）" if checks else "")
    )
    click.echo(
        f"事项公开信息异常告警：新增 {a['raised']}，重新打开 {a['reopened']}，"
        f"级别变化 {a['level']}，自动消除 {a['cleared']}"
    )
    click.echo(f"核查编号 {run.run_id}")


@click.command("runs")
@db_option()
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@format_option(("table", "json", "jsonl"))
def runs_cmd(db_url: str, limit: int, fmt: str) -> None:
    """列出最近的办事指南核查（最新在前）。"""
    db = open_db(db_url)
    try:
        runs = list_runs(db, limit)
    finally:
        db.close()
    if fmt == "table":
        for r in runs:
            click.echo(
                f"第 {r.seq} 次  {r.checked_at:%Y-%m-%d %H:%M}  "
                f"{label(GUIDE_RUN_SOURCE_NAMES, r.source)}  {r.run_by}  {r.items} 个事项  "
                f"{r.findings} 条发现  {r.run_id}"
            )
        return
    emit([r.as_dict() for r in runs], fmt)


RUN_COMMANDS = (run_cmd, runs_cmd)
