"""The dashboard's figures in one statement, on each engine, against hand-counted alerts."""

from __future__ import annotations

from datetime import date, timedelta

from govwatch.alerts.dashboard import DashFilter, dashboard_data
from govwatch.auth.principal import Principal
from tests.api.conftest import T0, World
from tests.api.test_alert_listing import _states

SUPERVISOR = Principal(name="sup", role="supervisor")
WEEK = DashFilter("", "", date(2025, 10, 2), date(2025, 10, 9))


def test_open_alerts_are_active_ones_whose_workflow_is_not_finished(world: World) -> None:
    _states(world)  # all red case_overdue alerts of D1 first seen 2025-10-08
    data = dashboard_data(world.db, SUPERVISOR, WEEK, T0)
    # appealed, no workflow row (active) and open are open; cleared and closed are not
    assert data["open_total"] == 3
    assert data["open_by_level"] == {"warning": 0, "yellow": 0, "red": 3}
    assert data["open_by_class"] == {"时效异常": 3}
    assert (data["new_today"], data["closed_today"]) == (0, 0)
    trend = {d["day"]: (d["new"], d["closed"]) for d in data["trend"]}
    assert len(trend) == 8 and trend["2025-10-08"] == (5, 1) and trend["2025-10-02"] == (0, 0)
    assert [(r["code"], r["count"]) for r in data["red_departments"]] == [("D1", 5)]
    assert [(r["code"], r["count"]) for r in data["red_regions"]] == [("330102", 5)]
    # overdue counts distinct cases with an active case_overdue alert, whatever the workflow
    assert [(r["code"], r["count"]) for r in data["overdue_departments"]] == [("D1", 4)]


def test_closed_today_counts_cleared_alerts_and_finished_workflows_once(world: World) -> None:
    _states(world)
    data = dashboard_data(world.db, SUPERVISOR, WEEK, T0 - timedelta(days=1))
    assert data["new_today"] == 5
    assert data["closed_today"] == 2  # C cleared by the engine, D closed in the workflow


def test_a_department_dashboard_counts_only_its_subtree(world: World) -> None:
    _states(world)
    other = Principal(name="d2", role="department", org_code="D2", scope=frozenset({"D2"}))
    data = dashboard_data(world.db, other, WEEK, T0)
    assert data["open_total"] == 0 and data["red_departments"] == []
    region = DashFilter("330100", "", WEEK.since, WEEK.until)  # a city covers its counties
    assert dashboard_data(world.db, SUPERVISOR, region, T0)["open_total"] == 3
