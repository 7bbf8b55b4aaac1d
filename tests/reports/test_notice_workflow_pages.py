"""The notice pages and API: an administrator drafts, edits, approves (confirmed) and issues
(confirmed); a department sees its notices, acknowledges them; another department gets 404 for a
notice that is not its own; the list exports; the menu counts what is not yet acknowledged."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.users import add_user
from govwatch.storage import connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.reports.notice_seed import AT, seed

PASSWORD = "Notice-pass-2026!"
USERS = {"n_admin": ("admin", None), "n_d1": ("department", "D1"), "n_d2": ("department", "D2")}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


@pytest.fixture()
def clients(db_url: str) -> Iterator[dict[str, TestClient]]:
    db = connect(db_url)
    seed(db)
    for name, (role, org) in USERS.items():
        add_user(db, name, PASSWORD, role, org, datetime(2026, 1, 1), display_name=f"用户{name}")
    db.close()
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: AT
    out = {}
    for name in USERS:
        client = TestClient(app)
        answer = client.post(
            "/login", data={"username": name, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303
        out[name] = client
    yield out
    for client in out.values():
        client.close()


def _draft(admin: TestClient, **form: str) -> str:
    token = csrf(admin.get("/notices").text)
    answer = admin.post(
        "/notices/draft", data={**form, "csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    found = re.match(r"/notices/([0-9a-f]+)\?", answer.headers["location"])
    assert found
    return found.group(1)


def _approve_and_issue(admin: TestClient, notice_id: str) -> None:
    for action, label in (("approve", "确认审核通过"), ("issue", "确认下发")):
        token = csrf(admin.get(f"/notices/{notice_id}").text)
        page = admin.post(
            f"/notices/{notice_id}/confirm", data={"action": action, "csrf_token": token}
        )
        assert page.status_code == 200 and label in page.text
        done = admin.post(
            f"/notices/{notice_id}/{action}", data={"csrf_token": csrf(page.text)},
            follow_redirects=False,
        )  # fmt: skip
        assert done.status_code == 303


def test_the_administrator_drafts_edits_approves_and_issues(
    clients: dict[str, TestClient],
) -> None:
    admin = clients["n_admin"]
    notice_id = _draft(admin, kind="evaluation", round_id="R2")
    page = admin.get(f"/notices/{notice_id}").text
    assert "关于2026年第三季度评估结果的通报" in page and "草稿" in page
    saved = admin.post(
        f"/notices/{notice_id}/edit",
        data={"csrf_token": csrf(page), "t.closing": "请各单位抓紧整改。", "s.doc_number": "政服评〔2026〕5号"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    page = admin.get(f"/notices/{notice_id}").text
    assert "请各单位抓紧整改。" in page and "政服评〔2026〕5号" in page
    _approve_and_issue(admin, notice_id)
    page = admin.get(f"/notices/{notice_id}").text
    assert "已下发" in page and "与存储正文及台账记录一致" in page
    assert 'id="edit"' not in page
    refused = admin.post(
        f"/notices/{notice_id}/edit", data={"csrf_token": csrf(page), "t.closing": "改"}
    )
    assert refused.status_code == 409 and "内容已冻结，不能修改" in refused.text
    assert "已签收 0 / 3" in page
    listed = admin.get("/notices?format=json").json()
    assert listed["rows"][0]["acked"] == 0 and listed["rows"][0]["addressed"] == 3
    sheet = admin.get("/notices?format=xlsx")
    values = [
        v for row in load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True)
        for v in row
    ]  # fmt: skip
    assert "政服评〔2026〕5号" in values and "已下发" in values
    xlsx = admin.get(f"/notices/{notice_id}/file.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_departments_see_their_own_and_general_notices_and_acknowledge(
    clients: dict[str, TestClient],
) -> None:
    admin, d1, d2 = clients["n_admin"], clients["n_d1"], clients["n_d2"]
    own = _draft(admin, kind="supervision", period="2026-11", scope="D1")
    general = _draft(admin, kind="evaluation", round_id="R2")
    assert d1.get(f"/notices/{own}").status_code == 404  # a draft: not yet theirs
    _approve_and_issue(admin, own)
    _approve_and_issue(admin, general)
    menu = re.search(r'href="/notices"[^>]*>通报 <span class="badge"[^>]*>(\d+)<', d1.get("/").text)
    assert menu and menu.group(1) == "2"
    assert d2.get(f"/notices/{own}").status_code == 404
    assert d2.get(f"/api/v1/notices/{own}").status_code == 404
    assert {r["notice_id"] for r in d2.get("/api/v1/notices").json()["items"]} == {general}
    page = d1.get(f"/notices/{own}").text
    done = d1.post(f"/notices/{own}/ack", data={"csrf_token": csrf(page)}, follow_redirects=False)
    assert done.status_code == 303
    assert "本单位已于 2026-12-07 10:00 签收" in d1.get(f"/notices/{own}").text
    api = d1.post(f"/api/v1/notices/{general}/ack", headers={"X-CSRF-Token": csrf(page)})
    assert api.status_code == 200 and api.json()["unit"] == "D1"
    acks = admin.get(f"/api/v1/notices/{own}").json()["acknowledgements"]
    assert [(a["unit"], a["acked_by"]) for a in acks] == [("D1", "n_d1")]
    check = admin.get(f"/api/v1/notices/{own}/verify").json()
    assert check["ok"] is True
