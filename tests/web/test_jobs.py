"""Long administrator operations run as background jobs (govwatch/live/jobs.py), on both engines.

Saving a rule setting (page or API) answers while its re-evaluation is still queued: the
runner is held, so the job's state, not a clock, shows that the answer did not wait. Once let
go, the job leaves exactly the alerts and counts a synchronous re-evaluation leaves on a twin
database. A round is computed as a job; a computation the round's state forbids is refused at
once, and one that became impossible while queued fails with a Chinese message. A server killed
(SIGKILL, a real process) with a job queued leaves it interrupted (中断) at the next start-up,
and the health page runs it again; on PostgreSQL the jobs of a server still alive are left
alone. Chromium saves a rule on the page and watches the bar, then the summary; screenshots at
1280 and 390 px go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.auth.tokens import create_token
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.rounds.lifecycle import UnitSpec, compute_round, create_round
from govwatch.evaluation.rounds.publication import publish_round
from govwatch.evaluation.rounds.review import open_review
from govwatch.evaluation.rounds.values import Actor
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.live.jobs import JOBS_LOCK_CLASS, get_job
from govwatch.live.pipeline import rule_catalog_changed
from govwatch.rules.catalog import current, save
from govwatch.rules.settings import Scope, Setting
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url
from tests.web.conftest import login, make_app
from tests.web.seed import AT, PRESET, seed
from tests.web.test_browser import SHOTS, Session
from tests.web.test_calendar_page import chromium as chromium
from tests.web.test_calendar_page import served

REPO = Path(__file__).resolve().parents[2]
ADMIN = Actor("web_admin", "admin")
# The page's save: step_overdue off in region 330102 clears the alerts of C1, C2 and C3.
PAGE_SETTING = {
    "rule": "step_overdue",
    "scope": "region:330102",
    "enabled": "off",
    "reason": "该区环节时限另行考核",
}
# The API's save: a case past its legal limit is a yellow card, not red (C1, C3 and C5).
API_SETTING = {
    "rule": "case_overdue",
    "scope": "all",
    "params": {"legal_level": "yellow"},
    "reason": "超法定时限先发黄牌",
}


def _setting(form: dict[str, Any]) -> Setting:
    params = tuple(sorted((k, str(v)) for k, v in form.get("params", {}).items()))
    enabled = {"on": True, "off": False}.get(str(form.get("enabled", "")))
    return Setting(form["rule"], Scope.parse(form["scope"]), enabled, None, params)


def _seed(url: str, tmp: Path) -> None:
    db = connect(url)
    try:
        seed(db, tmp)
    finally:
        db.close()


def _alerts(db: Database) -> set[tuple[str, str, str, str]]:
    rows = db.query("SELECT alert_id, rule, status, level FROM alerts")
    return {(str(a), str(r), str(s), str(lv)) for a, r, s, lv in rows}


@contextmanager
def twin(db_url: str, tmp: Path) -> Iterator[Database]:
    """A second database seeded alike, for the synchronous re-evaluation to compare with."""
    url = f"duckdb:///{tmp}/twin.duckdb" if db_url.startswith("duckdb") else pg_url()
    (tmp / "twin").mkdir(exist_ok=True)
    _seed(url, tmp / "twin")
    db = connect(url, migrate=False)
    try:
        yield db
    finally:
        drop_pg_schema(db)
        db.close()


def synchronous(db: Database, *forms: dict[str, Any]) -> list[dict[str, int]]:
    """What ``govwatch rules set`` does: save, then re-evaluate before answering."""
    counts = []
    for form in forms:
        saved = save(db, current(db).with_setting(_setting(form)), "tester", "同步对照", AT)
        assert saved.version
        counts.append(rule_catalog_changed(db, AT))
    return counts


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


def job_of(location: str) -> str:
    return parse_qs(urlparse(location).query)["job"][0]


def finished(app: FastAPI, client: TestClient, job_id: str) -> dict[str, Any]:
    """The job once it has finished (read through the API the pages poll)."""
    assert app.state.jobs.wait(job_id, timeout=300)
    job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] in ("done", "failed", "interrupted"), job
    return job


@pytest.fixture
def seeded(db_url: str, tmp_path: Path) -> str:
    _seed(db_url, tmp_path)
    return db_url


def test_saving_a_rule_on_the_page_answers_first_and_its_job_leaves_what_a_synchronous_save_does(
    seeded: str, tmp_path: Path
) -> None:
    app = make_app(seeded)
    with TestClient(app) as client:
        login(client, "admin")
        before = client.get("/alerts?format=json&rule=step_overdue").json()["items"]
        assert {a["case_id"] for a in before} == {"C1", "C2", "C3", "C5"}
        token = csrf(client.get("/rules").text)
        with app.state.jobs.hold():  # the job may not start: the answer must not wait for it
            answer = client.post(
                "/rules/setting", data={**PAGE_SETTING, "csrf_token": token}, follow_redirects=False
            )
            assert answer.status_code == 303, answer.text
            job_id = job_of(answer.headers["location"])
            queued = client.get(f"/api/v1/jobs/{job_id}").json()
            assert queued["status"] == "queued" and queued["status_name"] == "排队中"
            assert queued["kind"] == "rule_reevaluation" and queued["requested_by"] == "web_admin"
            still = client.get("/alerts?format=json&rule=step_overdue").json()["items"]
            assert {a["case_id"] for a in still} == {"C1", "C2", "C3", "C5"}, "not yet evaluated"
            page = client.get(answer.headers["location"])
            assert (
                "已保存规则“办理环节超期”（行政区划 330102）的设置（版本 1）；"
                "正在按新规则重新评估全部办件" in page.text
            )
            assert f'data-job="{job_id}"' in page.text and 'data-status="queued"' in page.text
        job = finished(app, client, job_id)
        pool = app.state.pool
        db = pool.get()
        try:
            after = _alerts(db)
        finally:
            pool.put(db)
    with twin(seeded, tmp_path) as other:
        (expected,) = synchronous(other, PAGE_SETTING)
        assert after == _alerts(other)
    assert job["status"] == "done" and job["error"] == ""
    assert {k: job["summary"][k] for k in expected} == expected
    assert expected["cleared"] == 3  # C1, C2 and C3's step_overdue
    assert job["summary_text"] == "新增预警 0 条，解除 3 条，等级改变 0 条，重新出现 0 条"
    assert job["percent"] == 100 and job["done"] == job["total"] and job["total"] > 1
    assert job["started_at"] and job["finished_at"] and job["finished_at"] >= job["started_at"]


def test_the_api_save_names_its_job_and_waits_for_it_only_when_asked(
    seeded: str, tmp_path: Path
) -> None:
    db = connect(seeded, migrate=False)
    token, _ = create_token(db, "api_admin", "admin", [], "test", AT)
    db.close()
    headers = {"Authorization": f"Bearer {token}"}
    app = make_app(seeded)
    with TestClient(app) as client:
        with app.state.jobs.hold():
            answer = client.put("/api/v1/rules/settings", json=API_SETTING, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["settings"][-1]["rule"] == "case_overdue"
            job_id = answer.headers["X-Govwatch-Job"]
            assert (
                client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"] == "queued"
            )
        assert app.state.jobs.wait(job_id, timeout=300)
        first = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        # ?wait=true answers once its job has finished
        back = {**API_SETTING, "params": {"legal_level": "red"}}
        answer = client.put("/api/v1/rules/settings?wait=true", json=back, headers=headers)
        assert answer.status_code == 200, answer.text
        second = client.get(f"/api/v1/jobs/{answer.headers['X-Govwatch-Job']}", headers=headers)
        assert second.json()["status"] == "done"
        listed = client.get("/api/v1/jobs", headers=headers).json()
        assert [j["job_id"] for j in listed[:2]] == [second.json()["job_id"], job_id]
        assert client.get("/api/v1/jobs/nope", headers=headers).status_code == 404
    with twin(seeded, tmp_path) as other:
        raised, lowered = synchronous(other, API_SETTING, back)
    assert raised["level"] == lowered["level"] == 3
    assert {k: first["summary"][k] for k in raised} == raised
    assert {k: second.json()["summary"][k] for k in lowered} == lowered


@pytest.mark.parametrize("role", ["supervisor", "department", "evaluator"])
def test_only_administrators_read_jobs(seeded: str, role: str) -> None:
    with TestClient(make_app(seeded)) as client:
        assert client.get("/api/v1/jobs").status_code == 401
        login(client, role)
        answer = client.get("/api/v1/jobs")
        assert answer.status_code == 403 and "只有管理员" in answer.json()["detail"]
        assert client.post("/api/v1/evaluations/2025Q3/compute").status_code == 403


def _round(db: Database, round_id: str, *, review: bool) -> None:
    """A round of the two departments; with ``review``, computed and open for review."""
    system = parse_system(PRESET.read_text(encoding="utf-8"), origin=str(PRESET))
    period = Period(date(2025, 7, 1), date(2025, 9, 30))
    units = [UnitSpec("D1", "市场监管局", "市级部门"), UnitSpec("D2", "交通运输局", "市级部门")]
    create_round(db, round_id, f"测试批次 {round_id}", system, period, "department", units,
                 ADMIN, AT, review_days=0)  # fmt: skip
    if review:
        compute_round(db, round_id, ADMIN, AT)
        open_review(db, round_id, ADMIN, AT)


def _results(db: Database, round_id: str) -> list[tuple[Any, ...]]:
    return db.query(
        "SELECT unit, score, stars, rank, group_rank FROM eval_results WHERE round_id = ? "
        "ORDER BY unit",
        [round_id],
    )


def test_a_round_is_computed_as_a_job_and_a_refused_or_failed_one_says_why_in_chinese(
    seeded: str,
) -> None:
    db = connect(seeded, migrate=False)
    try:
        _round(db, "R1", review=False)
        _round(db, "R2", review=True)
    finally:
        db.close()
    app = make_app(seeded)
    with TestClient(app) as client:
        login(client, "admin")
        token = csrf(client.get("/rules").text)
        post = {"headers": {"X-CSRF-Token": token}}
        answer = client.post("/api/v1/evaluations/R1/compute", json={"uncertainty": 0}, **post)
        assert answer.status_code == 202, answer.text
        assert answer.headers["Location"] == f"/api/v1/jobs/{answer.json()['job_id']}"
        job = finished(app, client, answer.json()["job_id"])
        assert job["status"] == "done", job
        assert job["summary"] == {"round_id": "R1", "units": 2, "uncertainty": 0}
        assert job["summary_text"] == "评估批次 R1：2 个单位的结果已算出"
        pool = app.state.pool
        db = pool.get()
        try:
            by_job = _results(db, "R1")
            assert len(by_job) == 2
            assert db.scalar("SELECT status FROM eval_rounds WHERE round_id = 'R1'") == "computed"
            compute_round(db, "R1", ADMIN, AT)  # the synchronous computation gives the same
            assert _results(db, "R1") == by_job
            # a published round is refused at once, with the round's reason
            refused = client.post("/api/v1/evaluations/2025Q3/compute", **post)
            assert refused.status_code in (400, 409) and "已发布" in refused.json()["detail"]
            missing = client.post("/api/v1/evaluations/NOPE/compute", **post)
            assert missing.status_code == 400 and "不存在" in missing.json()["detail"]
            # published while its computation was queued: the job fails and says why
            with app.state.jobs.hold():
                answer = client.post("/api/v1/evaluations/R2/compute", **post)
                assert answer.status_code == 202, answer.text
                publish_round(db, "R2", ADMIN, AT + timedelta(days=1))
            job = finished(app, client, answer.json()["job_id"])
        finally:
            pool.put(db)
        assert job["status"] == "failed" and job["status_name"] == "失败"
        assert job["error"].startswith("计算评估结果失败：评估批次“R2”已发布"), job["error"]
        health = client.get("/health")
        row = health.text.split(f'data-job-row="{job["job_id"]}"')[1].split("</tr>")[0]
        assert "失败" in row and "已发布" in row and "重新运行" in row
        again = client.post(
            f"/health/jobs/{job['job_id']}/rerun",
            data={"csrf_token": token},
            follow_redirects=False,
        )
        assert again.status_code in (400, 409) and "已发布" in again.text


KILLED_SERVER = """
import os, re, signal, sys
from fastapi.testclient import TestClient
from tests.web.conftest import login, make_app

app = make_app(sys.argv[1])
client = TestClient(app)
login(client, "admin")
token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/rules").text).group(1)
with app.state.jobs.hold():  # the job stays queued until the process dies
    answer = client.post("/rules/setting", data={**%r, "csrf_token": token},
                         follow_redirects=False)
    print(answer.headers["location"], flush=True)
    sys.stdin.readline()
    os.kill(os.getpid(), signal.SIGKILL)
"""


@contextmanager
def server_with_a_queued_job(url: str, tmp: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    script = tmp / "killed_server.py"
    script.write_text(textwrap.dedent(KILLED_SERVER % (PAGE_SETTING,)), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, str(script), url],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "job=" in line, f"the server did not save the rule: {line!r}"
        yield proc, job_of(line.strip())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)


def _kill(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=60) == -signal.SIGKILL


def _wait_lock_gone(url: str, runner: int) -> None:
    """PostgreSQL ends a killed client's session (and its advisory lock) on its own time."""
    db = connect(url, migrate=False)
    try:
        for _ in range(600):
            held = db.scalar(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = ? "
                "AND objid = ?",
                [JOBS_LOCK_CLASS, runner],
            )
            if not held:
                return
            db.execute("SELECT pg_sleep(0.05)")
    finally:
        db.close()
    raise AssertionError("the killed server's session never ended")


def _runner_of(url: str, job_id: str) -> int:
    db = connect(url, migrate=False)
    try:
        return int(db.scalar("SELECT runner FROM jobs WHERE job_id = ?", [job_id]))
    finally:
        db.close()


def test_a_killed_server_leaves_its_job_interrupted_at_the_next_start_and_it_runs_again(
    seeded: str, tmp_path: Path
) -> None:
    with server_with_a_queued_job(seeded, tmp_path) as (proc, job_id):
        _kill(proc)
    if seeded.startswith("postgres"):
        _wait_lock_gone(seeded, _runner_of(seeded, job_id))
    app = make_app(seeded)  # the restart
    with TestClient(app) as client:
        login(client, "admin")
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        assert job["status"] == "interrupted" and job["status_name"] == "中断"
        assert "服务在重新评估完成前停止，任务中断" in job["error"] and job["finished_at"]
        health = client.get("/health")
        row = health.text.split(f'data-job-row="{job_id}"')[1].split("</tr>")[0]
        assert "中断" in row and "重新运行" in row
        again = client.post(
            f"/health/jobs/{job_id}/rerun",
            data={"csrf_token": csrf(health.text)},
            follow_redirects=False,
        )
        assert again.status_code == 303, again.text
        rerun = finished(app, client, job_of(again.headers["location"]))
        assert rerun["status"] == "done" and rerun["subject"] == job["subject"]
        assert rerun["summary"]["cleared"] == 3  # what the interrupted job did not do
        page = client.get(again.headers["location"])
        assert "已重新运行" in page.text and rerun["summary_text"] in page.text


def test_postgresql_leaves_the_queued_jobs_of_a_server_still_running_alone(
    tmp_path: Path,
) -> None:
    url = pg_url()
    _seed(url, tmp_path)
    try:
        with server_with_a_queued_job(url, tmp_path) as (proc, job_id):
            app = make_app(url)  # another server starts beside it
            with TestClient(app):
                db = connect(url, migrate=False)
                try:
                    assert get_job(db, job_id).status == "queued"
                finally:
                    db.close()
            runner = _runner_of(url, job_id)
            _kill(proc)
        _wait_lock_gone(url, runner)
        with TestClient(make_app(url)):  # started after it died: the job is taken for dead
            db = connect(url, migrate=False)
            try:
                assert get_job(db, job_id).status == "interrupted"
            finally:
                db.close()
    finally:
        db = connect(url, migrate=False)
        drop_pg_schema(db)
        db.close()


# -- Chromium ---------------------------------------------------------------------------------


@pytest.mark.browser
def test_chromium_saves_a_rule_and_watches_the_bar_then_the_summary(
    chromium: Any,
    seeded: str,
) -> None:
    app = make_app(seeded)
    with served(app) as base:
        for width in (1280, 390):
            s = Session(chromium, base, width=width)
            s.login("admin")
            s.go(f"/rules/{PAGE_SETTING['rule']}")
            enabled = "off" if width == 1280 else "on"  # the second width turns it back on
            with app.state.jobs.hold():
                s.page.check("input[name=scope_kind][value=region]")
                s.page.select_option("#f-region", PAGE_SETTING["scope"].split(":")[1])
                s.page.select_option("#f-enabled", enabled)
                s.page.fill("#f-reason", PAGE_SETTING["reason"])
                s.page.click("form[action='/rules/setting'] button[type=submit]")
                s.page.wait_for_load_state()
                card = s.page.locator(".job")
                assert card.is_visible() and card.get_attribute("data-status") == "queued"
                assert s.page.locator(".job-bar").is_visible()
                assert "排队中" in card.inner_text()
                s.shot(f"job-progress-{width}")
                card.screenshot(path=str(SHOTS / f"job-progress-card-{width}.png"))
            s.page.wait_for_selector('.job[data-status="done"]', timeout=120_000)
            summary = s.page.locator(".job-result").inner_text()
            cleared = "解除 3 条" if enabled == "off" else "重新出现 3 条"
            assert summary.startswith("新增预警") and cleared in summary, summary
            assert s.page.locator(".job-bar").get_attribute("value") == "100"
            if width == 390:
                assert s.page.evaluate("document.documentElement.scrollWidth") <= 390
            s.shot(f"job-done-{width}")
            card.screenshot(path=str(SHOTS / f"job-done-card-{width}.png"))
            s.close()
