"""What the site as a whole answers: the API documentation offline, the favicon, error pages.

- ``/docs``: Swagger UI over ``/openapi.json``, its script and style served from
  ``static/vendor/swagger-ui/`` (npm's ``swagger-ui-dist``, pinned in package-lock.json and
  copied there on install): the page asks nothing of another machine, not even the online
  validator.
- ``/favicon.ico`` (and ``static/favicon.svg``, which every page links).
- Errors: a browser (``Accept: text/html``, outside ``/api/``) that meets an unknown URL, a
  refusal or a crash gets a Chinese page in the site's layout (``error.html``, with its menu when
  signed in); an API client gets ``{"detail": "<Chinese>"}`` (:mod:`govwatch.web.app` has the
  JSON answers, :mod:`govwatch.web.api.errors` the words).

Registered by :data:`govwatch.web.app.PAGE_MODULES`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from govwatch.auth.principal import PUBLIC, Principal
from govwatch.errors import GovwatchError
from govwatch.storage import Database
from govwatch.web.api.deps import clock, get_principal
from govwatch.web.api.errors import chinese_detail, status_message
from govwatch.web.app import govwatch_error_json, http_error_json, server_error_json, status_of
from govwatch.web.pages.base import ENV, STATIC, render

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
SWAGGER = "/static/vendor/swagger-ui"
DOCS_TITLE = "政务服务电子监察与评估 · 接口文档（API）"
# What each failure is called in the page's heading.
HEADINGS = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的操作",
    409: "操作冲突",
    422: "参数有误",
    429: "请求过于频繁",
    500: "系统出错了",
    503: "服务暂时不可用",
}


@router.get("/docs", response_model=None)
def api_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=DOCS_TITLE,
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        # the badge would ask validator.swagger.io to check the schema
        swagger_ui_parameters={"validatorUrl": None, "docExpansion": "list"},
    )


@router.get("/favicon.ico", response_model=None)
def favicon() -> FileResponse:
    return FileResponse(
        STATIC / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def wants_page(request: Request) -> bool:
    """A browser asking for a page: HTML accepted, and not the JSON API."""
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _viewer(request: Request, db: Database) -> Principal:
    """Who is signed in, for the page's menu; the public when that cannot be told."""
    at: datetime = request.app.dependency_overrides.get(clock, clock)()
    try:
        return get_principal(request, db, at, None)
    except Exception:  # an error page never fails for want of a menu
        return PUBLIC


def _bare_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The error page without the database (it may be what failed): no menu, no sign-in."""
    html = ENV.get_template("error.html").render(
        user=PUBLIC,
        role_name="",
        nav=[],
        path=request.url.path,
        csrf="",
        status=status,
        heading=HEADINGS.get(status, "无法显示"),
        message=message,
    )
    return HTMLResponse(html, status_code=status)


def error_html(request: Request, status: int, message: str) -> HTMLResponse:
    """``error.html`` in the site's layout, with the caller's menu when the database answers."""
    context = {"status": status, "heading": HEADINGS.get(status, "无法显示"), "message": message}
    pool = getattr(request.app.state, "pool", None)
    if pool is None or status >= 500:
        return _bare_page(request, status, message)
    try:
        db = pool.get()
    except Exception:  # the database is down: the page without a menu
        return _bare_page(request, status, message)
    try:
        return render(request, db, _viewer(request, db), "error.html", context, status)
    except Exception:  # drawn without the layout rather than not at all
        log.exception("error page for %s could not be drawn with its layout", request.url.path)
        return _bare_page(request, status, message)
    finally:
        pool.put(db)


async def _page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None
) -> Response:
    page = await run_in_threadpool(error_html, request, status, message)
    if headers:
        page.headers.update(headers)
    return page


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = chinese_detail(exc.status_code, exc.detail)
    if wants_page(request) and isinstance(detail, str) and exc.status_code >= 400:
        return await _page(request, exc.status_code, detail, exc.headers)
    return await http_error_json(request, exc)


async def govwatch_error(request: Request, exc: Exception) -> Response:
    """govwatch's own refusals (``{"detail": …}`` for the API), as a page for a browser."""
    assert isinstance(exc, GovwatchError)
    status = status_of(exc)
    if wants_page(request):
        return await _page(request, status, str(exc), None)
    return await govwatch_error_json(request, exc)


async def validation_error(request: Request, exc: Exception) -> Response:
    """A browser's bad parameter: which one, in Chinese; API clients keep FastAPI's 422 list."""
    assert isinstance(exc, RequestValidationError)
    if not wants_page(request):
        return await request_validation_exception_handler(request, exc)
    names = []
    for error in exc.errors():
        where = error.get("loc", ())
        name = str(where[-1]) if where else ""
        if name and name not in names:
            names.append(name)
    shown = "、".join(f"“{n}”" for n in names)
    message = f"{status_message(422)}：参数 {shown} 的值无效" if shown else status_message(422)
    return await _page(request, 422, message, None)


async def server_error(request: Request, exc: Exception) -> Response:
    if wants_page(request):
        return _bare_page(request, 500, status_message(500))
    return await server_error_json(request, exc)


def register(app: FastAPI) -> None:
    """The docs and favicon routes; the browser-aware error answers (the JSON ones stay for
    API clients)."""
    app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(GovwatchError, govwatch_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, server_error)
