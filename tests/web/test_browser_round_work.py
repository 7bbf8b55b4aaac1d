"""Rounds worked in Chromium (issue 13 items 2, 3): a department fills a value with a file
and appeals its result with a file; an evaluator enters a checked value with its evidence,
verifies the department's value and imports a sheet with a bad row. Screenshots at desktop and
phone width go to ``test-artifacts/screenshots/round-work-<page>-<role>-<width>.png``.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from govwatch.storage import connect
from tests.evaluation.round_work_seed import PASSWORD, PDF, PNG, seed_work
from tests.web.seed import AT as WEB_AT
from tests.web.test_browser import Session, browser  # noqa: F401  (the module's browser)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The work seed (R1 collecting; R2 under review with D1's result, window open)."""
    tmp = tmp_path_factory.mktemp("web-round-work")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    seed_work(db)
    db.execute(
        "UPDATE eval_rounds SET status = 'review', review_until_at = ? WHERE round_id = 'R2'",
        [WEB_AT + timedelta(days=5)],
    )
    db.execute(
        "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, group_rank, "
        "coverage, poorly_covered, points, missing) VALUES ('R2', 'D1', '市级', 70.0, 3, 1, 1, "
        "1.0, FALSE, '{\"channels\": 40.0, \"guide\": 30.0}', '[]')"
    )
    db.close()
    return url


def sign_in(s: Session, user: str) -> None:
    s.go("/login")
    s.page.fill("#username", user)
    s.page.fill("#password", PASSWORD)
    s.page.click("button[type=submit]")
    s.page.wait_for_load_state()


def sheet(tmp: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    for row in (
        ["单位代码", "指标", "值", "证据链接", "说明"],
        ["D2", "指南公布", "是", "https://example.gov.cn/zhinan", "栏目齐全"],
        ["D2", "网站可用", "是", "", ""],
    ):
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    path = tmp / "核查结果.xlsx"
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("width", [1280, 390])
def test_a_department_fills_and_appeals_and_an_evaluator_checks_and_imports(
    browser: Any,  # noqa: F811
    server: str,
    width: int,
    tmp_path: Path,
) -> None:
    dept = Session(browser, server, width=width)
    sign_in(dept, "w_d1")
    dept.page.click("nav >> text=评估填报")
    assert "待填报" in dept.page.inner_text("main")
    dept.shot(f"round-work-todo-department-{width}")
    if dept.page.locator("#fill-todo").count():  # (the first width's run filled it)
        dept.page.click("#fill-todo >> text=去填报 >> nth=0")
    else:
        dept.go("/evaluations/R1/fill")
    dept.page.fill("#val-D1-channels", "85%")
    dept.page.fill("#note-D1-channels", "网站、APP、窗口三个渠道")
    dept.page.set_input_files(
        "#files-D1-channels",
        files=[{"name": "渠道截图.png", "mimeType": "image/png", "buffer": PNG}],
    )
    dept.page.click("#v-D1-channels >> button[type=submit]")
    dept.page.wait_for_load_state()
    assert "已保存填报" in dept.page.inner_text(".notice")
    assert "渠道截图.png" in dept.page.inner_text("#v-D1-channels")
    dept.shot(f"round-work-fill-department-{width}")
    dept.go("/evaluations/R2/appeal")
    assert "70.00 分" in dept.page.inner_text("main")
    dept.page.select_option("#a-ind", "site")
    dept.page.fill("#a-reason", "网站全年可用，监测有误")
    dept.page.set_input_files(
        "#a-files", files=[{"name": "监测日志.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    dept.page.click("#appeal-form button[type=submit]")
    dept.page.wait_for_load_state()
    assert "已提交申诉" in dept.page.inner_text(".notice")
    assert "监测日志.pdf" in dept.page.inner_text("#appeals")
    dept.shot(f"round-work-appeal-department-{width}")
    dept.close()

    ev = Session(browser, server, width=width)
    sign_in(ev, "ev1")
    ev.page.click("nav >> text=评估核查")
    ev.page.click("#check-rounds >> text=去核查")
    ev.page.fill("#cv-D1-guide", "是")
    ev.page.fill("#cu-D1-guide", "https://example.gov.cn/d1")
    ev.page.click("#c-D1-guide >> button[type=submit]")
    ev.page.wait_for_load_state()
    assert "已保存核查结果" in ev.page.inner_text(".notice")
    ev.page.click("#v-D1-channels >> text=核验通过")
    ev.page.wait_for_load_state()
    assert "已核验" in ev.page.inner_text("#v-D1-channels")
    ev.page.set_input_files("#sheet", str(sheet(tmp_path)))
    ev.page.click("#import >> button[type=submit]")
    ev.page.wait_for_load_state()
    result = ev.page.inner_text("#import-result")
    assert "已导入 1 行，1 行有错误未导入" in result
    assert "第 3 行" in result and "“网站可用”未委托给你" in result
    ev.shot(f"round-work-check-evaluator-{width}")
    ev.close()
