"""The alert list: handling-state filters, paging, and callers resolved afresh on every request."""

from __future__ import annotations

from datetime import datetime, timedelta

from govwatch.auth.orgs import add_org
from govwatch.storage import Database
from tests.api.conftest import T0, World


def _alert(
    db: Database,
    alert_id: str,
    *,
    status: str = "active",
    state: str | None = None,
    org: str = "D1",
    minutes: int = 0,
    occurred: datetime | None = None,
) -> None:
    """An alert first seen on the day before T0; the anomaly arose then too unless
    ``occurred`` says when."""
    seen = T0 - timedelta(days=1) + timedelta(minutes=minutes)
    db.execute(
        "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level, status, "
        "message, evidence, catalog_version, item_code, region_code, department_code, org_code, "
        "occurred_at, first_seen_at, last_seen_at, level_changed_at, cleared_at) "
        "VALUES (?, ?, 'case_overdue', 'timeliness', '办理超期异常', '', 'red', ?, '办件已超期', "
        "'{}', 1, 'ITEM-D1', '330102', ?, ?, ?, ?, ?, ?, ?)",
        [
            alert_id,
            f"C-{alert_id}",
            status,
            org,
            org,
            occurred or seen,
            seen,
            seen,
            seen,
            seen if status == "cleared" else None,
        ],
    )
    if state is not None:
        db.execute(
            "INSERT INTO alert_workflow (alert_id, state, version, case_id, org_code, "
            "updated_at, updated_by) VALUES (?, ?, 1, ?, ?, ?, 'system')",
            [alert_id, state, f"C-{alert_id}", org, seen],
        )


def _ids(world: World, who: str, query: str) -> list[str]:
    answer = world.get(who, f"/api/v1/alerts{query}")
    assert answer.status_code == 200, answer.text
    return [a["alert_id"] for a in answer.json()["items"]]


def _states(world: World) -> None:
    _alert(world.db, "A-appealed", state="appealed", minutes=1)
    _alert(world.db, "B-no-workflow", minutes=2)
    _alert(world.db, "C-cleared-no-workflow", status="cleared", minutes=3)
    _alert(world.db, "D-closed", state="closed", minutes=4)
    _alert(world.db, "E-open", state="open", minutes=5)


def test_state_filter_uses_the_workflow_or_the_state_the_status_implies(world: World) -> None:
    _states(world)
    assert _ids(world, "supervisor", "?state=open") == ["E-open", "B-no-workflow"]
    assert _ids(world, "supervisor", "?state=closed") == ["D-closed", "C-cleared-no-workflow"]
    assert _ids(world, "supervisor", "?state=appealed") == ["A-appealed"]
    assert _ids(world, "supervisor", "?state=rectifying") == []
    rows = world.get("supervisor", "/api/v1/alerts").json()["items"]
    assert {r["alert_id"]: r["state"] for r in rows} == {
        "A-appealed": "appealed",
        "B-no-workflow": "open",
        "C-cleared-no-workflow": "closed",
        "D-closed": "closed",
        "E-open": "open",
    }


def test_pages_of_the_list_follow_one_order_without_gaps_or_repeats(world: World) -> None:
    _states(world)
    everything = _ids(world, "supervisor", "")
    assert everything == [
        "E-open",
        "D-closed",
        "C-cleared-no-workflow",
        "B-no-workflow",
        "A-appealed",
    ]
    paged = [
        alert_id
        for offset in (0, 2, 4)
        for alert_id in _ids(world, "supervisor", f"?limit=2&offset={offset}")
    ]
    assert paged == everything
    first = world.get("supervisor", "/api/v1/alerts?limit=2").json()
    assert first["next_offset"] == 2


def test_a_token_revoked_after_use_is_refused_on_the_next_request(world: World) -> None:
    from govwatch.auth.tokens import list_tokens, revoke_token

    assert world.get("dept1", "/api/v1/alerts").status_code == 200
    token = next(t for t in list_tokens(world.db) if t.name == "dept1")
    revoke_token(world.db, token.token_id, T0)
    assert world.get("dept1", "/api/v1/alerts").status_code == 401


def test_an_organisation_added_under_a_department_joins_its_scope_at_once(world: World) -> None:
    _alert(world.db, "F-sub-office", org="D1-1")
    assert _ids(world, "dept1", "") == []
    add_org(world.db, "D1-1", "上城区市场监管局直属所", "department", "D1", "330102", T0)
    assert _ids(world, "dept1", "") == ["F-sub-office"]
    assert _ids(world, "dept2", "") == []


def test_listing_at_a_later_moment_sees_alerts_raised_since(world: World) -> None:
    _alert(world.db, "G-first", minutes=1)
    assert _ids(world, "supervisor", "?since=2025-10-08T00:00:00%2B08:00") == ["G-first"]
    _alert(world.db, "H-second", minutes=2)
    later = datetime(2025, 10, 8, 10, 1, 30).isoformat() + "%2B08:00"
    assert _ids(world, "supervisor", f"?since={later}") == ["H-second"]
