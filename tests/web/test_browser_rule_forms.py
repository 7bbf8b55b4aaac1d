"""The rule setting form in Chromium (issue 14 item 6), at desktop and phone width.

The administrator opens a rule from the catalog, picks a region from the organisation tree,
types a parameter out of range (a Chinese message beside the field, nothing sent), then a good
one with a reason; the save answers at once and the page shows the re-evaluation's bar, then its
summary. The form shows what now holds; the setting is deleted after a confirmation, with a
reason, and the history says what changed and why. Screenshots go to
``test-artifacts/screenshots/`` (rule-form-*).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govwatch.storage import connect
from tests.web.conftest import make_app
from tests.web.test_browser import SHOTS, Session
from tests.web.test_calendar_page import chromium as chromium
from tests.web.test_calendar_page import served
from tests.web.test_rule_forms import seed_tree

pytestmark = pytest.mark.browser


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[str]:
    url = f"duckdb:///{tmp_path}/govwatch.duckdb"
    db = connect(url)
    try:
        seed_tree(db, tmp_path)
    finally:
        db.close()
    yield url


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_sets_a_parameter_for_a_region_watches_the_job_and_deletes_the_setting(
    chromium: Any, seeded: str, width: int
) -> None:
    app = make_app(seeded)
    with served(app) as base:
        s = Session(chromium, base, width=width)
        s.login("admin")
        s.go("/rules")
        s.shot(f"rule-form-catalog-{width}")
        s.page.click("#rule-repeated_supplement a.rule-name")
        s.page.wait_for_load_state()
        assert s.page.locator("h1").inner_text() == "多次补正告知"
        # the pickers of the other kinds hide; the region is picked from the tree
        s.page.check("input[name=scope_kind][value=region]")
        assert s.page.locator("#f-region").is_visible()
        assert not s.page.locator("#f-item").is_visible()
        s.page.select_option("#f-region", label="　　上城区（330102）")
        s.page.wait_for_function(
            "document.getElementById('scope-title').textContent.includes('上城区')"
        )
        assert "当前：默认 1 次" in s.page.inner_text("#n-max_requests")
        # out of range: said beside the field in Chinese, and nothing is sent
        s.page.fill("#f-max_requests", "500")
        s.page.fill("#f-reason", "该区补正须一次告知")
        assert "应为 0 到 100 之间的整数（单位：次）" in s.page.inner_text("#e-max_requests")
        s.page.click("#rule-form button[type=submit]")
        assert s.page.url.startswith(base + "/rules/repeated_supplement")
        assert "超出允许范围" in s.page.inner_text("#e-max_requests")
        s.shot(f"rule-form-refused-{width}")
        s.page.fill("#f-max_requests", "0")
        assert s.page.inner_text("#e-max_requests") == ""
        with app.state.jobs.hold():  # the answer comes while the job still waits
            s.page.click("#rule-form button[type=submit]")
            s.page.wait_for_load_state()
            assert (
                "已保存规则“多次补正告知”（行政区划 上城区（330102））的设置"
                in s.page.inner_text(".notice")
            )
            card = s.page.locator(".job")
            assert card.get_attribute("data-status") == "queued"
            assert s.page.locator(".job-bar").is_visible()
            s.shot(f"rule-form-queued-{width}")
        s.page.wait_for_selector('.job[data-status="done"]', timeout=120_000)
        summary = s.page.locator(".job-result").inner_text()
        assert summary.startswith("新增预警 1 条，解除 0 条"), summary
        settings = s.page.locator("#settings").inner_text()
        assert "行政区划 上城区（330102）" in settings and "允许的补正告知次数 0 次" in settings
        assert s.page.input_value("#f-max_requests") == "0"  # what is set at the region
        if width == 390:
            assert s.page.evaluate("document.documentElement.scrollWidth") <= 390
        s.shot(f"rule-form-done-{width}")
        # delete: open, give a reason, confirm the dialog
        s.page.click("#settings details.delete summary")
        s.page.fill("#settings details.delete textarea[name=reason]", "试点结束")
        messages: list[str] = []

        def accept(dialog: Any) -> None:
            messages.append(dialog.message)
            dialog.accept()

        s.page.once("dialog", accept)
        s.shot(f"rule-form-delete-{width}")
        s.page.click("#settings details.delete button[type=submit]")
        s.page.wait_for_load_state()
        assert messages and "确定删除“行政区划 上城区（330102）”的调整吗" in messages[0]
        assert "已删除规则“多次补正告知”（行政区划 上城区（330102））的调整" in s.page.inner_text(
            ".notice"
        )
        s.page.wait_for_selector('.job[data-status="done"]', timeout=120_000)
        assert "解除 1 条" in s.page.locator(".job-result").inner_text()
        assert "尚未做任何调整" in s.page.inner_text("#settings")
        history = s.page.locator("table.history tbody").inner_text()
        assert re.search(r"允许的补正告知次数\s*0 次\s*→\s*未单独设置", history), history
        assert "试点结束" in history and "该区补正须一次告知" in history
        assert "T" not in re.sub(r"[^0-9T:\- ]", "", history)
        s.shot(f"rule-form-deleted-{width}")
        s.page.locator("table.history").screenshot(
            path=str(SHOTS / f"rule-form-history-{width}.png")
        )
        s.close()
