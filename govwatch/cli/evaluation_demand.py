"""``govwatch evaluation metrics | ratings … | questionnaire … | callbacks …``."""

from __future__ import annotations

from datetime import datetime

import click

from govwatch.cli.evaluation_rounds import evaluation_group
from govwatch.cli.options import (
    ActAs,
    as_option,
    at_option,
    db_option,
    echo_json,
    format_option,
    open_db,
)
from govwatch.evaluation.demand.ratings import (
    DEFAULT_DEADLINE_DAYS,
    import_ratings,
    mark_invalid,
    open_followups,
    record_callback,
    record_rectification,
    sync_ratings_from_events,
)
from govwatch.evaluation.demand.surveys import (
    import_callbacks,
    import_responses,
    load_questionnaire,
)
from govwatch.evaluation.metrics.definitions import METRICS, UNIT_KINDS, Period
from govwatch.evaluation.metrics.supply import compute_metrics
from govwatch.timeutil import parse_date


@evaluation_group.command("metrics")
@click.option("--kind", type=click.Choice(UNIT_KINDS), default="region", show_default=True)
@click.option("--from", "start", required=True, help="期间开始日期")
@click.option("--to", "end", required=True, help="期间结束日期")
@at_option("计算时刻（默认期间最后一天结束时）", default_now=False)
@click.option("--metric", "metric_ids", multiple=True, help="只计算这些数据项（可多次）")
@click.option("--list", "list_only", is_flag=True, help="只列出可用的数据项")
@format_option()
@db_option()
def metrics_command(
    kind: str,
    start: str,
    end: str,
    at: datetime | None,
    metric_ids: tuple[str, ...],
    list_only: bool,
    fmt: str,
    db_url: str,
) -> None:
    """由监测数据计算各单位的指标数据项（见 docs/metrics.md）。"""
    if list_only:
        for m in METRICS:
            click.echo(f"{m.id}\t{m.name}\t{m.formula}")
        return
    period = Period(parse_date(start), parse_date(end), at)
    values = compute_metrics(open_db(db_url), kind, period, metrics=list(metric_ids) or None)
    rows = [
        {
            "unit": v.unit,
            "metric": v.metric,
            "value": v.value,
            "numerator": v.numerator,
            "denominator": v.denominator,
        }
        for v in values
    ]
    if fmt == "json":
        echo_json(rows)
    elif fmt == "jsonl":
        for r in rows:
            echo_json(r)
    else:
        for r in rows:
            shown = "—" if r["value"] is None else f"{r['value']:.4f}"
            click.echo(f"{r['unit']}\t{r['metric']}\t{shown}")


@evaluation_group.group("ratings")
def ratings_group() -> None:
    """好差评：同步、导入、差评回访与整改。"""


@ratings_group.command("sync")
@click.option(
    "--deadline-days",
    type=click.IntRange(min=0),
    default=DEFAULT_DEADLINE_DAYS,
    show_default=True,
    help="差评整改期限",
)
@click.option("--deadline-unit", type=click.Choice(["W", "N"]), default="W", show_default=True)
@at_option()
@db_option()
def ratings_sync(deadline_days: int, deadline_unit: str, at: datetime, db_url: str) -> None:
    """从办件事件同步评价，并为新差评建立回访整改记录。"""
    db = open_db(db_url)
    n = sync_ratings_from_events(db)
    f = open_followups(db, deadline_days=deadline_days, deadline_unit=deadline_unit, at=at)
    click.echo(f"新增评价 {n} 条，新建差评整改记录 {f} 条", err=True)


@ratings_group.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--deadline-days", type=click.IntRange(min=0), default=DEFAULT_DEADLINE_DAYS, show_default=True
)
@click.option("--deadline-unit", type=click.Choice(["W", "N"]), default="W", show_default=True)
@at_option()
@db_option()
def ratings_import(
    paths: tuple[str, ...], deadline_days: int, deadline_unit: str, at: datetime, db_url: str
) -> None:
    """导入评价文件（CSV/JSONL；字段可用 办件编号、满意度、评价时间 等别名）。"""
    db = open_db(db_url)
    n = import_ratings(db, paths)
    f = open_followups(db, deadline_days=deadline_days, deadline_unit=deadline_unit, at=at)
    click.echo(f"新增评价 {n} 条，新建差评整改记录 {f} 条", err=True)


@ratings_group.command("callback")
@click.argument("rating_id")
@as_option(("admin", "department"), "记录差评回访")
@click.option("--note", default="")
@db_option()
def ratings_callback(rating_id: str, at: datetime, acting: ActAs, note: str, db_url: str) -> None:
    """记录差评已回访核实。"""
    db = open_db(db_url)
    record_callback(db, rating_id, at, acting.operator(db).username, note)


@ratings_group.command("rectified")
@click.argument("rating_id")
@as_option(("admin", "department"), "记录差评整改")
@click.option("--note", default="")
@db_option()
def ratings_rectified(rating_id: str, at: datetime, acting: ActAs, note: str, db_url: str) -> None:
    """记录差评已整改。"""
    db = open_db(db_url)
    record_rectification(db, rating_id, at, acting.operator(db).username, note)


@ratings_group.command("invalid")
@click.argument("rating_id")
@click.option("--reason", required=True)
@as_option(("admin", "department"), "认定差评无效")
@db_option()
def ratings_invalid(rating_id: str, reason: str, at: datetime, acting: ActAs, db_url: str) -> None:
    """认定差评为恶意或误评（申诉复核通过），不再计入。"""
    db = open_db(db_url)
    mark_invalid(db, rating_id, at, acting.operator(db).username, reason)


@evaluation_group.command("questionnaire")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@at_option()
@db_option()
def questionnaire_command(path: str, at: datetime, db_url: str) -> None:
    """导入问卷定义（YAML/JSON）。"""
    q = load_questionnaire(open_db(db_url), path, at)
    click.echo(f"已导入问卷 {q.id}：{len(q.questions)} 个问题", err=True)


@evaluation_group.command("responses")
@click.argument("questionnaire_id")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@db_option()
def responses_command(questionnaire_id: str, paths: tuple[str, ...], db_url: str) -> None:
    """导入问卷答卷。"""
    n = import_responses(open_db(db_url), questionnaire_id, paths)
    click.echo(f"新增答卷 {n} 份", err=True)


@evaluation_group.command("callbacks")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@db_option()
def callbacks_command(paths: tuple[str, ...], db_url: str) -> None:
    """导入回访记录。"""
    n = import_callbacks(open_db(db_url), paths)
    click.echo(f"新增回访记录 {n} 条", err=True)
