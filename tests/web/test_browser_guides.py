"""/guides in Chromium (issue 16), at desktop and phone width.

The administrator opens the run page, starts a run (the page answers with its summary), reads
the coverage by department, follows a number to the items it counts, filters the findings to
the dead form links, and an evaluator sets a finding aside with a reason. Screenshots go to
``test-artifacts/screenshots/`` (guides-*).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govwatch.storage import connect
from tests.web.conftest import make_app
from tests.web.test_browser import Session
from tests.web.test_calendar_page import chromium as chromium
from tests.web.test_calendar_page import served
from tests.web.test_guide_pages import _build

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("guides-browser")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    try:
        _build(db, tmp)
    finally:
        db.close()
    yield url


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_runs_the_checks_and_follows_the_figures_to_items_and_findings(
    chromium: Any, seeded: str, width: int
) -> None:
    with served(make_app(seeded)) as base:
        s = Session(chromium, base, width=width)
        s.login("admin")
        s.go("/guides?by=department")
        assert s.page.locator("h1").inner_text() == "办事指南核查"
        s.page.click("#run-checks")
        s.page.wait_for_load_state()
        assert "办事指南核查：6 个事项" in s.page.inner_text(".notice")
        s.page.select_option("#f-by", "department")
        s.page.click("#h-cov ~ form button[type=submit]")
        s.page.wait_for_load_state()
        row = s.page.locator("#t-coverage tbody tr", has_text="市场监管局")
        assert row.locator("td").first.inner_text() == "3"
        s.shot(f"guides-run-{width}")
        # the items a number counts: the department's items without a standard guide
        row.locator("a[title=未计入的事项]").nth(2).click()
        s.page.wait_for_load_state()
        assert s.page.locator("h1").inner_text().startswith("指南要素缺失或不规范的事项")
        assert s.page.locator("#t-items tbody tr").count() == 2
        s.shot(f"guides-items-{width}")
        s.go("/guides/findings")
        s.page.select_option("#f-element", "forms")
        s.page.click("form.filters button[type=submit]")
        s.page.wait_for_load_state()
        assert s.page.locator("#t-findings tbody tr").count() == 1
        s.page.locator("#t-findings details.evidence summary").first.click()
        assert "链接失效" in s.page.inner_text("#t-findings")
        s.shot(f"guides-findings-{width}")
        s.close()
        e = Session(chromium, base, width=width)
        e.login("evaluator")
        e.go("/guides/findings?item=G0002")
        e.page.locator("details.review-form summary").first.click()
        e.page.fill("details.review-form textarea", "电话已核实可接通")
        e.page.click("details.review-form button[type=submit]")
        e.page.wait_for_load_state()
        assert "认定不成立" in e.page.inner_text(".notice")
        assert "电话已核实可接通" in e.page.inner_text("#t-findings")
        e.shot(f"guides-review-{width}")
        # restored, so the other width starts from the same state
        e.page.locator("details.review-form summary").first.click()
        e.page.fill("details.review-form textarea", "复核后仍不规范")
        e.page.click("details.review-form button[type=submit]")
        e.page.wait_for_load_state()
        e.close()
