"""API tokens may expire (issue 18 item 9): ``govwatch tokens create … --expires DATE`` or
``--days N``; from that moment the token is refused with 401 and a Chinese message, even while
the web app holds its principal in a cache; ``tokens list`` shows the expiry. Both engines."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from govwatch.auth.errors import AuthenticationError
from govwatch.auth.tokens import create_token, expiry, list_tokens, resolve_token, token_use
from govwatch.errors import InputError
from govwatch.storage import Database
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app

T0 = datetime(2026, 12, 6, 9, 30)
END = datetime(2027, 1, 1)


def test_expiry_reads_a_date_as_its_first_moment_and_days_from_issue() -> None:
    assert expiry(T0) is None
    assert expiry(T0, expires=END) == END
    assert expiry(T0, days=90) == T0 + timedelta(days=90)
    with pytest.raises(InputError, match="只能用 --expires 或 --days 之一"):
        expiry(T0, expires=END, days=90)
    with pytest.raises(InputError, match="1–3650"):
        expiry(T0, days=0)
    with pytest.raises(InputError, match="不晚于当前时间 2026-12-06 09:30"):
        expiry(T0, expires=datetime(2026, 12, 6))


def test_a_token_lives_until_its_expiry_and_is_refused_from_then_on(db: Database) -> None:
    secret, info = create_token(db, "feed", "supervisor", [], "admin", T0, END)
    forever, _ = create_token(db, "script", "supervisor", [], "admin", T0)
    assert info.expires_at == END
    just_before = END - timedelta(seconds=1)
    assert token_use(db, secret, just_before) is not None
    assert resolve_token(db, secret, just_before) is not None
    with pytest.raises(AuthenticationError, match="访问令牌已于 2027-01-01 00:00 过期"):
        token_use(db, secret, END)
    assert resolve_token(db, secret, END) is None
    far = datetime(2040, 1, 1)
    assert token_use(db, forever, far) is not None and resolve_token(db, forever, far) is not None
    listed = {t.name: t for t in list_tokens(db)}
    assert listed["feed"].expires_at == END and listed["feed"].expired(END)
    assert not listed["feed"].expired(just_before)
    assert listed["script"].expires_at is None and not listed["script"].expired(far)


def test_the_api_refuses_an_expired_token_with_401_even_once_cached(db_url: str) -> None:
    now = [T0]
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: now[0]
    pool = app.state.pool
    db = pool.get()
    try:
        secret, _ = create_token(db, "reader", "supervisor", [], "admin", T0, END)
    finally:
        pool.put(db)
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/rules", headers=headers).status_code == 200
        now[0] = T0 + timedelta(seconds=30)  # the principal is now in the app's token cache
        assert client.get("/api/v1/rules", headers=headers).status_code == 200
        now[0] = END
        answer = client.get("/api/v1/rules", headers=headers)
        assert answer.status_code == 401
        assert "访问令牌已于 2027-01-01 00:00 过期" in answer.json()["detail"]
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def govwatch(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVWATCH_NOW": T0.isoformat()}
    return subprocess.run(
        [sys.executable, "-m", "govwatch.cli", "tokens", *args, "--db", db_url],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_the_command_line_issues_expiring_tokens_and_lists_their_expiry(db_url: str) -> None:
    dated = govwatch(
        db_url,
        "create",
        "feed",
        "--role",
        "supervisor",
        "--expires",
        "2027-01-01",
        "--format",
        "json",
    )
    assert dated.returncode == 0, dated.stderr
    (row,) = orjson.loads(dated.stdout)
    assert row["expires_at"] == "2027-01-01T00:00:00" and row["token"].startswith("gw_")
    counted = govwatch(db_url, "create", "job", "--role", "supervisor", "--days", "90")
    assert counted.returncode == 0, counted.stderr
    assert "有效至 2027-03-06 09:30（不含）" in counted.stderr
    plain = govwatch(db_url, "create", "script", "--role", "supervisor")
    assert plain.returncode == 0 and "长期有效" in plain.stderr
    listed = govwatch(db_url, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    by_name = {t["name"]: t for t in orjson.loads(listed.stdout)}
    assert by_name["feed"]["expires_at"] == "2027-01-01T00:00:00"
    assert by_name["job"]["expires_at"] == "2027-03-06T09:30:00"
    assert by_name["script"]["expires_at"] is None
    assert {t["expired"] for t in by_name.values()} == {False}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--expires", "2026-01-01"), "应为将来的日期"),
        (("--expires", "2027-01-01", "--days", "9"), "只能用 --expires 或 --days 之一"),
        (("--days", "0"), "--days"),
        (("--expires", "明年元旦"), "--expires"),
    ],
)
def test_the_command_line_refuses_an_expiry_that_cannot_be(
    db_url: str, args: tuple[str, ...], message: str
) -> None:
    answer = govwatch(db_url, "create", "feed", "--role", "supervisor", *args)
    assert answer.returncode == 2, (answer.stdout, answer.stderr)
    assert message in answer.stderr
    assert "Traceback" not in answer.stderr
