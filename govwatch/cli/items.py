"""``govwatch items …``: look at the service item catalog."""

from __future__ import annotations

import click
import orjson

from govwatch.cli.options import db_option, format_option
from govwatch.items.queries import list_items
from govwatch.storage import connect


@click.group("items")
def items_group() -> None:
    """事项目录。"""


@items_group.command("list")
@db_option()
@format_option()
def items_list(db_url: str, fmt: str) -> None:
    """列出事项及其时限。"""
    db = connect(db_url)
    try:
        rows = list_items(db)
    finally:
        db.close()
    for row in rows:
        if fmt in ("json", "jsonl"):
            click.echo(orjson.dumps(row).decode())
        else:
            click.echo(
                f"{row['item_code']}  {row['name']}  法定 {row['legal_limit']}{row['legal_limit_unit']}"
                f" 承诺 {row['promised_limit']}{row['promised_limit_unit']}  {row['region_code']}"
            )


def register(group: click.Group) -> None:
    group.add_command(items_group)
