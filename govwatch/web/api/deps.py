"""Request dependencies shared by API routers and pages: a pooled connection, the caller.

A connection is checked out of the app's pool for one request and returned after it: DuckDB
hands out cursors of one database instance (each its own connection), PostgreSQL separate
connections. The caller is resolved from a bearer token (``Authorization: Bearer gw_…``) or a
session cookie; a session cookie on an unsafe method must come with the session's CSRF token.

Resolving the caller costs one query per request: the token or session (with its user) is
checked every time, so a revocation or a deactivated user takes effect at once, while the
organisation subtree behind a scoped principal is cached by the tree's size (orgs are only
ever added). The pool also holds the app's short-lived caches (:mod:`govwatch.web.api.cache`)
and the database's live runtime (:class:`govwatch.live.runtime.LiveRuntime`: the live
evaluator, the group commit of posted events and the sweeper), which borrows its connections.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from govwatch.auth.errors import AuthenticationError, ForbiddenError
from govwatch.auth.orgs import subtree
from govwatch.auth.principal import PUBLIC, Principal
from govwatch.auth.sessions import COOKIE, CSRF_FIELD, CSRF_HEADER, check_session, csrf_ok
from govwatch.auth.tokens import resolve_token, token_use
from govwatch.auth.users import SCOPED_ROLES
from govwatch.live.evaluator import LiveEvaluator
from govwatch.live.group_commit import GroupCommit
from govwatch.live.runtime import LiveRuntime
from govwatch.live.source_scope import check_batches
from govwatch.storage import Database, connect_serving, request_connection
from govwatch.timeutil import now
from govwatch.web.api.cache import TTLCache

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long figures computed for a page (the dashboard) are reused; writes through the app
# forget them at once.
PAGE_CACHE_SECONDS = 5.0
# Subtrees and token principals are validated on every request (tree size, token row), so
# they may be kept longer.
AUTH_CACHE_SECONDS = 60.0


@dataclass
class Pool:
    """Connections to one database, reused across requests (at most ``size`` kept idle)."""

    url: str
    size: int = 16
    _idle: queue.LifoQueue[Database] = field(default_factory=queue.LifoQueue)
    _root: Database | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # (org codes, orgs count) -> (scope, regions)
    subtrees: TTLCache[tuple[frozenset[str], frozenset[str]]] = field(
        default_factory=lambda: TTLCache(AUTH_CACHE_SECONDS)
    )
    # (token id, orgs count) -> principal
    tokens: TTLCache[Principal] = field(default_factory=lambda: TTLCache(AUTH_CACHE_SECONDS))
    # page figures by (page, caller's scope, filter, day)
    pages: TTLCache[Any] = field(default_factory=lambda: TTLCache(PAGE_CACHE_SECONDS))
    # tables seen to exist (migrations only add tables)
    tables: set[str] = field(default_factory=set)
    _runtime: LiveRuntime | None = None

    def __post_init__(self) -> None:
        self._root = self._open(migrate=True)  # migrates once

    def _open(self, *, migrate: bool) -> Database:
        return connect_serving(self.url, migrate=migrate)

    def invalidate(self) -> None:
        """Forget cached figures and principals (after a request that may have written)."""
        self.pages.invalidate()
        self.tokens.invalidate()

    def _new(self) -> Database:
        if self._root is None:  # closed at a lifespan's end; the app may be started again
            self._root = self._open(migrate=False)
        return request_connection(self._root)

    @property
    def runtime(self) -> LiveRuntime:
        """The database's live runtime (its threads start when first needed)."""
        with self._lock:
            if self._runtime is None:
                if self._root is None:
                    self._root = self._open(migrate=False)
                self._runtime = LiveRuntime(
                    self.url,
                    self.get,
                    self.put,
                    exclusive_writes=self._root.dialect == "duckdb",
                    check=check_batches,
                )
            return self._runtime

    @property
    def evaluator(self) -> LiveEvaluator:
        """The app's live evaluator (its thread starts with the first queued import)."""
        return self.runtime.evaluator

    @property
    def imports(self) -> GroupCommit:
        """Posted batches are imported in groups, taking the evaluator's import turn."""
        return self.runtime.imports

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
        if self._runtime is not None:
            self._runtime.stop()
            self._runtime = None
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


def pool_of(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


def _token_principal(request: Request, db: Database, token: str, at: datetime) -> Principal:
    seen = token_use(db, token)
    if seen is None:
        raise AuthenticationError("访问令牌无效或已吊销")
    token_id, last_used, orgs = seen
    if last_used is None or (at - last_used).total_seconds() > 60:
        principal = resolve_token(db, token, at)  # touches last_used_at
        if principal is None:
            raise AuthenticationError("访问令牌无效或已吊销")
        return principal

    def resolve() -> Principal:
        principal = resolve_token(db, token, at)
        if principal is None:
            raise AuthenticationError("访问令牌无效或已吊销")
        return principal

    return pool_of(request).tokens.get_or_compute((str(token_id), int(orgs)), resolve)


async def _presented_csrf(request: Request) -> str | None:
    """The CSRF token sent with an unsafe request (reading a form body needs ``await``)."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return None
    return await _csrf_value(request)


def get_principal(
    request: Request,
    db: DB,
    at: Clock,
    presented: Annotated[str | None, Depends(_presented_csrf)],
) -> Principal:
    """The caller. A plain function, so FastAPI runs it in its thread pool: the queries here
    must never block the event loop that serves every other request."""
    token = _bearer(request)
    if token is not None:
        return _token_principal(request, db, token, at)
    secret = request.cookies.get(COOKIE)
    if not secret:
        return PUBLIC
    found = check_session(db, secret, at)
    if found is None:
        return PUBLIC
    session = found.session
    if request.method not in SAFE_METHODS and not csrf_ok(session, presented):
        raise ForbiddenError(
            f"缺少或错误的 CSRF 令牌：表单请带 {CSRF_FIELD} 字段，脚本请带 {CSRF_HEADER} 头"
        )
    if not found.active:
        return PUBLIC
    request.state.csrf_token = session.csrf_token
    scope: frozenset[str] | None = None
    regions: frozenset[str] = frozenset()
    if found.role in SCOPED_ROLES and found.org_code:
        codes = [found.org_code]
        scope, regions = pool_of(request).subtrees.get_or_compute(
            (found.org_code, found.orgs_count), lambda: subtree(db, codes)
        )
    return Principal(
        name=found.username,
        role=found.role,
        org_code=found.org_code,
        user_id=found.user_id,
        session_hash=session.session_hash,
        scope=scope,
        regions=regions,
    )


Caller = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> object:
    """A dependency that refuses callers without ``permission`` (401 for the public, else 403)."""

    def check(principal: Caller) -> Principal:
        principal.require(permission)
        return principal

    return Depends(check)
