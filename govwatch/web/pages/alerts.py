"""预警: the alert list (filter, sort, page through) and one alert with its actions by role.

The list calls :func:`govwatch.alerts.queries.list_alerts` (newest change first by default, as
``GET /api/v1/alerts``; other orders through its ``order``). A page of the list is kept a few
seconds per caller's scope, filter, order and page (forgotten on any write through the app), so
that many people paging through alerts at once share one query.
Actions call :func:`govwatch.alerts.workflow.act` and :func:`govwatch.alerts.orders.issue_order`,
the functions behind ``POST /api/v1/alerts/{id}/actions`` and ``POST /api/v1/orders``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from govwatch.alerts import queries
from govwatch.alerts.alert_view import read_alert
from govwatch.alerts.date_range import DateRangeError
from govwatch.alerts.evidence_text import sentence
from govwatch.alerts.orders import ORDER_STATE_NAMES, issue_order
from govwatch.alerts.states import MOVES, STATE_NAMES, STATES, allowed_actions
from govwatch.alerts.workflow import act, done_message
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.rules.catalog import current
from govwatch.storage import Database
from govwatch.vocabulary import (
    ALERT_CLASS_NAMES,
    ALERT_STATUS_NAMES,
    ANOMALY_TYPE_CLASSES,
    DATE_BASIS_NAMES,
    RULE_NAMES,
    STATE_FILTER_NAMES,
    label,
)
from govwatch.web.api.alerts import AlertPage, alert_filter, alert_total
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.api.schemas import AlertDetail, AlertOut
from govwatch.web.pages.base import (
    LEVEL_NAMES,
    back,
    error_page,
    has_table,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.paging import Paging, filter_query, refused_json
from govwatch.web.pages.sheets import FORMATS, sheet_response

router = APIRouter()
PAGE_SIZE = 50
SORTS = {
    "recent": ("最近变化（新→旧）", "a.last_seen_at DESC, a.alert_id"),
    "occurred": ("发生时间（新→旧）", "a.occurred_at DESC NULLS LAST, a.alert_id"),
    "first_seen": ("发现时间（新→旧）", "a.first_seen_at DESC, a.alert_id"),
    "level": (
        "级别（红→黄→预警）",
        "CASE a.level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END, "
        "a.last_seen_at DESC, a.alert_id",
    ),
    "case": ("办件编号", "a.case_id, a.rule, a.key"),
}
ALertId = Annotated[str, Path(min_length=1, max_length=64)]
# An export holds at most this many rows (an .xlsx sheet holds 1,048,576).
EXPORT_CAP = 1_000_000
EXPORT_BATCH = 2000


def _sorted_alerts(
    db: Database, principal: Principal, f: queries.AlertFilter, sort: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The same filter, scope and shaping as the API's list, in the order the user chose."""
    return queries.list_alerts(db, principal, f, limit, offset, order=SORTS[sort][1])


def rule_options(request: Request, db: Database) -> dict[str, str]:
    """Every rule an alert may name, by id, with its Chinese name (built-in, then custom,
    then the workflow's own), kept a few seconds like the page figures."""

    def load() -> dict[str, str]:
        names = {r.id: RULE_NAMES.get(r.id) or r.description or r.id for r in current(db).rules()}
        return names | {k: v for k, v in RULE_NAMES.items() if k not in names}

    options: dict[str, str] = pool_of(request).pages.get_or_compute(("rule-options",), load)
    return options


def filter_words(
    f: queries.AlertFilter,
    rules: dict[str, str],
    departments: dict[str, str],
    regions: dict[str, str],
) -> list[tuple[str, str]]:
    """The filter in Chinese (name, value), for the export's first lines and the page."""
    words: list[tuple[str, str]] = [
        ("条件", label(ALERT_STATUS_NAMES, f.status) if f.status else "全部"),
    ]
    if f.state:
        words.append(("处理状态", label(STATE_FILTER_NAMES, f.state)))
    for name, value in (
        ("级别", label(LEVEL_NAMES, f.level) if f.level else ""),
        ("类别", label(ALERT_CLASS_NAMES, f.rule_class) if f.rule_class else ""),
        ("异常类型", f.rule_type or ""),
        ("规则", rules.get(f.rule, f.rule) if f.rule else ""),
        ("区域", _region_word(f, regions)),
        (
            "部门",
            departments.get(f.department_code, f.department_code) if f.department_code else "",
        ),
        ("办件编号", f.case_id or ""),
        ("办件编号开头", f.case_prefix or ""),
        ("最近变化不早于", f.since.strftime("%Y-%m-%d %H:%M") if f.since else ""),
        ("最近变化早于", f.until.strftime("%Y-%m-%d %H:%M") if f.until else ""),
    ):
        if value:
            words.append((name, value))
    if f.date_from or f.date_to:
        basis = label(DATE_BASIS_NAMES, f.date_by)
        first = f.date_from.isoformat() if f.date_from else "不限"
        last = f.date_to.isoformat() if f.date_to else "不限"
        words.append((basis, f"{first} 至 {last}"))
    return words


def _region_word(f: queries.AlertFilter, regions: dict[str, str]) -> str:
    if not f.region_code:
        return ""
    name = regions.get(f.region_code, f.region_code)
    return f"{name}（仅本级）" if f.region_only else f"{name}（含下级）"


EXPORT_COLUMNS = (
    "级别",
    "规则",
    "异常类型",
    "类别",
    "办件编号",
    "部门",
    "部门编码",
    "区域",
    "说明",
    "条件",
    "处理状态",
    "发生时间",
    "发现时间",
    "最近变化",
    "消除时间",
)


def _export_rows(
    db: Database,
    caller: Principal,
    f: queries.AlertFilter,
    sort: str,
    rules: dict[str, str],
    departments: dict[str, str],
    regions: dict[str, str],
) -> Iterator[list[object]]:
    for offset in range(0, EXPORT_CAP, EXPORT_BATCH):
        rows = _sorted_alerts(db, caller, f, sort, EXPORT_BATCH, offset)
        for a in rows:
            dept = a["department_code"]
            yield [
                label(LEVEL_NAMES, a["level"]),
                rules.get(a["rule"], a["rule"]),
                a["rule_type"],
                label(ALERT_CLASS_NAMES, a["rule_class"]),
                a["case_id"],
                departments.get(dept, dept) if dept else "",
                dept or "",
                regions.get(a["region_code"], a["region_code"]) if a["region_code"] else "",
                sentence(a["rule"], a["evidence"], a["message"] or ""),
                label(ALERT_STATUS_NAMES, a["status"]),
                a["state_name"],
                a.get("occurred_at"),
                a["first_seen_at"],
                a["last_seen_at"],
                a["cleared_at"],
            ]
        if len(rows) < EXPORT_BATCH:
            return


@router.get("/alerts", response_model=None)
def alert_list(
    request: Request,
    db: DB,
    caller: Caller,
    status: Annotated[str, Query(max_length=16)] = "active",
    state: Annotated[str, Query(max_length=16)] = "",
    level: Annotated[str, Query(max_length=16)] = "",
    rule_class: Annotated[str, Query(max_length=32)] = "",
    rule_type: Annotated[str, Query(max_length=32)] = "",
    rule: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str, Query(max_length=12)] = "",
    region_only: Annotated[str, Query(max_length=5)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    case_id: Annotated[str, Query(max_length=50)] = "",
    case_prefix: Annotated[str, Query(max_length=50)] = "",
    date_by: Annotated[str, Query(max_length=16)] = "occurred",
    date_from: Annotated[str, Query(max_length=32)] = "",
    date_to: Annotated[str, Query(max_length=32)] = "",
    sort: Annotated[str, Query(max_length=16)] = "recent",
    page: Annotated[int, Query(ge=1, le=200_000)] = 1,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("alerts.read"):
        return error_page(request, db, caller, 403, "本角色无权查看告警")
    sort = sort if sort in SORTS else "recent"
    only = region_only in ("1", "true", "on")
    basis = date_by if date_by in queries.DATE_BASES else "occurred"
    form: dict[str, object] = {
        "status": status,
        "state": state,
        "level": level,
        "rule_class": rule_class,
        "rule_type": rule_type,
        "rule": rule,
        "region": region,
        "region_only": only,
        "department": department,
        "case_id": case_id,
        "case_prefix": case_prefix,
        "date_by": basis,
        "date_from": date_from,
        "date_to": date_to,
        "sort": sort,
    }
    departments, regions = department_names(db), region_names(db)
    rules = rule_options(request, db)
    context: dict[str, Any] = {
        "f": form,
        "sorts": SORTS,
        "states": STATE_NAMES,
        "state_groups": STATE_FILTER_NAMES,
        "classes": ALERT_CLASS_NAMES,
        "types": sorted(ANOMALY_TYPE_CLASSES),
        "rules": rules,
        "date_bases": DATE_BASIS_NAMES,
        "departments": departments,
        "regions": regions,
    }
    fmt = request.query_params.get("format", "")
    try:
        f = alert_filter(
            status=status if status in ("active", "cleared") else None,
            state=state if state in STATES or state == queries.UNFINISHED else None,
            level=level if level in LEVEL_NAMES else None,
            rule=rule,
            rule_class=rule_class,
            rule_type=rule_type,
            case_id=case_id,
            case_prefix=case_prefix,
            department=department,
            region=region,
            region_only=only,
            date_by=basis,
            date_from=date_from,
            date_to=date_to,
        )
    except DateRangeError as exc:
        if fmt:
            return refused_json(str(exc))
        return render(request, db, caller, "alerts.html", context | {"error": str(exc)}, 422)
    tables = has_table(request, db, "alert_workflow")
    if fmt in FORMATS:
        rows_out = (
            _export_rows(db, caller, f, sort, rules, departments, regions) if tables else iter(())
        )
        return sheet_response(
            title="预警列表",
            filters=filter_words(f, rules, departments, regions),
            columns=EXPORT_COLUMNS,
            rows=rows_out,
            fmt="xlsx" if fmt == "xlsx" else "csv",
            filename=f"预警列表.{fmt}",
        )
    total = alert_total(request, db, caller, f) if tables else 0
    paging = Paging(total, page, PAGE_SIZE, filter_query(request))
    key = ("alerts", caller.role, caller.scope, caller.regions, f, sort, paging.offset)
    rows: list[dict[str, Any]] = (
        pool_of(request).pages.get_or_compute(
            key, lambda: _sorted_alerts(db, caller, f, sort, PAGE_SIZE + 1, paging.offset)
        )
        if tables
        else []
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if wants_json(request):  # the twin is the API resource (GET /api/v1/alerts)
        resource = AlertPage(
            items=[AlertOut(**r) for r in rows],
            limit=PAGE_SIZE,
            offset=paging.offset,
            next_offset=paging.offset + PAGE_SIZE if more else None,
            total=total,
        )
        return json_response(resource.model_dump(mode="json"))
    return render(
        request,
        db,
        caller,
        "alerts.html",
        context
        | {
            "rows": rows,
            "sentences": [sentence(a["rule"], a["evidence"], a["message"] or "") for a in rows],
            "paging": paging,
            "words": filter_words(f, rules, departments, regions),
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
    return back(f"/alerts/{alert_id}", done_message(action))


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
