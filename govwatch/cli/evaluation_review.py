"""``govwatch evaluation review | appeal | decide | publish | close | verify | show | list |
follow-up``: each command that changes a round acts as a named user (``--as``)."""

from __future__ import annotations

from datetime import datetime

import click

from govwatch.cli.evaluation_rounds import evaluation_group
from govwatch.cli.options import (
    ActAs,
    as_option,
    db_option,
    echo_json,
    format_option,
    open_db,
)
from govwatch.errors import InputError
from govwatch.evaluation.rounds.digest import verify_round
from govwatch.evaluation.rounds.lifecycle import (
    close_round,
    follow_up,
    publish,
    settle_appeal,
    start_review,
    submit_appeal,
)
from govwatch.evaluation.rounds.views import OPERATOR, list_rounds, round_summary


@evaluation_group.command("review")
@click.argument("round_id")
@as_option(("admin",), "进入复核")
@db_option()
def review_command(
    round_id: str,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """进入复核：各单位查看结果，申诉期内可提出申诉。"""
    db = open_db(db_url)
    until = start_review(db, round_id, acting.actor(db), at)
    click.echo(f"复核申诉期至 {until}", err=True)


@evaluation_group.command("appeal")
@click.argument("round_id")
@click.option("--unit", required=True)
@click.option("--reason", required=True)
@click.option("--indicator", default=None)
@as_option(("admin", "department"), "提出申诉")
@db_option()
def appeal_command(
    round_id: str,
    unit: str,
    reason: str,
    indicator: str | None,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """对评估结果提出申诉。"""
    db = open_db(db_url)
    appeal_id = submit_appeal(db, round_id, unit, reason, acting.actor(db), at, indicator)
    click.echo(appeal_id)


@evaluation_group.command("decide")
@click.argument("appeal_id")
@click.option("--accept/--reject", required=True)
@click.option("--decision", required=True, help="处理意见")
@click.option("--value", type=float, default=None, help="采纳时更正的指标值")
@as_option(("admin",), "处理申诉")
@db_option()
def decide_command(
    appeal_id: str,
    accept: bool,
    decision: str,
    value: float | None,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """处理申诉。"""
    db = open_db(db_url)
    settle_appeal(db, appeal_id, accept, decision, acting.actor(db), at, corrected_value=value)


@evaluation_group.command("publish")
@click.argument("round_id")
@click.option("--early", is_flag=True, help="确认在评估期结束前提前发布（结果上注明提前发布）")
@as_option(("admin",), "发布评估结果")
@db_option()
def publish_command(
    round_id: str,
    early: bool,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """发布评估结果：冻结输入与结果并生成摘要。"""
    db = open_db(db_url)
    digest = publish(db, round_id, acting.actor(db), at, early=early)
    click.echo(digest)


@evaluation_group.command("close")
@click.argument("round_id")
@as_option(("admin",), "关闭评估批次")
@db_option()
def close_command(round_id: str, at: datetime, acting: ActAs, db_url: str) -> None:
    """关闭已发布的评估批次（结果保持公开、冻结）。"""
    db = open_db(db_url)
    close_round(db, round_id, acting.actor(db), at)
    click.echo(f"已关闭评估批次 {round_id}", err=True)


@evaluation_group.command("verify")
@click.argument("round_id")
@format_option()
@db_option()
def verify_command(round_id: str, fmt: str, db_url: str) -> None:
    """校验已发布批次的摘要（输入与结果未被改动）。"""
    check = verify_round(open_db(db_url), round_id)
    if fmt != "table":
        echo_json(check.to_json())
    else:
        click.echo(f"{'一致' if check.ok else '不一致'}\t{check.stored}\t{check.recomputed}")
    if not check.ok:
        raise InputError(
            f"评估批次“{round_id}”的摘要校验不通过：发布后的输入或结果被改动过，或尚未发布"
        )


@evaluation_group.command("show")
@click.argument("round_id")
@format_option()
@db_option()
def show_command(round_id: str, fmt: str, db_url: str) -> None:
    """查看批次及其结果（全部单位，如管理员所见）。"""
    summary = round_summary(open_db(db_url), round_id, OPERATOR)
    if fmt == "json":
        echo_json(summary)
    elif fmt == "jsonl":
        for r in summary["results"]:
            echo_json(r)
    else:
        click.echo(
            f"{summary['round_id']} {summary['name']}（{summary['status']}）"
            f" {summary['period_start']}–{summary['period_end']}"
        )
        for r in summary["results"]:
            click.echo(
                f"{r['rank']:>4}  {r['unit']:<12}{r['score']:>8.2f}  "
                f"{'★' * r['stars'] if r['stars'] else '—'}"
            )


@evaluation_group.command("list")
@format_option()
@db_option()
def list_command(fmt: str, db_url: str) -> None:
    """列出评估批次。"""
    rounds = list_rounds(open_db(db_url), OPERATOR)
    if fmt == "json":
        echo_json(rounds)
    elif fmt == "jsonl":
        for r in rounds:
            echo_json(r)
    else:
        for r in rounds:
            click.echo(
                f"{r['round_id']}\t{r['status']}\t{r['period_start']}–{r['period_end']}"
                f"\t{r['name']}"
            )


@evaluation_group.command("follow-up")
@click.argument("round_id")
@db_option()
def follow_up_command(round_id: str, db_url: str) -> None:
    """以本批次结果跟踪上一批次的整改要求。"""
    n = follow_up(open_db(db_url), round_id)
    click.echo(f"已跟踪 {n} 项整改要求", err=True)
