"""部门工作台: a department's alerts to answer, its supervision orders, its forms to fill.

Orders are answered here (and accepted or returned by supervisors from the alert page)
through :func:`govwatch.alerts.orders.act_on_order`, as ``POST /api/v1/orders/{id}/actions``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from govwatch.alerts.orders import ORDER_MOVES, ORDER_STATE_NAMES, act_on_order
from govwatch.alerts.workspace import department_workspace
from govwatch.errors import GovwatchError
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


@router.get("/workspace", response_model=None)
def workspace(request: Request, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("orders.read"):
        return error_page(request, db, caller, 403, "部门工作台供部门用户、监察人员使用")
    data = department_workspace(db, caller)
    if wants_json(request):
        return json_response(data)
    return render(
        request,
        db,
        caller,
        "workspace.html",
        data | {"order_states": ORDER_STATE_NAMES, "can_reply": caller.can("orders.reply")},
    )


@router.post("/orders/{order_id}/act", response_model=None)
def order_act(
    request: Request,
    order_id: Annotated[str, Path(max_length=64)],
    db: DB,
    caller: Caller,
    at: Clock,
    action: Annotated[str, Form(max_length=16)],
    text: Annotated[str, Form(max_length=4000)] = "",
    next: Annotated[str, Form(max_length=200)] = "/workspace",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    target = next if next.startswith("/") and not next.startswith("//") else "/workspace"
    try:
        act_on_order(db, caller, order_id, action, at, text=text or None)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    name = ORDER_MOVES[action][3]
    return back(target, f"督办单 {order_id}：已{name}")
