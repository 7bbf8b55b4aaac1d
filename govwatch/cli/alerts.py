"""``govwatch workflow …`` (sync, settings) and ``govwatch webhooks …``."""

from __future__ import annotations

import click

from govwatch.alerts.notify import add_webhook, deliver_due, list_webhooks, remove_webhook
from govwatch.alerts.settings import DEFAULTS, get_setting, set_setting
from govwatch.alerts.sync import sync_workflow
from govwatch.cli.options import db_option, emit, format_option, open_db
from govwatch.timeutil import now


@click.group("workflow")
def workflow_group() -> None:
    """告警处置流程：同步、设置。"""


@workflow_group.command("sync")
@db_option()
@format_option()
def workflow_sync(db_url: str, fmt: str) -> None:
    """让处置流程跟上规则引擎：新告警建流程、条件消除自动办结、逾期督办转告警、红牌自动督办。"""
    db = open_db(db_url)
    try:
        report = sync_workflow(db, now())
    finally:
        db.close()
    emit([report.as_dict()], "json" if fmt == "table" else fmt)


@workflow_group.command("settings")
@click.argument("name", required=False, type=click.Choice(sorted(DEFAULTS)))
@click.argument("value", required=False)
@db_option()
def workflow_settings(name: str | None, value: str | None, db_url: str) -> None:
    """查看或修改设置，如 auto_order_red on|off、order_reply_days 5。"""
    db = open_db(db_url)
    try:
        if name and value:
            set_setting(db, name, value, "cli", now())
        for key in sorted(DEFAULTS):
            if name in (None, key):
                click.echo(f"{key} = {get_setting(db, key)}")
    finally:
        db.close()


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook：告警与督办事件推送（失败自动重试）。"""


@webhooks_group.command("add")
@click.argument("url")
@click.option("--kinds", default="*", show_default=True, help="事件类型，如 alert.*,order.issued")
@click.option("--org", "org_code", help="只推送该机构的事件")
@db_option()
def webhooks_add(url: str, kinds: str, org_code: str | None, db_url: str) -> None:
    db = open_db(db_url)
    try:
        webhook_id, secret = add_webhook(db, url, kinds, org_code, "cli", now())
    finally:
        db.close()
    click.echo(f"{webhook_id} {secret}")
    click.echo("第二列是签名密钥（X-Govwatch-Signature = HMAC-SHA256(密钥, 请求体)）", err=True)


@webhooks_group.command("list")
@db_option()
@format_option()
def webhooks_list(db_url: str, fmt: str) -> None:
    db = open_db(db_url)
    try:
        emit(list_webhooks(db), fmt)
    finally:
        db.close()


@webhooks_group.command("remove")
@click.argument("webhook_id")
@db_option()
def webhooks_remove(webhook_id: str, db_url: str) -> None:
    db = open_db(db_url)
    try:
        remove_webhook(db, webhook_id)
    finally:
        db.close()


@webhooks_group.command("deliver")
@db_option()
def webhooks_deliver(db_url: str) -> None:
    """立即投递到期的推送（serve 的后台线程也会定期投递）。"""
    db = open_db(db_url)
    try:
        sent = deliver_due(db, now())
    finally:
        db.close()
    click.echo(f"已投递 {sent} 条", err=True)


def register(group: click.Group) -> None:
    group.add_command(workflow_group)
    group.add_command(webhooks_group)
