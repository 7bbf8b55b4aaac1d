"""导出 of the lists H6 owns (issue 14 item 7): the item catalog, the evaluation rounds and a
round's results, on both engines; a department exports exactly what the round page shows it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from govwatch.storage import connect
from tests.evaluation.visibility_seed import seed_round
from tests.web.conftest import login, make_app
from tests.web.seed import AT, seed

REVIEW = "R-REVIEW"  # 复核中: a department sees its own result only
COLLECTING = "R-COLLECT"  # 采集中: a department sees no result at all


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    db = connect(db_url)
    try:
        seed(db, tmp_path)
        seed_round(db, REVIEW, "review", units=("D1", "D2"))
        seed_round(db, COLLECTING, "collecting", units=("D1", "D2"))
    finally:
        db.close()
    with TestClient(make_app(db_url)) as c:
        yield c


def sheet(content: bytes) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.active is not None
    return list(book.active.iter_rows(values_only=True))


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_items_export_with_names_and_the_search(client: TestClient) -> None:
    login(client, "supervisor")
    answer = client.get("/items.xlsx", params={"q": "市场"})
    assert answer.status_code == 200
    rows = sheet(answer.content)
    assert rows[0][0] == "事项目录"
    assert rows[1][0] == "筛选条件: 搜索 = 市场"
    assert rows[2][0] == f"导出时间: {AT:%Y-%m-%d %H:%M}"
    assert rows[4][:3] == ("事项编码", "事项名称", "实施部门")
    data = rows[5:]
    assert [r[0] for r in data] == ["A1"]  # B1 (交通运输局) is not found by 市场
    a1 = dict(zip(rows[4], data[0], strict=True))
    assert a1["实施部门"] == "市场监管局"
    assert a1["法定时限"] == 20 and a1["承诺时限"] == 10  # numbers, not text
    assert a1["承诺时限单位"] == "工作日"
    assert a1["网上办理深度"] == "在线受理"
    everything = csv_rows(client.get("/items.csv").content)
    assert everything[1] == ["筛选条件: 无（全部）"]
    assert [r[0] for r in everything[5:]] == ["A1", "B1"]


def test_items_export_follows_the_page_s_permission(client: TestClient) -> None:
    answer = client.get("/items.xlsx", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    login(client, "admin")
    assert client.get("/items.pdf").status_code == 404


def test_rounds_list_export(client: TestClient) -> None:
    login(client, "supervisor")
    page = client.get("/evaluations").text
    assert 'href="/evaluations?format=xlsx"' in page
    rows = sheet(client.get("/evaluations", params={"format": "xlsx"}).content)
    assert rows[4] == (
        "批次", "名称", "评估期起", "评估期止", "指标体系", "状态", "发布时间", "提前发布"
    )  # fmt: skip
    ids = {r[0] for r in rows[5:]}
    assert {"2025Q3", REVIEW, COLLECTING} <= ids
    review = next(r for r in rows[5:] if r[0] == REVIEW)
    assert review[5] == "复核中"
    assert review[2].year == 2025 and review[2].month == 7  # a real date


def test_round_results_export_as_the_supervisor_sees_them(client: TestClient) -> None:
    login(client, "supervisor")
    page = client.get(f"/evaluations/{REVIEW}").text
    assert f'href="/evaluations/{REVIEW}?format=xlsx"' in page
    answer = client.get(f"/evaluations/{REVIEW}", params={"format": "xlsx"})
    assert answer.status_code == 200
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    rows = sheet(answer.content)
    assert (
        rows[1][0]
        == f"筛选条件: 评估批次 = {REVIEW} 评估（{REVIEW}）；评估期 = 2025-07-01 至 2025-09-30；状态 = 复核中"
    )
    header = rows[4]
    assert header[:7] == ("排名", "单位编码", "单位", "分组", "组内排名", "得分", "星级")
    assert header[7:] == ("排名区间", "多渠道服务（满分 60）", "指南公布（满分 40）")
    data = rows[5:]
    assert [r[2] for r in data] == ["单位D1", "单位D2"]
    assert data[0][5] == 79.0 and data[0][9] == 39.0


def test_a_department_exports_only_what_the_round_page_shows_it(client: TestClient) -> None:
    login(client, "department")
    page = client.get(f"/evaluations/{REVIEW}").text
    assert "单位D1" in page and "单位D2" not in page
    for fmt in ("xlsx", "csv"):
        content = client.get(f"/evaluations/{REVIEW}", params={"format": fmt}).content
        text = str(sheet(content)) if fmt == "xlsx" else str(csv_rows(content))
        assert "单位D1" in text
        assert "单位D2" not in text and "'D2'" not in text
    # collecting: the department sees no result on the page, and the export holds none
    rows = sheet(client.get(f"/evaluations/{COLLECTING}", params={"format": "xlsx"}).content)
    assert rows[5:] == []
    assert "单位D" not in client.get(f"/evaluations/{COLLECTING}").text


def test_a_round_the_caller_may_not_see_is_not_exported(client: TestClient) -> None:
    login(client, "department")
    answer = client.get("/evaluations/NO-SUCH", params={"format": "xlsx"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
