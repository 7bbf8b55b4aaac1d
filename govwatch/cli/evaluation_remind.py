"""``govwatch evaluation remind``: send the round notices that are due now (once each).

The live sweeper sends them on its tick while ``govwatch serve`` runs; this command does the
same for a deployment without the server, or from cron: fill deadlines nearing (2 working
days before) or passed, rectification demands nearing their due date or past it
(:func:`govwatch.evaluation.rounds.round_notices.due_round_notices`). Each notice is written
once: running it again writes nothing new.
"""

from __future__ import annotations

from datetime import datetime

import click

from govwatch.cli.evaluation_rounds import evaluation_group
from govwatch.cli.options import ActAs, as_option, db_option, echo_json, format_option, open_db
from govwatch.evaluation.rounds.round_notices import due_round_notices

__all__ = ["register", "remind_command"]


@evaluation_group.command("remind")
@as_option(("admin",), "发送评估提醒")
@format_option(("text", "json"))
@db_option()
def remind_command(acting: ActAs, at: datetime, fmt: str, db_url: str) -> None:
    """发送到期的评估提醒（填报截止、整改到期）；每条提醒只发一次。"""
    db = open_db(db_url)
    acting.operator(db)
    sent = due_round_notices(db, at)
    if fmt == "json":
        echo_json({"sent": sent})
        return
    for key in sent:
        click.echo(key)
    click.echo(f"已发送 {len(sent)} 条评估提醒" if sent else "没有新的评估提醒", err=True)


def register(group: click.Group) -> None:
    """The command attaches itself to ``govwatch evaluation`` on import (nothing else to add)."""
    del group
