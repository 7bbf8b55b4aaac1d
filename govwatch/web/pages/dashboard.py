"""首页: the dashboard figures (:mod:`govwatch.alerts.dashboard`) for the caller's scope, each
number and chart element a link to the list it counts.

Filters: region, department and the period (``since``/``until`` dates, default the last 30
days ending today). A date that is not a date, a start after the end or a period longer than a
year is answered with a Chinese message (status 422), never replaced by the default.
``?format=json`` answers the same figures, links included, as JSON (422 ``{"detail"}`` for a
refused period).

Links (:func:`links`) carry the filter of the figure they show: the alert list
(``/alerts``) for alert figures, the case list (``/cases``) for the rates' counts, the
supervisor's desk for orders. Each lands on a list whose total is the number shown, which
tests/web/test_dashboard_links.py checks by following every one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from govwatch.alerts.dashboard import (
    DashFilter,
    dashboard_data,
    dashboard_now,
    headline,
    province_headline,
)
from govwatch.alerts.date_range import DateRangeError, parse_range
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.vocabulary import ALERT_CLASS_NAMES
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.pages.base import has_table, json_response, login_redirect, render, wants_json
from govwatch.web.pages.paging import refused_json

router = APIRouter()
DEFAULT_DAYS = 30


def href(path: str, **params: object) -> str:
    """``path?k=v&…`` with the parameters that have a value (``True`` as 1)."""
    shown = {k: (1 if v is True else v) for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(shown)}" if shown else path


def period(since: str | None, until: str | None, today: date) -> tuple[date, date]:
    """The dashboard's period: the days typed (a missing end is today, a missing start 30 days
    before the end); raises :class:`DateRangeError` for dates it cannot use."""
    typed = parse_range(since, until, within_year=True)
    last = typed.last or today
    first = typed.first or last - timedelta(days=DEFAULT_DAYS - 1)
    return parse_range(first.isoformat(), last.isoformat(), within_year=True).first or first, last


def links(f: DashFilter, data: dict[str, Any], today: date) -> dict[str, Any]:
    """Every figure's drill-down link, keyed like the figures (see the module docstring)."""
    place: dict[str, object] = {"region": f.region, "department": f.department}
    day = today.isoformat()
    first, last = f.since.isoformat(), f.until.isoformat()

    def alerts(**params: object) -> str:
        return href("/alerts", **(place | params))

    def cases(**params: object) -> str:
        return href("/cases", **(place | params))

    open_ = {"status": "active", "state": "unfinished"}
    new = {"status": "all", "date_by": "occurred"}
    out: dict[str, Any] = {
        "open_total": alerts(**open_),
        "open_by_level": {lv: alerts(**open_, level=lv) for lv in data["open_by_level"]},
        "open_by_class": {c: alerts(**open_, rule_class=c) for c in data["open_by_class_code"]},
        "open_by_type": {t: alerts(**open_, rule_type=t) for t in data["open_by_type"]},
        "new_today": alerts(**new, date_from=day, date_to=day),
        "new_today_by_level": {
            lv: alerts(**new, date_from=day, date_to=day, level=lv)
            for lv in data["new_today_by_level"]
        },
        "closed_today": alerts(status="all", date_by="closed", date_from=day, date_to=day),
        "trend_new": {
            r["day"]: alerts(**new, date_from=r["day"], date_to=r["day"]) for r in data["trend"]
        },
        "trend_closed": {
            r["day"]: alerts(status="all", date_by="cleared", date_from=r["day"], date_to=r["day"])
            for r in data["trend"]
        },
        "red_department": {
            r["code"]: alerts(
                **new, level="red", date_from=first, date_to=last, department=r["code"]
            )
            for r in data["red_departments"]
        },
        "red_region": {
            r["code"]: alerts(
                **new,
                level="red",
                date_from=first,
                date_to=last,
                region=r["code"],
                region_only=True,
            )
            for r in data["red_regions"]
        },
        "overdue_department": {
            r["code"]: alerts(status="active", rule="case_overdue", department=r["code"])
            for r in data["overdue_departments"]
        },
        "overdue_region": {
            r["code"]: alerts(
                status="active", rule="case_overdue", region=r["code"], region_only=True
            )
            for r in data["overdue_regions"]
        },
        "cases": _cohort_links(cases, first, last),
        "rates_department": {
            r["code"]: _cohort_links(cases, first, last, department=r["code"])
            for r in data["rates_by_department"]
        },
        "rates_region": {
            r["code"]: _cohort_links(cases, first, last, region=r["code"], region_only=True)
            for r in data["rates_by_region"]
        },
        "rate_trend": {
            r["day"]: _cohort_links(cases, r["day"], r["day"]) for r in data["rate_trend"]
        },
        "orders": order_links(f),
    }
    return out


# Where the supervisor's desk (督办台, pages/desk.py) lists the orders each figure counts;
# overdue orders lead its 督办跟踪 list but are not a list of their own there.
ORDER_LISTS = {"follow": "follow", "replied": "replies"}


def order_links(f: DashFilter) -> dict[str, str]:
    return {
        figure: href("/desk", list=name, org=f.department) for figure, name in ORDER_LISTS.items()
    }


def _cohort_links(cases: Any, first: str, last: str, **params: object) -> dict[str, str]:
    """The case lists behind a rate's counts: applied in the period (all, overdue), finished
    in the period (all, on time)."""
    applied = {"applied_from": first, "applied_to": last}
    finished = {"finished_from": first, "finished_to": last}
    return {
        "cases": cases(**params, **applied),
        "overdue": cases(**params, **applied, timing="overdue"),
        "finished": cases(**params, **finished, status="finished"),
        "ontime": cases(**params, **finished, timing="ontime"),
    }


def charts(data: dict[str, Any], hrefs: dict[str, Any]) -> dict[str, Any]:
    """What the page's charts draw (static/app.js), each element with the link a click follows."""
    return {
        "trend": [
            {
                "day": r["day"],
                "new": r["new"],
                "closed": r["closed"],
                "new_href": hrefs["trend_new"][r["day"]],
                "closed_href": hrefs["trend_closed"][r["day"]],
            }
            for r in data["trend"]
        ],
        "classes": [
            {
                "name": ALERT_CLASS_NAMES.get(code, code),
                "value": n,
                "href": hrefs["open_by_class"][code],
            }
            for code, n in data["open_by_class_code"].items()
        ],
        "rates": [
            {
                "day": r["day"],
                "overdue_rate": _percent(r["overdue_rate"]),
                "ontime_rate": _percent(r["ontime_rate"]),
                "overdue_href": hrefs["rate_trend"][r["day"]]["overdue"],
                "ontime_href": hrefs["rate_trend"][r["day"]]["ontime"],
            }
            for r in data["rate_trend"]
        ],
    }


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def province_links(f: DashFilter, today: date) -> dict[str, str]:
    """The province's headline figures' links (for callers who see the whole province)."""
    whole = DashFilter("", "", f.since, f.until)
    return _headline_links(whole, today)


def _headline_links(f: DashFilter, today: date) -> dict[str, str]:
    place: dict[str, object] = {"region": f.region, "department": f.department}
    day = today.isoformat()
    applied = {"applied_from": f.since.isoformat(), "applied_to": f.until.isoformat()}
    finished = {"finished_from": f.since.isoformat(), "finished_to": f.until.isoformat()}
    open_ = {"status": "active", "state": "unfinished"}
    new = {"status": "all", "date_by": "occurred", "date_from": day, "date_to": day}
    return {
        "open_total": href("/alerts", **place, **open_),
        "open_red": href("/alerts", **place, **open_, level="red"),
        "open_yellow": href("/alerts", **place, **open_, level="yellow"),
        "new_today_red": href("/alerts", **place, **new, level="red"),
        "new_today_yellow": href("/alerts", **place, **new, level="yellow"),
        "cases": href("/cases", **place, **applied),
        "overdue": href("/cases", **place, **applied, timing="overdue"),
        "finished": href("/cases", **place, **finished, status="finished"),
        "ontime": href("/cases", **place, **finished, timing="ontime"),
    }


def _comparison(
    request: Request, db: DB, caller: Principal, f: DashFilter, data: dict[str, Any], at: datetime
) -> dict[str, Any] | None:
    """A department's figures beside the province's: for a department's own dashboard, or a
    supervisor's filtered to one department. The province's are computed once per period and
    day for everyone (no scope, no filter)."""
    if data.get("empty") or (caller.scope is None and not f.department):
        return None
    key = ("dashboard-province", f.since, f.until, at.date())
    province = pool_of(request).pages.get_or_compute(key, lambda: province_headline(db, f, at))
    return {
        "own": headline(data),
        "own_links": _headline_links(f, at.date()),
        "province": province,
        # a department's lists hold only its own alerts and cases: the province's figures are
        # shown for comparison, without a link to lists it may not open
        "province_links": province_links(f, at.date()) if caller.scope is None else None,
    }


@router.get("/", response_model=None)
def dashboard(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    region: Annotated[str, Query(max_length=12)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str | None, Query(max_length=32)] = None,
    until: Annotated[str | None, Query(max_length=32)] = None,
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
    context: dict[str, Any] = {
        "departments": department_names(db),
        "regions": region_names(db),
        "today": at.date(),
    }
    typed = {"region": region.strip(), "department": department.strip()}
    try:
        since_on, until_on = period(since, until, at.date())
    except DateRangeError as exc:
        if wants_json(request):
            return refused_json(str(exc))
        form = typed | {"since": since or "", "until": until or ""}
        return render(
            request, db, caller, "dashboard.html", context | {"f": form, "error": str(exc)}, 422
        )
    f = DashFilter(typed["region"], typed["department"], since_on, until_on)
    # Twenty people opening the dashboard at once share one computation: the figures are kept
    # a few seconds per scope, filter and day, and forgotten on any write through the app.
    # What does not depend on the period (the state now, today's figures, orders) is kept
    # apart, per scope, place filter and day: another period reads only the period's rows.
    key = ("dashboard", caller.scope, caller.regions, f, at.date())
    now_key = ("dashboard-now", caller.scope, caller.regions, f.region, f.department, at.date())
    pages = pool_of(request).pages
    if has_table(request, db, "alerts") and has_table(request, db, "alert_workflow"):
        data = pages.get_or_compute(
            key,
            lambda: dashboard_data(
                db,
                caller,
                f,
                at,
                tables_known=True,
                now=pages.get_or_compute(now_key, lambda: dashboard_now(db, caller, f, at)),
            ),
        )
    else:
        data = {"empty": True}
    hrefs = {} if data.get("empty") else links(f, data, at.date())
    compare = _comparison(request, db, caller, f, data, at)
    if wants_json(request):
        return json_response({"filter": f.__dict__, **data, "links": hrefs, "comparison": compare})
    return render(
        request,
        db,
        caller,
        "dashboard.html",
        context
        | {
            "f": f,
            "d": data,
            "links": hrefs,
            "compare": compare,
            "charts": charts(data, hrefs) if hrefs else None,
        },
    )
