"""``govwatch users …``, ``govwatch tokens …`` and ``govwatch orgs …``."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from govwatch.auth import orgs as org_store
from govwatch.auth.passwords import new_password
from govwatch.auth.tokens import (
    MAX_DAYS,
    TOKEN_ROLES,
    create_token,
    expiry,
    list_tokens,
    revoke_token,
)
from govwatch.auth.users import USER_ROLES, add_user, list_users, set_active, set_password
from govwatch.cli.options import db_option, emit, format_option, open_db
from govwatch.errors import InputError
from govwatch.timeutil import now, parse_timestamp


def _read_password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if generate:
        return new_password(), True
    return str(click.prompt("密码", hide_input=True, confirmation_prompt=True, err=True)), False


@click.group("users")
def users_group() -> None:
    """用户：添加、列出、停用、重设密码。"""


@users_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(USER_ROLES), required=True)
@click.option("--org", "org_code", help="所属机构编码（部门用户必填）")
@click.option("--name", "display_name", help="显示名称")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码（一行）")
@click.option("--generate", is_flag=True, help="生成随机密码并打印（仅此一次）")
@db_option()
@format_option()
def users_add(
    username: str,
    role: str,
    org_code: str | None,
    display_name: str | None,
    password_stdin: bool,
    generate: bool,
    db_url: str,
    fmt: str,
) -> None:
    password, show = _read_password(password_stdin, generate)
    db = open_db(db_url)
    try:
        user = add_user(db, username, password, role, org_code, now(), display_name)
    finally:
        db.close()
    row: dict[str, Any] = {"username": user.username, "role": user.role, "org_code": user.org_code}
    if show:
        row["password"] = password
    emit([row], fmt) if fmt != "table" else click.echo(
        f"已添加用户 {user.username}（{user.role}）" + (f"，密码：{password}" if show else ""),
        err=not show,
    )


@users_group.command("list")
@db_option()
@format_option()
def users_list(db_url: str, fmt: str) -> None:
    db = open_db(db_url)
    try:
        emit(
            [
                {
                    "username": u.username,
                    "role": u.role,
                    "org_code": u.org_code,
                    "active": u.active,
                    "display_name": u.display_name,
                }
                for u in list_users(db)
            ],
            fmt,
        )
    finally:
        db.close()


@users_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@click.option("--generate", is_flag=True)
@db_option()
def users_passwd(username: str, password_stdin: bool, generate: bool, db_url: str) -> None:
    """重设密码（该用户已有的会话随之失效）。"""
    password, show = _read_password(password_stdin, generate)
    db = open_db(db_url)
    try:
        set_password(db, username, password, now())
    finally:
        db.close()
    click.echo(f"新密码：{password}" if show else f"已重设 {username} 的密码", err=not show)


@users_group.command("disable")
@click.argument("username")
@db_option()
def users_disable(username: str, db_url: str) -> None:
    db = open_db(db_url)
    try:
        set_active(db, username, False, now())
    finally:
        db.close()
    click.echo(f"已停用 {username}", err=True)


@users_group.command("enable")
@click.argument("username")
@db_option()
def users_enable(username: str, db_url: str) -> None:
    db = open_db(db_url)
    try:
        set_active(db, username, True, now())
    finally:
        db.close()
    click.echo(f"已启用 {username}", err=True)


@click.group("tokens")
def tokens_group() -> None:
    """API 令牌：为来源系统或脚本签发、列出、吊销。"""


def _moment(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except InputError as exc:
        raise click.BadParameter(
            f"应为日期或时间，如 2027-01-01 或 2027-01-01T18:00（{exc}）"
        ) from None


@tokens_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(TOKEN_ROLES), default="source", show_default=True)
@click.option("--org", "org_codes", multiple=True, help="授权机构（可多次给出；source 必填）")
@click.option(
    "--expires",
    callback=_moment,
    metavar="DATE",
    help="过期时间：自该日 0 时（北京时间）或给定时刻起拒绝使用，如 2027-01-01",
)
@click.option(
    "--days", type=click.IntRange(1, MAX_DAYS), help=f"有效天数（1–{MAX_DAYS}），自签发时起算"
)
@db_option()
@format_option()
def tokens_create(
    name: str,
    role: str,
    org_codes: tuple[str, ...],
    expires: datetime | None,
    days: int | None,
    db_url: str,
    fmt: str,
) -> None:
    """签发令牌；令牌只显示这一次，库中只存其哈希。不给 --expires/--days 时长期有效。"""
    at = now()
    expires_at = expiry(at, expires, days)
    db = open_db(db_url)
    try:
        secret, info = create_token(db, name, role, list(org_codes), "cli", at, expires_at)
    finally:
        db.close()
    row = {
        "token_id": info.token_id,
        "name": name,
        "role": role,
        "org_codes": list(info.org_codes),
        "expires_at": info.expires_at,
        "token": secret,
    }
    if fmt == "table":
        click.echo(secret)
        until = f"，有效至 {expires_at:%Y-%m-%d %H:%M}（不含）" if expires_at else "，长期有效"
        click.echo(
            f"令牌 {info.token_id}（{role}）已签发{until}；请妥善保存，它不会再显示", err=True
        )
    else:
        emit([row], fmt)


@tokens_group.command("list")
@db_option()
@format_option()
def tokens_list(db_url: str, fmt: str) -> None:
    at = now()
    db = open_db(db_url)
    try:
        emit(
            [
                {
                    "token_id": t.token_id,
                    "name": t.name,
                    "role": t.role,
                    "org_codes": ",".join(t.org_codes),
                    "created_at": t.created_at,
                    "expires_at": t.expires_at,
                    "expired": t.expired(at),
                    "revoked_at": t.revoked_at,
                    "last_used_at": t.last_used_at,
                }
                for t in list_tokens(db)
            ],
            fmt,
        )
    finally:
        db.close()


@tokens_group.command("revoke")
@click.argument("token_id")
@db_option()
def tokens_revoke(token_id: str, db_url: str) -> None:
    db = open_db(db_url)
    try:
        revoke_token(db, token_id, now())
    finally:
        db.close()
    click.echo(f"已吊销令牌 {token_id}", err=True)


@click.group("orgs")
def orgs_group() -> None:
    """机构树：省 → 市 → 县（区） → 部门。"""


@orgs_group.command("add")
@click.argument("org_code")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(org_store.KINDS), required=True)
@click.option("--parent", "parent_code")
@click.option("--region", "region_code")
@db_option()
def orgs_add(
    org_code: str,
    name: str,
    kind: str,
    parent_code: str | None,
    region_code: str | None,
    db_url: str,
) -> None:
    db = open_db(db_url)
    try:
        org_store.add_org(db, org_code, name, kind, parent_code, region_code, now())
    finally:
        db.close()
    click.echo(f"已添加机构 {org_code}", err=True)


@orgs_group.command("list")
@db_option()
@format_option()
def orgs_list(db_url: str, fmt: str) -> None:
    db = open_db(db_url)
    try:
        emit([dict(o.__dict__) for o in org_store.list_orgs(db)], fmt)
    finally:
        db.close()


@orgs_group.command("sync")
@db_option()
def orgs_sync(db_url: str) -> None:
    """按事项目录中的区划与实施主体补齐机构树。"""
    db = open_db(db_url)
    try:
        if not db.table_exists("items"):
            raise InputError("数据库中没有事项目录：请先 govwatch import catalog")
        added = org_store.sync_from_catalog(db, now())
    finally:
        db.close()
    click.echo(f"新增机构 {added} 个", err=True)


def register(group: click.Group) -> None:
    group.add_command(users_group)
    group.add_command(tokens_group)
    group.add_command(orgs_group)
