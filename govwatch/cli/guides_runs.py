"""``govwatch guides run`` and ``govwatch guides runs``: guide check runs kept in a database.

``guides check`` is stateless (files in, findings out); ``guides run`` checks the catalog in a
database (or a crawl's fragment against it), keeps the run for evaluation and the pages, and
raises or clears the item-information alerts (事项公开信息异常) it shows. It acts as a named
user (``--as``, else the operator account ``GOVWATCH_OPERATOR``: :func:`as_option`), who must
be an administrator.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from govwatch.cli.options import (
    ActAs,
    as_option,
    at_option,
    db_option,
    echo_json,
    emit,
    format_option,
    open_db,
)
from govwatch.guides.runs import list_runs
from govwatch.live.guide_runs import guide_check_run
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_RUN_SOURCE_NAMES, label

RUN_ROLES = ("admin",)


@click.command("run")
@db_option()
@as_option(RUN_ROLES, "运行办事指南核查", at=False)
@click.option(
    "--crawl",
    "crawl_dir",
    default=None,
    type=click.Path(path_type=Path, file_okay=False),
    help="核查门户抓取结果（guides crawl 的输出目录），而非事项目录中的办事指南",
)
@at_option("核查时点（默认当前时间）；之后发生的事件不计")
@format_option(("table", "json"))
def run_cmd(db_url: str, acting: ActAs, crawl_dir: Path | None, at: datetime, fmt: str) -> None:
    """运行一次办事指南核查并保存结果，据此产生或消除事项公开信息异常告警。"""
    db = open_db(db_url)
    try:
        who = acting.operator(db).username
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
