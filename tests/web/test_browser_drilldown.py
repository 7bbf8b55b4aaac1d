"""Drill-down in Chromium (issue 14 items 5 and 9): a supervisor goes from a number on the
dashboard to the list it counts, to an alert; a bar of a chart opens its list too; the case
list from the rates. Screenshots at 1280 and 390 px wide in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import skip_or_fail
from tests.web.test_browser import ARGS, CHROMIUM, Session

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"chromium is missing at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _total(page: Any) -> int:
    return int(page.locator("[data-total]").first.get_attribute("data-total"))


# Where a chart's bar (or a line's point) is drawn, in the viewport's coordinates (the chart
# scrolled into view first): ECharts converts
# the data value to pixels; the click lands on the middle of the bar.
BAR_POINT = """([selector, kind, index]) => {
  const el = document.querySelector(selector);
  el.scrollIntoView({block: 'center'});
  const chart = window.echarts.getInstanceByDom(el);
  const option = chart.getOption();
  const item = option.series[0].data[index];
  const value = typeof item === 'object' ? item.value : item;
  const at = kind === 'bar' ? [value / 2, index] : [index, value];
  const [x, y] = chart.convertToPixel({seriesIndex: 0}, at);
  const box = el.getBoundingClientRect();
  return {x: box.left + x, y: box.top + y, href: item.href};
}"""


def test_supervisor_goes_from_a_dashboard_number_to_the_list_and_an_alert(
    chromium: Any, server: str
) -> None:
    s = Session(chromium, server)
    s.login("supervisor")
    s.go("/")
    s.page.wait_for_load_state("networkidle")
    s.shot("drilldown-dashboard")
    red = s.page.locator(".kpis .kpi.red a[data-count]").first
    shown = int(red.get_attribute("data-count"))
    assert shown > 0
    red.click()
    s.page.wait_for_load_state()
    assert "/alerts?" in s.page.url and "level=red" in s.page.url
    assert _total(s.page) == shown
    badges = s.page.locator("#t-alerts .badge").all_inner_texts()
    assert badges and set(badges) == {"红牌"}
    assert s.page.locator("#f-level").input_value() == "red", "the form shows the filter"
    s.shot("drilldown-alerts-red")
    s.page.locator("#t-alerts a:has-text('处理')").first.click()
    s.page.wait_for_load_state()
    assert re.search(r"/alerts/[0-9a-f]{64}$", s.page.url)
    assert "红牌" in s.page.locator("main").inner_text()
    s.shot("drilldown-alert")
    s.close()


def test_a_bar_and_a_point_of_the_charts_open_their_lists(chromium: Any, server: str) -> None:
    s = Session(chromium, server)
    s.login("supervisor")
    s.go("/")
    s.page.wait_for_load_state("networkidle")
    bar = s.page.evaluate(BAR_POINT, ["[data-chart=bars]", "bar", 0])
    s.page.mouse.move(bar["x"], bar["y"])
    s.page.wait_for_timeout(300)
    with s.page.expect_navigation():
        s.page.mouse.click(bar["x"], bar["y"])
    assert "rule_class=" in s.page.url
    assert s.page.url.endswith(bar["href"])
    listed = _total(s.page)
    s.go("/")
    s.page.wait_for_load_state("networkidle")
    by_class = s.page.evaluate(
        "() => JSON.parse(document.getElementById('data-class').textContent)"
    )
    assert listed == by_class[0]["value"]
    # the day on which the most anomalies arose (a point of 新增 drawn apart from 消除)
    days = s.page.evaluate("() => JSON.parse(document.getElementById('data-trend').textContent)")
    index = max(range(len(days)), key=lambda i: (days[i]["new"] - days[i]["closed"], i))
    assert days[index]["new"] > days[index]["closed"]
    point = s.page.evaluate(BAR_POINT, ["[data-chart=trend]", "line", index])
    s.page.mouse.move(point["x"], point["y"])
    s.page.wait_for_timeout(300)  # the chart notices what is under the pointer on its move
    with s.page.expect_navigation():
        s.page.mouse.click(point["x"], point["y"])
    assert "date_by=occurred" in s.page.url and s.page.url.endswith(point["href"])
    assert _total(s.page) == days[index]["new"]
    s.close()


def test_from_the_rates_to_the_case_list_and_a_case_on_a_phone(chromium: Any, server: str) -> None:
    s = Session(chromium, server, width=390)
    s.login("supervisor")
    s.go("/")
    s.page.wait_for_load_state("networkidle")
    s.shot("phone-drilldown-dashboard")
    cohort = s.page.locator(".cohort a[data-count]").first
    shown = int(cohort.get_attribute("data-count"))
    cohort.click()
    s.page.wait_for_load_state()
    assert "/cases?" in s.page.url and "applied_from=" in s.page.url
    assert _total(s.page) == shown
    s.shot("phone-drilldown-cases")
    s.page.locator("#t-cases a[href^='/cases/']").first.click()
    s.page.wait_for_load_state()
    assert re.search(r"/cases/C\d$", s.page.url)
    s.shot("phone-drilldown-case")
    # the case list searches by the beginning of a case number
    s.go("/cases")
    s.page.fill("#f-case", "C")
    s.page.click(".filters button[type=submit]")
    s.page.wait_for_load_state()
    assert "case_prefix=C" in s.page.url and _total(s.page) == 5
    s.shot("phone-cases-search")
    desk = Session(chromium, server)
    desk.login("supervisor")
    desk.go("/alerts?status=all&date_from=2025-10-27&date_to=2025-10-01")
    assert "开始日期 2025-10-27 晚于结束日期 2025-10-01" in desk.page.locator(".error").inner_text()
    desk.shot("alerts-bad-dates")
    desk.go("/cases")
    desk.shot("cases")
    desk.close()
    s.close()


def test_a_department_sees_its_figures_beside_the_provinces(chromium: Any, server: str) -> None:
    for width, name in ((1280, "department-dashboard"), (390, "phone-department-dashboard")):
        s = Session(chromium, server, width=width)
        s.login("department")
        s.go("/")
        s.page.wait_for_load_state("networkidle")
        table = s.page.locator("#t-compare")
        assert "全省" in table.inner_text()
        # its own numbers open its lists; the province's are there to compare, not to open
        assert table.locator("tbody tr td:nth-child(2) a[data-count]").count() >= 9
        assert table.locator("tbody tr td:nth-child(3) a").count() == 0
        s.shot(name)
        s.close()
