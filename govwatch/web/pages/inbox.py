"""消息: the in-app notifications of the signed-in user, newest first, unread marked.

Every signed-in role has an inbox (what :func:`govwatch.alerts.notify.visible_filter` lets it
read); each reader marks what they have read (:func:`govwatch.alerts.notify.mark_read`, one
receipt per reader), one at a time or all at once; the menu counts the unread. Each message
links to what it is about: the alert, the order (its page) or the calendar.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from govwatch.alerts.notify import inbox_counts, list_notifications, mark_all_read, mark_read
from govwatch.errors import GovwatchError
from govwatch.vocabulary import NOTIFICATION_KIND_NAMES, label
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    back,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)

router = APIRouter()
PAGE_SIZE = 30


def target_of(kind: str, ref: str) -> str | None:
    """Where a notification leads: its alert, its order, or the path it names."""
    if ref.startswith("/") and not ref.startswith("//"):
        return ref
    if kind.startswith("alert."):
        return f"/alerts/{ref}"
    if kind.startswith("order."):
        return f"/orders/{ref}"
    return None


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    kind = str(row["kind"])
    return row | {
        "kind_name": label(NOTIFICATION_KIND_NAMES, kind) if kind in NOTIFICATION_KIND_NAMES
        else "通知",
        "target": target_of(kind, str(row["ref"])),
    }  # fmt: skip


@router.get("/inbox", response_model=None)
def inbox(
    request: Request,
    db: DB,
    caller: Caller,
    unread: Annotated[int, Query(ge=0, le=1)] = 0,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("notifications.read"):
        return error_page(request, db, caller, 403, "本角色没有站内消息")
    only_unread = bool(unread)
    rows = [
        _shape(r)
        for r in list_notifications(db, caller, only_unread, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    ]
    everything, unread_total = inbox_counts(db, caller)  # (one query for both counts)
    total = unread_total if only_unread else everything
    data = {
        "rows": rows,
        "total": total,
        "unread_total": unread_total,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "page_size": PAGE_SIZE,
        "unread_only": only_unread,
    }
    if wants_json(request):
        return json_response(data)
    base = "/inbox?unread=1" if only_unread else "/inbox"
    return render(request, db, caller, "inbox.html", data | {"base": base})


def _next(target: str) -> str:
    return target if target.startswith("/inbox") else "/inbox"


@router.post("/inbox/{notification_id}/read", response_model=None)
def read_one(
    request: Request,
    notification_id: Annotated[str, Path(max_length=32)],
    db: DB,
    caller: Caller,
    at: Clock,
    next: Annotated[str, Form(max_length=200)] = "/inbox",
    open: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    """Mark one message read; with ``open`` (the message's own link), go there."""
    if caller.role == "public":
        return login_redirect(request)
    try:
        caller.require("notifications.read")
        mark_read(db, caller, notification_id, at)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if open.startswith("/") and not open.startswith("//"):
        return back(open, "消息已标为已读")
    return back(_next(next), "消息已标为已读")


@router.post("/inbox/read-all", response_model=None)
def read_all(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    next: Annotated[str, Form(max_length=200)] = "/inbox",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        caller.require("notifications.read")
        count = mark_all_read(db, caller, at)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    return back(_next(next), f"已将 {count} 条消息标为已读")
