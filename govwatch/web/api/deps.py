"""Request dependencies shared by API routers and pages: a pooled connection, the caller.

A connection is checked out of the app's pool for one request and returned after it: DuckDB
hands out cursors of one database instance (each its own connection), PostgreSQL separate
connections. The caller is resolved from a bearer token (``Authorization: Bearer gw_…``) or a
session cookie; a session cookie on an unsafe method must come with the session's CSRF token.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from govwatch.auth.errors import AuthenticationError, ForbiddenError
from govwatch.auth.principal import PUBLIC, Principal
from govwatch.auth.sessions import COOKIE, CSRF_FIELD, CSRF_HEADER, csrf_ok, find_session
from govwatch.auth.tokens import resolve_token
from govwatch.auth.users import get_user_by_id, principal_for
from govwatch.storage import Database, connect
from govwatch.timeutil import now

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Pool:
    """Connections to one database, reused across requests (at most ``size`` kept idle)."""

    url: str
    size: int = 16
    _idle: queue.LifoQueue[Database] = field(default_factory=queue.LifoQueue)
    _root: Database | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._root = connect(self.url)  # migrates once

    def _new(self) -> Database:
        if self._root is None:  # closed at a lifespan's end; the app may be started again
            self._root = connect(self.url, migrate=False)
        if self._root.dialect == "duckdb":
            cursor = self._root.raw.cursor()
            cursor.execute("SET TimeZone = 'Asia/Shanghai'")
            return Database("duckdb", cursor, self.url)
        return connect(self.url, migrate=False)

    def get(self) -> Database:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                return self._new()

    def put(self, db: Database) -> None:
        if db._in_tx:
            db.close()
            return
        if self._idle.qsize() < self.size:
            self._idle.put(db)
        else:
            db.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
        if self._root is not None:
            self._root.close()
            self._root = None


def get_db(request: Request) -> Iterator[Database]:
    pool: Pool = request.app.state.pool
    db = pool.get()
    try:
        yield db
    finally:
        pool.put(db)


DB = Annotated[Database, Depends(get_db)]


def clock() -> datetime:
    """The moment of the request (the one reader of the clock; tests override this)."""
    return now()


Clock = Annotated[datetime, Depends(clock)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def _csrf_value(request: Request) -> str | None:
    presented = request.headers.get(CSRF_HEADER)
    if presented:
        return presented
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def get_principal(request: Request, db: DB, at: Clock) -> Principal:
    token = _bearer(request)
    if token is not None:
        principal = resolve_token(db, token, at)
        if principal is None:
            raise AuthenticationError("访问令牌无效或已吊销")
        return principal
    secret = request.cookies.get(COOKIE)
    if not secret:
        return PUBLIC
    session = find_session(db, secret, at)
    if session is None:
        return PUBLIC
    if request.method not in SAFE_METHODS and not csrf_ok(session, await _csrf_value(request)):
        raise ForbiddenError(
            f"缺少或错误的 CSRF 令牌：表单请带 {CSRF_FIELD} 字段，脚本请带 {CSRF_HEADER} 头"
        )
    user = get_user_by_id(db, session.user_id)
    if user is None or not user.active:
        return PUBLIC
    return principal_for(db, user, session_hash=session.session_hash)


Caller = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> object:
    """A dependency that refuses callers without ``permission`` (401 for the public, else 403)."""

    def check(principal: Caller) -> Principal:
        principal.require(permission)
        return principal

    return Depends(check)
