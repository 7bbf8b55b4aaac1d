"""工作日历 page and the missing-notice banner, on 15 November 2026 (frozen) without 2027's notice.

The banner is for administrators and supervisors on every page, not for departments, and goes
once the notice is loaded; the administrator pastes or uploads the notice, sees the year's
preview (nothing saved), confirms, and the flash message says what was loaded and re-clocked.
After 1 January the dashboard counts the open cases with provisional deadlines. Chromium
screenshots (desktop and phone width) go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.calendar.store import status
from govwatch.deadlines import refresh_next_check
from govwatch.events.cases import rebuild_cases
from govwatch.storage import connect
from govwatch.timeutil import SHANGHAI
from tests.calendar.test_notice import NOTICE_2027
from tests.conftest import skip_or_fail
from tests.deadlines.clock_builders import add_events, add_item, event
from tests.web.conftest import login, make_app
from tests.web.seed import seed
from tests.web.test_browser import ARGS, CHROMIUM, Session

NOV_15 = datetime(2026, 11, 15, 10, 0)
BANNER = "2027 年节假日安排尚未导入"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


def banner_of(html: str) -> str | None:
    """The missing-notice banner of a page, if it has one."""
    found = re.search(r'<p class="banner" role="alert" id="calendar-banner">(.*?)</p>', html)
    return found.group(1) if found else None


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    """A fresh seeded DuckDB file per test: loading a notice changes it."""
    url = f"duckdb:///{tmp_path}/govwatch.duckdb"
    db = connect(url)
    seed(db, tmp_path)
    db.close()
    return url


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    with time_machine.travel(at.replace(tzinfo=SHANGHAI), tick=False):
        yield


def client_for(app: FastAPI, role: str) -> TestClient:
    client = TestClient(app)
    login(client, role)
    return client


@pytest.mark.parametrize("role", ["admin", "supervisor", "department", "evaluator"])
def test_banner_on_15_november_for_administrators_and_supervisors_only(
    seeded: str, role: str
) -> None:
    with frozen(NOV_15), TestClient(make_app(seeded, NOV_15)) as client:
        login(client, role)
        for page in ("/", "/alerts", "/rules", "/evaluations", "/workspace", "/calendar"):
            shown = banner_of(client.get(page).text)
            if role in ("admin", "supervisor"):
                assert shown is not None and shown.startswith(BANNER), (role, page)
                link = '<a href="/calendar?year=2027">' + ("去导入" if role == "admin" else "查看")
                assert link in shown, (role, page)
            else:
                assert shown is None, (role, page)


def test_no_banner_before_the_reminder_day(seeded: str) -> None:
    october = datetime(2026, 10, 31, 10, 0)
    with frozen(october), TestClient(make_app(seeded, october)) as client:
        login(client, "admin")
        assert banner_of(client.get("/").text) is None
        assert "2027 年的通知自 2026-11-01 起提醒" in client.get("/calendar").text


def test_preview_saves_nothing_and_confirming_loads_and_ends_the_banner(seeded: str) -> None:
    app = make_app(seeded, NOV_15)
    with frozen(NOV_15), TestClient(app) as admin, TestClient(app) as supervisor:
        login(admin, "admin")
        login(supervisor, "supervisor")
        page = admin.get("/calendar").text
        preview = admin.post(
            "/calendar/preview", data={"csrf_token": csrf(page), "text": NOTICE_2027}
        )
        assert preview.status_code == 200, preview.text
        html = preview.text
        assert "预览（尚未保存）" in html and "确认导入" in html
        assert html.count("<caption>") == 12 and "2027 年" in html
        assert '<td class="holiday changed" data-date="2027-10-01" title="国庆节">' in html
        assert '<td class="makeup_workday changed" data-date="2027-10-09" title="国庆节">' in html
        assert "8 天的工作日属性将改变" in html  # 1 Jan, 1/4/5/6/7 Oct rest; 26 Sep, 9 Oct work
        db = connect(seeded, migrate=False)
        try:
            assert 2027 not in {y.year for y in status(db) if y.covered}
        finally:
            db.close()

        loaded = admin.post(
            "/calendar/load",
            data={"csrf_token": csrf(html), "text": NOTICE_2027, "label": "网页粘贴"},
            follow_redirects=False,
        )
        assert loaded.status_code == 303, loaded.text
        after = admin.get(loaded.headers["location"]).text
        assert "已导入 2027 年节假日安排：12 个日期，8 天的工作日属性改变；重新计算 0 件" in after
        assert banner_of(after) is None and banner_of(admin.get("/").text) is None
        assert banner_of(supervisor.get("/").text) is None


def test_an_uploaded_notice_is_previewed_and_keeps_its_file_name(seeded: str) -> None:
    app = make_app(seeded, NOV_15)
    with frozen(NOV_15), TestClient(app) as admin:
        login(admin, "admin")
        token = csrf(admin.get("/calendar").text)
        upload = {"file": ("notice-2027.txt", NOTICE_2027.encode("gb18030"), "text/plain")}
        preview = admin.post("/calendar/preview", data={"csrf_token": token}, files=upload)
        assert preview.status_code == 200 and "确认导入" in preview.text
        assert 'name="label" value="notice-2027.txt"' in preview.text
        loaded = admin.post(
            "/calendar/load",
            data={"csrf_token": token, "text": NOTICE_2027, "label": "notice-2027.txt"},
            follow_redirects=False,
        )
        assert loaded.status_code == 303
        data = admin.get("/calendar?format=json&year=2027").json()
        assert data["coverage"]["next_year"] == {
            "year": 2027,
            "state": "official",
            "source": "notice:notice-2027.txt",
        }
        assert {d["date"]: d["kind"] for d in data["days"]}["2027-10-09"] == "makeup_workday"


def test_a_text_that_is_no_notice_is_shown_back_with_what_was_expected(seeded: str) -> None:
    with frozen(NOV_15), TestClient(make_app(seeded, NOV_15)) as admin:
        login(admin, "admin")
        token = csrf(admin.get("/calendar").text)
        answer = admin.post("/calendar/preview", data={"csrf_token": token, "text": "你好"})
        assert answer.status_code == 400
        assert "没有找到放假或上班的日期" in answer.text and "你好</textarea>" in answer.text
        wrong_day = NOTICE_2027.replace("1月1日（周五）", "1月1日（周四）")
        answer = admin.post("/calendar/preview", data={"csrf_token": token, "text": wrong_day})
        assert answer.status_code == 400 and "2027-01-01 是周五" in answer.text


def test_only_administrators_load_notices(seeded: str) -> None:
    app = make_app(seeded, NOV_15)
    with frozen(NOV_15), TestClient(app) as client:
        login(client, "supervisor")
        page = client.get("/calendar").text
        assert "导入节假日安排需要管理员账号" in page and 'id="notice-form"' not in page
        answer = client.post("/calendar/load", data={"csrf_token": csrf(page), "text": NOTICE_2027})
        assert answer.status_code == 403 and "只有管理员可以导入节假日安排" in answer.text
    with frozen(NOV_15), TestClient(app) as anonymous:
        answer = anonymous.get("/calendar", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_dashboard_counts_open_cases_with_provisional_deadlines_after_new_year(
    seeded: str,
) -> None:
    january = datetime(2027, 1, 11, 10, 0)
    db = connect(seeded, migrate=False)
    try:
        add_item(db, "P20", promised=(20, "W"), legal=(20, "W"))
        add_events(db, [event("P-1", "accept", "2027-01-05 10:00", item_code="P20")])
        rebuild_cases(db, None)
        refresh_next_check(db, ["P-1"], at=january)  # the seeded cases keep their 2025 clocks
        # every open case is reached: the moment is past the first changed date (1 January)
        open_cases = db.scalar(
            "SELECT count(*) FROM cases WHERE status = 'open' AND accepted_at IS NOT NULL"
        )
    finally:
        db.close()
    app = make_app(seeded, january)
    with frozen(january), TestClient(app) as admin:
        login(admin, "admin")
        html = admin.get("/").text
        figure = re.search(r'id="kpi-provisional"><span class="n">(\d+)</span>', html)
        assert figure and int(figure.group(1)) == 1, html
        assert "2027 年节假日安排尚未导入：本年涉及的期限只按周末计算" in html
        token = csrf(html)
        loaded = admin.post(
            "/calendar/load",
            data={"csrf_token": token, "text": NOTICE_2027},
            follow_redirects=False,
        )
        assert loaded.status_code == 303, loaded.text
        flash = admin.get(loaded.headers["location"]).text
        assert f"重新计算 {open_cases} 件在办办件的期限" in flash
        assert 'id="kpi-provisional"' not in admin.get("/").text


# -- Chromium ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"chromium is missing at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_banner_and_preview_in_chromium_at_desktop_and_phone_width(
    chromium: Any, seeded: str
) -> None:
    with served(make_app(seeded, NOV_15)) as base:
        for width in (1280, 390):
            s = Session(chromium, base, width=width)
            s.login("admin")
            s.go("/")
            banner = s.page.locator("#calendar-banner")
            assert BANNER in banner.inner_text() and banner.is_visible()
            s.shot(f"calendar-banner-{width}")
            s.page.click("#calendar-banner a")
            assert s.page.url.endswith("/calendar?year=2027")
            s.page.fill("#notice-text", NOTICE_2027)
            s.page.click("#preview")
            s.page.wait_for_load_state()
            assert s.page.locator(".month-grid").count() == 12
            assert s.page.locator('td.holiday[data-date="2027-10-01"]').is_visible()
            s.shot(f"calendar-preview-{width}")
            if width == 390:  # the grids stack: no sideways scrolling on a phone
                assert s.page.evaluate("document.documentElement.scrollWidth") <= 390
                s.page.click("#confirm")
                s.page.wait_for_load_state()
                assert "已导入 2027 年节假日安排" in s.page.inner_text(".notice")
                assert s.page.locator("#calendar-banner").count() == 0
                s.shot("calendar-loaded-390")
            s.close()
        supervisor = Session(chromium, base, width=1280)
        supervisor.login("supervisor")
        supervisor.go("/")
        assert supervisor.page.locator("#calendar-banner").count() == 0
        supervisor.close()
