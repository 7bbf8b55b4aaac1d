"""整改 on the web and the JSON API, on DuckDB and PostgreSQL: the list (filters, overdue first,
counts as links, export), the demand page with the department's reply (a file) and the
administrator's confirmation, the round's page, and scoping (another unit's demand is 404)."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.orgs import add_org
from govwatch.auth.sessions import CSRF_HEADER
from govwatch.auth.users import add_user
from govwatch.evaluation.rounds.rectification import demand_id_of
from govwatch.storage import connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app

from .rectification_seed import PUBLISHED_AT, ROUND, create, publish

PASSWORD = "Rect-pass-2025!"
NOW = datetime(2025, 12, 5, 10)  # the day after the due date (2025-12-04): overdue
PDF = b"%PDF-1.4 report\n"


@pytest.fixture
def site(db_url: str) -> Iterator[dict[str, TestClient]]:
    db = connect(db_url)
    try:
        add_org(db, "330102", "上城区", "department", None, None, PUBLISHED_AT)
        add_org(db, "330203", "海曙区", "department", None, None, PUBLISHED_AT)
        for name, role, org in (
            ("r_admin", "admin", None),
            ("r_sup", "supervisor", None),
            ("r_d102", "department", "330102"),
            ("r_d203", "department", "330203"),
            ("r_eval", "evaluator", None),
        ):
            add_user(db, name, PASSWORD, role, org, PUBLISHED_AT, display_name=f"整改{role}")
        create(db)
        publish(db)
    finally:
        db.close()
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: NOW
    clients = {}
    for name in ("r_admin", "r_sup", "r_d102", "r_d203", "r_eval"):
        c = TestClient(app)
        answer = c.post("/login", data={"username": name, "password": PASSWORD},
                        follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303
        clients[name] = c
    yield clients
    for c in clients.values():
        c.close()


def _api(c: TestClient) -> dict[str, str]:
    """The session's CSRF token as the API wants it from a signed-in browser."""
    return {CSRF_HEADER: _csrf(c.get("/rectifications").text)}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_the_list_filters_links_its_numbers_and_exports(site: dict[str, TestClient]) -> None:
    admin = site["r_admin"]
    page = admin.get("/rectifications")
    assert page.status_code == 200
    assert 'id="count-all">3<' in page.text and 'id="count-overdue">3<' in page.text
    assert '?status=overdue"' in page.text and "已超期 1 个工作日" in page.text
    assert "服务满意度自评" in page.text  # the data gap, under 缺数据
    twin = admin.get("/rectifications?format=json&unit=330102").json()
    assert twin["total"] == 2 and {r["unit"] for r in twin["rows"]} == {"330102"}
    assert [g["indicator"] for g in twin["gaps"]] == ["service"]
    sheet = admin.get("/rectifications?format=xlsx")
    assert sheet.status_code == 200
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    data = [r for r in rows if r and r[2] in ("330102", "330203")]
    assert sorted((r[2], r[3], r[4]) for r in data) == [
        ("330102", "多渠道服务", 20),
        ("330102", "指南公布", 30),
        ("330203", "服务满意度自评", 24),
    ]
    assert {r[6] for r in data} == {"已超期"}
    round_page = admin.get(f"/evaluations/{ROUND}/rectification")
    assert round_page.status_code == 200 and round_page.text.count("/rectifications/") >= 3
    bad = admin.get("/rectifications?status=late")
    assert bad.status_code == 400 and "整改状态“late”无效" in bad.text


def test_the_department_replies_with_a_file_and_the_admin_confirms(
    site: dict[str, TestClient],
) -> None:
    dept, admin = site["r_d102"], site["r_admin"]
    guide = demand_id_of(ROUND, "330102", "guide")
    page = dept.get(f"/rectifications/{guide}")
    assert page.status_code == 200 and "回复整改情况" in page.text and "确认整改" not in page.text
    menu = r'<a href="/rectifications"[^>]*>整改 <span class="badge" aria-label="待办 {n} 项">'
    assert re.search(menu.format(n=2), page.text)  # the menu counts what the department owes
    answer = dept.post(
        f"/rectifications/{guide}/reply",
        data={"csrf_token": _csrf(page.text), "text": "已在门户公布全部办事指南"},
        files=[("files", ("整改报告.pdf", PDF, "application/pdf"))],
        follow_redirects=False,
    )
    assert answer.status_code == 303
    shown = dept.get(f"/rectifications/{guide}?format=json").json()
    assert shown["status"] == "replied" and shown["files"][0]["name"] == "整改报告.pdf"
    file_url = f"/rectifications/{guide}/files/{shown['files'][0]['attachment_id']}"
    assert admin.get(file_url).content == PDF
    assert site["r_d203"].get(file_url).status_code == 404
    page = admin.get(f"/rectifications/{guide}")
    assert "确认整改" in page.text and re.search(menu.format(n=1), page.text)
    empty = admin.post(f"/rectifications/{guide}/return",
                       data={"csrf_token": _csrf(page.text), "reason": ""})  # fmt: skip
    assert empty.status_code == 400 and "退回理由" in empty.text
    done = admin.post(
        f"/rectifications/{guide}/confirm",
        data={"csrf_token": _csrf(page.text), "note": "整改到位"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert admin.get(f"/api/v1/rectifications/{guide}").json()["status"] == "confirmed"


def test_scoping_a_department_sees_its_own_demands_only(site: dict[str, TestClient]) -> None:
    other = demand_id_of(ROUND, "330203", "service")
    d102 = site["r_d102"]
    assert d102.get(f"/rectifications/{other}").status_code == 404
    assert d102.get(f"/api/v1/rectifications/{other}").status_code == 404
    listed = d102.get("/api/v1/rectifications").json()
    assert {i["unit"] for i in listed["items"]} == {"330102"} and listed["total"] == 2
    refused = d102.post(
        f"/api/v1/rectifications/{other}/reply", json={"text": "代答"}, headers=_api(d102)
    )
    assert refused.status_code == 404
    assert site["r_eval"].get("/rectifications").status_code == 403
    sup = site["r_sup"]
    assert sup.get("/api/v1/rectifications").json()["total"] == 3
    forbidden = sup.post(
        f"/api/v1/rectifications/{other}/confirm", json={"text": ""}, headers=_api(sup)
    )
    assert forbidden.status_code == 403 and "管理员" in forbidden.json()["detail"]


def test_the_api_reply_carries_files_and_refuses_a_renamed_program(
    site: dict[str, TestClient],
) -> None:
    d203 = site["r_d203"]
    service = demand_id_of(ROUND, "330203", "service")
    bad = d203.post(
        f"/api/v1/rectifications/{service}/reply",
        json={"text": "见附件", "attachments": [
            {"name": "报告.pdf", "content_base64": base64.b64encode(b"MZ").decode()}]},
        headers=_api(d203),
    )  # fmt: skip
    assert bad.status_code == 400 and "内容不是PDF" in bad.json()["detail"]
    good = d203.post(
        f"/api/v1/rectifications/{service}/reply",
        json={"text": "已整改", "attachments": [
            {"name": "报告.pdf", "content_base64": base64.b64encode(PDF).decode()}]},
        headers=_api(d203),
    )  # fmt: skip
    assert good.status_code == 200 and good.json()["status"] == "replied"
    admin = site["r_admin"]
    returned = admin.post(
        f"/api/v1/rectifications/{service}/return", json={"text": "材料不全"}, headers=_api(admin)
    )
    assert returned.json()["status"] == "returned" and returned.json()["shown_status"] == "已超期"


def test_the_administrator_sets_a_rounds_period_on_the_page(site: dict[str, TestClient]) -> None:
    admin = site["r_admin"]
    db_round = "2025-12"
    db = connect(str(admin.app.state.db_url))  # type: ignore[attr-defined]
    try:
        create(db, db_round)
    finally:
        db.close()
    page = admin.get(f"/evaluations/{db_round}/rectification")
    assert 'id="rectify-days">15<' in page.text
    saved = admin.post(
        f"/evaluations/{db_round}/rectification/days",
        data={"csrf_token": _csrf(page.text), "days": "10"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert 'id="rectify-days">10<' in admin.get(f"/evaluations/{db_round}/rectification").text
    dept = site["r_d102"]
    refused = dept.post(
        f"/evaluations/{db_round}/rectification/days",
        data={"csrf_token": _csrf(dept.get("/rectifications").text), "days": "5"},
    )
    assert refused.status_code == 403 and "管理员" in refused.text
