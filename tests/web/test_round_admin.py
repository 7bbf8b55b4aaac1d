"""The administrator works a round on the web and over the API (issue 13 item 3), both engines:
each action moves the round and is in the ledger under the signed-in account; others are
refused (403, in Chinese); publishing before the period ends needs a confirmation the round
records; an uploaded system file with an error is shown at its failing line."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from govwatch.auth.tokens import create_token
from govwatch.evaluation.rounds.lifecycle import submit_appeal
from govwatch.evaluation.rounds.values import Actor
from govwatch.storage import connect
from tests.web.conftest import login, make_app
from tests.web.seed import AT, seed

PERIOD = {"period_start": "2025-07-01", "period_end": "2025-09-30"}  # ended before AT


@pytest.fixture
def url(db_url: str, tmp_path: Path) -> str:
    db = connect(db_url)
    try:
        seed(db, tmp_path)
    finally:
        db.close()
    return db_url


def _csrf(client: TestClient, page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, page
    return found.group(1)


def _stage(url: str, round_id: str) -> str:
    db = connect(url, migrate=False)
    try:
        return str(db.scalar("SELECT status FROM eval_rounds WHERE round_id = ?", [round_id]))
    finally:
        db.close()


def _ledger(url: str, round_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    db = connect(url, migrate=False)
    try:
        rows = db.query(
            "SELECT kind, actor, payload FROM ledger WHERE ref = ? ORDER BY seq",
            [f"round:{round_id}"],
        )
    finally:
        db.close()
    return [(str(k), str(a), orjson.loads(p)) for k, a, p in rows]


def _wait_job(client: TestClient, job_id: str, headers: dict[str, str] | None = None) -> str:
    for _ in range(600):
        status = str(client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"])
        if status in ("done", "failed", "interrupted"):
            return status
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def _appeal(url: str, round_id: str) -> str:
    db = connect(url, migrate=False)
    try:
        department = Actor("web_department", "department", "D1")
        return submit_appeal(db, round_id, "D1", "办件量统计口径有误", department, AT)
    finally:
        db.close()


def test_the_administrator_walks_a_round_through_the_pages_each_step_ledgered(url: str) -> None:
    with TestClient(make_app(url)) as client:
        login(client, "admin")
        form = _csrf(client, "/evaluations/new")
        answer = client.post(
            "/evaluations/new",
            data={
                "csrf_token": form,
                "preset": "online-service",
                "round_id": "2025-Q3-web",
                "name": "2025 年第三季度 网上政务服务能力评估",
                **PERIOD,
                "unit_kind": "department",
                "units": "D1,市场监管局,市级部门\nD2,交通运输局,市级部门",
                "stars_5": "95",
                "review_days": "0",
            },
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        panel = "/evaluations/2025-Q3-web/admin"
        assert answer.headers["location"].startswith(panel)
        assert _stage(url, "2025-Q3-web") == "configured"

        def act(action: str, **extra: str) -> Any:
            data = {"csrf_token": _csrf(client, panel), **extra}
            return client.post(f"{panel}/{action}", data=data, follow_redirects=False)

        assert act("collect").status_code == 303
        assert _stage(url, "2025-Q3-web") == "collecting"
        computed = act("compute")
        assert computed.status_code == 303
        job = re.search(r"job=([0-9a-f]+)", computed.headers["location"])
        assert job and _wait_job(client, job.group(1)) == "done"
        assert _stage(url, "2025-Q3-web") == "computed"
        refused = act("review")  # without the confirmation box
        assert refused.status_code == 409 and "请勾选确认" in refused.text
        assert act("review", confirm="1").status_code == 303
        assert _stage(url, "2025-Q3-web") == "review"
        appeal = _appeal(url, "2025-Q3-web")
        held = act("publish", confirm="1")
        assert held.status_code == 409 and "尚有未处理的申诉" in held.text
        decided = client.post(
            f"/evaluations/2025-Q3-web/appeals/{appeal}/decide",
            data={
                "csrf_token": _csrf(client, panel),
                "outcome": "reject",
                "decision": "统计口径与指标说明一致",
            },
            follow_redirects=False,
        )
        assert decided.status_code == 303
        assert act("publish", confirm="1").status_code == 303
        assert _stage(url, "2025-Q3-web") == "published"
        assert act("close", confirm="1").status_code == 303
        assert _stage(url, "2025-Q3-web") == "closed"
        page = client.get(panel).text
        assert "已关闭" in page and "关闭批次" in page and "web_admin" in page
    entries = [e for e in _ledger(url, "2025-Q3-web") if e[1] == "web_admin"]
    kinds = [k for k, _a, _p in entries]
    assert kinds == [
        "round.create",
        "round.collect",
        "round.compute",
        "round.review",
        "round.appeal_decision",
        "round.publish",
        "round.close",
    ]
    assert entries[0][2]["units"] == 2
    assert entries[4][2]["accepted"] is False and entries[5][2]["early"] is False


def test_publishing_before_the_period_ends_needs_a_confirmation_the_round_shows(
    url: str,
) -> None:
    with TestClient(make_app(url)) as client:
        db = connect(url, migrate=False)
        secret, _info = create_token(db, "rounds", "admin", [], "web_admin", AT)
        db.close()
        auth = {"Authorization": f"Bearer {secret}"}
        body = {
            "round_id": "2025-H2",
            "name": "2025 年下半年 网上政务服务能力评估",
            "preset": "online-service",
            "period_start": "2025-07-01",
            "period_end": "2025-12-31",  # ends after AT
            "unit_kind": "department",
            "review_days": 0,
        }
        created = client.post("/api/v1/evaluations", json=body, headers=auth)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "configured"
        assert client.post("/api/v1/evaluations/2025-H2/collect", headers=auth).status_code == 200
        job = client.post("/api/v1/evaluations/2025-H2/compute", headers=auth)
        assert job.status_code == 202 and _wait_job(client, job.json()["job_id"], auth) == "done"
        review = client.post("/api/v1/evaluations/2025-H2/review", headers=auth)
        assert review.status_code == 200 and review.json()["status"] == "review"
        early = client.post("/api/v1/evaluations/2025-H2/publish", headers=auth)
        assert early.status_code == 409 and "提前发布须明确确认" in early.json()["detail"]
        done = client.post(
            "/api/v1/evaluations/2025-H2/publish", json={"early": True}, headers=auth
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "published" and done.json()["published_early"] is True
        again = client.post("/api/v1/evaluations/2025-H2/review", headers=auth)
        assert again.status_code == 409
        closed = client.post("/api/v1/evaluations/2025-H2/close", headers=auth)
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        login(client, "admin")
        assert "评估期结束前提前发布" in client.get("/evaluations/2025-H2/admin").text
        schema = client.get("/openapi.json").json()["paths"]
        assert "/api/v1/evaluations/{round_id}/publish" in schema
        assert "/api/v1/evaluations" in schema
    entries = _ledger(url, "2025-H2")
    assert [k for k, _a, _p in entries][-2:] == ["round.publish", "round.close"]
    assert entries[-2][1] == "token:rounds" and entries[-2][2]["early"] is True


@pytest.mark.parametrize("role", ["department", "supervisor", "evaluator"])
def test_others_than_the_administrator_are_refused_in_chinese(url: str, role: str) -> None:
    if role != "department" and "postgres" in url:
        pytest.skip("one role on PostgreSQL suffices: the refusal reads no round data")
    with TestClient(make_app(url)) as client:
        login(client, role)
        page = client.get("/evaluations/new")
        assert page.status_code == 403 and "需要管理员角色" in page.text
        panel = client.get("/evaluations/2025Q3/admin")
        assert panel.status_code == 403
        token = _csrf(client, "/evaluations")
        post = client.post("/evaluations/2025Q3/admin/close", data={"csrf_token": token})
        assert post.status_code == 403 and "需要管理员角色" in post.text
        api = client.post("/api/v1/evaluations/2025Q3/close", headers={"X-CSRF-Token": token})
        assert api.status_code == 403 and "需要管理员角色" in api.json()["detail"]
    assert _stage(url, "2025Q3") == "published"


def test_an_uploaded_system_file_with_an_error_is_shown_at_its_line(url: str) -> None:
    text = (
        "name: 上传测试体系\n"
        "unit_kind: department\n"
        "indicators:\n"
        "  - {id: basic, name: 基础, children: [\n"
        "      {id: basic.guide, name: 指南公布, points: -3, source: check, scale: boolean}]}\n"
    )
    with TestClient(make_app(url)) as client:
        login(client, "admin")
        answer = client.post(
            "/evaluations/new",
            data={
                "csrf_token": _csrf(client, "/evaluations/new"),
                "round_id": "bad-file",
                "name": "上传有误",
                **PERIOD,
                "unit_kind": "department",
            },
            files={"system_file": ("system.yaml", text.encode(), "application/x-yaml")},
        )
    assert answer.status_code == 400
    assert "第 5 行" in answer.text and "points 应大于 0" in answer.text
    marked = re.search(r'id="failing-line"[^>]*><td>(\d+)</td>', answer.text)
    assert marked and marked.group(1) == "5"
    assert _stage(url, "bad-file") == "None"  # nothing was created
