"""``govwatch evaluation …``: rounds from the command line (the same functions as the API)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from govwatch.cli.options import (
    ActAs,
    as_option,
    db_option,
    echo_json,
    format_option,
    open_db,
)
from govwatch.errors import InputError
from govwatch.evaluation.metrics.definitions import UNIT_KINDS, Period
from govwatch.evaluation.presets import preset_names, resolve_system
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    collect,
    compute_round,
    create_round,
)
from govwatch.evaluation.rounds.values import add_evidence, submit_value, verify_value
from govwatch.evaluation.systems.results import Evaluation
from govwatch.evaluation.systems.robustness import STABLE_SHARE
from govwatch.evaluation.systems.values import read_records
from govwatch.timeutil import parse_date, parse_timestamp


def stars_text(stars: int) -> str:
    return "★" * stars if stars else "—"


def print_evaluation(evaluation: Evaluation, fmt: str, *, explain: bool = False) -> None:
    ordered = evaluation.ordered()
    if fmt == "json":
        echo_json([r.to_json(explain=explain) for r in ordered])
    elif fmt == "jsonl":
        for r in ordered:
            echo_json(r.to_json(explain=explain))
    else:
        robust = evaluation.uncertainty_runs > 0
        head = f"{'排名':>4}  {'单位':<16}{'分组':<10}{'得分':>8}  {'星级':<6}{'组内':>4}"
        if robust:
            head += f"  {'排名区间':<10}{'星级稳定性':>8}"
        click.echo(head)
        for r in ordered:
            line = (
                f"{r.rank:>4}  {r.unit:<16}{(r.group or '-'):<10}{r.score:>8.2f}  "
                f"{stars_text(r.stars):<6}{r.group_rank:>4}"
            )
            if robust and r.rank_interval and r.star_stability is not None:
                shaky = "" if r.star_stability > STABLE_SHARE else "（不稳定）"
                line += (
                    f"  {r.rank_interval[0]}–{r.rank_interval[1]:<7}{r.star_stability:>8.0%}{shaky}"
                )
            if r.missing:
                line += f"  缺失 {len(r.missing)} 项"
            click.echo(line)
    poor = evaluation.poorly_covered()
    if poor:
        names = "、".join(r.unit for r in poor)
        click.echo(
            f"注意：{len(poor)} 个单位的指标覆盖率低于 {evaluation.system.coverage_min:.0%}"
            f"（结果不可靠）：{names}",
            err=True,
        )


@click.group("evaluation")
def evaluation_group() -> None:
    """评估批次：配置、采集、填报、计算、复核申诉、发布、整改跟踪。"""


@evaluation_group.command("presets")
def presets_command() -> None:
    """列出预置指标体系。"""
    for name in preset_names():
        system = resolve_system(name)
        click.echo(f"{name}\t{system.name}\t{len(system.leaves)} 项指标")


@evaluation_group.command("create")
@click.argument("round_id")
@click.option("--name", required=True, help="批次名称")
@click.option("--system", "system_ref", required=True, help="指标体系 YAML 或预置名")
@click.option("--from", "start", required=True, metavar="DATE", help="评估期间开始日期 YYYY-MM-DD")
@click.option("--to", "end", required=True, metavar="DATE", help="评估期间结束日期 YYYY-MM-DD")
@click.option(
    "--kind",
    type=click.Choice(UNIT_KINDS),
    default=None,
    help="评估对象类型（默认取指标体系的 unit_kind）",
)
@click.option(
    "--units",
    "units_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="评估对象：CSV/JSONL，列 unit, name, group",
)
@click.option("--fill-deadline", default=None, help="填报截止时刻")
@click.option(
    "--review-days",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="复核申诉期（工作日）",
)
@click.option("--previous", default=None, help="上一批次（整改跟踪）")
@as_option(("admin",), "创建评估批次")
@db_option()
def create_command(
    round_id: str,
    name: str,
    system_ref: str,
    start: str,
    end: str,
    kind: str | None,
    units_path: str,
    fill_deadline: str | None,
    review_days: int,
    previous: str | None,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """创建评估批次。"""
    system = resolve_system(system_ref)
    unit_kind = kind or system.unit_kind
    if unit_kind not in UNIT_KINDS:
        raise InputError(f"请用 --kind 指定评估对象类型：{'、'.join(UNIT_KINDS)}")
    units = [
        UnitSpec(str(r["unit"]).strip(), (r.get("name") or None), (r.get("group") or None))
        for r in read_records(units_path, ("unit",))
    ]
    db = open_db(db_url)
    create_round(
        db,
        round_id,
        name,
        system,
        Period(parse_date(start), parse_date(end)),
        unit_kind,
        units,
        acting.actor(db),
        at,
        fill_deadline_at=parse_timestamp(fill_deadline) if fill_deadline else None,
        review_days=review_days,
        previous_round_id=previous,
    )
    click.echo(
        f"已创建评估批次 {round_id}：{len(units)} 个评估对象，指标体系“{system.name}”", err=True
    )


@evaluation_group.command("collect")
@click.argument("round_id")
@as_option(("admin",), "采集监测数据")
@db_option()
def collect_command(
    round_id: str,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """由监测数据计算各单位的指标值。"""
    db = open_db(db_url)
    n = collect(db, round_id, acting.actor(db), at)
    click.echo(f"已计算 {n} 个指标值", err=True)


@evaluation_group.command("fill")
@click.argument("round_id")
@click.option("--unit", required=True)
@click.option("--indicator", required=True)
@click.option("--value", required=True)
@click.option("--note", default=None)
@click.option(
    "--evidence",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="证明材料文件（可多次）",
)
@as_option(("admin", "department", "evaluator"), "填报指标值")
@db_option()
def fill_command(
    round_id: str,
    unit: str,
    indicator: str,
    value: str,
    note: str | None,
    evidence: tuple[str, ...],
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """填报或提交一个指标值（部门填报、第三方核查、管理机构更正）。"""
    db = open_db(db_url)
    actor = acting.actor(db)
    submit_value(db, round_id, unit, indicator, value, actor, at, note)
    for path in evidence:
        add_evidence(
            db, round_id, unit, indicator, Path(path).name, Path(path).read_bytes(), actor, at
        )
    click.echo(f"已记录 {unit} 的 {indicator} = {value}", err=True)


@evaluation_group.command("import-values")
@click.argument("round_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@as_option(("admin", "department", "evaluator"), "填报指标值")
@db_option()
def import_values_command(
    round_id: str,
    path: str,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """批量填报：CSV/JSONL，列 unit, indicator, value[, note]。"""
    db = open_db(db_url)
    actor = acting.actor(db)
    rows = read_records(path, ("unit", "indicator", "value"))
    with db.transaction():
        for r in rows:
            submit_value(
                db,
                round_id,
                str(r["unit"]),
                str(r["indicator"]),
                r.get("value"),
                actor,
                at,
                r.get("note") or None,
            )
    click.echo(f"已记录 {len(rows)} 个指标值", err=True)


@evaluation_group.command("verify-value")
@click.argument("round_id")
@click.option("--unit", required=True)
@click.option("--indicator", required=True)
@as_option(("admin", "evaluator"), "核验指标值")
@db_option()
def verify_value_command(
    round_id: str,
    unit: str,
    indicator: str,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """核验一个已提交的指标值。"""
    db = open_db(db_url)
    verify_value(db, round_id, unit, indicator, acting.actor(db), at)


@evaluation_group.command("compute")
@click.argument("round_id")
@click.option("--uncertainty", type=click.IntRange(min=0), default=0)
@format_option()
@as_option(("admin",), "计算评估结果")
@db_option()
def compute_command(
    round_id: str,
    uncertainty: int,
    fmt: str,
    at: datetime,
    acting: ActAs,
    db_url: str,
) -> None:
    """计算评估结果（得分、星级、排名）。"""
    db = open_db(db_url)
    result = compute_round(db, round_id, acting.actor(db), at, uncertainty=uncertainty)
    print_evaluation(result, fmt)
