"""Webhooks go only where they should and carry no personal data (issue 18 item 9).

Targets must be http(s) and public, checked when added and again when sent (a name whose DNS
answer changed is refused at delivery, DNS rebinding); the operator's GOVWATCH_WEBHOOK_ALLOW
opens chosen hosts or blocks, which these tests use for their local receiver (a real HTTP
server on loopback). Bodies are masked by meaning. Every test runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from govwatch.alerts.notify import (
    SIGNATURE_HEADER,
    add_webhook,
    deliver_due,
    list_webhooks,
    sign,
)
from govwatch.alerts.webhook_targets import ALLOW_ENV, WebhookTargetError, check_target
from govwatch.errors import InputError
from govwatch.notifications import Notice, notify
from govwatch.storage import Database

T0 = datetime(2025, 10, 9, 10, 0)


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent."""

    status: int = 200
    location: str = ""
    got: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.got.append((self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def notice(ref: str = "A1", message: str = "办件 C1 的告警：申诉") -> Notice:
    return Notice(
        f"alert:{ref}:1", "alert.appeal", ref, message, "supervisor", None, {"alert_id": ref}
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/hook", "回环地址 127.0.0.1"),
        ("http://localhost:8000/hook", "回环地址"),
        ("http://10.1.2.3/hook", "内网地址 10.1.2.3"),
        ("http://172.16.5.4/hook", "内网地址 172.16.5.4"),
        ("http://192.168.1.1/hook", "内网地址 192.168.1.1"),
        ("http://169.254.169.254/latest/meta-data/", "链路本地地址 169.254.169.254"),
        ("http://[::1]:8080/hook", "回环地址 ::1"),
        ("http://[fd00::5]/hook", "内网地址 fd00::5"),
        ("http://[fe80::1]/hook", "链路本地地址 fe80::1"),
        ("http://224.0.0.251/hook", "组播地址 224.0.0.251"),
        ("http://[ff02::1]/hook", "组播地址 ff02::1"),
        ("http://0.0.0.0:8000/hook", "未指定地址 0.0.0.0"),
        ("http://[::]/hook", "未指定地址 ::"),
        ("http://[::ffff:10.0.0.5]/hook", "内网地址 ::ffff:a00:5"),  # judged as 10.0.0.5
        ("http://100.64.0.1/hook", "非公网地址 100.64.0.1"),
        ("http://2130706433/hook", "回环地址"),  # 127.0.0.1 spelt as one number
        ("ftp://example.org/hook", "应以 http:// 或 https:// 开头"),
        ("file:///etc/passwd", "应以 http:// 或 https:// 开头"),
        ("gopher://example.org:70/", "应以 http:// 或 https:// 开头"),
        ("http:///hook", "缺少主机名"),
    ],
)
def test_a_webhook_to_a_private_or_odd_target_is_refused(
    db: Database, url: str, why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    with pytest.raises(InputError) as refused:
        add_webhook(db, url, "*", None, "admin", T0)
    assert why in str(refused.value)
    assert f"“{url}”" in str(refused.value)
    assert list_webhooks(db) == []


def test_a_public_address_is_accepted(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    webhook_id, _ = add_webhook(db, "https://93.184.216.34/hook", "*", None, "admin", T0)
    assert [w["webhook_id"] for w in list_webhooks(db)] == [webhook_id]


def test_the_operator_allows_a_local_receiver_which_gets_the_signed_body(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "10.20.0.0/16, 127.0.0.1")
    _, secret = add_webhook(
        db, f"http://127.0.0.1:{receiver.port}/hook?x=1", "*", None, "admin", T0
    )
    notify(db, [notice()], T0)
    assert deliver_due(db, T0) == 1
    ((path, headers, body),) = receiver.got
    assert path == "/hook?x=1"
    assert headers[SIGNATURE_HEADER] == sign(secret, body)
    assert headers["Host"] == f"127.0.0.1:{receiver.port}"
    assert orjson.loads(body)["kind"] == "alert.appeal"


def test_an_allowed_name_is_posted_to_the_address_checked_with_its_host_header(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "localhost")
    add_webhook(db, f"http://localhost:{receiver.port}/hook", "*", None, "admin", T0)
    target = check_target(f"http://localhost:{receiver.port}/hook")
    assert "127.0.0.1" in target.addresses or "::1" in target.addresses
    if target.addresses[0] != "127.0.0.1":
        pytest.skip("localhost resolves to ::1 first here, where the receiver does not listen")
    notify(db, [notice()], T0)
    assert deliver_due(db, T0) == 1
    assert receiver.got[0][1]["Host"] == f"localhost:{receiver.port}"


def test_a_name_that_now_resolves_to_loopback_is_refused_at_delivery(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the webhook was accepted while its name pointed to a public address
    (here: stored as it would have been); at delivery the name answers 127.0.0.1."""
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    url = f"http://localhost:{receiver.port}/hook"
    db.execute(
        "INSERT INTO webhooks (webhook_id, url, secret, org_code, kinds, active, created_at, "
        "created_by) VALUES ('W1', ?, 's', NULL, '*', TRUE, ?, 'admin')",
        [url, T0],
    )
    notify(db, [notice()], T0)
    assert deliver_due(db, T0) == 0
    assert receiver.got == []
    ((status, attempts, error),) = db.query(
        "SELECT status, attempts, last_error FROM webhook_deliveries"
    )
    assert (status, attempts) == ("failed", 1)  # refused at once, never tried again
    assert "回环地址" in error and url in error
    assert deliver_due(db, T0.replace(day=20)) == 0
    assert receiver.got == []


def test_an_exception_withdrawn_by_the_operator_stops_deliveries(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1/32")
    add_webhook(db, f"http://127.0.0.1:{receiver.port}/hook", "*", None, "admin", T0)
    monkeypatch.delenv(ALLOW_ENV)
    notify(db, [notice()], T0)
    assert deliver_due(db, T0) == 0
    assert receiver.got == []


def test_a_redirect_is_not_followed(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1")
    receiver.status = 302
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    add_webhook(db, f"http://127.0.0.1:{receiver.port}/hook", "*", None, "admin", T0)
    notify(db, [notice()], T0)
    assert deliver_due(db, T0) == 0
    assert len(receiver.got) == 1
    ((status, error),) = db.query("SELECT status, last_error FROM webhook_deliveries")
    assert (status, error) == ("pending", "HTTP 302")  # a failed attempt, retried later


def test_a_malformed_exception_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_ENV, "10.0.0.0/33")
    with pytest.raises(WebhookTargetError, match=f"{ALLOW_ENV} 中的“10.0.0.0/33”"):
        check_target("https://93.184.216.34/hook")


def test_webhook_bodies_carry_no_personal_data_while_in_app_notices_keep_theirs(
    db: Database, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.1")
    add_webhook(db, f"http://127.0.0.1:{receiver.port}/hook", "*", None, "admin", T0)
    message = "办件 C1：申请人 13812345678，证件 110101199003071234，请核查"
    payload = {
        "alert_id": "A1",
        "case_id": "C1",
        "applicant_name": "张三丰",
        "Phone": "13812345678",
        "extra": {"联系人": {"姓名": "李四", "证件号码": "11010119900307123X"}},
        "evidence": [{"APPLICANT_ID": "110101199003071234"}],
        "correction": {"field": "applicant_name", "old": "张三丰", "new": "张三"},
    }
    notify(
        db, [Notice("alert:A1:1", "alert.appeal", "A1", message, "supervisor", None, payload)], T0
    )
    stored = db.query("SELECT payload FROM webhook_deliveries")[0][0]
    assert deliver_due(db, T0) == 1
    sent = receiver.got[0][2].decode()
    for text in (stored, sent):
        for personal in (
            "张三丰",
            "李四",
            "13812345678",
            "110101199003071234",
            "11010119900307123X",
        ):
            assert personal not in text, (personal, text)
    body = orjson.loads(sent)
    assert body["message"] == "办件 C1：申请人 138****5678，证件 110***********1234，请核查"
    assert body["data"]["applicant_name"] == "张**"
    assert body["data"]["case_id"] == "C1" and body["data"]["alert_id"] == "A1"
    # the in-app notice is read by entitled roles only: unmasked
    assert db.query("SELECT message FROM notifications")[0][0] == message
