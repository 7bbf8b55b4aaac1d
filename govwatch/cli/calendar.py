"""``govwatch calendar status | show YEAR | notice FILE | load [--notice] FILE``."""

from __future__ import annotations

import io
from pathlib import Path

import click
import orjson

from govwatch import timeutil
from govwatch.calendar.coverage import calendar_coverage
from govwatch.calendar.notice import Notice, decode_notice, parse_notice
from govwatch.calendar.store import show, status
from govwatch.cli.options import db_option, format_option
from govwatch.errors import InputError
from govwatch.exports import SafeCsvWriter
from govwatch.live.pipeline import load_calendar
from govwatch.storage import connect
from govwatch.vocabulary import DAY_KIND_NAMES


def _spans(years: list[int]) -> str:
    """2004–2026, 2028 style."""
    if not years:
        return "无"
    parts, start, prev = [], years[0], years[0]
    for y in [*years[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        parts.append(f"{start}–{prev}" if prev != start else str(start))
        if y is not None:
            start = prev = y
    return "、".join(parts)


@click.group("calendar")
def calendar_group() -> None:
    """工作日历：国务院节假日安排（放假与调休上班），按年覆盖。"""


@calendar_group.command("status")
@db_option()
@format_option()
def status_cmd(db_url: str, fmt: str) -> None:
    """哪些年份已有节假日安排（已覆盖），哪些年份为暂定（仅按周末计算）。"""
    db = connect(db_url)
    try:
        years = status(db)
        coverage = calendar_coverage(db, timeutil.now().date())
    finally:
        db.close()
    covered = [y.year for y in years if y.covered]
    provisional = [y.year for y in years if not y.covered]
    if fmt == "json":
        payload = {"covered": covered, "provisional": provisional,
                   "years": [y.to_dict() for y in years],
                   "coverage": coverage.to_dict()}  # fmt: skip
        click.echo(orjson.dumps(payload).decode())
        return
    if fmt == "jsonl":
        for y in years:
            click.echo(orjson.dumps(y.to_dict()).decode())
        return
    click.echo(("✗ " if coverage.needs_action else "✓ ") + coverage.message())
    click.echo(f"已覆盖年份：{_spans(covered)}")
    click.echo(f"暂定年份（无节假日安排，仅周末休息；涉及的期限均标为暂定）：{_spans(provisional)}")
    click.echo(f"{'年份':<6}{'状态':<6}{'工作日':>6}{'放假':>6}{'调休上班':>8}  来源")
    for y in years:
        if y.covered:
            click.echo(
                f"{y.year:<8}{'已覆盖':<5}{y.workdays:>7}{y.holidays:>7}{y.makeup_workdays:>10}  "
                f"{y.source}"
            )


@calendar_group.command("show")
@click.argument("year", type=int)
@db_option()
@format_option()
def show_cmd(year: int, db_url: str, fmt: str) -> None:
    """列出一年的日历：放假日、调休上班日及其来源。"""
    db = connect(db_url)
    try:
        days = show(db, year)
    finally:
        db.close()
    if fmt == "json":
        click.echo(orjson.dumps(days).decode())
        return
    if fmt == "jsonl":
        for day in days:
            click.echo(orjson.dumps(day).decode())
        return
    workdays = sum(1 for d in days if d["is_workday"])
    state = "暂定（无节假日安排，仅周末休息）" if days[0]["provisional"] else "已覆盖"
    click.echo(f"{year} 年：{state}，来源 {days[0]['source']}，工作日 {workdays} 天")
    for day in days:
        if day["kind"] in ("holiday", "makeup_workday"):
            label = DAY_KIND_NAMES[day["kind"]]
            click.echo(f"  {day['date']} {day['weekday']} {label} {day['name'] or ''}".rstrip())


def read_notice(file: Path) -> Notice:
    """The published notice saved in ``file``, parsed (nothing is saved)."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"无法读取通知文件 {file}：文件不存在，请检查路径") from None
    except IsADirectoryError:
        raise InputError(f"无法读取通知文件 {file}：这是一个目录，应为通知全文的文本文件") from None
    except OSError as exc:
        raise InputError(f"无法读取通知文件 {file}：{exc.strerror}") from exc
    return parse_notice(decode_notice(data, str(file)), where=str(file), label=file.name)


@calendar_group.command("notice")
@click.argument("file", type=click.Path(path_type=Path))
@format_option(("csv", "json"))
def notice_cmd(file: Path, fmt: str) -> None:
    """读取国务院办公厅节假日安排通知全文，列出其中的日期（不保存）。

    输出每个日期一行：date,type,name（type 为 holiday 放假 或 workday 调休上班，name 为节日），
    可直接交给 govwatch calendar load；保存请用 govwatch calendar load --notice 文件。
    """
    notice = read_notice(file)
    if fmt == "json":
        click.echo(orjson.dumps([d.to_dict() for d in notice.days]).decode())
    else:
        # a festival's name is read from the pasted text: quoted where needed, never a formula
        out = io.StringIO()
        writer = SafeCsvWriter(out, lineterminator="\n")
        writer.writerow(["date", "type", "name"])
        writer.writerows([d.on_date.isoformat(), d.day_type, d.name or ""] for d in notice.days)
        click.echo(out.getvalue(), nl=False)
    kind = "全年安排" if notice.annual_years else "调整通知"
    click.echo(
        f"{_spans(list(notice.years))} 年{kind}：放假 {notice.holidays} 天，调休上班 "
        f"{notice.workdays} 天（未保存；保存请用 govwatch calendar load --notice {file}）",
        err=True,
    )


@calendar_group.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--notice",
    "is_notice",
    is_flag=True,
    help="所给文件是国务院办公厅节假日安排通知的全文（而不是 date,type CSV）",
)
@db_option()
@format_option()
def load_cmd(file: Path, is_notice: bool, db_url: str, fmt: str) -> None:
    """载入节假日安排：通知全文（--notice）或 CSV（date,type；holiday 放假，workday 调休上班）。

    通知全文：全年安排覆盖该年（以通知为准并标为已覆盖），调整通知只改它列出的日期。
    CSV：文件中出现的每个年份都以文件内容为准并标为已覆盖。受影响的在办办件重新计算期限，
    并重新检查规则（超期、临期告警随之产生或解除）。
    """
    source: Path | Notice = read_notice(file) if is_notice else file
    db = connect(db_url)
    try:
        report = load_calendar(db, source)
    finally:
        db.close()
    if fmt in ("json", "jsonl"):
        click.echo(orjson.dumps(report.to_dict()).decode())
    click.echo(
        f"已载入 {_spans(report.years)} 年的 {report.dates} 个日期；"
        f"{len(report.workday_changed)} 天的工作日属性改变；重新计算 {report.cases_recomputed} "
        f"件在办办件，其中 {len(report.cases_changed)} 件期限改变",
        err=True,
    )


def register(group: click.Group) -> None:
    group.add_command(calendar_group)
