"""``govwatch report``: the notices (通报) as .docx (GB/T 9704-2012), .pdf and .xlsx.

``report supervision --period P [--scope CODE]``: the supervision notice (电子监察通报) for a
month, quarter, year or range of days over the province, a region or a department;
``report evaluation --round ROUND_ID``: the evaluation notice (评估结果通报) of a published
round. Each writes the three files into ``--out`` and prints their paths, one a line.
Nothing in the database changes (drafting, approving and issuing are the workflow's).
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from govwatch.cli.options import at_option, db_option, open_db
from govwatch.reports.document import Notice, write_all
from govwatch.reports.evaluation import build_evaluation_notice
from govwatch.reports.period import parse_period
from govwatch.reports.supervision import build_supervision_notice

OUT_HELP = "输出目录（不存在时创建）"


@click.group("report")
def report_group() -> None:
    """通报：电子监察通报与评估结果通报（DOCX、PDF、XLSX）。"""


def _stem(*parts: str) -> str:
    return "-".join(re.sub(r"[^0-9A-Za-z_.-]+", "_", p) for p in parts if p)


def _write(notice: Notice, out: Path, stem: str) -> None:
    for path in write_all(notice, out, stem):
        click.echo(str(path))


@report_group.command("supervision")
@click.option(
    "--period",
    required=True,
    metavar="期间",
    help="统计期间：YYYY-MM、YYYY-Qn、YYYY 或 YYYY-MM-DD..YYYY-MM-DD",
)
@click.option("--scope", default=None, metavar="代码", help="范围：地区代码或部门代码（默认全省）")
@db_option()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help=OUT_HELP)
@at_option("成文时刻（默认现在）")
def report_supervision(period: str, scope: str | None, db_url: str, out: Path, at: object) -> None:
    """电子监察通报：办件与按时办结率、告警、红黄牌、督办与整改、典型问题、表扬与批评。"""
    p = parse_period(period)  # a bad period is refused before the database is opened
    db = open_db(db_url)
    try:
        notice = build_supervision_notice(db, p, scope, at)  # type: ignore[arg-type]
    finally:
        db.close()
    _write(notice, out, _stem("supervision", p.code.replace("..", "_"), scope or ""))


@report_group.command("evaluation")
@click.option("--round", "round_id", required=True, metavar="批次编号", help="已发布的评估批次")
@db_option()
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help=OUT_HELP)
@at_option("成文时刻（默认现在）")
def report_evaluation(round_id: str, db_url: str, out: Path, at: object) -> None:
    """评估结果通报：分组排名与星级、各单位失分、整改要求、与上一批次的变化。"""
    db = open_db(db_url)
    try:
        notice = build_evaluation_notice(db, round_id, at)  # type: ignore[arg-type]
    finally:
        db.close()
    _write(notice, out, _stem("evaluation", round_id))


def register(group: click.Group) -> None:
    group.add_command(report_group)
