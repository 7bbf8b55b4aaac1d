"""预警: the alert list (filter, sort, page through) and one alert with its actions by role.

The list calls :func:`govwatch.alerts.queries.list_alerts` (newest change first by default, as
``GET /api/v1/alerts``; other orders through its ``order``). A page of the list is kept a few
seconds per caller's scope, filter, order and page (forgotten on any write through the app), so
that many people paging through alerts at once share one query.
Actions call :func:`govwatch.alerts.workflow.act` and :func:`govwatch.alerts.orders.issue_order`,
the functions behind ``POST /api/v1/alerts/{id}/actions`` and ``POST /api/v1/orders``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from govwatch.alerts import queries
from govwatch.alerts.alert_view import read_alert
from govwatch.alerts.orders import ORDER_STATE_NAMES, issue_order
from govwatch.alerts.states import MOVES, STATE_NAMES, STATES, allowed_actions
from govwatch.alerts.workflow import act
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.api.schemas import AlertDetail, AlertList, AlertOut
from govwatch.web.pages.base import (
    CLASS_NAMES,
    back,
    error_page,
    has_table,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)

router = APIRouter()
PAGE_SIZE = 50
SORTS = {
    "recent": ("最近变化", "a.last_seen_at DESC, a.alert_id"),
    "first_seen": ("首次发现（新→旧）", "a.first_seen_at DESC, a.alert_id"),
    "level": (
        "级别（红→黄→预警）",
        "CASE a.level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END, "
        "a.last_seen_at DESC, a.alert_id",
    ),
    "case": ("办件编号", "a.case_id, a.rule, a.key"),
}
ALertId = Annotated[str, Path(min_length=1, max_length=64)]


def _sorted_alerts(
    db: Database, principal: Principal, f: queries.AlertFilter, sort: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The same filter, scope and shaping as the API's list, in the order the user chose."""
    return queries.list_alerts(db, principal, f, limit, offset, order=SORTS[sort][1])


@router.get("/alerts", response_model=None)
def alert_list(
    request: Request,
    db: DB,
    caller: Caller,
    status: Annotated[str, Query(max_length=16)] = "active",
    state: Annotated[str, Query(max_length=16)] = "",
    level: Annotated[str, Query(max_length=16)] = "",
    rule_class: Annotated[str, Query(max_length=32)] = "",
    rule: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str, Query(max_length=12)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    case_id: Annotated[str, Query(max_length=50)] = "",
    sort: Annotated[str, Query(max_length=16)] = "recent",
    page: Annotated[int, Query(ge=1, le=200_000)] = 1,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("alerts.read"):
        return error_page(request, db, caller, 403, "本角色无权查看告警")
    sort = sort if sort in SORTS else "recent"
    f = queries.AlertFilter(
        status=status if status in ("active", "cleared") else None,
        state=state if state in STATES else None,
        level=level or None,
        rule=rule or None,
        rule_class=rule_class or None,
        case_id=case_id.strip() or None,
        department_code=department or None,
        region_code=region.strip() or None,
    )
    offset = (page - 1) * PAGE_SIZE
    key = ("alerts", caller.role, caller.scope, caller.regions, f, sort, offset)
    rows: list[dict[str, Any]] = (
        pool_of(request).pages.get_or_compute(
            key, lambda: _sorted_alerts(db, caller, f, sort, PAGE_SIZE + 1, offset)
        )
        if has_table(request, db, "alert_workflow")
        else []
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if wants_json(request):  # the twin is the API resource (GET /api/v1/alerts)
        resource = AlertList(
            items=[AlertOut(**r) for r in rows],
            limit=PAGE_SIZE,
            offset=offset,
            next_offset=offset + PAGE_SIZE if more else None,
        )
        return json_response(resource.model_dump(mode="json"))
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "msg")}
    return render(
        request,
        db,
        caller,
        "alerts.html",
        {
            "rows": rows,
            "page": page,
            "more": more,
            "params": params,
            "f": {
                "status": status,
                "state": state,
                "level": level,
                "rule_class": rule_class,
                "rule": rule,
                "region": region,
                "department": department,
                "case_id": case_id,
                "sort": sort,
            },
            "sorts": SORTS,
            "states": STATE_NAMES,
            "classes": CLASS_NAMES,
            "departments": department_names(db),
            "regions": region_names(db),
        },
    )


def _page_context(caller: Principal, resource: dict[str, Any]) -> dict[str, Any]:
    """The alert page's template context: the resource plus the caller's possible actions."""
    workflow = resource["workflow"]
    current = workflow["state"]
    side = (
        "department"
        if caller.can("alerts.department_act")
        else "supervisor"
        if caller.can("alerts.supervise")
        else None
    )
    return resource | {
        "state_name": STATE_NAMES.get(current, current),
        "version": workflow["version"],
        "due_on": workflow["due_on"],
        "actions": [(a, MOVES[a]) for a in allowed_actions(current, side)] if side else [],
        "order_states": ORDER_STATE_NAMES,
        "can_order": caller.can("orders.issue") and current not in ("closed", "dismissed"),
    }


@router.get("/alerts/{alert_id}", response_model=None)
def alert_page(request: Request, alert_id: ALertId, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        caller.require("alerts.read")
        resource = read_alert(db, caller, alert_id)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):  # the twin is the API resource
        return json_response(AlertDetail.model_validate(resource).model_dump(mode="json"))
    detail = _page_context(caller, resource)
    return render(request, db, caller, "alert.html", detail)


@router.post("/alerts/{alert_id}/act", response_model=None)
def alert_act(
    request: Request,
    alert_id: ALertId,
    db: DB,
    caller: Caller,
    at: Clock,
    action: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    due_on: Annotated[str, Form(max_length=10)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        due = date.fromisoformat(due_on) if due_on.strip() else None
        act(
            db,
            caller,
            alert_id,
            action,
            at,
            reason=reason or None,
            due_on=due,
            expected_version=expected_version or None,
        )
    except ValueError:
        return _refuse(request, db, caller, alert_id, 400, "整改期限应为 YYYY-MM-DD 格式的日期")
    except GovwatchError as exc:
        return _refuse(request, db, caller, alert_id, status_of(exc), str(exc))
    name = MOVES[action].name if action in MOVES else action
    return back(f"/alerts/{alert_id}", f"已{name}")


@router.post("/alerts/{alert_id}/order", response_model=None)
def alert_order(
    request: Request,
    alert_id: ALertId,
    db: DB,
    caller: Caller,
    at: Clock,
    content: Annotated[str, Form(max_length=4000)] = "",
    reply_days: Annotated[int | None, Form(ge=1, le=60)] = None,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        order = issue_order(db, caller, [alert_id], at, content=content, reply_days=reply_days)
    except GovwatchError as exc:
        return _refuse(request, db, caller, alert_id, status_of(exc), str(exc))
    return back(
        f"/alerts/{alert_id}",
        f"已发出督办单 {order.order_id}，回复期限 {order.reply_due_on.isoformat()}",
    )


def _refuse(
    request: Request, db: Database, caller: Principal, alert_id: str, status: int, message: str
) -> Response:
    """Show the alert again with the refusal on top (or the error page if it cannot be shown)."""
    try:
        detail = _page_context(caller, read_alert(db, caller, alert_id))
    except GovwatchError:
        return error_page(request, db, caller, status, message)
    return render(request, db, caller, "alert.html", detail | {"error": message}, status)
