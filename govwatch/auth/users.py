"""Users: accounts with a role and an organisation, argon2-hashed passwords, login.

Every successful login is appended to the ledger (``auth.login``); failed ones are throttled
per account and client address and summarised there, one entry per window and per throttling
episode (``auth.login_failed``, ``auth.login_throttled``; :mod:`govwatch.auth.throttle`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govwatch.auth.errors import AuthenticationError, NotFoundError
from govwatch.auth.orgs import get_org
from govwatch.auth.passwords import hash_password, needs_rehash, new_id, verify_password
from govwatch.auth.principal import ROLES
from govwatch.auth.throttle import begin_attempt, record_failure, record_success, run_serialised
from govwatch.errors import InputError
from govwatch.ledger import append_one
from govwatch.storage import Database
from govwatch.timeutil import wall_clock

USER_ROLES = tuple(r for r in ROLES if r not in ("source", "public"))
SCOPED_ROLES = frozenset({"department", "source"})
_dummy_hash: list[str] = []


def _dummy() -> str:
    """A real hash to spend the same time on unknown usernames as on wrong passwords."""
    if not _dummy_hash:
        _dummy_hash.append(hash_password("not-a-real-password"))
    return _dummy_hash[0]


@dataclass(frozen=True)
class User:
    user_id: str
    username: str
    display_name: str
    role: str
    org_code: str | None
    active: bool


_COLUMNS = "user_id, username, display_name, role, org_code, active"


def check_role(role: str, org_code: str | None, allowed: tuple[str, ...] = USER_ROLES) -> None:
    if role not in allowed:
        raise InputError(f"角色“{role}”无效：应为 {' / '.join(allowed)} 之一")
    if role in SCOPED_ROLES and not org_code:
        raise InputError(f"角色 {role} 必须指定所属机构（--org）")


def add_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    org_code: str | None,
    at: datetime,
    display_name: str | None = None,
) -> User:
    check_role(role, org_code)
    if not username or len(username) > 64:
        raise InputError("用户名不能为空，且不超过 64 个字符")
    if org_code is not None and get_org(db, org_code) is None:
        raise InputError(f"机构“{org_code}”不存在：请先用 govwatch orgs add 添加")
    if get_user(db, username) is not None:
        raise InputError(f"用户名“{username}”已被使用")
    user = User(new_id(), username, display_name or username, role, org_code, True)
    db.execute(
        "INSERT INTO users (user_id, username, display_name, role, org_code, password_hash, "
        "active, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, TRUE, ?, ?)",
        [
            user.user_id,
            username,
            user.display_name,
            role,
            org_code,
            hash_password(password),
            at,
            at,
        ],
    )
    return user


def get_user(db: Database, username: str) -> User | None:
    rows = db.query(f"SELECT {_COLUMNS} FROM users WHERE username = ?", [username])
    return User(*rows[0]) if rows else None


def list_users(db: Database) -> list[User]:
    return [User(*r) for r in db.query(f"SELECT {_COLUMNS} FROM users ORDER BY username")]


def set_password(db: Database, username: str, password: str, at: datetime) -> None:
    if get_user(db, username) is None:
        raise NotFoundError(f"用户“{username}”不存在")
    db.execute(
        "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
        [hash_password(password), at, username],
    )
    # Sessions opened with the old password end now.
    db.execute(
        "UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND user_id = "
        "(SELECT user_id FROM users WHERE username = ?)",
        [at, username],
    )


def set_active(db: Database, username: str, active: bool, at: datetime) -> None:
    if get_user(db, username) is None:
        raise NotFoundError(f"用户“{username}”不存在")
    db.execute("UPDATE users SET active = ? WHERE username = ?", [active, username])
    if not active:
        db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE revoked_at IS NULL AND user_id = "
            "(SELECT user_id FROM users WHERE username = ?)",
            [at, username],
        )


def authenticate(
    db: Database, username: str, password: str, at: datetime, *, address: str | None = None
) -> User:
    """The active user with this password, or :class:`AuthenticationError`.

    Failed attempts are throttled per account and per client ``address`` and summarised in
    the ledger (:mod:`govwatch.auth.throttle`): a throttled attempt raises
    :class:`~govwatch.auth.throttle.LoginThrottled` without checking the password. A
    successful login is ledgered as ``auth.login``.
    """
    account = username[:128] or "?"
    moment = wall_clock()
    refused = run_serialised(db, lambda tx: begin_attempt(tx, account, address, moment, at))
    if refused is not None:
        raise refused
    rows = db.query(f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = ?", [username])
    stored = str(rows[0][-1]) if rows else _dummy()
    good = verify_password(stored, password)
    if not rows or not good or not rows[0][5]:
        reason = "inactive" if rows and good else "bad_credentials"
        throttled = run_serialised(
            db, lambda tx: record_failure(tx, account, address, reason, moment, at)
        )
        if throttled is not None:
            raise throttled
        raise AuthenticationError("用户名或密码不正确，或账户已停用")
    user = User(*rows[0][:-1])

    def work(tx: Database) -> None:
        if needs_rehash(stored):
            tx.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?",
                [hash_password(password), user.user_id],
            )
        record_success(tx, account, address, moment, at)
        append_one(tx, "auth.login", user.username, user.user_id, at, {"role": user.role})

    run_serialised(db, work)
    return user
