"""The desks over HTTP (issue 14 items 3 and 4): who may open which, uploads and downloads of
attachments with their limits, the confirmation step of bulk actions, the inbox, exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.users import add_user
from tests.web.conftest import login, make_app
from tests.web.seed import AT, PASSWORD
from tests.web.test_pages import csrf

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def fresh(seeded_url: str) -> Iterator[FastAPI]:
    """The seeded app, with a user of the other department (D2) for the scope checks."""
    app = make_app(seeded_url)
    with TestClient(app):
        pool = app.state.pool
        db = pool.get()
        if not db.scalar("SELECT COUNT(*) FROM users WHERE username = 'web_d2'"):
            add_user(db, "web_d2", PASSWORD, "department", "D2", AT, display_name="交通用户")
        pool.put(db)
    yield app


def _login_as(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303


def test_each_role_finds_its_desk(fresh: FastAPI) -> None:
    with TestClient(fresh) as sup, TestClient(fresh) as dept, TestClient(fresh) as ev:
        login(sup, "supervisor")
        login(dept, "department")
        login(ev, "evaluator")
        assert sup.get("/workspace", follow_redirects=False).headers["location"] == "/desk"
        assert 'href="/desk"' in sup.get("/desk").text
        refused = dept.get("/desk")
        assert refused.status_code == 403 and "督办台供监察人员和管理员使用" in refused.text
        assert ev.get("/workspace").status_code == 403
        assert "部门工作台" not in dept.get("/workspace").text
        data = dept.get("/workspace?format=json").json()
        badge = re.search(
            r'href="/workspace"[^>]*>今日待办 <span class="badge"[^>]*>(\d+)<', dept.get("/").text
        )
        assert badge is not None and int(badge.group(1)) == data["todo"]["total"] > 0
        assert sup.get("/desk?format=json").json()["counts"]["issue"] > 0


def test_an_answer_with_files_is_checked_stored_and_downloaded_in_scope(fresh: FastAPI) -> None:
    with TestClient(fresh) as dept, TestClient(fresh) as other, TestClient(fresh) as sup:
        login(dept, "department")
        _login_as(other, "web_d2")
        login(sup, "supervisor")
        row = next(
            r
            for r in dept.get("/workspace?format=json").json()["todo"]["rows"]
            if r["kind"] == "open"
        )
        page = f"/workspace/alerts/{row['ref_id']}"
        token = csrf(dept.get(page).text)
        refused = dept.post(
            f"{page}/act",
            data={"action": "explain", "reason": "见附件", "csrf_token": token},
            files=[("files", ("病毒.exe", b"MZ\x90\x00", "application/octet-stream"))],
        )
        assert refused.status_code == 400
        assert "附件“病毒.exe”的类型不允许上传" in refused.text
        assert "见附件" in refused.text  # what was typed is kept
        too_big = dept.post(
            f"{page}/act",
            data={"action": "explain", "reason": "见附件", "csrf_token": token},
            files=[("files", ("大.pdf", b"%PDF-" + b"0" * (5 * 2**20), "application/pdf"))],
        )
        assert too_big.status_code == 400 and "超过 5.0 MB 上限" in too_big.text
        done = dept.post(
            f"{page}/act",
            data={"action": "explain", "reason": "见附件", "csrf_token": token},
            files=[
                ("files", ("情况说明.pdf", PDF, "application/pdf")),
                ("files", ("", b"", "application/octet-stream")),  # an empty file field
            ],
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert quote("已提交情况说明") in done.headers["location"]
        html = dept.get(page).text
        file_id = re.search(r'href="/files/([0-9a-f]+)" download>情况说明\.pdf<', html).group(1)  # type: ignore[union-attr]
        download = dept.get(f"/files/{file_id}")
        assert download.content == PDF
        assert download.headers["content-disposition"].startswith("attachment;")
        assert (
            "filename*=UTF-8''" + quote("情况说明.pdf") in download.headers["content-disposition"]
        )
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-type"] == "application/octet-stream"
        assert sup.get(f"/files/{file_id}").content == PDF
        assert other.get(f"/files/{file_id}").status_code == 403
        assert dept.get("/files/nope").status_code == 404


def test_bulk_issue_asks_for_confirmation_first(fresh: FastAPI) -> None:
    with TestClient(fresh) as sup:
        login(sup, "supervisor")
        data = sup.get("/desk?list=issue&format=json").json()
        ids = [r["alert_id"] for r in data["rows"][:2]]
        token = csrf(sup.get("/desk?list=issue").text)
        empty = sup.post("/desk/orders/confirm", data={"content": "x", "csrf_token": token})
        assert empty.status_code == 400 and "请先勾选要处理的告警" in empty.text
        confirm = sup.post(
            "/desk/orders/confirm",
            data={"alert_id": ids, "content": "请说明", "csrf_token": token},
        )
        assert confirm.status_code == 200 and "确认发出督办" in confirm.text
        assert (
            sup.get("/desk?format=json").json()["counts"]["issue"] == data["total"]
        )  # nothing yet
        done = sup.post(
            "/desk/orders/issue",
            data={"alert_id": ids, "content": "请说明", "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert sup.get("/desk?format=json").json()["counts"]["issue"] == data["total"] - 2
        again = sup.post(
            "/desk/orders/issue", data={"alert_id": ids, "content": "再督办", "csrf_token": token}
        )
        assert again.status_code == 409 and "已督办过" in again.text


def test_desk_lists_export_to_excel_and_csv_with_their_filter(fresh: FastAPI) -> None:
    with TestClient(fresh) as sup, TestClient(fresh) as dept:
        login(sup, "supervisor")
        login(dept, "department")
        total = sup.get("/desk?list=issue&org=D1&format=json").json()["total"]
        book = sup.get("/desk?list=issue&org=D1&format=xlsx")
        assert book.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet = load_workbook(io.BytesIO(book.content)).active
        cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
        assert "部门 = 市场监管局" in str(cells[1][0])
        header = cells.index(next(c for c in cells if c and c[0] == "办件"))
        assert len([r for r in cells[header + 1 :] if r and r[0]]) == total
        text = dept.get("/workspace?format=csv").content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        todo = dept.get("/workspace?format=json").json()["todo"]["total"]
        assert rows[0][0] == "今日待办"
        assert (
            len(rows)
            - rows.index(
                ["期限", "剩余/超期", "待办事项", "督办单或办件", "级别", "告警类型", "内容"]
            )
            - 1
            == todo
        )


def test_inbox_marks_read_per_reader(fresh: FastAPI) -> None:
    with TestClient(fresh) as dept, TestClient(fresh) as sup:
        login(dept, "department")
        login(sup, "supervisor")
        inbox = dept.get("/inbox?format=json").json()
        assert inbox["unread_total"] >= 1
        token = csrf(dept.get("/inbox").text)
        first = inbox["rows"][0]["notification_id"]
        dept.post(f"/inbox/{first}/read", data={"csrf_token": token})
        assert dept.get("/inbox?format=json").json()["unread_total"] == inbox["unread_total"] - 1
        answer = dept.post("/inbox/read-all", data={"csrf_token": token})
        assert "条消息标为已读" in answer.text
        assert dept.get("/inbox?format=json").json()["unread_total"] == 0
        assert sup.get("/inbox").status_code == 200
