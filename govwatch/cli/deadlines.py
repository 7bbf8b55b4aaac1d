"""``govwatch deadline``: explain one case's clock (stateless, or on a database)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import orjson

from govwatch.cli.options import at_option, db_option, format_option
from govwatch.deadlines.explain import explain_case, render_text
from govwatch.errors import InputError
from govwatch.live.pipeline import load_memory
from govwatch.storage import Database, connect


@click.command("deadline")
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="事项目录文件（可多次给出）",
)
@click.option(
    "--events",
    "events",
    multiple=True,
    type=click.Path(path_type=Path),
    help="办件事件文件（可多次给出）",
)
@click.option("--case", "case_id", required=True, help="办件编号")
@at_option("时刻（默认：现在），之后的事件不计")
@db_option(required=False, help="不给 --catalog/--events 时，从该数据库读取")
@format_option(("table", "json"))
def deadline_cmd(
    catalogs: tuple[Path, ...],
    events: tuple[Path, ...],
    case_id: str,
    at: datetime,
    db_url: str | None,
    fmt: str,
) -> None:
    """说明一个办件的计时：受理日、暂停、延长、承诺与法定期限，逐日列出计与不计。"""
    db = _open(catalogs, events, db_url)
    try:
        explanation = explain_case(db, case_id, at)
        if fmt == "json":
            click.echo(orjson.dumps(explanation.payload).decode())
        else:
            click.echo(render_text(db, explanation))
    finally:
        db.close()


def _open(catalogs: tuple[Path, ...], events: tuple[Path, ...], db_url: str | None) -> Database:
    if events:
        return load_memory(list(catalogs), list(events))
    if catalogs:
        raise InputError("给出了 --catalog 但没有 --events：请同时给出办件事件文件")
    if db_url is None:
        raise InputError("请给出 --catalog 与 --events 文件，或用 --db 指定数据库")
    return connect(db_url)


def register(group: click.Group) -> None:
    group.add_command(deadline_cmd)
