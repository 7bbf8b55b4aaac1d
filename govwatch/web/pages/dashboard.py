"""首页: open alerts by class, type and level; today's new and closed; the trend by day;
the departments and regions with the most red cards and overdue cases.

Filters: region (a code; a city or province code covers its subtree by prefix, as the alert
list does), department, and the period (``since``/``until`` dates, default the last 30 days).
The open counts are the state now; the trend and the rankings count alerts first seen in the
period. ``?format=json`` answers the same figures as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from govwatch.alerts.queries import scope_condition
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    CLASS_NAMES,
    LEVEL_NAMES,
    json_response,
    login_redirect,
    render,
    wants_json,
)
from govwatch.web.pages.names import department_names, region_names, region_prefix

router = APIRouter()
TERMINAL = "('closed', 'dismissed')"
STATE = "COALESCE(w.state, CASE WHEN a.status = 'cleared' THEN 'closed' ELSE 'open' END)"
FROM = "FROM alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id"


@dataclass(frozen=True)
class DashFilter:
    region: str
    department: str
    since: date
    until: date

    def where(self, principal: Principal) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.region:
            parts.append("a.region_code LIKE ?")
            params.append(region_prefix(self.region) + "%")
        if self.department:
            parts.append("a.department_code = ?")
            params.append(self.department)
        scope, scope_params = scope_condition(principal)
        if scope:
            parts.append(scope)
            params += scope_params
        return (" AND ".join(parts) or "1 = 1"), params


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def dashboard_data(
    db: Database, principal: Principal, f: DashFilter, at: datetime
) -> dict[str, Any]:
    """Every figure of the dashboard, as plain data (the page and its JSON twin)."""
    if not db.table_exists("alerts") or not db.table_exists("alert_workflow"):
        return {"empty": True}
    where, params = f.where(principal)
    today = datetime.combine(at.date(), time())
    tomorrow = today + timedelta(days=1)
    start = datetime.combine(f.since, time())
    end = datetime.combine(f.until, time()) + timedelta(days=1)
    open_rows = db.query(
        f"SELECT a.rule_class, a.rule_type, a.level, COUNT(*) {FROM} WHERE {where} "
        f"AND a.status = 'active' AND {STATE} NOT IN {TERMINAL} "
        "GROUP BY a.rule_class, a.rule_type, a.level ORDER BY a.rule_class, a.rule_type, a.level",
        params,
    )
    by_class: dict[str, int] = {}
    by_level: dict[str, int] = {k: 0 for k in LEVEL_NAMES}
    by_type: dict[str, int] = {}
    for cls, typ, level, n in open_rows:
        by_class[str(cls)] = by_class.get(str(cls), 0) + int(n)
        by_type[str(typ)] = by_type.get(str(typ), 0) + int(n)
        by_level[str(level)] = by_level.get(str(level), 0) + int(n)
    new_today = db.scalar(
        f"SELECT COUNT(*) {FROM} WHERE {where} AND a.first_seen_at >= ? AND a.first_seen_at < ?",
        [*params, today, tomorrow],
    )
    closed_today = db.scalar(
        f"SELECT COUNT(*) {FROM} WHERE {where} AND ((a.cleared_at >= ? AND a.cleared_at < ?) "
        f"OR (w.state IN {TERMINAL} AND w.updated_at >= ? AND w.updated_at < ?))",
        [*params, today, tomorrow, today, tomorrow],
    )
    new_by_day = dict(
        db.query(
            f"SELECT CAST(a.first_seen_at AS DATE) AS d, COUNT(*) {FROM} WHERE {where} "
            "AND a.first_seen_at >= ? AND a.first_seen_at < ? GROUP BY CAST(a.first_seen_at AS DATE)",
            [*params, start, end],
        )
    )
    closed_by_day = dict(
        db.query(
            f"SELECT CAST(a.cleared_at AS DATE) AS d, COUNT(*) {FROM} WHERE {where} "
            "AND a.cleared_at >= ? AND a.cleared_at < ? GROUP BY CAST(a.cleared_at AS DATE)",
            [*params, start, end],
        )
    )
    days = [f.since + timedelta(days=i) for i in range((f.until - f.since).days + 1)]
    trend = [
        {
            "day": d.isoformat(),
            "new": int(new_by_day.get(d, 0)),
            "closed": int(closed_by_day.get(d, 0)),
        }
        for d in days
    ]
    in_period = "a.first_seen_at >= ? AND a.first_seen_at < ?"
    red = {
        column: db.query(
            f"SELECT a.{column}, COUNT(*) AS n {FROM} WHERE {where} AND a.level = 'red' "
            f"AND {in_period} AND a.{column} IS NOT NULL GROUP BY a.{column} "
            f"ORDER BY n DESC, a.{column} LIMIT 10",
            [*params, start, end],
        )
        for column in ("department_code", "region_code")
    }
    overdue = {
        column: db.query(
            f"SELECT a.{column}, COUNT(DISTINCT a.case_id) AS n {FROM} WHERE {where} "
            f"AND a.rule = 'case_overdue' AND a.status = 'active' AND a.{column} IS NOT NULL "
            f"GROUP BY a.{column} ORDER BY n DESC, a.{column} LIMIT 10",
            params,
        )
        for column in ("department_code", "region_code")
    }
    depts, regions = department_names(db), region_names(db)

    def named(rows: list[tuple[Any, ...]], names: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {"code": str(c), "name": names.get(str(c), str(c)), "count": int(n)} for c, n in rows
        ]

    return {
        "empty": False,
        "open_total": sum(by_level.values()),
        "open_by_level": by_level,
        "open_by_class": {CLASS_NAMES.get(k, k): v for k, v in by_class.items()},
        "open_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "new_today": int(new_today or 0),
        "closed_today": int(closed_today or 0),
        "trend": trend,
        "red_departments": named(red["department_code"], depts),
        "red_regions": named(red["region_code"], regions),
        "overdue_departments": named(overdue["department_code"], depts),
        "overdue_regions": named(overdue["region_code"], regions),
    }


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
    until_on = _day(until, at.date())
    since_on = _day(since, until_on - timedelta(days=29))
    if since_on > until_on or (until_on - since_on).days > 366:
        since_on = until_on - timedelta(days=29)
    f = DashFilter(region.strip(), department.strip(), since_on, until_on)
    data = dashboard_data(db, caller, f, at)
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
