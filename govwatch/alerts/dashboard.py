"""Dashboard figures (首页): open alerts by class, type and level; today's new and closed; the
trend by day; the departments and regions with the most red cards and overdue cases.

Filters: region (a code; a city or province code covers its subtree by prefix, as the alert
list does: :func:`govwatch.alerts.queries.region_prefix`), department, and the period
(``since``/``until`` dates). The open counts are the state now; the trend and the rankings
count alerts first seen in the period. The caller's scope is the alert list's
(:func:`govwatch.alerts.queries.scope_condition`). One reader: the page and its JSON twin
call :func:`dashboard_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from govwatch.alerts.queries import AlertFilter, alert_conditions
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.calendar.coverage import calendar_coverage
from govwatch.storage import Database
from govwatch.vocabulary import CLASS_NAMES, LEVEL_NAMES

TERMINAL = "('closed', 'dismissed')"


@dataclass(frozen=True)
class DashFilter:
    region: str
    department: str
    since: date
    until: date

    def where(self, principal: Principal) -> tuple[str, list[Any]]:
        """Conditions on ``alerts a``: the alert list's own filter for region and department,
        within the caller's scope (needs no join: no handling state is filtered)."""
        f = AlertFilter(department_code=self.department or None, region_code=self.region or None)
        parts, params, _ = alert_conditions(principal, f)
        return (" AND ".join(parts) or "1 = 1"), params


def parse_day(value: str | None, default: date) -> date:
    """A filter date from the query string; ``default`` when absent or not a date."""
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _figures_sql(where: str, dialect: str) -> str:
    """Every aggregate of the dashboard in one statement, as (part, k1, k2, k3, day, n) rows.

    Each part scans ``alerts`` (columnar, cheap); the workflow is read only where it decides:
    an active alert is open unless its workflow reached a terminal state (an anti-join against
    the terminal workflow rows; alert ids are never null), and closed today counts workflow
    rows closed today. This is the same as ``COALESCE(w.state, …)`` over a full join, without
    joining every alert. Top-10 rankings break ties by code, as before.
    """
    none = "CAST(NULL AS VARCHAR)"
    no_day = "CAST(NULL AS DATE)"
    in_period = "a.first_seen_at >= ? AND a.first_seen_at < ?"
    if dialect == "duckdb":  # DuckDB's NOT IN (hash anti-join) beats its NOT EXISTS here
        not_terminal = (
            "a.alert_id NOT IN (SELECT w.alert_id FROM alert_workflow w "
            f"WHERE w.state IN {TERMINAL})"
        )
    else:  # PostgreSQL plans NOT EXISTS as an anti-join; NOT IN may not fit work_mem
        not_terminal = (
            "NOT EXISTS (SELECT 1 FROM alert_workflow w WHERE w.alert_id = a.alert_id "
            f"AND w.state IN {TERMINAL})"
        )
    parts = [
        f"SELECT 'open' AS part, a.rule_class AS k1, a.rule_type AS k2, a.level AS k3, "
        f"{no_day} AS d, COUNT(*) AS n FROM alerts a WHERE {where} AND a.status = 'active' "
        f"AND {not_terminal} GROUP BY a.rule_class, a.rule_type, a.level",
        f"SELECT 'new_today', {none}, {none}, {none}, {no_day}, COUNT(*) FROM alerts a "
        f"WHERE {where} AND a.first_seen_at >= ? AND a.first_seen_at < ?",
        f"SELECT 'closed_today', {none}, {none}, {none}, {no_day}, COUNT(*) FROM alerts a "
        f"WHERE {where} AND ((a.cleared_at >= ? AND a.cleared_at < ?) OR a.alert_id IN "
        f"(SELECT w.alert_id FROM alert_workflow w WHERE w.state IN {TERMINAL} "
        "AND w.updated_at >= ? AND w.updated_at < ?))",
        f"SELECT 'new', {none}, {none}, {none}, CAST(a.first_seen_at AS DATE), COUNT(*) "
        f"FROM alerts a WHERE {where} AND {in_period} GROUP BY CAST(a.first_seen_at AS DATE)",
        f"SELECT 'closed', {none}, {none}, {none}, CAST(a.cleared_at AS DATE), COUNT(*) "
        f"FROM alerts a WHERE {where} AND a.cleared_at >= ? AND a.cleared_at < ? "
        "GROUP BY CAST(a.cleared_at AS DATE)",
    ]
    for column in ("department_code", "region_code"):
        parts.append(
            f"(SELECT 'red_{column}', a.{column}, {none}, {none}, {no_day}, COUNT(*) AS n "
            f"FROM alerts a WHERE {where} AND a.level = 'red' AND {in_period} "
            f"AND a.{column} IS NOT NULL GROUP BY a.{column} ORDER BY n DESC, a.{column} LIMIT 10)"
        )
    for column in ("department_code", "region_code"):
        parts.append(
            f"(SELECT 'overdue_{column}', a.{column}, {none}, {none}, {no_day}, "
            f"COUNT(DISTINCT a.case_id) AS n FROM alerts a WHERE {where} "
            f"AND a.rule = 'case_overdue' AND a.status = 'active' AND a.{column} IS NOT NULL "
            f"GROUP BY a.{column} ORDER BY n DESC, a.{column} LIMIT 10)"
        )
    return " UNION ALL ".join(parts)


def _figures(
    db: Database, principal: Principal, f: DashFilter, at: datetime
) -> list[tuple[Any, ...]]:
    where, params = f.where(principal)
    today = datetime.combine(at.date(), time())
    tomorrow = today + timedelta(days=1)
    start = datetime.combine(f.since, time())
    end = datetime.combine(f.until, time()) + timedelta(days=1)
    # The parameters of each part of _figures_sql, in its order.
    extra: list[list[Any]] = [
        [],  # open
        [today, tomorrow],  # new today
        [today, tomorrow, today, tomorrow],  # closed today
        [start, end],  # new by day
        [start, end],  # closed by day
        [start, end],  # red by department
        [start, end],  # red by region
        [],  # overdue by department
        [],  # overdue by region
    ]
    args = [value for part in extra for value in (*params, *part)]
    return db.query(_figures_sql(where, db.dialect), args)


def provisional_cases(db: Database, principal: Principal, f: DashFilter, at: datetime) -> int:
    """Open cases (in the filter and scope) whose stored deadlines rest on a year without a
    holiday notice, i.e. are provisional. Counted only while this year's or next year's notice
    is missing: otherwise no deadline of an open case can reach an uncovered year soon."""
    coverage = calendar_coverage(db, at.date())
    if coverage.this_year.state == "official" and coverage.next_year.state == "official":
        return 0
    where, params = f.where(principal)
    return int(
        db.scalar(
            "SELECT count(*) FROM case_deadlines d JOIN cases a ON a.case_id = d.case_id "
            f"WHERE d.provisional AND a.status = 'open' AND {where}",
            params,
        )
        or 0
    )


def dashboard_data(
    db: Database, principal: Principal, f: DashFilter, at: datetime, *, tables_known: bool = False
) -> dict[str, Any]:
    """Every figure of the dashboard, as plain data (the page and its JSON twin).

    ``tables_known``: the caller has checked that the alert tables exist.
    """
    if not tables_known and (
        not db.table_exists("alerts") or not db.table_exists("alert_workflow")
    ):
        return {"empty": True}
    by_class: dict[str, int] = {}
    by_level: dict[str, int] = {k: 0 for k in LEVEL_NAMES}
    by_type: dict[str, int] = {}
    totals = {"new_today": 0, "closed_today": 0}
    new_by_day: dict[date, int] = {}
    closed_by_day: dict[date, int] = {}
    ranks: dict[str, list[tuple[str, int]]] = {}
    rows = _figures(db, principal, f, at)
    for part, k1, k2, k3, day, n in sorted(
        rows, key=lambda r: (str(r[0]), str(r[1]), str(r[2]), str(r[3]))
    ):
        count = int(n or 0)
        if part == "open":
            by_class[str(k1)] = by_class.get(str(k1), 0) + count
            by_type[str(k2)] = by_type.get(str(k2), 0) + count
            by_level[str(k3)] = by_level.get(str(k3), 0) + count
        elif part in totals:
            totals[str(part)] = count
        elif part == "new":
            new_by_day[_as_date(day)] = count
        elif part == "closed":
            closed_by_day[_as_date(day)] = count
        else:
            ranks.setdefault(str(part), []).append((str(k1), count))
    days = [f.since + timedelta(days=i) for i in range((f.until - f.since).days + 1)]
    trend = [
        {"day": d.isoformat(), "new": new_by_day.get(d, 0), "closed": closed_by_day.get(d, 0)}
        for d in days
    ]
    depts, regions = department_names(db), region_names(db)

    def named(part: str, names: dict[str, str]) -> list[dict[str, Any]]:
        ranked = sorted(ranks.get(part, []), key=lambda r: (-r[1], r[0]))
        return [{"code": c, "name": names.get(c, c), "count": n} for c, n in ranked]

    return {
        "empty": False,
        "open_total": sum(by_level.values()),
        "open_by_level": by_level,
        "open_by_class": {CLASS_NAMES.get(k, k): v for k, v in by_class.items()},
        "open_by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "new_today": totals["new_today"],
        "closed_today": totals["closed_today"],
        "trend": trend,
        "red_departments": named("red_department_code", depts),
        "red_regions": named("red_region_code", regions),
        "overdue_departments": named("overdue_department_code", depts),
        "overdue_regions": named("overdue_region_code", regions),
        "provisional_cases": provisional_cases(db, principal, f, at),
    }


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
