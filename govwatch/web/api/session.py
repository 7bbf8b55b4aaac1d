"""Login, logout, who am I, and in-app notifications."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from govwatch.alerts.notify import list_notifications, mark_read
from govwatch.auth.sessions import COOKIE, LIFETIME, close_session, open_session
from govwatch.auth.throttle import LoginThrottled
from govwatch.auth.users import authenticate
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, NOT_FOUND
from govwatch.web.api.schemas import LoginIn, LoginOut, Me, NotificationOut, Problem

router = APIRouter(tags=["session"])
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": Problem,
        "description": "登录失败次数过多，该账户或该地址暂停登录（Retry-After 为需等待的秒数）",
    }
}


@router.post("/login", response_model=LoginOut, responses={**AUTH, **THROTTLED})
def login(body: LoginIn, request: Request, response: Response, db: DB, at: Clock) -> LoginOut:
    """Open a session: an HttpOnly cookie, and the CSRF token to send with changes.

    Failed logins are throttled per account and per client address: 429 with ``Retry-After``.
    """
    address = request.client.host if request.client else None
    try:
        user = authenticate(db, body.username, body.password, at, address=address)
    except LoginThrottled as exc:
        raise HTTPException(
            429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from exc
    secret, session = open_session(db, user.user_id, at)
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        path="/",
    )
    return LoginOut(
        name=user.username,
        role=user.role,
        org_code=user.org_code,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )


@router.post("/logout", status_code=204, responses={**AUTH})
def logout(response: Response, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.session_hash:
        close_session(db, caller.session_hash, at)
    response.delete_cookie(COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, responses={**AUTH})
def me(caller: Caller) -> Me:
    return Me(name=caller.name, role=caller.role, org_code=caller.org_code)


@router.get("/notifications", response_model=list[NotificationOut], responses={**AUTH})
def notifications(
    db: DB,
    caller: Caller,
    unread: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[NotificationOut]:
    caller.require("notifications.read")
    return [NotificationOut(**n) for n in list_notifications(db, caller, unread, limit)]


@router.post(
    "/notifications/{notification_id}/read", status_code=204, responses={**AUTH, **NOT_FOUND}
)
def notification_read(
    notification_id: Annotated[str, Path(max_length=32)], db: DB, caller: Caller, at: Clock
) -> Response:
    caller.require("notifications.read")
    mark_read(db, caller, notification_id, at)
    return Response(status_code=204)
