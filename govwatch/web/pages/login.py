"""登录 and 退出: a form over the auth engineer's :func:`authenticate` and session helpers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from govwatch.auth.sessions import COOKIE, LIFETIME, close_session, open_session
from govwatch.auth.throttle import LoginThrottled
from govwatch.auth.users import authenticate
from govwatch.errors import GovwatchError
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import render

router = APIRouter()
HOME = {"department": "/workspace", "evaluator": "/evaluations"}


def _safe(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else ""


@router.get("/login", response_model=None)
def login_form(
    request: Request, db: DB, caller: Caller, next: Annotated[str, Query(max_length=300)] = ""
) -> Response:
    return render(request, db, caller, "login.html", {"next": _safe(next), "error": ""})


@router.post("/login", response_model=None)
def login(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    address = request.client.host if request.client else None
    try:
        user = authenticate(db, username.strip(), password, at, address=address)
    except GovwatchError as exc:
        # too many failures: 429 with Retry-After, the message saying until when
        throttled = exc if isinstance(exc, LoginThrottled) else None
        context = {"next": _safe(next), "error": str(exc), "username": username}
        page = render(request, db, caller, "login.html", context, 429 if throttled else 401)
        if throttled is not None:
            page.headers["Retry-After"] = str(throttled.retry_after)
        return page
    secret, _session = open_session(db, user.user_id, at)
    response = RedirectResponse(_safe(next) or HOME.get(user.role, "/"), status_code=303)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", response_model=None)
def logout(db: DB, caller: Caller, at: Clock) -> Response:
    if caller.session_hash:
        close_session(db, caller.session_hash, at)
    response = RedirectResponse("/public", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
