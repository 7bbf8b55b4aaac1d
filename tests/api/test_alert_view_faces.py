"""One reader of an alert: the alert page's JSON twin and the alert list's twin are the API
resources (GET /api/v1/alerts/{id}, GET /api/v1/alerts), for every role that reads alerts."""

from __future__ import annotations

from govwatch.alerts.seed import put_alert
from govwatch.alerts.sync import sync_workflow
from tests.api.conftest import T0, World, events_for


def _alert(world: World) -> str:
    world.post("source_all", "/api/v1/events", json=events_for("C-D1", "ITEM-D1"))
    assert world.client.app.state.pool.evaluator.idle(60)  # type: ignore[attr-defined]
    alert_id = put_alert(
        world.db, "C-D1", "case_overdue", T0, department_code="D1", region_code="330102"
    )
    sync_workflow(world.db, T0)
    return str(alert_id)


def test_alert_page_twin_is_the_api_resource(world: World) -> None:
    alert_id = _alert(world)
    for who in ("supervisor", "evaluator", "dept1"):
        api = world.get(who, f"/api/v1/alerts/{alert_id}")
        page = world.get(who, f"/alerts/{alert_id}?format=json")
        assert api.status_code == page.status_code == 200, (who, page.status_code)
        assert page.json() == api.json()
        body = api.json()
        assert body["state"] == body["workflow"]["state"] == "open"
        assert body["alert"]["rule"] == "case_overdue"
    assert world.get("dept2", f"/alerts/{alert_id}?format=json").status_code in (403, 404)


def test_alert_list_twin_is_the_api_resource(world: World) -> None:
    _alert(world)
    for who in ("supervisor", "dept1", "dept2"):
        api = world.get(who, "/api/v1/alerts?limit=50")
        page = world.get(who, "/alerts?format=json")
        assert api.status_code == page.status_code == 200, (who, page.status_code)
        assert page.json()["items"] == api.json()["items"]
        assert set(page.json()) == set(api.json())
    assert world.get("dept2", "/api/v1/alerts").json()["items"] == []
