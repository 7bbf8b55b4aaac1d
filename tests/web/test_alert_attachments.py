"""The alert page shows the files of its handling log and of its orders' replies (issue 14
item 4), on both engines: each by its Chinese name and size, linked to ``/files/{id}``, and the
link downloads the very bytes the department uploaded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.storage import connect
from tests.conftest import drop_pg_schema, pg_url
from tests.web.conftest import login, make_app
from tests.web.seed import seed
from tests.web.test_pages import csrf

EXPLANATION = b"%PDF-1.4\n% explanation of the delay\n%%EOF\n"
REPLY = b"%PDF-1.4\n% reply to the order, with the rectification plan\n%%EOF\n"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """One seeded app per engine for the module (each test answers alerts of its own)."""
    tmp = tmp_path_factory.mktemp("alert-files")
    url = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(url)
    try:
        seed(db, tmp)
    finally:
        db.close()
    app = make_app(url)
    with TestClient(app):
        yield app
    if request.param == "postgres":
        db = connect(url, migrate=False)
        drop_pg_schema(db)
        db.close()


def _open_alerts(dept: TestClient) -> list[str]:
    rows = dept.get("/workspace?format=json").json()["todo"]["rows"]
    return [str(r["ref_id"]) for r in rows if r["kind"] == "open"]


def _linked(html: str, section: str, name: str) -> tuple[str, str]:
    """The attachment id and the size shown beside the link named ``name`` in the section
    whose heading is ``section``."""
    part = html.split(f">{section}</h2>", 1)[1].split("</section>", 1)[0]
    found = re.search(
        rf'<a href="/files/([0-9a-f]+)" download>{re.escape(name)}</a>\s*<small>([^<]+)</small>',
        part,
    )
    assert found, f"{name} is not linked in {section}"
    return found.group(1), unescape(found.group(2))


def _download(client: TestClient, file_id: str) -> httpx.Response:
    answer: httpx.Response = client.get(f"/files/{file_id}")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    return answer


def test_an_explanation_with_a_file_shows_it_in_the_handling_log(app: FastAPI) -> None:
    with TestClient(app) as dept, TestClient(app) as sup:
        login(dept, "department")
        login(sup, "supervisor")
        alert_id = _open_alerts(dept)[0]
        page = f"/workspace/alerts/{alert_id}"
        done = dept.post(
            f"{page}/act",
            data={
                "action": "explain",
                "reason": "办理延误的原因见附件",
                "csrf_token": csrf(dept.get(page).text),
            },
            files=[("files", ("延期情况说明.pdf", EXPLANATION, "application/pdf"))],
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        for reader in (sup, dept):
            html = reader.get(f"/alerts/{alert_id}").text
            file_id, size = _linked(html, "处理记录", "延期情况说明.pdf")
            assert size == f"{len(EXPLANATION)} 字节"
            row = next(r for r in html.split("<tr>") if f"/files/{file_id}" in r)
            assert "<td>情况说明</td>" in row
            assert "办理延误的原因见附件" in row
            assert _download(reader, file_id).content == EXPLANATION
        # transitions without files have an empty cell, not a stray list
        assert html.count('href="/files/') == 1


def test_a_reply_with_a_file_shows_it_under_the_order(app: FastAPI) -> None:
    with TestClient(app) as dept, TestClient(app) as sup:
        login(dept, "department")
        login(sup, "supervisor")
        alert_id = _open_alerts(dept)[0]
        issued = sup.post(
            f"/alerts/{alert_id}/order",
            data={
                "content": "请说明超期原因",
                "reply_days": "5",
                "csrf_token": csrf(sup.get(f"/alerts/{alert_id}").text),
            },
            follow_redirects=False,
        )
        assert issued.status_code == 303, issued.text
        order_id = str(sup.get(f"/alerts/{alert_id}?format=json").json()["orders"][0]["order_id"])
        replied = dept.post(
            f"/orders/{order_id}/act",
            data={
                "action": "reply",
                "text": "已整改，方案见附件",
                "next": f"/orders/{order_id}",
                "csrf_token": csrf(dept.get(f"/orders/{order_id}").text),
            },
            files=[("files", ("整改方案（第一版）.pdf", REPLY, "application/pdf"))],
            follow_redirects=False,
        )
        assert replied.status_code == 303, replied.text
        html = sup.get(f"/alerts/{alert_id}").text
        file_id, size = _linked(html, "督办单", "整改方案（第一版）.pdf")
        assert size == f"{len(REPLY)} 字节"
        order = html.split(">督办单</h2>", 1)[1].split("</section>", 1)[0]
        assert "已整改，方案见附件" in order and order_id in order
        assert _download(sup, file_id).content == REPLY
