"""``govwatch ledger verify`` and ``govwatch ledger show``."""

from __future__ import annotations

import sys

import click
import orjson

from govwatch.cli.options import db_option, emit, format_option, open_db
from govwatch.ledger.chain import recent_entries, verify


@click.group("ledger")
def ledger_group() -> None:
    """账本：告警流转、督办、规则目录变更与登录的哈希链记录。"""


@ledger_group.command("verify")
@db_option()
@format_option()
def ledger_verify(db_url: str, fmt: str) -> None:
    """校验哈希链；若有记录被改动或删除，指出第一条出问题的记录并以非零状态退出。"""
    db = open_db(db_url)
    try:
        result = verify(db)
    finally:
        db.close()
    if fmt in ("json", "jsonl"):
        click.echo(orjson.dumps(result.as_dict()).decode())
    if result.ok:
        click.echo(f"账本完好：共 {result.entries} 条记录，哈希链一致", err=True)
        return
    click.echo(
        f"错误：{result.problem}（第 {result.broken_seq} 条）；此前 {result.entries} 条完好",
        err=True,
    )
    sys.exit(1)


@ledger_group.command("show")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--kind", help="只看某类记录，如 alert.appeal、auth.login")
@db_option()
@format_option()
def ledger_show(limit: int, kind: str | None, db_url: str, fmt: str) -> None:
    """最近的账本记录（新的在前）。"""
    db = open_db(db_url)
    try:
        rows = recent_entries(db, limit, kind)
    finally:
        db.close()
    emit(rows, fmt)


def register(group: click.Group) -> None:
    group.add_command(ledger_group)
