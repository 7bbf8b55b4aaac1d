"""Browser sessions: a random id in an HttpOnly cookie (stored hashed) and a CSRF token.

Forms and scripts that change anything with a session cookie must send the session's CSRF
token back (header ``X-CSRF-Token`` or form field ``csrf_token``): a cross-site page can make
the browser send the cookie, but cannot read the token.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from govwatch.auth.passwords import digest, new_secret
from govwatch.storage import Database

COOKIE = "gw_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class Session:
    session_hash: str
    user_id: str
    csrf_token: str
    expires_at: datetime


def open_session(db: Database, user_id: str, at: datetime) -> tuple[str, Session]:
    """(secret for the cookie, stored session)."""
    secret = new_secret()
    session = Session(digest(secret), user_id, secrets.token_urlsafe(24), at + LIFETIME)
    db.execute(
        "INSERT INTO sessions (session_hash, user_id, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [session.session_hash, user_id, session.csrf_token, at, session.expires_at],
    )
    return secret, session


def close_session(db: Database, session_hash: str, at: datetime) -> None:
    db.execute(
        "UPDATE sessions SET revoked_at = ? WHERE session_hash = ? AND revoked_at IS NULL",
        [at, session_hash],
    )


def csrf_ok(session: Session, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(session.csrf_token, str(presented))


@dataclass(frozen=True)
class SessionCheck:
    """A live session with its user's row and the size of the organisation tree, in one read.

    The web app validates the session on every request with this single query and keeps the
    costlier part of a principal (the organisation subtree) cached by ``orgs_count``: the
    tree only grows (organisations are added, never moved or removed), so its size is a
    version of it.
    """

    session: Session
    user_id: str
    username: str
    role: str
    org_code: str | None
    active: bool
    orgs_count: int


def check_session(db: Database, secret: str, at: datetime) -> SessionCheck | None:
    """The unexpired, unrevoked session of this cookie secret and its user, or None."""
    rows = db.query(
        "SELECT s.session_hash, s.user_id, s.csrf_token, s.expires_at, u.username, u.role, "
        "u.org_code, u.active, (SELECT COUNT(*) FROM orgs) "
        "FROM sessions s JOIN users u ON u.user_id = s.user_id "
        "WHERE s.session_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?",
        [digest(secret), at],
    )
    if not rows:
        return None
    h, user_id, csrf, expires, username, role, org_code, active, orgs = rows[0]
    return SessionCheck(
        Session(str(h), str(user_id), str(csrf), expires),
        str(user_id),
        str(username),
        str(role),
        None if org_code is None else str(org_code),
        bool(active),
        int(orgs),
    )


def csrf_token_of(db: Database, session_hash: str) -> str:
    """The CSRF token stored with a session ('' when there is no such session)."""
    rows = db.query("SELECT csrf_token FROM sessions WHERE session_hash = ?", [session_hash])
    return str(rows[0][0]) if rows else ""
