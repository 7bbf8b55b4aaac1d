"""Notifications in-app and by webhook: once per transition, retried with backoff, signed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from govwatch.alerts.notify import (
    MAX_ATTEMPTS,
    SIGNATURE_HEADER,
    add_webhook,
    deliver_due,
    list_notifications,
    mark_read,
    sign,
)
from govwatch.alerts.seed import put_alert
from govwatch.alerts.sync import sync_workflow
from govwatch.alerts.workflow import act
from govwatch.auth.principal import Principal
from govwatch.storage import Database

T0 = datetime(2025, 10, 9, 10, 0)
SUP = Principal(name="sup", role="supervisor")
DEPT = Principal(name="dept", role="department", org_code="D1", scope=frozenset({"D1"}))
OTHER = Principal(name="other", role="department", org_code="D2", scope=frozenset({"D2"}))


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests name a receiver on 127.0.0.1, which only the operator's exception allows."""
    monkeypatch.setenv("GOVWATCH_WEBHOOK_ALLOW", "127.0.0.1")


def test_in_app_notifications_reach_the_other_side_only(db: Database) -> None:
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    sync_workflow(db, T0)
    act(db, DEPT, alert, "appeal", T0, reason="不认可")
    act(db, SUP, alert, "reject_appeal", T0, reason="不成立")
    assert [n["kind"] for n in list_notifications(db, SUP)] == ["alert.appeal"]
    mine = list_notifications(db, DEPT)
    assert [n["kind"] for n in mine] == ["alert.reject_appeal"]
    assert list_notifications(db, OTHER) == []
    mark_read(db, DEPT, mine[0]["notification_id"], T0)
    assert list_notifications(db, DEPT, unread_only=True) == []


def test_webhook_retries_with_backoff_and_delivers_once(db: Database) -> None:
    webhook_id, secret = add_webhook(db, "http://127.0.0.1:9/hook", "alert.*", None, "admin", T0)
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    sync_workflow(db, T0)
    act(db, DEPT, alert, "appeal", T0, reason="不认可")
    calls: list[tuple[bytes, dict[str, str]]] = []
    answers = [500, 200]

    def sender(url: str, body: bytes, headers: dict[str, str]) -> int:
        calls.append((body, headers))
        return answers.pop(0)

    assert deliver_due(db, T0, sender) == 0  # first attempt fails
    assert deliver_due(db, T0 + timedelta(seconds=10), sender) == 0  # not yet due again
    assert deliver_due(db, T0 + timedelta(seconds=31), sender) == 1
    assert deliver_due(db, T0 + timedelta(hours=1), sender) == 0  # delivered once
    assert len(calls) == 2
    body, headers = calls[-1]
    assert headers[SIGNATURE_HEADER] == sign(secret, body)
    assert headers["X-Govwatch-Event"] == "alert.appeal"
    row = db.query(
        "SELECT status, attempts FROM webhook_deliveries WHERE webhook_id = ?", [webhook_id]
    )
    assert row == [("delivered", 2)]


def test_webhook_gives_up_after_the_last_attempt(db: Database) -> None:
    add_webhook(db, "http://127.0.0.1:9/hook", "*", None, "admin", T0)
    alert = put_alert(db, "C1", "case_overdue", T0, department_code="D1")
    sync_workflow(db, T0)
    act(db, DEPT, alert, "explain", T0, reason="说明")

    def broken(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise ConnectionError("refused")

    moment = T0
    for _ in range(MAX_ATTEMPTS + 2):
        deliver_due(db, moment, broken)
        moment += timedelta(days=1)
    status, attempts, error = db.query(
        "SELECT status, attempts, last_error FROM webhook_deliveries"
    )[0]
    assert (status, attempts) == ("failed", MAX_ATTEMPTS)
    assert "refused" in error
