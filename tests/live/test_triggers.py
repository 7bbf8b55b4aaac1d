"""Every trigger has one aftermath, whichever face pulls it (govwatch.live.pipeline).

For each trigger, each face that offers it (command line, page, API) must leave the same
alerts: a rule setting saved (the API's save re-evaluates too), a calendar loaded (only the
command line loads calendars: no page or API does), events imported from a file or posted,
a workflow decision (page or API: nothing follows, the findings stay). Both engines, time
frozen (GOVWATCH_NOW and the app's clock).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from govwatch.auth.tokens import create_token
from govwatch.cli import cli
from govwatch.events.cases import rebuild_cases
from govwatch.live.pipeline import cases_changed
from govwatch.storage import Database, connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.accounts import account
from tests.api.conftest import T0, events_for
from tests.api.conftest import seed as seed_api
from tests.deadlines.clock_builders import add_events, add_item, event
from tests.web.seed import AT, PASSWORD
from tests.web.seed import seed as seed_web

Alerts = set[tuple[str, str, str, str]]


def _active(url: str) -> Alerts:
    db = connect(url, migrate=False)
    try:
        rows = db.query("SELECT case_id, rule, key, level FROM alerts WHERE status = 'active'")
    finally:
        db.close()
    return {(str(c), str(r), str(k), str(lv)) for c, r, k, lv in rows}


def _seeded(url: str, tmp_path: Path, seed: Any) -> Any:
    db = connect(url)
    try:
        return seed(db, tmp_path)
    finally:
        db.close()


# -- a rule setting saved ------------------------------------------------------------------

# The web seed at AT: every A1 case (region 330102) has a step_overdue alert, as has C5 (B1,
# region 330203). Disabling step_overdue for region 330102 clears A1's and keeps C5's.
STEP_OVERDUE_A1 = {"C1", "C2", "C3"}


def _save_setting_by(face: str, url: str) -> None:
    if face == "cli":
        account(url, "tester")
        result = CliRunner().invoke(
            cli,
            ["rules", "set", "step_overdue", "--scope", "region:330102", "--disable",
             "--reason", "测试", "--as", "tester", "--at", AT.isoformat(), "--db", url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return
    app = create_app(url)
    app.dependency_overrides[clock] = lambda: AT
    with TestClient(app) as client:
        if face == "page":
            answer = client.post(
                "/login", data={"username": "web_admin", "password": PASSWORD},
                follow_redirects=False,
            )  # fmt: skip
            assert answer.status_code == 303, answer.text
            found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/rules").text)
            assert found is not None
            answer = client.post(
                "/rules/setting",
                data={"rule": "step_overdue", "scope": "region:330102", "enabled": "off",
                      "reason": "测试", "csrf_token": found.group(1)},
                follow_redirects=False,
            )  # fmt: skip
            assert answer.status_code == 303, answer.text
        else:
            db = connect(url, migrate=False)
            try:
                token, _ = create_token(db, "api_admin", "admin", [], "test", AT)
            finally:
                db.close()
            answer = client.put(
                "/api/v1/rules/settings",
                json={
                    "rule": "step_overdue",
                    "scope": "region:330102",
                    "enabled": False,
                    "reason": "测试",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("face", ["cli", "page", "api"])
def test_a_rule_setting_saved_from_any_face_leaves_the_same_alerts(
    face: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVWATCH_NOW", AT.isoformat())
    _seeded(db_url, tmp_path, seed_web)
    before = _active(db_url)
    assert {c for c, r, _, _ in before if r == "step_overdue"} == STEP_OVERDUE_A1 | {"C5"}

    _save_setting_by(face, db_url)

    after = _active(db_url)
    assert after == {a for a in before if not (a[1] == "step_overdue" and a[0] in STEP_OVERDUE_A1)}


# -- a calendar loaded ---------------------------------------------------------------------

# 2027 has no notice yet (provisional: weekends only). A case accepted on Mon 20 Sep 2027 with
# 20 working days is due 18 Oct; the notice (five rest days, one make-up Saturday) moves it to
# 22 Oct. On 20 Oct it was overdue; after the load it is not, but near its deadline.
NOTICE_2027 = (
    "date,type\n2027-10-01,holiday\n2027-10-04,holiday\n2027-10-05,holiday\n"
    "2027-10-06,holiday\n2027-10-07,holiday\n2027-10-09,workday\n"
)
AT_2027 = datetime(2027, 10, 20, 10, 0)


def _open_case_2027(db: Database, tmp_path: Path) -> None:
    add_item(db, "I20", promised=(20, "W"), legal=(20, "W"))
    add_events(db, [event("reach", "accept", "2027-09-20 10:00", item_code="I20")])
    rebuild_cases(db, None)
    cases_changed(db, None, at=AT_2027)


def test_a_calendar_load_reclocks_open_cases_and_clears_or_raises_their_alerts(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVWATCH_NOW", AT_2027.isoformat())
    _seeded(db_url, tmp_path, _open_case_2027)
    assert {r for c, r, _, _ in _active(db_url)} >= {"case_overdue"}

    notice = tmp_path / "notice.csv"
    notice.write_text(NOTICE_2027, encoding="utf-8")
    result = CliRunner().invoke(cli, ["calendar", "load", str(notice), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "其中 1 件期限改变" in result.stderr

    rules = {r for c, r, _, _ in _active(db_url)}
    assert "case_overdue" not in rules
    assert "near_deadline" in rules


# -- events imported -----------------------------------------------------------------------

EVENTS = [*events_for("F1", "ITEM-D1", "D1"), *events_for("F2", "ITEM-D2", "D2")]


def _import_by(face: str, url: str, tokens: dict[str, str], tmp_path: Path) -> None:
    if face == "cli":
        path = tmp_path / "events.jsonl"
        path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in EVENTS) + "\n")
        result = CliRunner().invoke(cli, ["import", "events", str(path), "--db", url])
        assert result.exit_code == 0, result.output
        return
    app = create_app(url)
    app.dependency_overrides[clock] = lambda: T0
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/events", json=EVENTS, headers={"Authorization": f"Bearer {tokens['admin']}"}
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Govwatch-Pending-Cases"] == "0"


@pytest.mark.parametrize("face", ["cli", "api"])
def test_events_imported_by_file_or_posted_leave_the_same_alerts(
    face: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVWATCH_NOW", T0.isoformat())
    tokens = _seeded(db_url, tmp_path, seed_api)

    _import_by(face, db_url, tokens, tmp_path)

    # accepted 1 Sep with 20 legal working days: both cases are past them on 9 Oct
    alerts = _active(db_url)
    assert {(c, r, lv) for c, r, _, lv in alerts if r == "case_overdue"} == {
        ("F1", "case_overdue", "red"),
        ("F2", "case_overdue", "red"),
    }
    assert alerts == EXPECTED_IMPORT_ALERTS


EXPECTED_IMPORT_ALERTS: Alerts = {
    ("F1", "case_overdue", "", "red"),
    ("F2", "case_overdue", "", "red"),
    ("F2", "materials_beyond_guide", "申请书", "yellow"),  # ITEM-D2 lists no materials
}


# -- a workflow decision -------------------------------------------------------------------

# Nothing follows a decision from live (it changes no event, clock or finding): whichever face
# the department explains a red alert from, the alert moves to 已说明 and the findings stay.


def _workflow_of(url: str) -> set[tuple[str, str]]:
    db = connect(url, migrate=False)
    try:
        rows = db.query("SELECT alert_id, state FROM alert_workflow")
    finally:
        db.close()
    return {(str(a), str(s)) for a, s in rows}


def _explain_by(face: str, url: str) -> str:
    app = create_app(url)
    app.dependency_overrides[clock] = lambda: AT
    with TestClient(app) as client:
        if face == "page":
            answer = client.post(
                "/login", data={"username": "web_department", "password": PASSWORD},
                follow_redirects=False,
            )  # fmt: skip
            assert answer.status_code == 303, answer.text
            alert = next(
                r for r in client.get("/alerts?format=json&level=red").json()["items"]
                if r["state"] == "open"
            )  # fmt: skip
            page = f"/alerts/{alert['alert_id']}"
            found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
            assert found is not None
            answer = client.post(
                f"{page}/act",
                data={"action": "explain", "reason": "系统故障已修复", "csrf_token": found.group(1)},
                follow_redirects=False,
            )  # fmt: skip
            assert answer.status_code in (200, 303), answer.text
        else:
            db = connect(url, migrate=False)
            try:
                token, _ = create_token(db, "api_dept", "department", ["D1"], "test", AT)
            finally:
                db.close()
            headers = {"Authorization": f"Bearer {token}"}
            alert = next(
                r for r in client.get("/api/v1/alerts?level=red", headers=headers).json()["items"]
                if r["state"] == "open"
            )  # fmt: skip
            answer = client.post(
                f"/api/v1/alerts/{alert['alert_id']}/actions",
                json={"action": "explain", "reason": "系统故障已修复"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
    return str(alert["alert_id"])


@pytest.mark.parametrize("face", ["page", "api"])
def test_a_workflow_decision_from_any_face_moves_the_alert_and_leaves_the_findings(
    face: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVWATCH_NOW", AT.isoformat())
    _seeded(db_url, tmp_path, seed_web)
    findings, workflow = _active(db_url), _workflow_of(db_url)

    alert_id = _explain_by(face, db_url)

    assert _active(db_url) == findings
    assert _workflow_of(db_url) == {(a, "explained" if a == alert_id else s) for a, s in workflow}
