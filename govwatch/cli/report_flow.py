"""``govwatch report`` — the notice workflow (通报的起草、审核、下发、核验), beside r15doc's
``report supervision|evaluation`` (which only write files).

- ``report schedule``: draft the scheduled notices that are due (the previous month's
  supervision notice from the first working day of a month), each once; the sweeper does the
  same on its tick while ``govwatch serve`` runs;
- ``report draft --kind supervision --period P [--scope CODE]`` or ``--kind evaluation
  --round ID``: a draft on demand;
- ``report approve ID``, ``report issue ID``: an administrator's steps (``--as``);
- ``report notices``: the notices with their stage and acknowledgements;
- ``report verify ID``: recompute an issued notice's digest (exit 1 when it does not hold).
"""

from __future__ import annotations

from datetime import datetime

import click

from govwatch.auth.principal import Principal
from govwatch.cli.options import ActAs, as_option, db_option, echo_json, format_option, open_db
from govwatch.cli.report import report_group
from govwatch.reports.workflow import (
    KIND_NAMES,
    STATUS_NAMES,
    NoticeInputs,
    approve_notice,
    draft_notice,
    issue_notice,
    list_notices,
    scheduled_drafts,
    verify_notice,
)
from govwatch.storage import Database

__all__ = ["register"]


def _principal(acting: ActAs, db: Database) -> Principal:
    found = acting.operator(db)
    return Principal(found.username, found.role, org_code=found.org_code)


@report_group.command("schedule")
@as_option(("admin",), "起草定期通报")
@db_option()
def schedule_command(acting: ActAs, at: datetime, db_url: str) -> None:
    """起草到期的定期通报（每月第一个工作日起草上月电子监察通报）；每份只起草一次。"""
    db = open_db(db_url)
    acting.operator(db)
    made = scheduled_drafts(db, at)
    for notice_id in made:
        click.echo(notice_id)
    click.echo(f"已起草 {len(made)} 份定期通报" if made else "没有到期的定期通报", err=True)


@report_group.command("draft")
@click.option(
    "--kind",
    type=click.Choice(["supervision", "evaluation"]),
    required=True,
    help="supervision：电子监察通报；evaluation：评估结果通报",
)
@click.option("--period", default=None, metavar="期间", help="电子监察通报的期间，如 2026-06")
@click.option("--scope", default=None, metavar="代码", help="电子监察通报的范围（默认全省）")
@click.option("--round", "round_id", default=None, metavar="批次编号", help="评估结果通报的批次")
@as_option(("admin",), "起草通报")
@db_option()
def draft_command(
    kind: str,
    period: str | None,
    scope: str | None,
    round_id: str | None,
    acting: ActAs,
    at: datetime,
    db_url: str,
) -> None:
    """起草一份通报（草稿），打印其编号。"""
    db = open_db(db_url)
    click.echo(
        draft_notice(db, _principal(acting, db), NoticeInputs(kind, period, scope, round_id), at)
    )


@report_group.command("approve")
@click.argument("notice_id", metavar="通报编号")
@as_option(("admin",), "审核通报")
@db_option()
def approve_command(notice_id: str, acting: ActAs, at: datetime, db_url: str) -> None:
    """审核通过一份通报草稿。"""
    db = open_db(db_url)
    approve_notice(db, _principal(acting, db), notice_id, at)
    click.echo(f"通报 {notice_id} 已审核通过", err=True)


@report_group.command("issue")
@click.argument("notice_id", metavar="通报编号")
@as_option(("admin",), "下发通报")
@db_option()
def issue_command(notice_id: str, acting: ActAs, at: datetime, db_url: str) -> None:
    """下发已审核的通报：冻结内容、记入台账并发送给收文单位；打印摘要（SHA-256）。"""
    db = open_db(db_url)
    click.echo(issue_notice(db, _principal(acting, db), notice_id, at))


@report_group.command("notices")
@as_option(("admin", "supervisor"), "查看通报", at=False)
@format_option(("text", "json"))
@db_option()
def notices_command(acting: ActAs, fmt: str, db_url: str) -> None:
    """列出通报：状态、类型、期间或批次、签收情况。"""
    db = open_db(db_url)
    rows = list_notices(db, _principal(acting, db), limit=1000)
    if fmt == "json":
        echo_json(rows)
        return
    for r in rows:
        subject = r["period"] or r["round_id"] or ""
        click.echo(
            f"{r['notice_id']}  {STATUS_NAMES[r['status']]}  {KIND_NAMES[r['kind']]}  {subject}  "
            f"{r['doc_number']}  签收 {r['acked']}/{r['addressed']}"
        )


@report_group.command("verify")
@click.argument("notice_id", metavar="通报编号")
@format_option(("text", "json"))
@db_option()
def verify_command(notice_id: str, fmt: str, db_url: str) -> None:
    """核验已下发通报的摘要：由存储的正文重新计算，并与台账记录比对。"""
    db = open_db(db_url)
    check = verify_notice(db, notice_id)
    if fmt == "json":
        echo_json(check.to_json())
    else:
        click.echo(
            f"通报 {notice_id}：{'摘要一致' if check.ok else '摘要不一致'}（{check.stored}）"
        )
    if not check.ok:
        raise SystemExit(1)


def register(group: click.Group) -> None:
    """The commands attach themselves to ``govwatch report`` on import."""
    del group
