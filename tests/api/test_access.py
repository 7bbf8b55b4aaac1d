"""Who sees and does what over the API: scopes, masking, source tokens, sessions and CSRF."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govwatch.alerts.seed import put_alert
from govwatch.alerts.sync import sync_workflow
from tests.api.conftest import T0, World, events_for


def _post_events(world: World, who: str, records: Sequence[Mapping[str, object]]) -> Any:
    return world.post(who, "/api/v1/events", json=records)


def test_source_token_posts_for_its_organisation(world: World) -> None:
    answer = _post_events(world, "source1", events_for("C-D1", "ITEM-D1"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"applied": 2, "duplicates": 0, "quarantined": [], "held": 0}
    again = _post_events(world, "source1", events_for("C-D1", "ITEM-D1"))
    assert again.json() == {"applied": 0, "duplicates": 2, "quarantined": [], "held": 0}


def test_source_token_cannot_post_for_another_organisation(world: World) -> None:
    for records in (events_for("C-D2", "ITEM-D2"), events_for("C-X", "ITEM-D1", org="D2")):
        answer = _post_events(world, "source1", records)
        assert answer.status_code == 403
        assert "不在本令牌授权的机构范围内" in answer.json()["detail"]
    assert world.db.scalar("SELECT count(*) FROM events WHERE case_id IN ('C-D2', 'C-X')") == 0
    # a token for the province covers both departments
    assert _post_events(world, "source_all", events_for("C-D2", "ITEM-D2")).status_code == 200


def test_events_post_reports_quarantined_records_by_index(world: World) -> None:
    records = events_for("C-Q", "ITEM-D1")
    records.append({"case_id": "C-Q", "kind": "finish", "occurred_at": "不是时间"})
    answer = _post_events(world, "source1", records).json()
    assert answer["applied"] == 2
    assert [(q["index"], q["field"]) for q in answer["quarantined"]] == [(2, "occurred_at")]


def test_events_accept_json_lines(world: World) -> None:
    import orjson

    body = b"\n".join(orjson.dumps(r) for r in events_for("C-L", "ITEM-D1"))
    answer = world.client.post(
        "/api/v1/events",
        content=body,
        headers={**world.headers("source1"), "Content-Type": "application/x-ndjson"},
    )
    assert answer.json()["applied"] == 2


def test_only_source_systems_and_admins_post_events(world: World) -> None:
    assert _post_events(world, "dept1", events_for("C-1", "ITEM-D1")).status_code == 403
    assert world.client.post("/api/v1/events", json=[]).status_code == 401
    bad = world.client.post(
        "/api/v1/events", json=[], headers={"Authorization": "Bearer gw_not-a-token"}
    )
    assert bad.status_code == 401


def test_department_user_gets_403_on_another_departments_alerts_and_cases(world: World) -> None:
    _post_events(world, "source_all", events_for("C-D1", "ITEM-D1") + events_for("C-D2", "ITEM-D2"))
    mine = put_alert(
        world.db, "C-D1", "case_overdue", T0, department_code="D1", region_code="330102"
    )
    theirs = put_alert(
        world.db, "C-D2", "case_overdue", T0, department_code="D2", region_code="330102"
    )
    sync_workflow(world.db, T0)
    assert world.get("dept1", f"/api/v1/alerts/{mine}").status_code == 200
    assert world.get("dept1", f"/api/v1/alerts/{theirs}").status_code == 403
    assert world.get("dept1", "/api/v1/cases/C-D1").status_code == 200
    assert world.get("dept1", "/api/v1/cases/C-D2").status_code == 403
    act = world.post(
        "dept1",
        f"/api/v1/alerts/{theirs}/actions",
        json={"action": "appeal", "reason": "不是我们的"},
    )
    assert act.status_code == 403
    listed = world.get("dept1", "/api/v1/alerts").json()["items"]
    assert {a["alert_id"] for a in listed} == {mine}
    everything = world.get("supervisor", "/api/v1/alerts").json()["items"]
    assert {a["alert_id"] for a in everything} >= {mine, theirs}
    assert world.get("dept1", "/api/v1/alerts/" + "0" * 64).status_code == 404


def test_evaluator_never_sees_unmasked_personal_data(world: World) -> None:
    _post_events(world, "source1", events_for("C-D1", "ITEM-D1"))
    case = world.get("evaluator", "/api/v1/cases/C-D1").json()
    apply = next(e for e in case["events"] if e["kind"] == "apply")
    assert case["masked"] is True
    assert (apply["applicant_name"], apply["applicant_id"], apply["phone"]) == (
        "张**",
        "110***********1234",
        "138****5678",
    )
    text = str(case)
    assert "张三丰" not in text and "110101199003071234" not in text and "13812345678" not in text
    assert world.db.scalar("SELECT count(*) FROM pii_views") == 0


def test_unmasked_view_by_a_supervisor_is_logged(world: World) -> None:
    _post_events(world, "source1", events_for("C-D1", "ITEM-D1"))
    case = world.get("supervisor", "/api/v1/cases/C-D1").json()
    apply = next(e for e in case["events"] if e["kind"] == "apply")
    assert apply["applicant_name"] == "张三丰" and case["masked"] is False
    views = world.get("admin", "/api/v1/pii-views").json()
    assert [(v["viewer"], v["subject"], v["fields"]) for v in views] == [
        ("token:supervisor", "C-D1", "applicant_id,applicant_name,phone")
    ]


def test_public_sees_nothing_but_published_results(world: World) -> None:
    assert world.client.get("/api/v1/alerts").status_code == 401
    assert world.client.get("/api/v1/cases/C-D1").status_code == 401
    assert world.client.get("/api/v1/evaluations/R1").status_code == 404


def test_revoked_token_is_refused(world: World) -> None:
    from govwatch.auth.tokens import list_tokens, revoke_token

    token = next(t for t in list_tokens(world.db) if t.name == "dept1")
    revoke_token(world.db, token.token_id, T0)
    assert world.get("dept1", "/api/v1/alerts").status_code == 401


def test_session_login_needs_csrf_for_changes_and_is_ledgered(world: World) -> None:
    from govwatch.auth.users import add_user

    add_user(world.db, "li.si", "correct horse battery", "department", "D1", T0)
    client = world.client
    assert (
        client.post(
            "/api/v1/login", json={"username": "li.si", "password": "wrong password"}
        ).status_code
        == 401
    )
    login = client.post(
        "/api/v1/login", json={"username": "li.si", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    assert client.get("/api/v1/me").json()["role"] == "department"
    alert = put_alert(world.db, "C-D1", "case_overdue", T0, department_code="D1")
    sync_workflow(world.db, T0)
    body = {"action": "explain", "reason": "系统故障"}
    refused = client.post(f"/api/v1/alerts/{alert}/actions", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    done = client.post(f"/api/v1/alerts/{alert}/actions", json=body, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["workflow"]["state"] == "explained"
    kinds = [r[0] for r in world.db.query("SELECT kind FROM ledger ORDER BY seq")]
    assert kinds[:2] == ["auth.login_failed", "auth.login"]
    client.post("/api/v1/logout", headers={"X-CSRF-Token": csrf})
    assert client.get("/api/v1/me").json()["role"] == "public"
    client.cookies.clear()


def test_source_token_cannot_claim_another_departments_case_with_its_own_org_code(
    world: World,
) -> None:
    assert _post_events(world, "source_all", events_for("C-D2", "ITEM-D2")).status_code == 200
    sneaky = [
        {
            "event_id": "x1",
            "case_id": "C-D2",
            "kind": "finish",
            "org_code": "D1",
            "occurred_at": "2025-09-02T10:00:00+08:00",
            "result": "6",
        }
    ]
    assert _post_events(world, "source1", sneaky).status_code == 403


def test_source_token_posts_for_a_stored_case_that_names_no_organisation_yet(
    world: World,
) -> None:
    from govwatch.events.ingest import import_records

    # the case's first stored event (a file import) named neither an item nor an organisation
    early = [
        {
            "event_id": "early-1",
            "case_id": "C-EARLY",
            "kind": "supplement_received",
            "occurred_at": "2025-09-03T10:00:00+08:00",
        }
    ]
    assert import_records(world.db, early, source="file").applied == 1
    answer = _post_events(world, "source1", events_for("C-EARLY", "ITEM-D1"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] == 2
    # … while a case stored under another department stays refused
    assert _post_events(world, "source_all", events_for("C-D2", "ITEM-D2")).status_code == 200
    assert _post_events(world, "source1", events_for("C-D2", "ITEM-D1")).status_code == 403


def test_source_token_is_judged_on_the_organisation_the_import_will_store(world: World) -> None:
    # two keys name org_code: the importer stores the canonical one, so that one is checked
    records: list[dict[str, object]] = [
        {"ORG_CODE": "D1", **r, "org_code": "D2"} for r in events_for("C-TWO", "ITEM-D1")
    ]
    assert _post_events(world, "source1", records).status_code == 403
    assert world.db.scalar("SELECT count(*) FROM events WHERE case_id = 'C-TWO'") == 0
    agreeing = [{**r, "ORG_CODE": " D1 "} for r in events_for("C-TWO", "ITEM-D1", org="D1")]
    answer = _post_events(world, "source1", agreeing)
    assert answer.status_code == 200, answer.text
    assert world.db.scalar("SELECT org_code FROM cases WHERE case_id = 'C-TWO'") == "D1"
