"""首页: the dashboard figures (:mod:`govwatch.alerts.dashboard`) for the caller's scope.

Filters: region, department and the period (``since``/``until`` dates, default the last 30
days). ``?format=json`` answers the same figures as JSON.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from govwatch.alerts.dashboard import DashFilter, dashboard_data, parse_day
from govwatch.auth.names import department_names, region_names
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.pages.base import has_table, json_response, login_redirect, render, wants_json

router = APIRouter()


@router.get("/", response_model=None)
def dashboard(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    region: Annotated[str, Query(max_length=12)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("alerts.read"):
        return render(
            request,
            db,
            caller,
            "error.html",
            {"status": 403, "message": "本角色没有首页统计，请从菜单进入"},
            403,
        )
    until_on = parse_day(until, at.date())
    since_on = parse_day(since, until_on - timedelta(days=29))
    if since_on > until_on or (until_on - since_on).days > 366:
        since_on = until_on - timedelta(days=29)
    f = DashFilter(region.strip(), department.strip(), since_on, until_on)
    # Twenty people opening the dashboard at once share one computation: the figures are kept
    # a few seconds per scope, filter and day, and forgotten on any write through the app.
    key = ("dashboard", caller.scope, caller.regions, f, at.date())
    if has_table(request, db, "alerts") and has_table(request, db, "alert_workflow"):
        data = pool_of(request).pages.get_or_compute(
            key, lambda: dashboard_data(db, caller, f, at, tables_known=True)
        )
    else:
        data = {"empty": True}
    if wants_json(request):
        return json_response({"filter": f.__dict__, **data})
    return render(
        request,
        db,
        caller,
        "dashboard.html",
        {
            "f": f,
            "d": data,
            "departments": department_names(db),
            "regions": region_names(db),
            "today": at.date(),
        },
    )
