"""``govwatch import …`` and ``govwatch quarantine …``."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from govwatch.cli.options import db_option, format_option
from govwatch.cli.progress import activity, drawing, estimate_records, progress
from govwatch.errors import GovwatchError
from govwatch.events import quarantine
from govwatch.events.ingest import ImportReport
from govwatch.live.pipeline import import_event_files, import_item_files, retry_quarantine
from govwatch.storage import connect


def emit_report(report: ImportReport, fmt: str, what: str) -> None:
    if fmt in ("json", "jsonl"):
        click.echo(orjson.dumps(report.to_dict()).decode())
    for problem in report.problems[:20]:
        click.echo(f"  隔离：{problem.message}", err=True)
    if len(report.problems) > 20 or report.quarantined > len(report.problems[:20]):
        click.echo(f"  …共 {report.quarantined} 条隔离，用 govwatch quarantine list 查看", err=True)
    click.echo(
        f"{what}：读取 {report.read} 条，应用 {report.applied} 条，重复 {report.duplicates} 条，"
        f"隔离 {report.quarantined} 条",
        err=True,
    )


def _check_readable(report: ImportReport) -> None:
    if report.read and report.read == report.quarantined:
        raise GovwatchError("没有一条记录可以读取：请检查文件格式与字段名（见 docs/data.md）")
    if report.read == 0:
        raise GovwatchError("文件中没有记录")


@click.group("import")
def import_group() -> None:
    """导入事项目录或办件事件。"""


@import_group.command("catalog")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option()
@format_option()
def import_catalog_cmd(files: tuple[Path, ...], db_url: str, fmt: str) -> None:
    """导入事项目录（JSON Lines、YAML、CSV、Excel、Parquet）。"""
    db = connect(db_url)
    try:
        # the catalog importer reads whole files: a sign of life without counts
        with activity("导入事项目录"):
            report = import_item_files(db, list(files))
    finally:
        db.close()
    emit_report(report, fmt, "事项目录")
    _check_readable(report)


@import_group.command("events")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option()
@format_option()
def import_events_cmd(files: tuple[Path, ...], db_url: str, fmt: str) -> None:
    """导入办件事件（JSON Lines、CSV、Excel、Parquet、国标表/SBLSH 交换表）。"""
    db = connect(db_url)
    try:
        total = estimate_records(list(files)) if drawing() else None
        with progress("导入办件事件", total=total) as advance:
            report = import_event_files(db, list(files), progress=advance)
    finally:
        db.close()
    emit_report(report, fmt, "办件事件")
    _check_readable(report)


@click.group("quarantine")
def quarantine_group() -> None:
    """隔离区：查看、修正、重新提交格式错误的记录。"""


@quarantine_group.command("list")
@db_option()
@format_option()
@click.option("--all", "show_all", is_flag=True, help="包括已解决的记录")
@click.option("--limit", type=int, default=None)
def quarantine_list(db_url: str, fmt: str, show_all: bool, limit: int | None) -> None:
    """列出隔离区中的记录。"""
    db = connect(db_url)
    try:
        rows = quarantine.list_entries(db, status=None if show_all else "open", limit=limit)
    finally:
        db.close()
    if fmt in ("json", "jsonl"):
        for row in rows:
            row = {**row, "created_at": str(row["created_at"])}
            click.echo(orjson.dumps(row).decode())
        return
    if not rows:
        click.echo("隔离区为空", err=True)
    for row in rows:
        click.echo(
            f"[{row['id']}] {row['record_type']} {row['source']}:{row['line']} "
            f"字段 {row['field'] or '-'}：{row['message']}"
        )
        click.echo(f"    {row['raw'][:200]}")


@quarantine_group.command("fix")
@click.argument("entry_id", type=int)
@click.argument("assignment", required=False)
@click.option("--raw", "raw_text", help="用整条修正后的记录（JSON）替换")
@click.option("--unset", "unset_field", help="删除一个字段")
@db_option()
def quarantine_fix(
    entry_id: int,
    assignment: str | None,
    raw_text: str | None,
    unset_field: str | None,
    db_url: str,
) -> None:
    """修正一条隔离记录：字段=值、--unset 字段 或 --raw 整条记录（JSON）。"""
    db = connect(db_url)
    try:
        if raw_text is not None:
            quarantine.replace_raw(db, entry_id, raw_text)
        elif unset_field:
            quarantine.fix(db, entry_id, unset_field, None)
        elif assignment and "=" in assignment:
            name, value = assignment.split("=", 1)
            quarantine.fix(db, entry_id, name.strip(), value)
        else:
            raise GovwatchError("请给出 字段=值、--unset 字段 或 --raw 整条记录（JSON）")
    finally:
        db.close()
    click.echo(f"已修正隔离记录 {entry_id}；用 govwatch quarantine retry 重新提交", err=True)


@quarantine_group.command("retry")
@click.argument("ids", nargs=-1, type=int)
@db_option()
@format_option()
def quarantine_retry(ids: tuple[int, ...], db_url: str, fmt: str) -> None:
    """重新提交隔离记录（默认全部待处理记录）。"""
    db = connect(db_url)
    try:
        report = retry_quarantine(db, list(ids) or None)
    finally:
        db.close()
    emit_report(report, fmt, "重新提交")


def register(group: click.Group) -> None:
    group.add_command(import_group)
    group.add_command(quarantine_group)
