"""In Chromium (issue 14 items 7 and 8): /docs works offline, an unknown URL is a Chinese page
with the favicon, and a printable page prints without its menu and buttons."""

from __future__ import annotations

from typing import Any

from tests.web.test_browser import SHOTS, Session, browser  # noqa: F401  (the module's browser)


def test_api_docs_show_the_operations_with_no_request_off_the_machine(
    browser: Any,  # noqa: F811
    server: str,
) -> None:
    s = Session(browser, server)
    s.go("/docs")
    s.page.wait_for_selector(".opblock", timeout=15_000)
    s.page.wait_for_load_state("networkidle")
    assert s.page.locator(".opblock").count() >= 10
    assert s.page.locator(".opblock-summary-path", has_text="/api/v1/alerts").count() >= 1
    assert "govwatch" in s.page.inner_text(".info")
    s.shot("docs")
    s.close()  # asserts that every request went to 127.0.0.1


def test_an_unknown_page_is_chinese_and_the_tab_has_the_favicon(
    browser: Any,  # noqa: F811
    server: str,
) -> None:
    s = Session(browser, server)
    s.login("department")
    answer = s.page.goto(server + "/no/such/page")
    assert answer is not None and answer.status == 404
    assert s.page.inner_text("h1") == "页面不存在（404）"
    assert s.page.locator("nav[aria-label='主菜单'] a").count() >= 2  # the user's own menu
    icon = s.page.evaluate(
        "fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)"
    )
    assert icon == 200
    s.shot("error-404")
    s.close()


def test_a_printable_page_prints_without_menu_and_buttons(
    browser: Any,  # noqa: F811
    server: str,
) -> None:
    s = Session(browser, server)
    s.login("supervisor")
    s.go("/evaluations/2025Q3")
    s.page.evaluate("window.print = () => { window.printed = true; }")
    s.page.click("button[data-print]")
    assert s.page.evaluate("window.printed === true")
    assert s.page.is_visible("header.top nav")
    s.shot("round-screen")
    s.page.emulate_media(media="print")
    for hidden in ("header.top nav", "button[data-print]", ".exports", "footer.foot", ".who"):
        assert not s.page.is_visible(hidden), hidden
    assert s.page.is_visible("table.results")
    style = s.page.evaluate(
        """() => {
            const row = getComputedStyle(document.querySelector('table.results tbody tr'));
            const link = getComputedStyle(document.querySelector('main a'), '::after');
            const body = getComputedStyle(document.body);
            return [row.breakInside, link.content, body.backgroundColor, body.color];
        }"""
    )
    assert style == ["avoid", "none", "rgb(255, 255, 255)", "rgb(0, 0, 0)"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    s.page.pdf(path=str(SHOTS / "print-round.pdf"), format="A4", prefer_css_page_size=True)
    s.shot("print-round")
    s.close()
