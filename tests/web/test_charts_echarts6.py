"""The dashboard's charts under ECharts 6 (issue 18 item 9): the served library is the pinned
6.x past the Lines-tooltip XSS, both charts draw, and the trend legend stays above the plot
(ECharts 6 moved the default legend to the bottom, over the axis labels)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from packaging.version import Version

from tests.conftest import skip_or_fail
from tests.web.test_browser import ARGS, CHROMIUM, SHOTS, Session

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


# Where the legend's text and the x axis's labels sit, relative to the trend chart's box.
LAYOUT = """() => {
  const chart = document.querySelector('[data-chart=trend]');
  const box = chart.getBoundingClientRect();
  const texts = Array.from(chart.querySelectorAll('svg text'));
  const legend = texts.filter(t => t.textContent === '新增' || t.textContent === '消除');
  const labels = texts.filter(t => /^\\d\\d-\\d\\d$/.test(t.textContent));
  const top = t => t.getBoundingClientRect().top - box.top;
  return {
    version: window.echarts.version,
    legend: legend.map(top),
    labels: labels.map(top),
    height: box.height,
    bars: document.querySelectorAll('[data-chart=bars] svg path').length,
  };
}"""


def test_dashboard_draws_with_echarts_6_and_its_legend_above_the_plot(
    chromium: Any, server: str
) -> None:
    s = Session(chromium, server)
    s.login("admin")
    s.go("/")
    s.page.wait_for_load_state("networkidle")
    layout = s.page.evaluate(LAYOUT)
    SHOTS.mkdir(parents=True, exist_ok=True)
    s.page.screenshot(path=str(SHOTS / "admin-dashboard-echarts6.png"), full_page=True)
    s.close()
    assert Version(layout["version"]) >= Version("6.1.0"), layout["version"]
    assert len(layout["legend"]) == 2, layout
    assert layout["labels"], "the trend chart has its day labels"
    assert layout["bars"] >= 1, "the bar chart draws"
    assert max(layout["legend"]) < 32, "the legend sits in the room grid.top leaves above the plot"
    assert max(layout["legend"]) < min(layout["labels"]), layout
