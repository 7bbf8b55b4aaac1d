"""Requests that met a lost database connection are run again once the database answers.

A PostgreSQL restart ends every connection; the requests in flight at that moment, and those
arriving while the server is down, fail with a lost connection, which :func:`get_db
<govwatch.web.api.deps.get_db>` answers 503. :class:`Reconnect` (ASGI middleware) holds such an
answer back when the request is safe to run twice, waits until the pool has a working
connection again (at most :data:`WAIT_SECONDS`) and runs the request again; the client sees the
second answer. Safe to run twice are reads (GET, HEAD, OPTIONS) and ``POST /api/v1/events``,
whose import is idempotent by ``event_id`` (events stored by the first run come back as
duplicates). Any other request keeps its 503.

Every 503 leaves with ``Retry-After``, and an error the routes did not handle that is a lost
connection answers 503 rather than 500.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govwatch.storage import connection_lost
from govwatch.web.api.deps import (
    RETRY_AFTER_SECONDS,
    SAFE_METHODS,
    UNAVAILABLE_MESSAGE,
    Pool,
)

log = logging.getLogger("govwatch.web.reconnect")

# Requests other than reads that may run twice (their effect is idempotent).
IDEMPOTENT_POSTS = frozenset({"/api/v1/events"})
# Runs of one request at most (the first and its retries).
ATTEMPTS = 3
# How long a held request waits, all retries together, for the database to answer again.
WAIT_SECONDS = 15.0
# Between two attempts to reach the database while waiting.
POLL_SECONDS = 0.25


def _with_retry_after(message: Message) -> Message:
    headers = list(message.get("headers", []))
    if not any(name.lower() == b"retry-after" for name, _ in headers):
        headers.append((b"retry-after", str(RETRY_AFTER_SECONDS).encode()))
    return {**message, "headers": headers}


class _Answer:
    """Passes a response on to the client, except a 503, which it holds when ``hold``."""

    def __init__(self, send: Send, *, hold: bool) -> None:
        self.send, self.hold = send, hold
        self.held: list[Message] = []
        self.started = False  # a response went out (it can no longer be replaced)

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if message["status"] == 503:
                message = _with_retry_after(message)
                if self.hold:
                    self.held.append(message)
                    return
            self.started = True
        elif self.held:
            self.held.append(message)
            return
        await self.send(message)

    async def release(self) -> None:
        """Send the held answer after all."""
        for message in self.held:
            await self.send(message)
        self.started, self.held = True, []


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The request's body again, then the client's further messages (a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class Reconnect:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: ASGIApp, pool: Pool) -> None:
        self.app, self.pool = app, pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        if method not in SAFE_METHODS and scope.get("path") not in IDEMPOTENT_POSTS:
            await self._once(scope, receive, send)
            return
        body: list[Message] = []
        while True:  # read the body now: a retry sends it again
            message = await receive()
            body.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        deadline: float | None = None
        for attempt in range(1, ATTEMPTS + 1):
            answer = _Answer(send, hold=attempt < ATTEMPTS)
            try:
                await self.app(dict(scope), _replay(body, receive), answer)
            except Exception as exc:
                if answer.started or not connection_lost(exc):
                    raise
                if attempt == ATTEMPTS:
                    await _unavailable(scope, receive, send)
                    return
            else:
                if not answer.held:
                    return
            deadline = deadline if deadline is not None else time.monotonic() + WAIT_SECONDS
            if attempt == ATTEMPTS or not await self._wait_ready(deadline):
                log.warning("%s %s: database unavailable, answered 503", method, scope["path"])
                if answer.held:
                    await answer.release()
                else:
                    await _unavailable(scope, receive, send)
                return
            log.warning("%s %s: database connection lost, run again", method, scope["path"])

    async def _once(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer = _Answer(send, hold=False)
        try:
            await self.app(scope, receive, answer)
        except Exception as exc:
            if answer.started or not connection_lost(exc):
                raise
            await _unavailable(scope, receive, send)

    async def _wait_ready(self, deadline: float) -> bool:
        """Wait until the pool hands out a working connection (False at ``deadline``)."""
        while not await run_in_threadpool(self.pool.ready):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(POLL_SECONDS)
        return True


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    answer = JSONResponse(
        {"detail": UNAVAILABLE_MESSAGE},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
    await answer(scope, receive, send)
