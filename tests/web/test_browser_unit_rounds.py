"""A unit's rounds and a round's score distribution in Chromium: the ECharts charts draw from
the site's own copy, the tables beside them carry the same figures, and a count opens the
results it counts. Screenshots at desktop and phone width go to test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.test_browser import Session, browser  # noqa: F401  (the module's browser)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_department_reads_its_unit_across_rounds_as_a_chart_and_a_table(
    browser: Any,  # noqa: F811
    server: str,
    width: int,
) -> None:
    s = Session(browser, server, width=width)
    s.login("department")
    s.go("/evaluations/units/D1")
    s.page.wait_for_selector("[data-round-chart=history] svg")
    body = s.page.inner_text("body")
    assert "市场监管局" in body and "历次评估结果" in body
    assert "86.50" in body  # the seeded score, two decimals as on the round page
    s.shot(f"unit-rounds-department-{width}")
    s.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_round_page_explains_stars_and_links_each_count_to_its_results(
    browser: Any,  # noqa: F811
    server: str,
    width: int,
) -> None:
    s = Session(browser, server, width=width)
    s.login("supervisor")
    s.go("/evaluations/2025Q3")
    s.page.wait_for_selector("[data-round-chart=histogram] svg")
    body = s.page.inner_text("body")
    assert "星级与门槛说明" in body and "得分分布" in body
    s.shot(f"round-distribution-supervisor-{width}")
    s.page.click("#t-bands a >> nth=0")
    s.page.wait_for_load_state()
    assert "筛选：星级" in s.page.inner_text("body")
    s.close()
