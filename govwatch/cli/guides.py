"""``govwatch guides check`` (stateless, like ``govwatch audit``) and ``govwatch guides crawl``."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from govwatch.cli.guides_crawl import crawl
from govwatch.cli.guides_runs import RUN_COMMANDS
from govwatch.cli.options import at_option, format_option
from govwatch.cli.progress import activity, drawing, estimate_records, progress
from govwatch.exports import SafeCsvWriter
from govwatch.guides.checks import run_checks
from govwatch.guides.model import GuideFinding
from govwatch.live.pipeline import load_memory
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_ELEMENT_NAMES, label

COLUMNS = ("item_code", "element", "check", "expected", "found", "message", "evidence")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def emit_findings(findings: list[GuideFinding], fmt: str) -> None:
    out = sys.stdout
    if fmt == "jsonl":
        for f in findings:
            out.write(_dumps(f.as_dict()) + "\n")
    elif fmt == "csv":
        # names, messages and evidence come from imported records: none may run as a formula
        writer = SafeCsvWriter(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for f in findings:
            row = f.as_dict()
            writer.writerow([*(row[c] for c in COLUMNS[:-1]), _dumps(row["evidence"])])
    else:
        for f in findings:
            element = label(GUIDE_ELEMENT_NAMES, f.element)
            check = label(GUIDE_CHECK_NAMES, f.check)
            out.write(f"{f.item_code}\t{element}\t{check}\t{f.message}\n")
    out.flush()


@click.group("guides")
def guides() -> None:
    """办事指南核查：要素完整性、与实施清单一致性、与办理实际一致性；抓取门户公布的办事指南。"""


@guides.command("check")
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="事项目录文件（含办事指南 guide 对象；可为 guides crawl 输出的目录片段）",
)
@click.option(
    "--events",
    "events",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="办件事件文件（可跟多个）",
)
@click.argument("more_events", nargs=-1, type=click.Path(path_type=Path))
@at_option("核查时点（默认当前时间）；之后发生的事件不计")
@format_option(("jsonl", "csv", "table"))
def check_cmd(
    catalogs: tuple[Path, ...],
    events: tuple[Path, ...],
    more_events: tuple[Path, ...],
    at: datetime,
    fmt: str,
) -> None:
    """核查每个事项的办事指南（无状态），每行输出一条发现。

    三类核查：要素完整性（应公布的要素是否齐全、规范）、与实施清单一致性（时限、收费、流程、
    材料）、与办理实际一致性（办件实际要求的材料、环节顺序、用时、收费）。要素与规则见
    docs/guides.md。
    """
    event_files = [*events, *more_events]
    total = estimate_records(event_files) if drawing() else None
    with progress("读取办件事件", total=total) as advance:
        db = load_memory(list(catalogs), event_files, progress=advance)
    try:
        with activity("核查办事指南"):
            findings = run_checks(db, at)
    finally:
        db.close()
    emit_findings(findings, fmt)
    items = len({f.item_code for f in findings})
    by_check = Counter(f.check for f in findings)
    counts = "、".join(
        f"{label(GUIDE_CHECK_NAMES, c)} {by_check[c]} 条" for c in GUIDE_CHECK_NAMES if by_check[c]
    )
    click.echo(
        f"核查时点 {at.isoformat(sep=' ')}：共 {len(findings)} 条发现，涉及 {items} 个事项"
        + (f"（{counts}）" if counts else ""),
        err=True,
    )


guides.add_command(crawl)
for _command in RUN_COMMANDS:  # guides run, guides runs (cli/guides_runs.py)
    guides.add_command(_command)


def register(group: click.Group) -> None:
    group.add_command(guides)
