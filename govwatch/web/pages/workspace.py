"""部门工作台: a department's alerts to answer, its supervision orders, its forms to fill.

Orders are answered here (and accepted or returned by supervisors from the alert page)
through :func:`govwatch.alerts.orders.act_on_order`, as ``POST /api/v1/orders/{id}/actions``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from govwatch.alerts.orders import ORDER_MOVES, ORDER_STATE_NAMES, act_on_order, list_orders
from govwatch.alerts.queries import AlertFilter, list_alerts
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.evaluation.systems.system import parse_system
from govwatch.storage import Database
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
TO_ANSWER = ("open", "rectifying")


def forms_to_fill(db: Database, principal: Principal) -> list[dict[str, Any]]:
    """Rounds collecting values in which the department's unit has filled indicators open."""
    if not db.table_exists("eval_rounds") or principal.org_code is None:
        return []
    rows = db.query_dicts(
        "SELECT r.round_id, r.name, r.fill_deadline_at, r.system_yaml, u.unit FROM eval_rounds r "
        "JOIN eval_units u ON u.round_id = r.round_id WHERE r.status = 'collecting' "
        "AND u.unit = ? ORDER BY r.round_id",
        [principal.org_code],
    )
    out = []
    for r in rows:
        try:
            leaves = [x for x in parse_system(str(r["system_yaml"])).leaves if x.source == "filled"]
        except GovwatchError:
            leaves = []
        done = {
            str(v[0])
            for v in db.query(
                "SELECT indicator FROM eval_values WHERE round_id = ? AND unit = ?",
                [r["round_id"], r["unit"]],
            )
        }
        out.append(
            {
                "round_id": r["round_id"],
                "name": r["name"],
                "deadline": r["fill_deadline_at"],
                "pending": [x.name for x in leaves if x.id not in done],
                "filled": len([x for x in leaves if x.id in done]),
            }
        )
    return out


@router.get("/workspace", response_model=None)
def workspace(request: Request, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("orders.read"):
        return error_page(request, db, caller, 403, "部门工作台供部门用户、监察人员使用")
    alerts: list[dict[str, Any]] = []
    if db.table_exists("alert_workflow"):
        for state in TO_ANSWER:
            alerts += list_alerts(db, caller, AlertFilter(state=state), 100, 0)
    orders = [o.as_dict() for o in list_orders(db, caller, limit=100)]
    data = {"alerts": alerts, "orders": orders, "forms": forms_to_fill(db, caller)}
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
