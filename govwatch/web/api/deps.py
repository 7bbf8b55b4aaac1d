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

Connections die under the pool when the database restarts. A checkout hands out only a
connection that passes :meth:`Database.healthy <govwatch.storage.Database.healthy>` (a ``poll``
of its socket), and asks the server first (``SELECT 1``) when it has been idle long or a lost
connection was seen since it was last used; a connection whose request met a lost connection
is dropped. Such a request answers 503 with ``Retry-After`` (:func:`get_db`); reads and posted
events are run again by :class:`govwatch.web.api.reconnect.Reconnect` once the database answers.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

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
from govwatch.storage import (
    Database,
    DatabaseUnavailableError,
    connect_serving,
    connection_lost,
    request_connection,
)
from govwatch.timeutil import now
from govwatch.web.api.cache import TTLCache

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long figures computed for a page (the dashboard) are reused; writes through the app
# forget them at once.
PAGE_CACHE_SECONDS = 5.0
# Subtrees and token principals are validated on every request (tree size, token row), so
# they may be kept longer.
AUTH_CACHE_SECONDS = 60.0
# A connection idle for longer than this is asked (SELECT 1) before it is handed out again.
PROBE_IDLE_SECONDS = 30.0
# What a 503 for a lost database connection tells the client to wait (seconds).
RETRY_AFTER_SECONDS = 2
UNAVAILABLE_MESSAGE = "数据库暂时不可用（连接中断或正在重启）：请稍后重试"


@dataclass
class _Idle:
    db: Database
    since: float  # time.monotonic() when it was returned
    epoch: int  # the pool's epoch when it was last known good (see Pool._epoch)


@dataclass
class Pool:
    """Connections to one database, reused across requests (at most ``size`` kept idle)."""

    url: str
    # More than the clients that usually read at once: a connection returned to a full pool is
    # closed, and on PostgreSQL the next request pays for a new backend (twenty clients against
    # sixteen kept closed and opened connections all the time)
    size: int = 32
    _idle: queue.LifoQueue[_Idle] = field(default_factory=queue.LifoQueue)
    _root: Database | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Counts the lost connections seen: a connection last known good in an earlier epoch
    # is asked before it is handed out (one restart kills them all, unnoticed while idle).
    _epoch: int = 0
    _epochs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # id of each connection lent out -> the epoch in which it was known good
    _lent: dict[int, int] = field(default_factory=dict)
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
        """A working connection: an idle one that passes the health check, else a new one.

        Raises :class:`DatabaseUnavailableError` when the database cannot be reached."""
        while True:
            try:
                entry = self._idle.get_nowait()
            except queue.Empty:
                break
            if self._usable(entry):
                self._lent[id(entry.db)] = self._epoch
                return entry.db
            self.lost()
            _close(entry.db)
        epoch = self._epoch
        try:
            with self._lock:
                db = self._new()
        except DatabaseUnavailableError:
            self.lost()
            raise
        self._lent[id(db)] = epoch
        return db

    def _usable(self, entry: _Idle) -> bool:
        if not entry.db.healthy():
            return False
        stale = entry.epoch != self._epoch or time.monotonic() - entry.since > PROBE_IDLE_SECONDS
        return not stale or entry.db.ping()

    def lost(self) -> None:
        """A connection was found lost: the others are asked before their next use."""
        self._epoch = next(self._epochs)

    def put(self, db: Database) -> None:
        """Return a connection; a lost one, or one left inside a transaction, is closed."""
        epoch = self._lent.pop(id(db), -1)
        if db._in_tx or db.lost:
            if db.lost:
                self.lost()
            _close(db)
            return
        if self._idle.qsize() < self.size:
            self._idle.put(_Idle(db, time.monotonic(), epoch))
        else:
            db.close()

    def ready(self) -> bool:
        """Whether a working connection can be had now (one is checked out and returned)."""
        try:
            db = self.get()
        except DatabaseUnavailableError:
            return False
        self.put(db)
        return True

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.stop()
            self._runtime = None
        while True:
            try:
                _close(self._idle.get_nowait().db)
            except queue.Empty:
                break
        if self._root is not None:
            self._root.close()
            self._root = None


def _close(db: Database) -> None:
    with suppress(Exception):  # a lost connection may fail to close: it is gone either way
        db.close()


def unavailable(exc: BaseException) -> HTTPException:
    """The 503 answer to a request that met an unreachable database or a lost connection."""
    detail = str(exc) if isinstance(exc, DatabaseUnavailableError) else UNAVAILABLE_MESSAGE
    return HTTPException(503, detail=detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def get_db(request: Request) -> Iterator[Database]:
    """A pooled connection for the request; a lost connection answers 503 with Retry-After."""
    pool: Pool = request.app.state.pool
    try:
        db = pool.get()
    except DatabaseUnavailableError as exc:
        raise unavailable(exc) from exc
    try:
        yield db
    except Exception as exc:
        if not connection_lost(exc):
            raise
        pool.lost()  # (another request's connection may have met it: this one is checked too)
        raise unavailable(exc) from exc
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
    seen = token_use(db, token, at)  # an expired token is refused here, cached or not
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
