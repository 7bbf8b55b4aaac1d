"""Failed logins are throttled per account and per address, and summarised in the ledger.

Before this change every failed login appended a ledger entry and nothing slowed a guesser
down (50 in 9 s). Now 5 failures within 5 minutes refuse further attempts, for 1, 2, 4 …
minutes (HTTP 429 with Retry-After on the API, a Chinese message saying when to retry), and the
ledger holds one entry per throttling episode and one per account and window with the counts.
On both engines, with the clock frozen (time-machine) and moved by hand.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import time_machine
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.auth.users import add_user, set_active
from govwatch.storage import Database, connect
from govwatch.timeutil import SHANGHAI
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app

T0 = datetime(2025, 10, 9, 10, 0)
W0 = datetime(2025, 10, 9, 10, 0, tzinfo=SHANGHAI)  # the real clock, frozen
PASSWORD = "correct horse battery"


@dataclass
class Site:
    app: FastAPI
    url: str

    def client(self, address: str = "10.0.0.1") -> TestClient:
        return TestClient(self.app, client=(address, 50000))

    def login(self, username: str, password: str, address: str = "10.0.0.1") -> httpx.Response:
        answer: httpx.Response = self.client(address).post(
            "/api/v1/login", json={"username": username, "password": password}
        )
        return answer

    def ledger(self, *kinds: str) -> list[tuple[str, str, dict[str, Any]]]:
        db = connect(self.url, migrate=False)
        try:
            rows = db.query("SELECT kind, ref, payload FROM ledger ORDER BY seq")
        finally:
            db.close()
        return [(k, r, orjson.loads(p)) for k, r, p in rows if not kinds or k in kinds]


@pytest.fixture
def site(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("GOVWATCH_LEDGER_DIR", str(tmp_path / "ledger-files"))
    db: Database = connect(db_url)
    try:
        add_user(db, "wang", PASSWORD, "supervisor", None, T0)
        add_user(db, "li", PASSWORD, "admin", None, T0)
        add_user(db, "zhao", PASSWORD, "supervisor", None, T0)
        set_active(db, "zhao", False, T0)
    finally:
        db.close()
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: T0
    with TestClient(app):
        yield Site(app, db_url)


def test_five_failures_refuse_the_account_for_a_growing_delay(site: Site) -> None:
    """From five different addresses: the account is what is throttled."""
    with time_machine.travel(W0, tick=False) as traveller:
        answers = [site.login("wang", "guess", f"10.0.1.{i}") for i in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
        assert answers[0].json()["detail"] == "用户名或密码不正确，或账户已停用"
        last = answers[-1]
        assert last.headers["Retry-After"] == "60"
        assert (
            "该账户已暂停登录：请在 2025-10-09 10:01:00 之后重试（约 1 分钟后）"
            in (last.json()["detail"])
        )
        # the right password from a fresh address is refused too, without being checked
        refused = site.login("wang", PASSWORD, "10.0.2.1")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert refused.json()["detail"].startswith("登录失败次数过多")
        traveller.shift(timedelta(seconds=59))
        assert site.login("wang", PASSWORD, "10.0.2.1").headers["Retry-After"] == "1"
        traveller.shift(timedelta(seconds=1))
        # the first episode is over: five more failures, and the delay doubles, then doubles
        for delay in (120, 240):
            answers = [site.login("wang", "guess", f"10.0.3.{i}") for i in range(5)]
            assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
            assert answers[-1].headers["Retry-After"] == str(delay)
            traveller.shift(timedelta(seconds=delay))
        assert site.login("wang", PASSWORD, "10.0.2.1").status_code == 200
        # a successful login forgets the strikes: the next episode is one minute again
        answers = [site.login("wang", "guess", f"10.0.4.{i}") for i in range(5)]
        assert answers[-1].status_code == 429 and answers[-1].headers["Retry-After"] == "60"


def test_one_address_guessing_many_accounts_is_refused_and_others_are_not(site: Site) -> None:
    with time_machine.travel(W0, tick=False):
        answers = [site.login(f"user{i}", "guess", "10.6.6.6") for i in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
        assert "该地址已暂停登录" in answers[-1].json()["detail"]
        assert site.login("wang", PASSWORD, "10.6.6.6").status_code == 429
        assert site.login("wang", PASSWORD, "10.7.7.7").status_code == 200


def test_failed_logins_are_summarised_in_the_ledger_not_one_entry_each(site: Site) -> None:
    with time_machine.travel(W0, tick=False) as traveller:
        statuses = []
        for _ in range(50):  # 50 attempts in 9.8 s, as the attack did
            statuses.append(site.login("wang", "guess", "10.9.9.9").status_code)
            traveller.shift(timedelta(milliseconds=200))
        assert statuses == [401] * 4 + [429] * 46
        throttled = site.ledger("auth.login_throttled")
        assert [(ref, p["scope"], p["failures"], p["strike"]) for _, ref, p in throttled] == [
            ("wang", "account", 5, 1),
            ("10.9.9.9", "address", 5, 1),
        ]
        assert throttled[0][2]["until"] == "2025-10-09T10:01:00"
        assert site.ledger("auth.login_failed") == []  # the window is still open
        # the window closes: the next login attempt, anyone's, summarises it in one entry
        traveller.shift(timedelta(minutes=5))
        assert site.login("li", PASSWORD, "10.1.1.1").status_code == 200
        summaries = site.ledger("auth.login_failed")
        assert len(summaries) == 1
        _, ref, payload = summaries[0]
        assert ref == "wang" and payload["addresses"] == ["10.9.9.9"]
        assert (payload["failures"], payload["refused"], payload["inactive"]) == (5, 45, 0)
        assert payload["failures"] + payload["refused"] == len(statuses)
        assert payload["first_at"] == "2025-10-09T10:00:00"
        kinds = [k for k, _, _ in site.ledger()]
        assert kinds.count("auth.login_failed") + kinds.count("auth.login_throttled") == 3


def test_a_success_closes_the_window_and_a_disabled_account_counts_as_failed(site: Site) -> None:
    with time_machine.travel(W0, tick=False):
        for _ in range(2):
            assert site.login("wang", "guess").status_code == 401
        assert site.login("zhao", PASSWORD).status_code == 401  # disabled
        assert site.login("wang", PASSWORD).status_code == 200
        entries = site.ledger("auth.login", "auth.login_failed")
        assert [(k, ref) for k, ref, _ in entries] == [
            ("auth.login_failed", "wang"),
            ("auth.login", site.ledger("auth.login")[0][1]),
        ]
        assert entries[0][2]["failures"] == 2
    with time_machine.travel(W0 + timedelta(minutes=6), tick=False):
        assert site.login("li", PASSWORD).status_code == 200
        zhao = [p for _, ref, p in site.ledger("auth.login_failed") if ref == "zhao"]
        assert [(p["failures"], p["inactive"]) for p in zhao] == [(1, 1)]


def test_the_login_page_says_when_to_retry(site: Site) -> None:
    with time_machine.travel(W0, tick=False):
        browser = site.client("10.3.3.3")
        pages = [
            browser.post(
                "/login", data={"username": "wang", "password": "guess"}, follow_redirects=False
            )
            for _ in range(5)
        ]
        assert [p.status_code for p in pages] == [401, 401, 401, 401, 429]
        assert "请在 2025-10-09 10:01:00 之后重试" in pages[-1].text
        assert pages[-1].headers["Retry-After"] == "60"
        again = browser.post(
            "/login", data={"username": "wang", "password": PASSWORD}, follow_redirects=False
        )
        assert again.status_code == 429 and "登录失败次数过多" in again.text


@pytest.fixture
def served(site: Site) -> Iterator[str]:
    """The same app over real HTTP (uvicorn on loopback), for requests that truly overlap."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        site.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_guesses_sent_in_parallel_cannot_get_past_the_limit(site: Site, served: str) -> None:
    """Attempts are counted when they start: of 12 overlapping guesses, 5 are checked."""

    def guess(_: int) -> int:
        with httpx.Client(base_url=served, timeout=60) as http:
            answer = http.post("/api/v1/login", json={"username": "wang", "password": "guess"})
            return answer.status_code

    with time_machine.travel(W0, tick=False), ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(guess, range(12)))
    assert sorted(statuses) == [401] * 4 + [429] * 8, statuses
