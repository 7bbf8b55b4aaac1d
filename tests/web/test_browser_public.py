"""The public page in Chromium: reached by keyboard alone, read by a screen reader, printed.

The world of tests/web/test_public_disclosure.py (DuckDB; the clock at 2025-12-15 10:00):
Tab from the top reaches the period selector and every download; every table has a caption
and header cells with a scope; the chart has a table beside it; screenshots at 1280 and 390 px
and one with print media.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from govwatch.storage import connect
from tests.web.conftest import make_app
from tests.web.test_browser import SHOTS, Session, browser  # noqa: F401 - the fixture
from tests.web.test_public_disclosure import AT, FORBIDDEN, seed_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("public-browser")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    seed_world(db, tmp)
    db.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(make_app(url, AT), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def _focused(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            "() => { const e = document.activeElement;"
            " return {tag: e.tagName, text: e.textContent.trim(), href: e.getAttribute('href') || ''};"
            " }"
        )
    )


def test_keyboard_alone_reaches_the_period_choice_and_every_download(
    browser: Any,  # noqa: F811 - the fixture
    public_server: str,
) -> None:
    s = Session(browser, public_server)
    s.go("/public?period=2025-10")
    s.page.keyboard.press("Tab")
    assert _focused(s.page)["text"] == "跳到正文"
    wanted = {
        f"/public/data/{d}/2025-10.{f}"
        for d in ("ontime", "ratings", "evaluation", "rectification")
        for f in ("csv", "xlsx", "json")
    }
    reached: set[str] = set()
    saw_select = False
    for _ in range(120):
        s.page.keyboard.press("Tab")
        now = _focused(s.page)
        saw_select |= now["tag"] == "SELECT"
        reached.add(now["href"])
        # a focused control is drawn with a visible outline
        style = s.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert now["tag"] == "BODY" or style != "none", now
        if wanted <= reached:
            break
    assert saw_select and wanted <= reached, wanted - reached
    # the CSV of the on-time figures, downloaded by Enter on its focused link
    link = s.page.locator("a[href='/public/data/ontime/2025-10.csv']")
    link.focus()
    with s.page.expect_download() as info:
        s.page.keyboard.press("Enter")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeff维度,编码,名称,办结件数（件）,按时办结率（%）")
    s.close()


def test_tables_have_captions_and_scoped_headers_and_the_chart_a_table(
    browser: Any,  # noqa: F811 - the fixture
    public_server: str,
) -> None:
    s = Session(browser, public_server)
    for path in ("/public?period=2025-10", "/public?period=2025-Q3", "/public/data"):
        s.go(path)
        assert s.page.evaluate("document.documentElement.lang") == "zh-CN"
        assert s.page.locator("main#main").count() == 1
        tables = s.page.locator("main table")
        assert tables.count() >= 2, path
        for i in range(tables.count()):
            table = tables.nth(i)
            assert table.locator("caption").inner_text().strip(), path
            assert table.locator("thead th").count() >= 2
            assert table.locator("thead th:not([scope='col'])").count() == 0
            assert table.locator("tbody th:not([scope='row'])").count() == 0
        body = s.page.inner_text("body")
        for word in FORBIDDEN:
            assert word not in body
    s.go("/public?period=2025-10")
    figure = s.page.locator("figure.bars")
    assert figure.locator("svg[role='img'][aria-label]").count() == 1
    assert "数据见下表" in figure.locator("figcaption").inner_text()
    assert s.page.locator("#ontime-department caption").count() == 1
    assert s.page.locator("section[aria-labelledby]").count() == 4
    s.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_public_pages_at_desktop_and_phone_width_and_on_paper(
    browser: Any,  # noqa: F811 - the fixture
    public_server: str,
    width: int,
) -> None:
    s = Session(browser, public_server, width=width)
    s.go("/public?period=2025-Q3")
    s.shot(f"public-public-{width}")
    s.go("/public?period=2025-10")
    s.shot(f"public-october-public-{width}")
    s.go("/public/data")
    s.shot(f"public-data-public-{width}")
    if width == 1280:
        s.go("/public?period=2025-Q3")
        s.page.emulate_media(media="print")
        assert s.page.locator("nav[aria-label='主菜单']").is_hidden()
        assert s.page.locator(".downloads").first.is_hidden()
        assert s.page.locator("table caption").first.is_visible()
        SHOTS.mkdir(parents=True, exist_ok=True)
        s.page.screenshot(path=str(SHOTS / "public-print-public-1280.png"), full_page=True)
        s.page.emulate_media(media="screen")
    s.close()
