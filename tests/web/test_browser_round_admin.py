"""The administrator works a round in Chromium (issue 13 item 3), at desktop and phone width:
creates it from a preset on /evaluations/new, opens collection, computes (a background job),
opens review, publishes and closes it on the round's action panel, each irreversible step
behind a confirmation box. Screenshots go to ``test-artifacts/screenshots/`` (round-admin-*).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govwatch.storage import connect
from tests.web.conftest import make_app
from tests.web.seed import seed
from tests.web.test_browser import Session
from tests.web.test_calendar_page import chromium as chromium
from tests.web.test_calendar_page import served

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("round-admin-browser")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    try:
        seed(db, tmp)
    finally:
        db.close()
    yield url


def _stage(s: Session) -> str:
    return str(s.page.inner_text("#stage")).strip()


def _confirm_and_press(s: Session, box: str, button: str) -> None:
    s.page.check(box)
    s.page.click(button)
    s.page.wait_for_load_state()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_administrator_creates_and_works_a_round_on_the_web(
    chromium: Any, seeded: str, width: int
) -> None:
    round_id = f"web-{width}"
    with served(make_app(seeded)) as base:
        s = Session(chromium, base, width=width)
        s.login("admin")
        s.go("/evaluations/new")
        assert s.page.locator("h1").inner_text() == "新建评估批次"
        s.page.select_option("#f-preset", "online-service")
        s.page.fill("#f-round-id", round_id)
        s.page.fill("#f-name", "2025 年第三季度 网上政务服务能力评估")
        s.page.fill("#f-from", "2025-07-01")
        s.page.fill("#f-to", "2025-09-30")
        s.page.fill("#f-review", "0")
        s.page.select_option("#f-kind", "department")
        s.page.fill("#f-units", "D1,市场监管局,市级部门\nD2,交通运输局,市级部门")
        s.shot(f"round-admin-new-admin-{width}")
        s.page.click("#create-round")
        s.page.wait_for_load_state()
        assert f"已创建评估批次 {round_id}：2 个评估对象" in s.page.inner_text(".notice")
        assert _stage(s) == "已配置"
        s.page.click("#do-collect")
        s.page.wait_for_load_state()
        assert _stage(s) == "采集中"
        s.page.click("#do-compute")
        s.page.wait_for_load_state()
        for _ in range(100):  # the job computes in the background
            if _stage(s) == "已计算":
                break
            time.sleep(0.2)
            s.go(f"/evaluations/{round_id}/admin")
        assert _stage(s) == "已计算"
        _confirm_and_press(s, "#confirm-review", "#do-review")
        assert _stage(s) == "复核中"
        _confirm_and_press(s, "#confirm-publish", "#do-publish")
        assert _stage(s) == "已发布" and "已发布评估结果" in s.page.inner_text(".notice")
        _confirm_and_press(s, "#confirm-close", "#do-close")
        assert _stage(s) == "已关闭"
        history = s.page.inner_text("#round-history")
        for step in ("创建批次", "采集监测数据", "计算结果", "进入复核", "发布结果", "关闭批次"):
            assert step in history
        s.shot(f"round-admin-panel-admin-{width}")
        s.close()
