"""整改 in Chromium: the department finds its demand from the menu (with its count), replies with
a PDF attached; the administrator opens the reply, downloads the file and confirms; screenshots
at 1280 and 390 px."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.storage import connect
from tests.evaluation.rectification_seed import PUBLISHED_AT, create, publish
from tests.web.conftest import make_app
from tests.web.seed import PASSWORD
from tests.web.test_browser import Session, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
NOW = datetime(2025, 11, 20, 10)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("rect")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    add_org(db, "330102", "上城区", "department", None, None, PUBLISHED_AT)
    add_org(db, "330203", "海曙区", "department", None, None, PUBLISHED_AT)
    add_user(db, "web_admin", PASSWORD, "admin", None, PUBLISHED_AT, display_name="评估管理员")
    add_user(db, "web_department", PASSWORD, "department", "330102", PUBLISHED_AT,
             display_name="上城区填报员")  # fmt: skip
    create(db)
    publish(db)
    db.close()
    return url


@pytest.fixture(scope="module")
def app(seeded_url: str) -> FastAPI:
    return make_app(seeded_url, NOW)


def _badge(s: Session) -> int:
    badge = s.page.locator(".top nav a[href='/rectifications'] .badge")
    return int(badge.inner_text()) if badge.count() else 0


def test_department_replies_with_a_file_and_the_administrator_confirms(
    browser: Any,  # noqa: F811 - the fixture
    server: str,
    tmp_path: Path,
) -> None:
    dept = Session(browser, server)
    dept.login("department")
    assert _badge(dept) == 2
    dept.page.click(".top nav a[href='/rectifications']")
    assert dept.page.inner_text("h1") == "整改要求"
    rows = dept.page.locator("#demands tbody tr")
    assert rows.count() == 2 and "海曙区" not in dept.page.inner_text("#demands")
    dept.shot("rectification-list-department-1280")
    dept.page.click("#demands a:text('指南公布')")
    dept.page.wait_for_load_state()
    assert "待整改" in dept.page.inner_text("#demand-state")
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(PDF)
    dept.page.fill("#reply-text", "已在政务服务网公布全部事项的办事指南，并建立月度核查机制。")
    dept.page.set_input_files("#reply-files", str(report))
    dept.shot("rectification-reply-department-1280")
    dept.page.click("#reply-submit")
    dept.page.wait_for_load_state()
    assert "已回复" in dept.page.inner_text("#demand-state")
    assert dept.page.locator("#files a").inner_text() == "整改报告.pdf"
    assert _badge(dept) == 1
    dept.page.set_viewport_size({"width": 390, "height": 844})
    dept.shot("rectification-department-390")
    dept.close()

    admin = Session(browser, server)
    admin.login("admin")
    assert _badge(admin) == 1
    admin.go("/rectifications?status=replied")
    admin.page.click("#demands a:text('指南公布')")
    admin.page.wait_for_load_state()
    with admin.page.expect_download() as info:
        admin.page.click("#files a")
    assert Path(info.value.path()).read_bytes() == PDF
    admin.page.fill("#confirm-note", "整改到位，予以确认")
    admin.shot("rectification-confirm-admin-1280")
    admin.page.click("#confirm")
    admin.page.wait_for_load_state()
    assert "已确认" in admin.page.inner_text("#demand-state")
    assert "整改到位" in admin.page.inner_text("#decision")
    assert _badge(admin) == 0
    admin.page.set_viewport_size({"width": 390, "height": 844})
    admin.shot("rectification-admin-390")
    admin.go("/rectifications")
    admin.shot("rectification-list-admin-1280")
    admin.close()
