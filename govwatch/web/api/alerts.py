"""Alerts: list and filter, read one with its workflow, act on it, fetch attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from govwatch.alerts.alert_view import read_alert
from govwatch.alerts.queries import AlertFilter, list_alerts
from govwatch.alerts.workflow import act, attachment, decode_attachment
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.timeutil import parse_timestamp
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, CONFLICT, NOT_FOUND
from govwatch.web.api.schemas import (
    ActionIn,
    AlertDetail,
    AlertList,
    AlertOut,
)

router = APIRouter(tags=["alerts"])
AlertId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("/alerts", response_model=AlertList, responses={**AUTH, **BAD_INPUT})
def alerts_index(
    db: DB,
    caller: Caller,
    status: Annotated[Literal["active", "cleared"] | None, Query()] = None,
    state: Annotated[
        Literal["open", "explained", "appealed", "rectifying", "rectified", "closed", "dismissed"]
        | None,
        Query(),
    ] = None,
    level: Annotated[Literal["warning", "yellow", "red"] | None, Query()] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    rule_class: Annotated[str | None, Query(max_length=32)] = None,
    case_id: Annotated[str | None, Query(max_length=50)] = None,
    department_code: Annotated[str | None, Query(max_length=64)] = None,
    region_code: Annotated[str | None, Query(max_length=9)] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AlertList:
    """Alerts the caller may see, newest change first, with their handling state."""
    caller.require("alerts.read")
    f = AlertFilter(
        status,
        state,
        level,
        rule,
        rule_class,
        case_id,
        department_code,
        region_code,
        _naive(since),
        _naive(until),
    )
    rows = list_alerts(db, caller, f, limit + 1, offset)
    more = len(rows) > limit
    return AlertList(
        items=[AlertOut(**r) for r in rows[:limit]],
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
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
    _meta, content = attachment(db, caller, attachment_id)
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"X-Content-Type-Options": "nosniff", "Content-Disposition": "attachment"},
    )
