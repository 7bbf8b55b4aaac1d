"""``govwatch ledger verify``, ``govwatch ledger anchor`` and ``govwatch ledger show``."""

from __future__ import annotations

import sys

import click
import orjson

from govwatch.cli.options import db_option, emit, format_option, open_db
from govwatch.ledger import anchor_now, verify
from govwatch.ledger.chain import recent_entries


@click.group("ledger")
def ledger_group() -> None:
    """账本：告警流转、督办、规则目录变更与登录的记录，以密钥签名并锚定到数据库之外。"""


@ledger_group.command("verify")
@db_option()
@format_option()
def ledger_verify(db_url: str, fmt: str) -> None:
    """校验账本：逐条核对签名与哈希链、账本头、密钥和锚定文件；发现问题时逐条列出（每条
    一行）并以非零状态退出。启用密钥之前写入的记录按普通哈希校验，并注明。"""
    db = open_db(db_url)
    try:
        result = verify(db)
    finally:
        db.close()
    if fmt in ("json", "jsonl"):
        click.echo(orjson.dumps(result.as_dict()).decode())
    for note in result.notes:
        click.echo(f"注意：{note}", err=True)
    if result.ok:
        anchored = (
            f"，已锚定到第 {result.anchored_seq} 条" if result.anchored_seq is not None else ""
        )
        click.echo(f"账本完好：共 {result.entries} 条记录，签名与哈希链一致{anchored}", err=True)
        return
    for problem in result.problems:
        click.echo(f"错误：{problem}", err=True)
    click.echo(
        f"账本校验未通过：发现 {len(result.problems)} 处问题（共读到 {result.entries} 条记录）",
        err=True,
    )
    sys.exit(1)


@ledger_group.command("anchor")
@db_option()
def ledger_anchor(db_url: str) -> None:
    """立即把账本头（最后一条记录的序号与哈希）签名后追加到数据库之外的锚定文件。

    账本每写入 GOVWATCH_LEDGER_ANCHOR_EVERY 条记录（默认 20）自动锚定一次；可由定时任务
    调用本命令，让最近的记录也无法被悄悄删除。首次使用时创建账本密钥。"""
    db = open_db(db_url)
    try:
        done = anchor_now(db)
    finally:
        db.close()
    click.echo(f"已锚定：账本第 {done.seq} 条（哈希 {done.hash[:16]}…），写入 {done.path}")


@ledger_group.command("show")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--kind", help="只看某类记录，如 alert.appeal、auth.login、auth.login_failed")
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
