"""办件: one case's clock as a timeline, its events, its alerts and their history.

The page reads the case through :func:`govwatch.alerts.case_view.read_case`; its JSON twin is
the API resource ``GET /api/v1/cases/{case_id}``. Everything is shown by name: events and
their results, channels and actions (:func:`~govwatch.alerts.case_view.event_rows`), alerts by
their rule's name and their evidence in a sentence, the department and region by name with
the code on hover.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.alerts.case_view import alert_rows, event_rows, read_case
from govwatch.auth.names import unit_names
from govwatch.errors import GovwatchError
from govwatch.web.api.cases import case_resource
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.timeline import build_timeline

router = APIRouter()


@router.get("/cases/{case_id}", response_model=None)
def case_page(
    request: Request,
    case_id: Annotated[str, Path(min_length=1, max_length=50)],
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("cases.read"):
        return error_page(request, db, caller, 403, "本角色无权查看办件")
    twin = wants_json(request)
    # the log of unmasked views names the face: the page, or its JSON twin
    route = request.url.path + ("?format=json" if twin else "")
    try:
        view = read_case(db, caller, case_id, at, route)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if twin:
        return json_response(case_resource(view).model_dump(mode="json"))
    timeline = build_timeline(view.events, view.deadlines, view.rest_days, view.alerts, at)
    units = unit_names(db)
    data = {
        "case": view.case,
        "events": event_rows(view.events),
        "alerts": alert_rows(view.alerts),
        "deadlines": view.deadlines,
        "item": view.item,
        "timeline": timeline,
        "masked": view.masked,
        "units": units,
    }
    return render(request, db, caller, "case.html", data)
