"""The site as a whole (issue 14 item 8): Chinese error pages for browsers and Chinese JSON for
API clients, a favicon, the API documentation from local files, the print button block."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.web.pages.base import STATIC
from tests.web.conftest import login

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
ENGLISH = re.compile(r"Not Found|Method Not Allowed|Internal Server Error|Field required")


@pytest.fixture(scope="module")
def crashing(app: FastAPI) -> FastAPI:
    """The app with one route that fails the way a bug would."""

    @app.get("/boom-for-test", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture
def client(crashing: FastAPI) -> Iterator[TestClient]:
    with TestClient(crashing, raise_server_exceptions=False) as c:
        yield c


def test_an_unknown_url_is_a_chinese_page_for_a_browser(client: TestClient) -> None:
    answer = client.get("/no/such/page", headers=HTML)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in answer.text
    assert "<h1>页面不存在（404）</h1>" in answer.text
    assert "页面或资源不存在" in answer.text
    assert not ENGLISH.search(answer.text)


def test_a_signed_in_user_keeps_the_menu_on_the_error_page(client: TestClient) -> None:
    login(client, "supervisor")
    answer = client.get("/no/such/page", headers=HTML)
    assert answer.status_code == 404
    assert 'href="/alerts"' in answer.text and "退出" in answer.text


def test_an_api_client_gets_chinese_json(client: TestClient) -> None:
    for path, headers in (
        ("/no/such/page", {"accept": "application/json"}),
        ("/no/such/page", {}),
        ("/api/v1/no-such-resource", HTML),  # the API answers JSON even to a browser
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"detail": "页面或资源不存在：请检查地址，或从菜单进入"}


def test_a_wrong_method_is_refused_in_chinese(client: TestClient) -> None:
    answer = client.delete("/items", headers=HTML)
    assert answer.status_code == 405 and "不支持此请求方法" in answer.text
    assert client.delete("/api/v1/alerts").json()["detail"] == "不支持此请求方法"


def test_a_bad_parameter_names_the_parameter_for_a_browser(client: TestClient) -> None:
    login(client, "admin")
    answer = client.get("/items?page=abc", headers=HTML)
    assert answer.status_code == 422
    assert "参数 “page” 的值无效" in answer.text
    assert not ENGLISH.search(answer.text)


def test_a_crash_is_a_chinese_500_page_or_json(client: TestClient) -> None:
    page = client.get("/boom-for-test", headers=HTML)
    assert page.status_code == 500
    assert "<h1>系统出错了（500）</h1>" in page.text and "联系系统管理员" in page.text
    assert "a bug" not in page.text and "Traceback" not in page.text
    api = client.get("/boom-for-test", headers={"accept": "application/json"})
    assert api.status_code == 500
    assert api.json()["detail"].startswith("服务器内部错误")


def test_the_favicon(client: TestClient) -> None:
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    page = client.get("/public")
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page.text


def test_the_api_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", docs.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "https://" not in docs.text and "http://" not in docs.text
    assert '"validatorUrl": null' in docs.text
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert (STATIC / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").is_file()
    assert client.get("/redoc").status_code == 404  # FastAPI's CDN page is not served


def test_the_print_button_is_a_block_a_page_switches_on(client: TestClient) -> None:
    login(client, "admin")
    printable = client.get("/evaluations/2025Q3").text
    assert "data-print>打印</button>" in printable
    assert '<script src="/static/print.js" defer></script>' in printable
    assert '<link rel="stylesheet" href="/static/print.css" media="print">' in printable
    other = client.get("/evaluations").text
    assert "data-print" not in other and "print.js" not in other


def test_the_case_alert_and_dashboard_pages_can_be_printed(client: TestClient) -> None:
    login(client, "supervisor")
    alerts = client.get("/alerts").text
    first_alert = re.search(r'href="(/alerts/[\w-]+)"', alerts)
    assert first_alert, "the seed has alerts"
    for page in ("/", "/cases/C1", first_alert.group(1)):
        answer = client.get(page)
        assert answer.status_code == 200, page
        assert "data-print>打印</button>" in answer.text, page
