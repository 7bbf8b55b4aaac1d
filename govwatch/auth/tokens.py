"""API tokens: bearer secrets shown once, stored as SHA-256, scoped, revocable, optionally expiring.

A ``source`` token may only post events for its organisations (and their subtrees); tokens
of other roles act like a user of that role (e.g. a script of the supervising office).

A token may carry ``expires_at`` (Asia/Shanghai wall time, like every stored moment): from that
moment on it is refused with 401 and a Chinese message saying when it expired, even while the
web app still holds its principal in a cache (:func:`token_use` is asked on every request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from govwatch.auth.errors import AuthenticationError, NotFoundError
from govwatch.auth.orgs import subtree
from govwatch.auth.passwords import digest, new_id, new_secret
from govwatch.auth.principal import ROLES, Principal
from govwatch.auth.users import SCOPED_ROLES, check_role
from govwatch.errors import InputError
from govwatch.ledger.txn import is_conflict
from govwatch.storage import Database

TOKEN_ROLES = tuple(r for r in ROLES if r != "public")
PREFIX = "gw_"
# The longest lifetime ``--days`` may give (ten years); an explicit ``--expires`` is not capped.
MAX_DAYS = 3650


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    name: str
    role: str
    org_codes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None
    expires_at: datetime | None = None

    def expired(self, at: datetime) -> bool:
        return self.expires_at is not None and at >= self.expires_at


def expiry(
    at: datetime, expires: datetime | None = None, days: int | None = None
) -> datetime | None:
    """When a token created at ``at`` expires: ``expires`` itself, or ``days`` days later.

    A date given as ``expires`` means its first moment (``2027-01-01``: refused from 00:00 that
    day, Asia/Shanghai). Either may be given, not both; the moment must lie after ``at``."""
    if expires is not None and days is not None:
        raise InputError("令牌有效期只能用 --expires 或 --days 之一给出，不能同时给出")
    if days is not None:
        if not 1 <= days <= MAX_DAYS:
            raise InputError(f"令牌有效天数 --days 应为 1–{MAX_DAYS} 之间的整数，收到 {days}")
        return at + timedelta(days=days)
    if expires is not None and expires <= at:
        raise InputError(
            f"令牌过期时间 {expires:%Y-%m-%d %H:%M} 不晚于当前时间 {at:%Y-%m-%d %H:%M}："
            "应为将来的日期，如 --expires 2027-01-01"
        )
    return expires


def create_token(
    db: Database,
    name: str,
    role: str,
    org_codes: list[str],
    created_by: str,
    at: datetime,
    expires_at: datetime | None = None,
) -> tuple[str, TokenInfo]:
    """(the secret, shown once; its record). ``expires_at``: see :func:`expiry`."""
    check_role(role, org_codes[0] if org_codes else None, TOKEN_ROLES)
    if expires_at is not None and expires_at <= at:
        raise InputError(
            f"令牌过期时间 {expires_at:%Y-%m-%d %H:%M} 应晚于签发时间 {at:%Y-%m-%d %H:%M}"
        )
    secret = PREFIX + new_secret()
    token_id = new_id()
    with db.transaction():
        db.execute(
            "INSERT INTO api_tokens (token_id, token_hash, name, role, created_at, created_by, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [token_id, digest(secret), name, role, at, created_by, expires_at],
        )
        db.executemany(
            "INSERT INTO api_token_orgs (token_id, org_code) VALUES (?, ?)",
            [(token_id, code) for code in sorted(set(org_codes))],
        )
    return secret, TokenInfo(
        token_id, name, role, tuple(sorted(set(org_codes))), at, created_by, None, None, expires_at
    )


def list_tokens(db: Database) -> list[TokenInfo]:
    rows = db.query(
        "SELECT token_id, name, role, created_at, created_by, revoked_at, last_used_at, "
        "expires_at FROM api_tokens ORDER BY created_at, token_id"
    )
    orgs: dict[str, list[str]] = {}
    for token_id, code in db.query("SELECT token_id, org_code FROM api_token_orgs ORDER BY 1, 2"):
        orgs.setdefault(str(token_id), []).append(str(code))
    return [
        TokenInfo(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            tuple(orgs.get(str(r[0]), [])),
            r[3],
            str(r[4]),
            r[5],
            r[6],
            r[7],
        )
        for r in rows
    ]


def revoke_token(db: Database, token_id: str, at: datetime) -> None:
    found = db.query(
        "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL "
        "RETURNING token_id",
        [at, token_id],
    )
    if not found:
        raise NotFoundError(f"令牌“{token_id}”不存在或已吊销：用 govwatch tokens list 查看")


def resolve_token(db: Database, secret: str, at: datetime) -> Principal | None:
    """The principal a live token stands for at ``at``; None when unknown, revoked or expired."""
    rows = db.query(
        "SELECT token_id, name, role, last_used_at FROM api_tokens "
        "WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
        [digest(secret), at],
    )
    if not rows:
        return None
    token_id, name, role, last_used = rows[0]
    codes = [
        str(r[0])
        for r in db.query(
            "SELECT org_code FROM api_token_orgs WHERE token_id = ? ORDER BY org_code", [token_id]
        )
    ]
    # Touch last_used_at at most once a minute: the hot ingestion path should not write per call.
    if last_used is None or (at - last_used).total_seconds() > 60:
        try:
            db.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE token_id = ? "
                "AND (last_used_at IS NULL OR last_used_at < ?)",
                [at, token_id, at],
            )
        except Exception as exc:
            if not is_conflict(exc):
                raise
            # a concurrent request of the same token touched it first (DuckDB aborts the
            # second writer): the bookkeeping is done either way

    scope: frozenset[str] | None = None
    regions: frozenset[str] = frozenset()
    if role in SCOPED_ROLES:
        scope, regions = subtree(db, codes)
    return Principal(
        name=f"token:{name}",
        role=str(role),
        org_code=codes[0] if codes else None,
        token_id=str(token_id),
        scope=scope,
        regions=regions,
    )


def token_use(db: Database, token: str, at: datetime) -> tuple[str, datetime | None, int] | None:
    """A live token's id, when it was last used and how many organisations exist (the key
    under which the web app caches the token's principal); None when invalid or revoked.

    A token expired at ``at`` raises AuthenticationError (401) saying since when."""
    rows = db.query(
        "SELECT token_id, last_used_at, (SELECT COUNT(*) FROM orgs), expires_at FROM api_tokens "
        "WHERE token_hash = ? AND revoked_at IS NULL",
        [digest(token)],
    )
    if not rows:
        return None
    token_id, last_used, orgs, expires_at = rows[0]
    if expires_at is not None and at >= expires_at:
        raise AuthenticationError(
            f"访问令牌已于 {expires_at:%Y-%m-%d %H:%M} 过期：请管理员签发新令牌"
            "（govwatch tokens create … --expires 日期 或 --days 天数）"
        )
    return str(token_id), last_used, int(orgs)
