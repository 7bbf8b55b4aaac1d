"""One reader of a case: the case page's JSON twin is the API resource, for every role."""

from __future__ import annotations

from govwatch.alerts.seed import put_alert
from govwatch.alerts.sync import sync_workflow
from tests.api.conftest import T0, World, events_for


def test_case_page_twin_is_the_api_resource_masked_per_role(world: World) -> None:
    posted = world.post("source_all", "/api/v1/events", json=events_for("C-D1", "ITEM-D1"))
    assert posted.status_code == 200, posted.text
    # the answer comes once alerts are written; the round's deferred stored deadlines (the
    # resource's clock) follow: wait for them, or the two reads may straddle them
    assert world.client.app.state.pool.evaluator.idle(60)  # type: ignore[attr-defined]
    put_alert(world.db, "C-D1", "case_overdue", T0, department_code="D1", region_code="330102")
    sync_workflow(world.db, T0)
    for who in ("supervisor", "evaluator", "dept1"):
        api = world.get(who, "/api/v1/cases/C-D1")
        page = world.get(who, "/cases/C-D1?format=json")
        assert api.status_code == page.status_code == 200, (who, page.status_code)
        assert page.json() == api.json()
        body = api.json()
        assert set(body) == {"case", "clock", "events", "item", "alerts", "masked"}
        assert body["item"]["item_code"] == "ITEM-D1"
        assert [a["rule"] for a in body["alerts"]] == ["case_overdue"]
        assert isinstance(body["alerts"][0]["history"], list)
    assert world.get("dept2", "/cases/C-D1?format=json").status_code in (403, 404)


def test_an_unmasked_case_page_is_logged_like_the_api(world: World) -> None:
    world.post("source1", "/api/v1/events", json=events_for("C-D1", "ITEM-D1"))
    assert world.get("supervisor", "/cases/C-D1").status_code == 200
    assert world.get("evaluator", "/cases/C-D1").status_code == 200
    views = world.db.query("SELECT viewer, subject, route FROM pii_views ORDER BY viewed_at")
    assert [tuple(v) for v in views] == [("token:supervisor", "C-D1", "/cases/C-D1")]
