"""The notice's edit form in Chromium: each paragraph's legend of Chinese fields opens beside
its template, no English field name shows, and a count in the preview's tables opens the list
it counts. Screenshots at 1280 and 390 px."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from govwatch.auth.users import add_user
from govwatch.storage import connect
from tests.reports.notice_seed import AT, seed, seed_cases
from tests.web.conftest import (
    make_app,
    server,  # noqa: F401 - the fixture, served from this app
)
from tests.web.seed import PASSWORD
from tests.web.test_browser import Session, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp: Path = tmp_path_factory.mktemp("notice-fields")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    seed(db)
    seed_cases(db)
    add_user(db, "web_admin", PASSWORD, "admin", None, datetime(2026, 1, 1), display_name="管理员")
    db.close()
    return url


@pytest.fixture(scope="module")
def app(seeded_url: str) -> FastAPI:
    return make_app(seeded_url, AT)


def test_the_legend_shows_chinese_fields_and_a_count_opens_its_list(
    browser: Any,  # noqa: F811 - the fixture
    server: str,  # noqa: F811 - the fixture
) -> None:
    admin = Session(browser, server)
    admin.login("admin")
    admin.go("/notices")
    admin.page.fill("#d-period", "2026")
    admin.page.click("#draft-supervision button[type=submit]")
    admin.page.wait_for_load_state()
    notice_url = admin.page.url.split("?")[0]
    admin.page.click("#edit details > summary")
    admin.page.click("#legend-overview > summary")
    legend = admin.page.inner_text("#legend-overview")
    assert "{统计期间}" in legend and "统计期间的名称" in legend
    form = admin.page.inner_text("#edit") + "".join(
        admin.page.locator("#edit textarea").evaluate_all("els => els.map(e => e.value)")
    )
    assert not re.search(r"\{[A-Za-z_]", form)
    admin.page.locator("#legend-overview").scroll_into_view_if_needed()
    admin.shot("notice-fields-admin-1280")
    link = admin.page.locator("a.count-link[href*='level=red'][href*='department=D1']")
    assert link.inner_text() == "2"
    link.click()
    admin.page.wait_for_load_state()
    assert admin.page.locator("#t-alerts tbody tr").count() == 2
    admin.close()
    narrow = Session(browser, server, width=390)
    narrow.login("admin")
    narrow.go(notice_url.removeprefix(server))
    narrow.page.click("#edit details > summary")
    narrow.page.click("#legend-overview > summary")
    narrow.page.locator("#legend-overview").scroll_into_view_if_needed()
    narrow.shot("notice-fields-admin-390")
    narrow.close()
