"""通报 in Chromium: the administrator drafts an evaluation notice, edits its doc number,
approves and issues it (each confirmed); a department sees it counted in the menu, opens it and
acknowledges it (签收); the administrator sees who did. Screenshots at 1280 and 390 px."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from govwatch.auth.users import add_user
from govwatch.storage import connect
from tests.reports.notice_seed import AT, seed
from tests.web.conftest import make_app
from tests.web.seed import PASSWORD
from tests.web.test_browser import Session, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The notice seed (rounds, three departments) with an administrator and a user of D1,
    named as tests/web/test_browser.Session logs in."""
    tmp: Path = tmp_path_factory.mktemp("notices")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    seed(db)
    at = datetime(2026, 1, 1)
    add_user(db, "web_admin", PASSWORD, "admin", None, at, display_name="通报管理员")
    add_user(
        db, "web_department", PASSWORD, "department", "D1", at, display_name="市场监管局收文员"
    )
    db.close()
    return url


@pytest.fixture(scope="module")
def app(seeded_url: str) -> FastAPI:
    """The app with its clock at the notice seed's moment (after both rounds' publication)."""
    return make_app(seeded_url, AT)


def _badge(s: Session, href: str) -> int:
    badge = s.page.locator(f".top nav a[href='{href}'] .badge")
    return int(badge.inner_text()) if badge.count() else 0


def test_admin_drafts_edits_approves_issues_and_a_department_acknowledges(
    browser: Any,  # noqa: F811 - the fixture
    server: str,
) -> None:
    admin = Session(browser, server)
    admin.login("admin")
    admin.page.click(".top nav a[href='/notices']")
    admin.page.select_option("#d-round", "R2")
    admin.page.click("#draft-evaluation button[type=submit]")
    admin.page.wait_for_load_state()
    assert admin.page.inner_text("h1") == "关于2026年第三季度评估结果的通报"
    assert admin.page.inner_text("#notice-status") == "草稿"
    admin.page.fill("#s-doc_number", "政服评〔2026〕8号")
    admin.page.click("#save")
    admin.page.wait_for_load_state()
    assert "政服评〔2026〕8号" in admin.page.inner_text(".notice-text")
    admin.shot("notice-draft-admin-1280")
    admin.page.click("#approve")
    admin.page.click("#confirm")
    admin.page.wait_for_load_state()
    assert admin.page.inner_text("#notice-status") == "已审核"
    admin.page.click("#issue")
    assert "下发后通报内容冻结" in admin.page.inner_text("main")
    admin.shot("notice-confirm-admin-1280")
    admin.page.click("#confirm")
    admin.page.wait_for_load_state()
    assert admin.page.inner_text("#notice-status") == "已下发"
    assert "一致" in admin.page.inner_text("#digest")
    assert admin.page.locator("#edit").count() == 0
    notice_url = admin.page.url.split("?")[0]

    dept = Session(browser, server)
    dept.login("department")
    assert _badge(dept, "/notices") == 1
    dept.page.click(".top nav a[href='/notices']")
    dept.shot("notices-department-1280")
    dept.page.click("#notices tbody a[href^='/notices/']")
    dept.page.click("#ack")
    dept.page.wait_for_load_state()
    assert "本单位已于" in dept.page.inner_text("#acked")
    assert _badge(dept, "/notices") == 0
    dept.shot("notice-department-1280")

    admin.page.goto(notice_url)
    assert "已签收 1 / 3" in admin.page.inner_text("#acks")
    assert "市场监管局" in admin.page.inner_text("#ack-D1")
    admin.shot("notice-admin-1280")
    dept.close()
    admin.close()

    for role in ("admin", "department"):
        phone = Session(browser, server, width=390)
        phone.login(role)
        phone.page.goto(notice_url)
        phone.shot(f"notice-{role}-390")
        phone.close()
