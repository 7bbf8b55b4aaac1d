"""Users: accounts with a role and an organisation, argon2-hashed passwords, login.

Every login attempt, successful or not, is appended to the ledger (``auth.login``,
``auth.login_failed``) so that account use can be audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govwatch.auth.errors import AuthenticationError, NotFoundError
from govwatch.auth.orgs import get_org
from govwatch.auth.passwords import hash_password, needs_rehash, new_id, verify_password
from govwatch.auth.principal import ROLES
from govwatch.errors import InputError
from govwatch.ledger import append_one
from govwatch.storage import Database

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


def authenticate(db: Database, username: str, password: str, at: datetime) -> User:
    """The active user with this password, or :class:`AuthenticationError`; ledgered either way."""
    rows = db.query(f"SELECT {_COLUMNS}, password_hash FROM users WHERE username = ?", [username])
    stored = str(rows[0][-1]) if rows else _dummy()
    good = verify_password(stored, password)
    if not rows or not good or not rows[0][5]:
        append_one(
            db,
            "auth.login_failed",
            username[:64] or "?",
            username[:128] or "?",
            at,
            {"reason": "inactive" if rows and good else "bad_credentials"},
        )
        raise AuthenticationError("用户名或密码不正确，或账户已停用")
    user = User(*rows[0][:-1])
    if needs_rehash(stored):
        db.execute(
            "UPDATE users SET password_hash = ? WHERE user_id = ?",
            [hash_password(password), user.user_id],
        )
    append_one(db, "auth.login", user.username, user.user_id, at, {"role": user.role})
    return user
