"""Dashboard figures (首页): what is open now, what arose today, the trend, where it is worst,
how often cases run late, and how supervision orders stand.

Filters: region (a code; a city or province code covers its subtree by prefix, as the alert
list does: :func:`govwatch.alerts.queries.region_prefix`), department, and the period
(``since``/``until`` dates, both included). The caller's scope is the alert list's
(:func:`govwatch.alerts.queries.scope_condition`). One reader: the page and its JSON twin call
:func:`dashboard_data`.

Which moment counts (every figure's drill-down list filters on the same one):

- open alerts (by class, type, level): the state now: active, and handling not finished;
- 今日新增 and today's new red and yellow cards: alerts whose anomaly *arose* today
  (``occurred_at``), whatever their state now; the daily trend's 新增 likewise, so imported
  history shows when things went wrong, not when govwatch first looked;
- 今日办结: alerts cleared today or whose handling was closed or dismissed today; the trend's
  消除: alerts whose condition cleared that day;
- red-card rankings: red alerts that arose in the period; overdue rankings: cases with an
  active ``case_overdue`` alert (one per case), now;
- rates by department, region and day. 超期率 = 超期 ÷ 办件 over the cases *applied* in the
  period (by day of application), where 超期 = the case has an active ``case_overdue`` alert
  (open past its deadline, or finished late); 按时办结率 = 按时办结 ÷ 办结 over the cases
  *finished* in the period (by day of finishing), where 按时办结 = finished and not 超期, as
  the evaluation's ``cases.on_time_rate`` counts (docs/metrics.md). The case list filters by
  the same applied and finished dates;
- 督办 status: orders now: waiting for a reply (of which overdue), answered, closed (the
  department filter and the scope apply; orders go to departments, so a region does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from govwatch.alerts.queries import (
    TERMINAL_STATES,
    AlertFilter,
    alert_conditions,
    not_terminal,
    place_conditions,
)
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.calendar.coverage import calendar_coverage
from govwatch.storage import Database
from govwatch.vocabulary import ALERT_CLASS_NAMES, LEVEL_NAMES

TERMINAL = "(" + ", ".join(f"'{s}'" for s in TERMINAL_STATES) + ")"
# The cases with an active case_overdue alert (at most one per case: its key is empty).
OVERDUE_CASES = "SELECT case_id FROM alerts WHERE rule = 'case_overdue' AND status = 'active'"
ORDER_STATES = ("issued", "replied", "overdue", "closed")
# Who sees the province's figures beside their own: the whole database, no filter.
PROVINCE = Principal(name="province", role="supervisor")


@dataclass(frozen=True)
class DashFilter:
    region: str
    department: str
    since: date
    until: date

    def alert_filter(self) -> AlertFilter:
        return AlertFilter(department_code=self.department or None, region_code=self.region or None)

    def where(self, principal: Principal, dialect: str = "duckdb") -> tuple[str, list[Any]]:
        """Conditions on ``alerts a``: the alert list's own filter for region and department,
        within the caller's scope (needs no join: no handling state is filtered)."""
        parts, params, _ = alert_conditions(principal, self.alert_filter(), dialect)
        return (" AND ".join(parts) or "1 = 1"), params

    def case_where(self, principal: Principal) -> tuple[str, list[Any]]:
        """The same place filter and scope on ``cases c``."""
        parts, params = place_conditions(
            principal, "c", department_code=self.department or None, region_code=self.region or None
        )
        return (" AND ".join(parts) or "1 = 1"), params

    @property
    def unfiltered(self) -> bool:
        return not self.region and not self.department


def _now_sql(where: str, dialect: str) -> str:
    """The alert aggregates of the dashboard that do not depend on the period (the state now,
    today), in one statement, as (part, k1, k2, k3, day, n).

    Each part scans ``alerts`` (columnar, cheap); the workflow is read only where it decides:
    an active alert is open unless its workflow reached a terminal state (an anti-join against
    the terminal workflow rows), and closed today counts workflow rows closed today. This is
    the same as ``COALESCE(w.state, …)`` over a full join, without joining every alert.
    Top-10 rankings break ties by code. A case has at most one ``case_overdue`` alert (its
    key is empty), so counting those alerts counts overdue cases, as their list shows them.
    """
    none = "CAST(NULL AS VARCHAR)"
    no_day = "CAST(NULL AS DATE)"
    parts = [
        f"SELECT 'open' AS part, a.rule_class AS k1, a.rule_type AS k2, a.level AS k3, "
        f"{no_day} AS d, COUNT(*) AS n FROM alerts a WHERE {where} AND a.status = 'active' "
        f"AND {not_terminal(dialect)} GROUP BY a.rule_class, a.rule_type, a.level",
        f"SELECT 'new_today', a.level, {none}, {none}, {no_day}, COUNT(*) FROM alerts a "
        f"WHERE {where} AND a.occurred_at >= ? AND a.occurred_at < ? GROUP BY a.level",
        f"SELECT 'closed_today', {none}, {none}, {none}, {no_day}, COUNT(*) FROM alerts a "
        f"WHERE {where} AND ((a.cleared_at >= ? AND a.cleared_at < ?) OR a.alert_id IN "
        f"(SELECT w.alert_id FROM alert_workflow w WHERE w.state IN {TERMINAL} "
        "AND w.updated_at >= ? AND w.updated_at < ?))",
    ]
    for column in ("department_code", "region_code"):
        parts.append(
            f"(SELECT 'overdue_{column}', a.{column}, {none}, {none}, {no_day}, "
            f"COUNT(*) AS n FROM alerts a WHERE {where} "
            f"AND a.rule = 'case_overdue' AND a.status = 'active' AND a.{column} IS NOT NULL "
            f"GROUP BY a.{column} ORDER BY n DESC, a.{column} LIMIT 10)"
        )
    return " UNION ALL ".join(parts)


def _period_sql(where: str) -> str:
    """The alert aggregates of the period (new and cleared by day, red-card rankings), in one
    statement shaped as :func:`_now_sql`'s: each reads only the alerts of the period."""
    none = "CAST(NULL AS VARCHAR)"
    no_day = "CAST(NULL AS DATE)"
    in_period = "a.occurred_at >= ? AND a.occurred_at < ?"
    parts = [
        f"SELECT 'new' AS part, {none} AS k1, {none} AS k2, {none} AS k3, "
        f"CAST(a.occurred_at AS DATE) AS d, COUNT(*) AS n "
        f"FROM alerts a WHERE {where} AND {in_period} GROUP BY CAST(a.occurred_at AS DATE)",
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
    return " UNION ALL ".join(parts)


def dashboard_now(
    db: Database, principal: Principal, f: DashFilter, at: datetime
) -> dict[str, Any]:
    """What the dashboard shows of the state now and of today, whatever the period: the
    alert figures of :func:`_now_sql`, the orders and the provisional cases. The same for
    every period of one filter and scope on one day (the web app keeps it a few seconds)."""
    where, params = f.where(principal, db.dialect)
    today = datetime.combine(at.date(), time())
    tomorrow = today + timedelta(days=1)
    # The parameters of each part of _now_sql, in its order.
    extra: list[list[Any]] = [
        [],  # open
        [today, tomorrow],  # new today, by level
        [today, tomorrow, today, tomorrow],  # closed today
        [],  # overdue by department
        [],  # overdue by region
    ]
    args = [value for part in extra for value in (*params, *part)]
    return {
        "rows": db.query(_now_sql(where, db.dialect), args),
        "orders": _order_counts(db, principal, f),
        "provisional_cases": provisional_cases(db, principal, f, at),
    }


def _period_figures(db: Database, principal: Principal, f: DashFilter) -> list[tuple[Any, ...]]:
    where, params = f.where(principal, db.dialect)
    start = datetime.combine(f.since, time())
    end = datetime.combine(f.until, time()) + timedelta(days=1)
    args = [value for _ in range(4) for value in (*params, start, end)]
    return db.query(_period_sql(where), args)


def _rates_sql(where: str) -> str:
    """The two cohorts' counts by department, region and day, in one statement.

    ``applied``: the cases applied in the period, by day of application: how many, how many
    overdue. ``finished``: the cases finished in the period, by day of finishing: how many,
    how many on time (not overdue). One group per (department, region, day): a few hundred
    rows, summed up by department, by region, by day and in all by :func:`_rates`. The
    overdue cases are one hash join against the active ``case_overdue`` alerts.
    """
    overdue = f"LEFT JOIN ({OVERDUE_CASES} GROUP BY case_id) o ON o.case_id = c.case_id"
    parts = []
    for part, column, counted in (
        ("applied", "c.applied_at", "o.case_id IS NOT NULL"),
        ("finished", "c.finished_at", "o.case_id IS NULL"),
    ):
        day = f"CAST({column} AS DATE)"
        parts.append(
            f"SELECT '{part}' AS part, c.department_code, c.region_code, {day} AS d, "
            f"COUNT(*) AS n, SUM(CASE WHEN {counted} THEN 1 ELSE 0 END) AS k "
            f"FROM cases c {overdue} WHERE {column} >= ? AND {column} < ? AND {where} "
            f"GROUP BY c.department_code, c.region_code, {day}"
        )
    return " UNION ALL ".join(parts)


def rate(part: int, whole: int) -> float | None:
    """part ÷ whole as a fraction (None when there is nothing to divide by)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Cohort:
    """The counts of one group of cases and their two rates: of the cases applied in the
    period, how many are overdue; of those finished in the period, how many on time."""

    cases: int
    overdue: int
    finished: int
    ontime: int

    def __add__(self, other: Cohort) -> Cohort:
        return Cohort(
            self.cases + other.cases,
            self.overdue + other.overdue,
            self.finished + other.finished,
            self.ontime + other.ontime,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "finished": self.finished,
            "overdue": self.overdue,
            "ontime": self.ontime,
            "overdue_rate": rate(self.overdue, self.cases),
            "ontime_rate": rate(self.ontime, self.finished),
        }


NO_CASES = Cohort(0, 0, 0, 0)


def _rates(db: Database, principal: Principal, f: DashFilter) -> dict[str, Any]:
    where, params = f.case_where(principal)
    start = datetime.combine(f.since, time())
    end = datetime.combine(f.until, time()) + timedelta(days=1)
    by_dept: dict[str, Cohort] = {}
    by_region: dict[str, Cohort] = {}
    by_day: dict[date, Cohort] = {}
    total = NO_CASES
    args = [start, end, *params, start, end, *params]
    for part, dept, region, day, n, k in db.query(_rates_sql(where), args):
        counts = (int(n or 0), int(k or 0))
        group = Cohort(*counts, 0, 0) if part == "applied" else Cohort(0, 0, *counts)
        total += group
        if dept is not None:
            by_dept[str(dept)] = by_dept.get(str(dept), NO_CASES) + group
        if region is not None:
            by_region[str(region)] = by_region.get(str(region), NO_CASES) + group
        by_day[_as_date(day)] = by_day.get(_as_date(day), NO_CASES) + group
    return {"total": total, "departments": by_dept, "regions": by_region, "days": by_day}


def _order_counts(db: Database, principal: Principal, f: DashFilter) -> dict[str, int]:
    """Supervision orders in the caller's scope (and the filter's department) now: waiting
    for a reply (issued or overdue, as the desk's 督办跟踪 lists them), of which overdue,
    answered and waiting for review, and closed. Orders go to departments: a region filter
    does not narrow them."""
    where: list[str] = []
    params: list[Any] = []
    if principal.scope is not None:
        where.append("o.org_code = ANY(?)")
        params.append(sorted(principal.scope | principal.regions) or ["-"])
    if f.department:
        where.append("o.org_code = ?")
        params.append(f.department)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    by_state = dict.fromkeys(ORDER_STATES, 0)
    for state, n in db.query(
        f"SELECT o.state, COUNT(*) FROM orders o{clause} GROUP BY o.state", params
    ):
        by_state[str(state)] = int(n or 0)
    return {
        "follow": by_state["issued"] + by_state["overdue"],
        "overdue": by_state["overdue"],
        "replied": by_state["replied"],
        "closed": by_state["closed"],
    }


def provisional_cases(db: Database, principal: Principal, f: DashFilter, at: datetime) -> int:
    """Open cases (in the filter and scope) whose stored deadlines rest on a year without a
    holiday notice, i.e. are provisional. Counted only while this year's or next year's notice
    is missing: otherwise no deadline of an open case can reach an uncovered year soon."""
    coverage = calendar_coverage(db, at.date())
    if coverage.this_year.state == "official" and coverage.next_year.state == "official":
        return 0
    where, params = f.where(principal, db.dialect)
    return int(
        db.scalar(
            "SELECT count(*) FROM case_deadlines d JOIN cases a ON a.case_id = d.case_id "
            f"WHERE d.provisional AND a.status = 'open' AND {where}",
            params,
        )
        or 0
    )


def dashboard_data(
    db: Database,
    principal: Principal,
    f: DashFilter,
    at: datetime,
    *,
    tables_known: bool = False,
    now: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every figure of the dashboard, as plain data (the page and its JSON twin).

    ``tables_known``: the caller has checked that the alert tables exist; ``now``: the
    figures of :func:`dashboard_now` for this principal, filter and day, already read.
    """
    if not tables_known and (
        not db.table_exists("alerts") or not db.table_exists("alert_workflow")
    ):
        return {"empty": True}
    by_class: dict[str, int] = {}
    by_level: dict[str, int] = dict.fromkeys(LEVEL_NAMES, 0)
    by_type: dict[str, int] = {}
    new_today: dict[str, int] = dict.fromkeys(LEVEL_NAMES, 0)
    closed_today = 0
    new_by_day: dict[date, int] = {}
    closed_by_day: dict[date, int] = {}
    ranks: dict[str, list[tuple[str, int]]] = {}
    if now is None:
        now = dashboard_now(db, principal, f, at)
    rows = [*now["rows"], *_period_figures(db, principal, f)]
    for part, k1, k2, k3, day, n in sorted(
        rows, key=lambda r: (str(r[0]), str(r[1]), str(r[2]), str(r[3]))
    ):
        count = int(n or 0)
        if part == "open":
            by_class[str(k1)] = by_class.get(str(k1), 0) + count
            by_type[str(k2)] = by_type.get(str(k2), 0) + count
            by_level[str(k3)] = by_level.get(str(k3), 0) + count
        elif part == "new_today":
            new_today[str(k1)] = new_today.get(str(k1), 0) + count
        elif part == "closed_today":
            closed_today = count
        elif part == "new":
            new_by_day[_as_date(day)] = count
        elif part == "closed":
            closed_by_day[_as_date(day)] = count
        else:
            ranks.setdefault(str(part), []).append((str(k1), count))
    rates = _rates(db, principal, f)
    days = [f.since + timedelta(days=i) for i in range((f.until - f.since).days + 1)]
    trend = [
        {"day": d.isoformat(), "new": new_by_day.get(d, 0), "closed": closed_by_day.get(d, 0)}
        for d in days
    ]
    rate_trend = [{"day": d.isoformat(), **rates["days"].get(d, NO_CASES).as_dict()} for d in days]
    depts, regions = department_names(db), region_names(db)

    def named(part: str, names: dict[str, str]) -> list[dict[str, Any]]:
        ranked = sorted(ranks.get(part, []), key=lambda r: (-r[1], r[0]))
        return [{"code": c, "name": names.get(c, c), "count": n} for c, n in ranked]

    def cohorts(groups: dict[str, Cohort], names: dict[str, str]) -> list[dict[str, Any]]:
        rows = [
            {"code": code, "name": names.get(code, code), **cohort.as_dict()}
            for code, cohort in groups.items()
        ]
        # worst first: the highest overdue rate, then the most cases, then by code
        return sorted(rows, key=lambda r: (-(r["overdue_rate"] or 0), -r["cases"], r["code"]))

    return {
        "empty": False,
        "open_total": sum(by_level.values()),
        "open_by_level": by_level,
        "open_by_class": {ALERT_CLASS_NAMES.get(k, k): v for k, v in by_class.items()},
        "open_by_class_code": dict(sorted(by_class.items())),
        "open_by_type": dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))),
        "new_today": sum(new_today.values()),
        "new_today_by_level": new_today,
        "closed_today": closed_today,
        "trend": trend,
        "red_departments": named("red_department_code", depts),
        "red_regions": named("red_region_code", regions),
        "overdue_departments": named("overdue_department_code", depts),
        "overdue_regions": named("overdue_region_code", regions),
        "cases": rates["total"].as_dict(),
        "rates_by_department": cohorts(rates["departments"], depts),
        "rates_by_region": cohorts(rates["regions"], regions),
        "rate_trend": rate_trend,
        "orders": now["orders"],
        "provisional_cases": now["provisional_cases"],
    }


def headline(data: dict[str, Any]) -> dict[str, Any]:
    """The few figures a department's dashboard shows beside the province's."""
    return {
        "open_total": data["open_total"],
        "open_red": data["open_by_level"]["red"],
        "open_yellow": data["open_by_level"]["yellow"],
        "new_today_red": data["new_today_by_level"]["red"],
        "new_today_yellow": data["new_today_by_level"]["yellow"],
        "cases": data["cases"]["cases"],
        "overdue": data["cases"]["overdue"],
        "overdue_rate": data["cases"]["overdue_rate"],
        "finished": data["cases"]["finished"],
        "ontime": data["cases"]["ontime"],
        "ontime_rate": data["cases"]["ontime_rate"],
    }


def province_headline(db: Database, f: DashFilter, at: datetime) -> dict[str, Any]:
    """The whole province's headline figures for the same period (no place filter, no scope):
    what a department's figures are compared with. Only what :func:`headline` shows is
    computed (two short statements), the same way :func:`dashboard_data` computes it."""
    whole = DashFilter("", "", f.since, f.until)
    where, params = whole.where(PROVINCE, db.dialect)
    today = datetime.combine(at.date(), time())
    rows = db.query(
        f"SELECT 'open', a.level, COUNT(*) FROM alerts a WHERE {where} AND a.status = 'active' "
        f"AND {not_terminal(db.dialect)} GROUP BY a.level UNION ALL "
        f"SELECT 'today', a.level, COUNT(*) FROM alerts a WHERE {where} "
        "AND a.occurred_at >= ? AND a.occurred_at < ? GROUP BY a.level",
        [*params, *params, today, today + timedelta(days=1)],
    )
    open_by_level = dict.fromkeys(LEVEL_NAMES, 0)
    today_by_level = dict.fromkeys(LEVEL_NAMES, 0)
    for part, level, n in rows:
        (open_by_level if part == "open" else today_by_level)[str(level)] = int(n or 0)
    cases = _rates(db, PROVINCE, whole)["total"]
    return headline(
        {
            "open_total": sum(open_by_level.values()),
            "open_by_level": open_by_level,
            "new_today_by_level": today_by_level,
            "cases": cases.as_dict(),
        }
    )


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
