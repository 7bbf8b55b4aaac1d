"""Each role's main task end to end in Chromium, screenshots of every page, no off-host request.

Debian's chromium driven by playwright (never ``playwright install``); the app runs in-process
on a loopback port (``server`` fixture). Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import skip_or_fail
from tests.web.seed import PASSWORD

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"chromium is missing at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Session:
    """One browser context: records every request's host, takes screenshots."""

    def __init__(self, browser: Any, base: str, width: int = 1280) -> None:
        self.base = base
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        self.page = self.context.new_page()
        self.hosts: set[str] = set()
        self.page.on("request", lambda r: self.hosts.add(urlparse(r.url).hostname or ""))
        self.failed: list[str] = []
        self.page.on("response", lambda r: self.failed.append(r.url) if r.status >= 500 else None)

    def go(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def login(self, role: str) -> None:
        self.go("/login")
        self.page.fill("#username", f"web_{role}")
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def close(self) -> None:
        assert self.hosts <= {"127.0.0.1"}, f"requests left the machine: {self.hosts}"
        assert not self.failed, self.failed
        self.context.close()


def test_every_page_loads_with_no_request_leaving_loopback(browser: Any, server: str) -> None:
    s = Session(browser, server)
    s.login("admin")
    for name, path in (
        ("dashboard", "/"),
        ("alerts", "/alerts"),
        ("case", "/cases/C3"),
        ("rules", "/rules"),
        ("items", "/items"),
        ("item", "/items/A1"),
        ("evaluations", "/evaluations"),
        ("round", "/evaluations/2025Q3"),
        ("public", "/public"),
    ):
        s.go(path)
        s.page.wait_for_load_state("networkidle")
        assert s.page.locator("h1").count() == 1, path
        s.shot(f"admin-{name}")
    s.go("/")
    assert s.page.locator(".chart svg").count() >= 1, "ECharts draws from the local file"
    s.close()
    phone = Session(browser, server, width=390)
    phone.login("department")
    phone.go("/workspace")
    phone.shot("phone-workspace")
    phone.close()


def test_department_appeals_supervisor_rejects_and_orders_department_replies(
    browser: Any, server: str
) -> None:
    dept = Session(browser, server)
    dept.login("department")
    assert dept.page.url.endswith("/workspace")
    dept.shot("department-workspace")
    dept.page.click("a:has-text('答复') >> nth=0")
    alert_url = dept.page.url
    dept.page.fill("#reason-appeal", "申请人主动要求延期办理，有书面材料")
    dept.page.click("button[data-action=appeal]")
    assert "已申诉" in dept.page.inner_text(".notice")
    dept.shot("department-appealed")

    sup = Session(browser, server)
    sup.login("supervisor")
    sup.page.goto(alert_url)
    assert "申诉中" in sup.page.inner_text("#state")
    sup.page.fill("#reason-reject_appeal", "延期未经批准，理由不成立")
    sup.page.click("button[data-action=reject_appeal]")
    assert "整改中" in sup.page.inner_text("#state")
    sup.page.fill("#order-content", "请于五个工作日内报告整改情况")
    sup.page.click("#issue-order")
    assert "已发出督办单" in sup.page.inner_text(".notice")
    order_id = sup.page.inner_text(".notice").split("督办单 ")[1].split("，")[0]
    sup.shot("supervisor-ordered")

    dept.go("/workspace")
    dept.page.fill(f"#reply-{order_id}", "已完成整改并告知申请人")
    dept.page.click(f"#order-{order_id} button:has-text('回复督办')")
    assert "已回复督办" in dept.page.inner_text(".notice")
    dept.shot("department-replied")
    sup.page.goto(alert_url)
    assert "已完成整改并告知申请人" in sup.page.inner_text(f".order:has-text('{order_id}')")
    sup.close()
    dept.close()


def test_admin_adds_a_custom_rule_and_sees_it_fire(browser: Any, server: str) -> None:
    s = Session(browser, server)
    s.login("admin")
    s.go("/rules")
    s.page.fill("#c-id", "browser_many_events")
    s.page.fill("#c-desc", "办件事件过多")
    s.page.fill("#c-expr", "unknown_col > 1")
    s.page.wait_for_function("document.getElementById('c-msg').textContent.includes('未知列')")
    s.page.fill("#c-expr", "event_count >= 5")
    s.page.wait_for_function("document.getElementById('c-msg').textContent.includes('检查通过')")
    s.shot("admin-rule-checked")
    s.page.click("text=检查并保存")
    assert "已添加规则 browser_many_events" in s.page.inner_text(".notice")
    # every case is re-evaluated as a background job: its bar on the page says when it is done
    s.page.wait_for_selector('.job[data-status="done"]', timeout=120_000)
    s.go("/alerts?rule=browser_many_events")
    assert s.page.locator("table.list tbody tr").count() >= 1
    s.shot("admin-rule-fired")
    s.close()


def test_evaluator_opens_a_round(browser: Any, server: str) -> None:
    s = Session(browser, server)
    s.login("evaluator")
    assert s.page.url.endswith("/evaluations")
    s.page.click("text=2025Q3")
    assert "各单位指标得失分" in s.page.inner_text("body")
    assert s.page.locator("svg.interval").count() == 2
    s.shot("evaluator-round")
    s.close()


def test_visitor_reads_the_public_page_with_the_keyboard_and_downloads_the_csv(
    browser: Any, server: str
) -> None:
    s = Session(browser, server)
    s.go("/public")
    s.page.keyboard.press("Tab")
    assert s.page.evaluate("document.activeElement.textContent") == "跳到正文"
    # the latest complete month (2025-09) holds round 2025Q3: its results' open data
    href = "/public/data/evaluation/2025-09.csv"
    link = s.page.locator(f"a[href='{href}']")
    for _ in range(60):  # reach the download link by Tab alone
        if s.page.evaluate("document.activeElement.getAttribute('href')") == href:
            break
        s.page.keyboard.press("Tab")
    assert link.evaluate("el => el === document.activeElement")
    with s.page.expect_download() as info:
        s.page.keyboard.press("Enter")
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert re.search(r",D1,市场监管局,市级部门,86\.50,4,1,1\r?$", text, re.M)
    assert "★★★★☆" in s.page.inner_text("#s-evaluation table")
    s.shot("public")
    s.close()


ROLE_PAGES = {
    "admin": ("/", "/alerts", "ALERT", "/cases/C3", "/rules", "/items", "/items/A1",
              "/evaluations", "/evaluations/2025Q3"),
    "supervisor": ("/", "/alerts", "ALERT", "/cases/C3", "/rules", "/workspace",
                   "/evaluations", "/evaluations/2025Q3"),
    "department": ("/", "/alerts", "ALERT", "/cases/C3", "/workspace", "/items/A1",
                   "/evaluations", "/evaluations/2025Q3"),
    "evaluator": ("/", "/alerts", "ALERT", "/cases/C3", "/items", "/evaluations",
                  "/evaluations/2025Q3"),
}  # fmt: skip


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("role", sorted(ROLE_PAGES))
def test_every_page_a_role_sees_renders_at_desktop_and_phone_width(
    browser: Any, server: str, role: str, width: int
) -> None:
    """One heading, no server error, no request off the machine; a screenshot of each page."""
    s = Session(browser, server, width=width)
    s.login(role)
    s.go("/alerts?format=json")
    first = re.search(r'"alert_id":\s*"([^"]+)"', s.page.inner_text("body"))
    assert first is not None, f"{role} sees no alert"
    for path in ROLE_PAGES[role]:
        path = f"/alerts/{first.group(1)}" if path == "ALERT" else path
        s.go(path)
        s.page.wait_for_load_state("networkidle")
        assert s.page.locator("h1").count() == 1, (role, path)
        name = path.strip("/").split("/")[0] or "dashboard"
        if path.count("/") > 1:
            name += "-one"
        s.shot(f"{role}-{name}-{width}")
    s.close()
