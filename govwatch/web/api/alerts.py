"""Alerts: list and filter, read one with its workflow, act on it, fetch attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import Field

from govwatch.alerts.alert_view import read_alert
from govwatch.alerts.date_range import DateRangeError, parse_range
from govwatch.alerts.queries import DATE_BASES, AlertFilter, count_alerts, list_alerts
from govwatch.alerts.workflow import act, attachment, decode_attachment
from govwatch.auth.principal import Principal
from govwatch.exports import content_disposition
from govwatch.storage import Database
from govwatch.timeutil import parse_timestamp
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.api.errors import AUTH, BAD_INPUT, CONFLICT, NOT_FOUND
from govwatch.web.api.schemas import (
    ActionIn,
    AlertDetail,
    AlertList,
    AlertOut,
)

router = APIRouter(tags=["alerts"])
AlertId = Annotated[str, Path(min_length=1, max_length=64)]


class AlertPage(AlertList):
    """A page of the alert list with the number of alerts the filter matches."""

    total: int = Field(description="alerts matching the filter (within the caller's scope)")


Status = Literal["active", "cleared"]
State = Literal[
    "open",
    "explained",
    "appealed",
    "rectifying",
    "rectified",
    "closed",
    "dismissed",
    "unfinished",
]
Level = Literal["warning", "yellow", "red"]
DateBy = Literal["occurred", "detected", "cleared", "closed"]


# 422: FastAPI's list of invalid parameters, or a date range refused in Chinese.
BAD_DATES: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "参数无效（FastAPI 的参数错误列表），或日期无效、起止颠倒（detail 为中文说明）",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/Problem"},
                        {"$ref": "#/components/schemas/HTTPValidationError"},
                    ]
                }
            }
        },
    }
}


def unusable(exc: DateRangeError) -> HTTPException:
    """A date range refused in Chinese: 422 ``{"detail": message}``."""
    return HTTPException(status_code=422, detail=str(exc))


def alert_filter(
    *,
    status: str | None = None,
    state: str | None = None,
    level: str | None = None,
    rule: str | None = None,
    rule_class: str | None = None,
    rule_type: str | None = None,
    case_id: str | None = None,
    case_prefix: str | None = None,
    department: str | None = None,
    region: str | None = None,
    region_only: bool = False,
    date_by: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AlertFilter:
    """The alert list's filter from the words of a request (the API, the page and its
    export read the same); raises :class:`DateRangeError` for dates it cannot use."""
    days = parse_range(date_from, date_to, first_name="开始日期", last_name="结束日期")
    return AlertFilter(
        status=status or None,
        state=state or None,
        level=level or None,
        rule=(rule or "").strip() or None,
        rule_class=rule_class or None,
        case_id=(case_id or "").strip() or None,
        department_code=(department or "").strip() or None,
        region_code=(region or "").strip() or None,
        since=_naive(since),
        until=_naive(until),
        rule_type=(rule_type or "").strip() or None,
        case_prefix=(case_prefix or "").strip() or None,
        region_only=region_only,
        date_by=date_by if date_by in DATE_BASES else "occurred",
        date_from=days.first,
        date_to=days.last,
    )


def alert_total(request: Request, db: Database, caller: Principal, f: AlertFilter) -> int:
    """The filter's total, kept a few seconds per scope and filter (forgotten on any write
    through the app): paging through a list asks it once, not once per page."""
    key = ("alert-total", caller.role, caller.scope, caller.regions, f)
    return int(pool_of(request).pages.get_or_compute(key, lambda: count_alerts(db, caller, f)))


@router.get(
    "/alerts",
    response_model=AlertPage,
    responses={**AUTH, **BAD_INPUT, **BAD_DATES},
)
def alerts_index(
    request: Request,
    db: DB,
    caller: Caller,
    status: Annotated[Status | None, Query()] = None,
    state: Annotated[
        State | None, Query(description="handling state; unfinished: not closed or dismissed")
    ] = None,
    level: Annotated[Level | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    rule_class: Annotated[str | None, Query(max_length=32)] = None,
    rule_type: Annotated[
        str | None, Query(max_length=32, description="异常类型, e.g. 办理超期异常")
    ] = None,
    case_id: Annotated[str | None, Query(max_length=50, description="exact case number")] = None,
    case_prefix: Annotated[
        str | None, Query(max_length=50, description="case numbers beginning so")
    ] = None,
    department_code: Annotated[str | None, Query(max_length=64)] = None,
    region_code: Annotated[str | None, Query(max_length=9)] = None,
    region_only: Annotated[bool, Query(description="the region itself, not its subtree")] = False,
    date_by: Annotated[
        DateBy, Query(description="which moment date_from/date_to bound")
    ] = "occurred",
    date_from: Annotated[
        str | None, Query(max_length=10, description="first day, YYYY-MM-DD")
    ] = None,
    date_to: Annotated[str | None, Query(max_length=10, description="last day, YYYY-MM-DD")] = None,
    since: Annotated[datetime | None, Query(description="last change at or after")] = None,
    until: Annotated[datetime | None, Query(description="last change before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AlertPage:
    """Alerts the caller may see, newest change first, with their handling state and the
    number the filter matches."""
    caller.require("alerts.read")
    try:
        f = alert_filter(
            status=status,
            state=state,
            level=level,
            rule=rule,
            rule_class=rule_class,
            rule_type=rule_type,
            case_id=case_id,
            case_prefix=case_prefix,
            department=department_code,
            region=region_code,
            region_only=region_only,
            date_by=date_by,
            date_from=date_from,
            date_to=date_to,
            since=since,
            until=until,
        )
    except DateRangeError as exc:
        raise unusable(exc) from exc
    rows = list_alerts(db, caller, f, limit + 1, offset)
    more = len(rows) > limit
    return AlertPage(
        items=[AlertOut(**r) for r in rows[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
        total=alert_total(request, db, caller, f),
    )


def _naive(value: datetime | None) -> datetime | None:
    return parse_timestamp(value) if value is not None else None


def alert_resource(db: Database, caller: Principal, alert_id: str) -> AlertDetail:
    """The API resource of one alert; the alert page's JSON twin answers the same."""
    return AlertDetail.model_validate(read_alert(db, caller, alert_id))


@router.get("/alerts/{alert_id}", response_model=AlertDetail, responses={**AUTH, **NOT_FOUND})
def alert_detail(alert_id: AlertId, db: DB, caller: Caller) -> AlertDetail:
    """One alert: the condition, its handling, every transition and its orders."""
    caller.require("alerts.read")
    return alert_resource(db, caller, alert_id)


@router.post(
    "/alerts/{alert_id}/actions",
    response_model=AlertDetail,
    responses={**AUTH, **NOT_FOUND, **CONFLICT, **BAD_INPUT},
)
def alert_action(
    alert_id: AlertId, body: ActionIn, db: DB, caller: Caller, at: Clock
) -> AlertDetail:
    """Explain, appeal, decide, order rectification, report or confirm it (spec: workflow)."""
    caller.require("alerts.read")
    files = [decode_attachment(a.name, a.content_type, a.content_base64) for a in body.attachments]
    act(
        db,
        caller,
        alert_id,
        body.action,
        at,
        reason=body.reason,
        due_on=body.due_on,
        attachments=files,
        expected_version=body.expected_version,
    )
    return alert_resource(db, caller, alert_id)


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={
        **AUTH,
        **NOT_FOUND,
        200: {"content": {"application/octet-stream": {}}, "description": "the file"},
    },
)
def attachment_file(
    attachment_id: Annotated[str, Path(max_length=32)], db: DB, caller: Caller
) -> Response:
    caller.require("alerts.read")
    meta, content = attachment(db, caller, attachment_id)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": content_disposition(str(meta.get("name") or "附件")),
        },
    )
