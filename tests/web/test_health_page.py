"""系统检查 (/health): the lines of ``govwatch doctor`` and the recent jobs, administrators only.

The page runs the doctor's checks on the app's own connection (the command cannot open a DuckDB
file the server holds), so its lines must be the ones ``govwatch doctor`` prints once the
server has let go: the real command, in a subprocess, on both engines. A missing holiday
notice is a ✗ with what to do; other roles get a 403 page in Chinese, the public the login.
Chromium screenshots at 1280 and 390 px go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from govwatch.storage import connect
from tests.web.conftest import login, make_app
from tests.web.seed import AT, seed
from tests.web.test_browser import SHOTS, Session
from tests.web.test_calendar_page import chromium as chromium
from tests.web.test_calendar_page import served

REPO = Path(__file__).resolve().parents[2]
NOV_15 = datetime(2026, 11, 15, 10, 0)
REFUSAL = "只有管理员可以查看系统检查与后台任务"


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> str:
    db = connect(db_url)
    try:
        seed(db, tmp_path)
    finally:
        db.close()
    return db_url


def _steady(line: str) -> str:
    """A line without what changes from one second to the next (free disk space, file size)."""
    if "磁盘空间" in line:
        return re.sub(r"\d+(\.\d+)? (B|KB|MB|GB|TB)", "N", line)
    return line


def doctor(url: str, at: datetime) -> tuple[int, list[str]]:
    """``govwatch doctor`` as the administrator runs it, its clock pinned like the app's."""
    env = {**os.environ, "GOVWATCH_NOW": at.isoformat(), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "govwatch.cli", "doctor", "--db", url],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.splitlines()


@pytest.mark.parametrize("at", [AT, NOV_15], ids=["calendar-ok", "2027-notice-missing"])
def test_the_page_shows_the_lines_govwatch_doctor_prints(seeded: str, at: datetime) -> None:
    with TestClient(make_app(seeded, at)) as client:
        login(client, "admin")
        twin = client.get("/health?format=json").json()
        page = client.get("/health")
    assert page.status_code == 200
    code, lines = doctor(seeded, at)  # the server has let the database go
    assert [_steady(x) for x in twin["lines"]] == [_steady(x) for x in lines]
    assert code == (1 if twin["needs_action"] else 0)
    assert [c["key"] for c in twin["checks"]][:5] == [
        "database", "calendar", "live_queue", "sweep", "ledger",
    ]  # fmt: skip
    for check in twin["checks"]:
        row = page.text.split(f'data-check="{check["key"]}"')[1].split("</tr>")[0]
        mark = {"ok": "✓", "warn": "!", "fail": "✗"}[check["status"]]
        assert f'<td class="mark">{mark}' in row and check["title"] in row
        assert check["detail"].replace("“", "").split("（")[0][:12] in row.replace("“", "")
        assert (check["action"] or "—")[:12] in row
    calendar = next(c for c in twin["checks"] if c["key"] == "calendar")
    if at == NOV_15:  # next year's notice is missing from 1 November: a cross, and what to do
        assert calendar["status"] == "fail" and "2027" in calendar["action"]
        failing = sum(1 for c in twin["checks"] if c["status"] == "fail")
        assert twin["needs_action"] and f"✗ {failing}</span> 项需处理" in page.text
        assert "请按“处理办法”处理标 ✗ 的项目" in page.text
    else:
        assert calendar["status"] == "ok" and "✗ 0</span> 项需处理" in page.text


@pytest.mark.parametrize("role", ["supervisor", "department", "evaluator"])
def test_only_administrators_see_the_page_and_its_menu_link(seeded: str, role: str) -> None:
    with TestClient(make_app(seeded)) as client:
        anonymous = client.get("/health", follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
        login(client, role)
        page = client.get("/health")
        assert (
            page.status_code == 403 and REFUSAL in page.text and "<h1>无法显示（403）" in page.text
        )
        twin = client.get("/health?format=json")
        assert twin.status_code == 403 and twin.json() == {"detail": REFUSAL}
        assert 'href="/health"' not in client.get("/rules").text
        refused = client.post("/health/jobs/x/rerun", follow_redirects=False)
        assert refused.status_code == 403
    with TestClient(make_app(seeded)) as admin:
        login(admin, "admin")
        menu = admin.get("/rules").text.split('aria-label="主菜单"')[1].split("</nav>")[0]
        assert '<a href="/health">系统检查</a>' in menu


def test_recent_jobs_are_listed_newest_first_with_their_result(seeded: str) -> None:
    app = make_app(seeded)
    with TestClient(app) as client:
        login(client, "admin")
        assert "暂无后台任务" in client.get("/health").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/rules").text)
        assert token is not None
        ids = []
        for enabled in ("off", "on"):
            answer = client.post(
                "/rules/setting",
                data={"rule": "step_overdue", "scope": "region:330102", "enabled": enabled,
                      "reason": "测试", "csrf_token": token.group(1)},
                follow_redirects=False,
            )  # fmt: skip
            ids.append(answer.headers["location"].split("job=")[1].split("&")[0])
            # each job re-evaluates under the catalog current when it runs: let the first
            # finish before the second setting is saved, so each has its own change to apply
            assert app.state.jobs.wait(ids[-1], timeout=300)
        assert app.state.jobs.idle(timeout=300)
        twin = client.get("/health?format=json").json()
        assert [j["job_id"] for j in twin["jobs"]] == ids[::-1]
        assert [j["summary"]["cleared"] for j in twin["jobs"]] == [0, 3]
        assert [j["summary"]["reopened"] for j in twin["jobs"]] == [3, 0]
        page = client.get("/health").text
        table = page.split('id="recent-jobs"')[1].split("</table>")[0]
        assert table.index(ids[1]) < table.index(ids[0])
        assert table.count("已完成") == 2 and "解除 3 条" in table and "重新出现 3 条" in table
        assert "重新运行" not in table  # only failed or interrupted jobs run again


@pytest.mark.browser
def test_health_page_in_chromium_at_desktop_and_phone_width(
    chromium: Any,
    seeded: str,
) -> None:
    app = make_app(seeded, NOV_15)
    with served(app) as base:
        s = Session(chromium, base)
        s.login("admin")
        s.go("/rules/case_overdue")
        s.page.select_option("#f-legal_level", "yellow")
        s.page.fill("#f-reason", "测试")
        s.page.click("form[action='/rules/setting'] button[type=submit]")
        s.page.wait_for_selector('.job[data-status="done"]', timeout=120_000)
        s.close()
        with app.state.jobs.hold():  # a second save waits: the page shows it queued
            s = Session(chromium, base)
            s.login("admin")
            s.go("/rules/case_overdue")
            s.page.select_option("#f-legal_level", "red")
            s.page.fill("#f-reason", "测试")
            s.page.click("form[action='/rules/setting'] button[type=submit]")
            s.page.wait_for_load_state()
            s.close()
            sessions = []
            for width in (1280, 390):
                s = Session(chromium, base, width=width)
                s.login("admin")
                s.page.click("nav a[href='/health']")
                s.page.wait_for_load_state()
                assert s.page.locator("h1").inner_text().startswith("系统检查")
                assert s.page.locator("#checks tr.fail").count() >= 1  # 2027's notice
                assert s.page.locator(".job[data-status='queued'] .job-bar").is_visible()
                assert s.page.locator("#recent-jobs tbody tr").count() == 2
                if width == 390:
                    assert s.page.evaluate("document.documentElement.scrollWidth") <= 390
                s.shot(f"health-{width}")
                s.page.locator("#checks").screenshot(path=str(SHOTS / f"health-checks-{width}.png"))
                sessions.append(s)
        for s in sessions:  # let go: the open pages see the queued job finish
            s.page.wait_for_selector(".job[data-status='done']", timeout=120_000)
            result = s.page.locator(".job .job-result").inner_text()
            assert re.fullmatch(
                r"新增预警 0 条，解除 0 条，等级改变 [1-9]\d* 条，重新出现 0 条", result
            )
            s.close()
