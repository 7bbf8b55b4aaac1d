"""The desks in Chromium (issue 14 items 3 and 4): the supervisor's 督办台 and the department's
今日待办, each role's daily work end to end, with screenshots at desktop and phone width.

- The supervisor issues orders for a selection of alerts from 督办台 (after a confirmation
  page), the department replies from 今日待办 with a PNG attached, and the supervisor goes from
  the desk's 回复待审核 to the order, downloads the file and accepts the reply.
- The department goes from 今日待办 to an alert's answer page, explains with a PDF attached,
  downloads it back, and the supervisor finds it under 待裁决 with the same file.
- The inbox counts the unread in the menu and marks them read.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser import Session, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
# A 1×1 PNG and a minimal PDF: real files of the types the desks accept.


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x8f\x1d\x21")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _badge(s: Session, href: str) -> int:
    """The count on the menu entry ``href`` (0 when it shows none)."""
    badge = s.page.locator(f".top nav a[href='{href}'] .badge")
    return int(badge.inner_text()) if badge.count() else 0


def _download(s: Session, selector: str) -> tuple[str, bytes]:
    with s.page.expect_download() as info:
        s.page.click(selector)
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_supervisor_orders_from_the_desk_department_replies_with_a_file_supervisor_accepts(
    browser: Any,  # noqa: F811 - the fixture
    server: str,
) -> None:
    sup = Session(browser, server)
    sup.login("supervisor")
    sup.page.click(".top nav a[href='/desk']")
    assert sup.page.inner_text("h1").startswith("督办台")
    sup.page.click("#tab-issue")
    sup.page.wait_for_load_state()
    total_before = int(sup.page.inner_text("#tab-issue .n"))
    rows = sup.page.locator("#desk-list tbody tr")
    assert rows.count() >= 2
    # two alerts of the department D1 (市场监管局), picked by their responsible unit
    picked = 0
    for i in range(rows.count()):
        row = rows.nth(i)
        if "市场监管局" in row.inner_text() and picked < 2:
            row.locator("input[type=checkbox]").check()
            picked += 1
    assert picked == 2
    sup.page.fill("#bulk-content", "请于五个工作日内说明超期原因并整改")
    sup.shot("desk-issue-selected-1280")
    sup.page.click("#bulk-issue")
    assert sup.page.inner_text("h1") == "确认发出督办"
    assert "2 条告警" in sup.page.inner_text("main")
    sup.shot("desk-issue-confirm-1280")
    sup.page.click("#confirm")
    notice = sup.page.inner_text(".notice")
    assert "已发出 1 张督办单（涉及 2 条告警）" in notice, notice
    order_id = re.search(r"(DB\d{8}[0-9A-F]{8})", notice).group(1)  # type: ignore[union-attr]
    assert int(sup.page.inner_text("#tab-issue .n")) == total_before - 2
    assert sup.page.locator(f"#order-{order_id}").count() == 1  # now followed
    sup.shot("desk-follow-1280")

    dept = Session(browser, server)
    dept.login("department")
    assert dept.page.url.endswith("/workspace")
    assert dept.page.inner_text("h1").startswith("今日待办")
    row = dept.page.locator(f"#order-{order_id}")
    assert "剩余 5 个工作日" in row.inner_text()
    dept.page.fill(f"#reply-{order_id}", "已查明原因：系统对接延迟，已完成整改")
    dept.page.set_input_files(
        f"#files-{order_id}",
        files=[{"name": "整改照片.png", "mimeType": "image/png", "buffer": PNG}],
    )
    dept.page.click(f"#order-{order_id} button:has-text('回复督办')")
    assert f"督办单 {order_id}：已回复督办" in dept.page.inner_text(".notice")
    assert dept.page.locator(f"#order-{order_id}").count() == 0  # answered: off the to-do list
    assert order_id in dept.page.inner_text("#h-sub + table")  # waiting for review

    sup.go("/desk")
    assert _badge(sup, "/desk") >= 1
    sup.page.click("#tab-replies")
    reply_row = sup.page.locator(f"#order-{order_id}")
    assert "系统对接延迟" in reply_row.inner_text()
    name, content = _download(sup, f"#order-{order_id} a:has-text('整改照片.png')")
    assert (name, content) == ("整改照片.png", PNG)
    sup.shot("desk-replies-1280")
    sup.page.click(f"#order-{order_id} a[href='/orders/{order_id}']")
    assert sup.page.inner_text("h1").startswith(f"督办单 {order_id}")
    sup.shot("order-replied-1280")
    sup.page.click("#accept")
    assert "已采纳回复" in sup.page.inner_text(".notice")
    assert sup.page.inner_text("#order-state") == "已办结"
    sup.close()
    dept.close()


def test_department_answers_an_alert_with_a_pdf_and_the_supervisor_finds_it_to_decide(
    browser: Any,  # noqa: F811 - the fixture
    server: str,
) -> None:
    dept = Session(browser, server)
    dept.login("department")
    todo = int(dept.page.locator("#todo-summary strong").first.inner_text())
    assert _badge(dept, "/workspace") == todo
    dept.page.click("#todo a:has-text('答复') >> nth=0")
    assert "答复告警" in dept.page.inner_text("h1")
    assert "剩余" in dept.page.inner_text("#due") or "超期" in dept.page.inner_text("#due")
    answer_url = dept.page.url
    dept.page.fill("#reason-explain", "申请人补正材料延迟，已电话告知并登记")
    dept.page.set_input_files(
        "#files-explain",
        files=[{"name": "情况说明.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    dept.page.click("button[data-action=explain]")
    assert "已提交情况说明" in dept.page.inner_text(".notice")
    assert dept.page.url.startswith(answer_url)
    assert "已说明" in dept.page.inner_text("#state")
    name, content = _download(dept, "#h-files + ul a:has-text('情况说明.pdf')")
    assert (name, content) == ("情况说明.pdf", PDF)
    dept.shot("answer-explained-1280")
    dept.go("/workspace")
    assert int(dept.page.locator("#todo-summary strong").first.inner_text()) == todo - 1

    sup = Session(browser, server)
    sup.login("supervisor")
    sup.go("/desk?list=decide")
    assert "申请人补正材料延迟" in sup.page.inner_text("#desk-list")
    name, content = _download(sup, "#desk-list a:has-text('情况说明.pdf')")
    assert content == PDF
    sup.shot("desk-decide-1280")
    sup.close()
    dept.close()


def test_inbox_counts_the_unread_and_marks_them_read(
    browser: Any,  # noqa: F811 - the fixture
    server: str,
) -> None:
    dept = Session(browser, server)
    dept.login("department")
    unread = _badge(dept, "/inbox")
    assert unread >= 1  # the automatic order of the seed's red cards
    dept.page.click(".top nav a[href='/inbox']")
    assert dept.page.locator("#inbox tr.unread").count() == min(unread, 30)
    assert "收到督办" in dept.page.inner_text("#inbox")
    dept.shot("inbox-1280")
    dept.page.click("#read-all")
    assert f"已将 {unread} 条消息标为已读" in dept.page.inner_text(".notice")
    assert _badge(dept, "/inbox") == 0
    assert dept.page.locator("#inbox tr.unread").count() == 0
    dept.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_desks_at_desktop_and_phone_width(
    browser: Any,  # noqa: F811 - the fixture
    server: str,
    width: int,
) -> None:
    """One heading, nothing off the machine, no server error; a screenshot of each desk."""
    sup = Session(browser, server, width=width)
    sup.login("supervisor")
    for name in ("follow", "replies", "decide", "issue"):
        sup.go(f"/desk?list={name}")
        assert sup.page.locator("h1").count() == 1
        sup.shot(f"desk-{name}-{width}")
    sup.go("/inbox")
    sup.shot(f"inbox-supervisor-{width}")
    sup.close()
    dept = Session(browser, server, width=width)
    dept.login("department")
    dept.go("/workspace")
    assert dept.page.locator("h1").count() == 1
    dept.shot(f"workspace-{width}")
    dept.page.click("#todo a:has-text('答复') >> nth=0")
    dept.shot(f"answer-{width}")
    dept.go("/inbox")
    dept.shot(f"inbox-department-{width}")
    dept.close()
