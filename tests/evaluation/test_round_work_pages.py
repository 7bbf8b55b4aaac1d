"""The round work pages and their API twin (issue 13 items 1-4), on DuckDB and PostgreSQL:
a department fills with a file (refused after the deadline, a renamed file refused), an
evaluator checks, verifies and imports a sheet, another evaluator does not see the round, the
administrator commissions, a department appeals with a file; the menu counts what each owes.

One seeded database per engine for the module (password hashes and the app's start are slow);
each test works on its own unit, indicator or round so that the order does not matter.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import openpyxl
import pytest
from fastapi.testclient import TestClient

from govwatch.storage import Database, connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.conftest import drop_pg_schema, pg_url

from .round_work_seed import AT, DEADLINE, PASSWORD, PDF, PNG, seed_work

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    address = (
        f"duckdb:///{tmp_path_factory.mktemp('round-work')}/govwatch.duckdb"
        if request.param == "duckdb"
        else pg_url()
    )
    db = connect(address)
    try:
        seed_work(db)
    finally:
        db.close()
    yield address
    if request.param == "postgres":
        db = connect(address, migrate=False)
        drop_pg_schema(db)
        db.close()


def client(url: str, user: str, at: datetime = AT) -> TestClient:
    app = create_app(url)
    app.dependency_overrides[clock] = lambda: at
    c = TestClient(app)
    answer = c.post("/login", data={"username": user, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return c


def token(c: TestClient, page: str = "/evaluations") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get(page).text)
    assert found
    return found.group(1)


def query(url: str, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    db: Database = connect(url)
    try:
        return db.query(sql, params or [])
    finally:
        db.close()


def test_a_department_fills_a_value_with_a_file_and_is_refused_after_the_deadline(
    url: str,
) -> None:
    with client(url, "w_d1") as d1:
        todo = d1.get("/evaluations/todo")
        assert todo.status_code == 200 and "多渠道服务" in todo.text and "剩余" in todo.text
        assert re.search(r'评估填报 <span class="badge"[^>]*>2</span>', todo.text)
        t = token(d1, "/evaluations/R1/fill")
        answer = d1.post(
            "/evaluations/R1/fill",
            data={"csrf_token": t, "unit": "D1", "indicator": "channels", "value": "85%"},
            files=[("files", ("渠道截图.png", PNG, "image/png"))],
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        page = d1.get("/evaluations/R1/fill")
        assert "渠道截图.png" in page.text and "已提交，待核验" in page.text
        evidence_id = re.search(r"/evaluations/R1/files/([0-9a-f]+)", page.text)
        assert evidence_id
        download = d1.get(f"/evaluations/R1/files/{evidence_id.group(1)}")
        assert download.content == PNG and "attachment" in download.headers["content-disposition"]
        renamed = d1.post(
            "/evaluations/R1/fill",
            data={"csrf_token": t, "unit": "D1", "indicator": "channels", "value": "0.9"},
            files=[("files", ("说明.pdf", b"MZ\x90\x00", "application/pdf"))],
        )
        assert renamed.status_code == 400 and "的内容不是PDF 文档" in renamed.text
        other = d1.post(
            "/evaluations/R1/fill",
            data={"csrf_token": t, "unit": "D2", "indicator": "channels", "value": "0.9"},
        )
        assert other.status_code == 400 and "不能为单位“D2”" in other.text
        check = d1.post(
            "/evaluations/R1/fill",
            data={"csrf_token": t, "unit": "D1", "indicator": "guide", "value": "是"},
        )
        assert check.status_code == 400 and "不由部门填报" in check.text
    with client(url, "w_d2") as d2:
        assert d2.get(f"/evaluations/R1/files/{evidence_id.group(1)}").status_code == 404
    late = DEADLINE + timedelta(hours=1)
    with client(url, "w_d1", late) as d1:
        page = d1.get("/evaluations/R1/fill")
        assert "填报已截止" in page.text
        refused = d1.post(
            "/evaluations/R1/fill",
            data={"csrf_token": token(d1), "unit": "D1", "indicator": "channels", "value": "1"},
        )
        assert refused.status_code == 400 and "截止" in refused.text
    assert query(
        url,
        "SELECT value, entered_by FROM eval_values WHERE round_id = 'R1' AND unit = 'D1' "
        "AND indicator = 'channels'",
    ) == [(0.85, "department:w_d1")]
    assert query(url, "SELECT actor FROM ledger WHERE kind = 'round.evidence'") == [
        ("department:w_d1",)
    ]


def _sheet() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (
        ["单位代码", "指标", "值", "证据链接", "说明"],
        ["D2", "guide", "否", "https://example.gov.cn/d2", "未见指南"],
        ["D2", "site", "是", "", ""],
        ["X1", "guide", "是", "", ""],
    ):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_evaluator_checks_verifies_and_imports_a_sheet(url: str) -> None:
    with client(url, "w_d2") as d2:
        d2.post(
            "/evaluations/R1/fill",
            data={
                "csrf_token": token(d2),
                "unit": "D2",
                "indicator": "channels",
                "value": "0.6",
            },
        )
    with client(url, "ev1") as ev:
        listing = ev.get("/evaluations?format=json").json()
        assert [r["round_id"] for r in listing["rounds"]] == ["R1"]
        assert ev.get("/evaluations/R2").status_code == 404
        assert ev.get("/evaluations/R2/check").status_code == 404
        page = ev.get("/evaluations/R1/check")
        assert "进度：已录入 0 / 2 项" in page.text and "批量导入" in page.text
        t = token(ev, "/evaluations/R1/check")
        saved = ev.post(
            "/evaluations/R1/check/value",
            data={
                "csrf_token": t,
                "unit": "D1",
                "indicator": "guide",
                "value": "是",
                "evidence_url": "https://example.gov.cn/d1",
                "note": "首页有指南栏目",
            },
            files=[("files", ("首页.png", PNG, "image/png"))],
            follow_redirects=False,
        )
        assert saved.status_code == 303, saved.text
        wrong = ev.post(
            "/evaluations/R1/check/value",
            data={"csrf_token": t, "unit": "D1", "indicator": "site", "value": "是"},
        )
        assert wrong.status_code == 400 and "未受托录入指标“网站可用”" in wrong.text
        verified = ev.post(
            "/evaluations/R1/check/verify",
            data={"csrf_token": t, "unit": "D2", "indicator": "channels", "verdict": "disputed",
                  "note": "证明材料缺失"},
            follow_redirects=False,
        )  # fmt: skip
        assert verified.status_code == 303
        own = ev.post(
            "/evaluations/R1/check/verify",
            data={"csrf_token": t, "unit": "D1", "indicator": "guide", "verdict": "verified"},
        )
        assert own.status_code == 400 and "不能自己核验" in own.text
        imported = ev.post(
            "/evaluations/R1/check/import",
            data={"csrf_token": t},
            files=[("sheet", ("核查结果.xlsx", _sheet(), "application/vnd.ms-excel"))],
        )
        assert imported.status_code == 200
        assert "已导入 1 行，2 行有错误未导入" in imported.text
        assert "第 3 行" in imported.text and "“网站可用”未委托给你" in imported.text
        assert "第 4 行" in imported.text and "“X1”不是本批次的评估对象" in imported.text
        assert "进度：已录入 2 / 2 项" in imported.text
    rows = query(
        url,
        "SELECT unit, indicator, status, evidence_url, check_note FROM eval_values "
        "WHERE round_id = 'R1' AND unit = 'D2' ORDER BY indicator",
    )
    assert rows == [
        ("D2", "channels", "disputed", None, "证明材料缺失"),
        ("D2", "guide", "submitted", "https://example.gov.cn/d2", None),
    ]
    with client(url, "ev3") as outsider:
        assert outsider.get("/evaluations?format=json").json()["rounds"] == []
        assert outsider.get("/evaluations/R1/check").status_code == 404


def test_the_administrator_commissions_on_the_page_and_others_may_not(url: str) -> None:
    with client(url, "w_d1") as d1:
        assert d1.get("/evaluations/R2/commission").status_code == 403
    with client(url, "w_admin") as admin:
        page = admin.get("/evaluations/R2/commission")
        assert "尚未委托任何第三方评估" in page.text and "多渠道服务" not in page.text
        t = token(admin, "/evaluations/R2/commission")
        saved = admin.post(
            "/evaluations/R2/commission",
            data={"csrf_token": t, "kind": "user", "evaluator": "ev3", "leaves": ["guide", "site"]},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        bad = admin.post(
            "/evaluations/R2/commission",
            data={"csrf_token": t, "kind": "user", "evaluator": "nobody", "leaves": ["guide"]},
        )
        assert bad.status_code == 400 and "用户“nobody”不存在" in bad.text
    with client(url, "ev3") as ev3:
        assert [r["round_id"] for r in ev3.get("/evaluations?format=json").json()["rounds"]] == [
            "R2"
        ]
    assert query(
        url,
        "SELECT evaluator, indicator, commissioned_by FROM eval_commissions "
        "WHERE round_id = 'R2' ORDER BY indicator",
    ) == [("ev3", "guide", "admin:w_admin"), ("ev3", "site", "admin:w_admin")]


def test_the_api_takes_values_checks_imports_and_appeals_as_the_pages_do(url: str) -> None:
    with client(url, "w_d2") as d2:
        t = {"X-CSRF-Token": token(d2)}
        answer = d2.post(
            "/api/v1/evaluations/R2/values",
            json={
                "unit": "D2",
                "indicator": "channels",
                "value": "70%",
                "attachments": [
                    {"name": "说明.pdf", "content_base64": base64.b64encode(PDF).decode()}
                ],
            },
            headers=t,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["files"][0]["content_type"] == "application/pdf"
        refused = d2.post(
            "/api/v1/evaluations/R2/values",
            json={"unit": "D2", "indicator": "guide", "value": "是"},
            headers=t,
        )
        assert refused.status_code == 400 and "不由部门填报" in refused.json()["detail"]
        todo = d2.get("/api/v1/evaluation-work/todo").json()
        assert "R2" not in [r["round_id"] for r in todo["fill"]]  # its one filled leaf is in
        assert todo == d2.get("/evaluations/todo?format=json").json()
    with client(url, "ev2") as ev2:
        t = {"X-CSRF-Token": token(ev2)}
        csv = "单位代码,指标,值\nD1,site,是\nD1,guide,否\n".encode()
        result = ev2.post(
            "/api/v1/evaluations/R1/imports",
            json={"name": "a.csv", "content_base64": base64.b64encode(csv).decode()},
            headers=t,
        ).json()
        assert result["applied"] == 1
        assert [(e["row"], e["column"]) for e in result["errors"]] == [(3, "指标")]
        check = ev2.get("/api/v1/evaluations/R1/check").json()
        assert {u["unit"]: u["entered"] for u in check["units"]}["D1"] == 1


def test_a_department_sees_its_result_and_appeals_with_a_file_within_the_window(
    url: str,
) -> None:
    db = connect(url)
    try:
        db.execute(
            "UPDATE eval_rounds SET status = 'review', review_until_at = ? WHERE round_id = 'R2'",
            [AT + timedelta(days=3)],
        )
        db.execute(
            "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, "
            "group_rank, coverage, poorly_covered, points, missing) VALUES ('R2', 'D1', '市级', "
            "70.0, 3, 1, 1, 1.0, FALSE, '{\"channels\": 40.0, \"guide\": 30.0}', '[]')"
        )
    finally:
        db.close()
    with client(url, "w_d1") as d1:
        page = d1.get("/evaluations/R2/appeal")
        assert "70.00 分" in page.text and "提出申诉" in page.text
        assert "<strong>失 30 分</strong>" in page.text  # 网站可用 lost all its 30 points
        answer = d1.post(
            "/evaluations/R2/appeal",
            data={"csrf_token": token(d1), "unit": "D1", "indicator": "site",
                  "reason": "网站全年可用，监测有误"},
            files=[("files", ("监测日志.pdf", PDF, "application/pdf"))],
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303, answer.text
        page = d1.get("/evaluations/R2/appeal")
        assert "网站全年可用，监测有误" in page.text and "监测日志.pdf" in page.text
    with client(url, "w_d1", AT + timedelta(days=4)) as late:
        page = late.get("/evaluations/R2/appeal")
        assert "复核申诉期已结束" in page.text
        refused = late.post(
            "/evaluations/R2/appeal",
            data={"csrf_token": token(late), "unit": "D1", "reason": "再申诉"},
        )
        assert refused.status_code == 400 and "不能再申诉" in refused.text
    assert query(url, "SELECT actor FROM ledger WHERE kind = 'round.appeal'") == [
        ("department:w_d1",)
    ]
