"""The FastAPI app factory: the JSON API, and the place where pages are mounted.

``create_app(db_url)`` opens a connection pool (migrating the database once), maps govwatch's
errors to HTTP answers (``{"detail": "…"}``: 400 bad input, 401, 403, 404, 409; the framework's own
answers, an unknown URL or a crash, in Chinese too: :mod:`govwatch.web.api.errors`), includes the
API under ``/api/v1`` and then every module of :data:`PAGE_MODULES` that exists: a module there
defines ``register(app: FastAPI) -> None`` and adds its routers (server-rendered pages under
``govwatch/web/pages/``), static files and templates. Pages reuse the API's dependencies in
:mod:`govwatch.web.api.deps` (``DB``, ``Caller``, ``Clock``).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govwatch import __version__
from govwatch.auth.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from govwatch.errors import DatabaseBusyError, GovwatchError
from govwatch.web.api import api_router
from govwatch.web.api.deps import SAFE_METHODS, Pool
from govwatch.web.api.errors import chinese_detail, status_message
from govwatch.web.api.reconnect import Reconnect

# Modules that add pages to the app, each with ``register(app)``; missing ones are skipped.
# ``site`` (the offline /docs, the favicon, error pages for browsers) replaces the JSON-only
# error answers below with ones that give a browser a Chinese page.
PAGE_MODULES = (
    # round administration first: its /evaluations/new must not be read as a round's page
    "govwatch.web.pages.round_admin",
    "govwatch.web.pages.round_work",  # 评估填报, 评估核查, 申诉, 委托 and their API (issue 13)
    "govwatch.web.pages.rectification",  # 整改 pages and /api/v1/rectifications
    "govwatch.web.pages.notices",  # 通报 pages and /api/v1/notices
    "govwatch.web.pages.appraisal",  # 年度绩效考核 (the page, its weights and export)
    "govwatch.web.pages",
    "govwatch.web.pages.item_export",
    "govwatch.web.pages.site",
)

_STATUS = (
    (AuthenticationError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (DatabaseBusyError, 503),
)


def status_of(exc: GovwatchError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


async def govwatch_error_json(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GovwatchError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


async def http_error_json(request: Request, exc: Exception) -> Response:
    """The framework's refusals (404 unknown URL, 405, …) as ``{"detail": "<Chinese>"}``."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 200 or exc.status_code in (204, 205, 304):  # answers without a body
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse(
        {"detail": chinese_detail(exc.status_code, exc.detail)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def server_error_json(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected error: 500 with a Chinese message (the error itself goes to the log)."""
    return JSONResponse({"detail": status_message(500)}, status_code=500)


class ForgetOnWrite:
    """ASGI middleware: after a request that may have written, empty the app's caches.

    Pages keep figures and principals for a few seconds (:class:`govwatch.web.api.cache.TTLCache`);
    anything changed through the app (an action, an import, a logout) must show at once.
    """

    def __init__(self, app: ASGIApp, pool: Pool) -> None:
        self.app, self.pool = app, pool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "GET") in SAFE_METHODS:
            await self.app(scope, receive, send)
            return

        async def send_after_forgetting(message: Message) -> None:
            if message["type"] == "http.response.start":  # before the client can ask again
                self.pool.invalidate()
            await send(message)

        try:
            await self.app(scope, receive, send_after_forgetting)
        finally:
            self.pool.invalidate()


class RefuseNul:
    """ASGI middleware: a NUL character in the path or any query parameter answers 400.

    No text column holds one (PostgreSQL refuses it outright: a query naming it would fail
    with 500, on every route that reads a parameter into SQL), and no code, id or filter
    contains one; so it is refused once, here, before any route reads it, on every engine.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = nul_problem(scope.get("path", ""), scope.get("query_string", b""))
            if problem is not None:
                answer = JSONResponse({"detail": problem}, status_code=400)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def nul_problem(path: str, query: bytes) -> str | None:
    """The Chinese message refusing a NUL in this path or query string, None when clean."""
    if "\x00" in path:
        return "请求路径中含 NUL 字符（\\0）：路径与参数中不能有 NUL"
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "\\0")
            return f"查询参数 {shown} 含 NUL 字符（\\0）：参数值中不能有 NUL"
    return None


NUL_REFUSAL = "请求路径或查询参数含 NUL 字符（或其他输入不符合要求）"


def declare_nul_refusal(app: FastAPI) -> None:
    """Every operation of the schema may answer 400 (:class:`RefuseNul` answers before the
    route does), so the schema says so wherever a route did not already."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        answer: dict[str, Any] = {"description": NUL_REFUSAL}
        if "Problem" in schema.get("components", {}).get("schemas", {}):
            problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
            answer["content"] = {"application/json": problem}
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if isinstance(operation, dict) and "responses" in operation:
                    operation["responses"].setdefault("400", answer)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(db_url: str) -> FastAPI:
    pool = Pool(db_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(
        title="govwatch",
        version=__version__,
        description="互联网+政务服务 电子监察与评估评价 API",
        openapi_url="/openapi.json",
        # served from local files by govwatch.web.pages.site (FastAPI's own load from a CDN)
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.pool = pool
    app.state.db_url = db_url
    app.add_exception_handler(GovwatchError, govwatch_error_json)
    app.add_exception_handler(StarletteHTTPException, http_error_json)
    app.add_exception_handler(Exception, server_error_json)
    app.add_middleware(ForgetOnWrite, pool=pool)
    app.add_middleware(Reconnect, pool=pool)  # a lost database connection: 503, reads retried
    app.add_middleware(RefuseNul)  # outermost: before any route or cache reads a parameter
    declare_nul_refusal(app)
    app.include_router(api_router())
    mount_pages(app)
    return app


def mount_pages(app: FastAPI) -> None:
    """Let each page module that exists register its routes (see :data:`PAGE_MODULES`)."""
    for name in PAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        register = getattr(module, "register", None)
        if register is not None:  # an empty package directory is not a page module yet
            register(app)
