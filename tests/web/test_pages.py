"""Every page renders for every role, with the data the API functions give; forms act by role."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.web.conftest import login

PAGES = [
    "/",
    "/alerts",
    "/cases/C1",
    "/rules",
    "/items",
    "/items/A1",
    "/evaluations",
    "/evaluations/2025Q3",
    "/public",
]


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


@pytest.mark.parametrize("role", ["admin", "supervisor", "department", "evaluator"])
def test_every_page_renders_in_chinese_for_each_role(app: FastAPI, role: str) -> None:
    with TestClient(app) as client:
        login(client, role)
        for page in [*PAGES, "/workspace"]:
            answer = client.get(page)
            assert answer.status_code in (200, 403), (page, answer.status_code)
            assert '<html lang="zh-CN">' in answer.text
            assert "Traceback" not in answer.text


def test_pages_need_login_except_public(app: FastAPI) -> None:
    with TestClient(app) as client:
        for page in PAGES[:-1]:
            answer = client.get(page, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert client.get("/public").status_code == 200


def test_no_page_references_another_host(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, "admin")
        for page in PAGES:
            html = client.get(page).text
            for url in re.findall(r'(?:src|href)="([^"]+)"', html):
                assert not re.match(r"^(https?:)?//", url), (page, url)


def test_dashboard_counts_open_alerts_by_level_and_has_a_json_twin(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, "supervisor")
        data = client.get("/?format=json").json()
        assert data["open_by_level"]["red"] == 3
        assert data["open_total"] == sum(data["open_by_level"].values())
        assert {r["code"] for r in data["red_departments"]} == {"D1", "D2"}
        assert "监察概况" in client.get("/").text


def test_department_sees_only_its_own_alerts(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, "department")
        rows = client.get("/alerts?format=json").json()["items"]
        assert rows and {r["department_code"] for r in rows} == {"D1"}
        assert client.get("/cases/C5").status_code == 403


def test_case_page_draws_the_clock_and_masks_nothing_for_a_supervisor(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, "evaluator")
        html = client.get("/cases/C3").text
        assert "<svg" in html and "承诺期限" in html and "补正" in html
        assert "张三" not in html  # evaluators see personal data masked


def test_public_csv_lists_published_results_with_stars_and_ranks(app: FastAPI) -> None:
    with TestClient(app) as client:
        answer = client.get("/public/rounds/2025Q3.csv")
        assert answer.status_code == 200
        rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff"))))
        assert rows[0][:5] == ["单位编码", "单位名称", "分组", "得分", "星级"]
        assert rows[1][0] == "D1" and rows[1][4] == "4" and rows[1][5] == "1"
        assert client.get("/public/rounds/2025Q3.json").json()["results"][1]["rank"] == 2
        assert client.get("/public/rounds/nope.csv").status_code == 404


def test_appeal_rejected_ordered_and_replied_through_the_forms(seeded_url: str) -> None:
    from tests.web.conftest import make_app

    app = make_app(seeded_url)
    with TestClient(app) as dept, TestClient(app) as sup:
        login(dept, "department")
        login(sup, "supervisor")
        alert = next(
            r
            for r in dept.get("/alerts?format=json&level=red").json()["items"]
            if r["state"] == "open"
        )
        page = f"/alerts/{alert['alert_id']}"
        token = csrf(dept.get(page).text)
        dept.post(
            f"{page}/act",
            data={"action": "appeal", "reason": "申请人要求延期", "csrf_token": token},
        )
        assert sup.get(f"{page}?format=json").json()["state"] == "appealed"
        token = csrf(sup.get(page).text)
        answer = sup.post(
            f"{page}/act",
            data={"action": "reject_appeal", "reason": "理由不成立", "csrf_token": token},
        )
        assert "已驳回申诉" in answer.text
        sup.post(f"{page}/order", data={"content": "请五日内说明整改情况", "csrf_token": token})
        order = sup.get(f"{page}?format=json").json()["orders"][0]
        token = csrf(dept.get("/workspace").text)
        answer = dept.post(
            f"/orders/{order['order_id']}/act",
            data={"action": "reply", "text": "已整改", "csrf_token": token},
        )
        assert "已回复督办" in answer.text
        assert sup.get(f"{page}?format=json").json()["orders"][0]["state"] == "replied"


def test_a_form_without_csrf_token_is_refused(app: FastAPI) -> None:
    with TestClient(app) as client:
        login(client, "department")
        alert = client.get("/alerts?format=json").json()["items"][0]
        answer = client.post(
            f"/alerts/{alert['alert_id']}/act", data={"action": "explain", "reason": "x"}
        )
        assert answer.status_code == 403


def test_custom_rule_is_checked_as_typed_then_fires_after_saving(seeded_url: str) -> None:
    from tests.web.conftest import make_app

    with TestClient(make_app(seeded_url)) as client:
        login(client, "admin")
        token = csrf(client.get("/rules").text)
        bad = client.post(
            "/rules/check",
            data={
                "id": "many_events",
                "type": "过程异常",
                "level": "yellow",
                "description": "事件多",
                "expression": "nonsense_column > 1",
                "csrf_token": token,
            },
        ).json()
        assert not bad["ok"] and "nonsense_column" in bad["message"]
        form = {
            "id": "many_events",
            "type": "过程异常",
            "level": "yellow",
            "description": "事件过多",
            "expression": "event_count >= 5",
            "csrf_token": token,
        }
        assert client.post("/rules/check", data=form).json()["ok"]
        answer = client.post("/rules/custom", data=form)
        assert "已添加规则 many_events" in answer.text
        assert client.app.state.jobs.idle(timeout=120)  # the re-evaluation runs as a job
        rows = client.get("/alerts?format=json&rule=many_events").json()["items"]
        assert rows and {r["rule"] for r in rows} == {"many_events"}
