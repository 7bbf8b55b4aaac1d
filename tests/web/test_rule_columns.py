"""The custom-rule form lists the case view's columns by their Chinese names (issue 14 item 2):
the identifier an expression must use stays beside each name on hover (``title``) and in the
插入 button that writes it into the expression, never as the page's text; a custom rule's
expression reads with its columns named in Chinese, the expression itself on hover. On both
engines over HTTP, and in Chromium at desktop and phone width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch import vocabulary
from govwatch.rules import catalog as rule_catalog
from govwatch.rules.custom import CustomRuleDef
from govwatch.rules.describe import expression_text, view_columns
from govwatch.rules.views import CASE_VIEW_COLUMNS
from govwatch.storage import connect
from tests.conftest import drop_pg_schema, pg_url
from tests.web.conftest import login, make_app
from tests.web.seed import AT, seed
from tests.web.test_browser import SHOTS, Session
from tests.web.test_calendar_page import chromium as chromium
from tests.web.test_calendar_page import served
from tests.web.test_plain_chinese import code_names, offences

CUSTOM = CustomRuleDef(
    "late_finish_with_fee",
    "timeliness",
    "办理超期异常",
    "yellow",
    "超承诺期限 3 天以上才办结且收过费",
    "status = 'finished' AND promised_days_late > 3 AND payments > 0",
    "",
)


def test_every_column_has_a_chinese_name_of_its_own() -> None:
    assert set(vocabulary.CASE_VIEW_COLUMN_NAMES) == set(CASE_VIEW_COLUMNS)
    names = [c.label for c in view_columns()]
    assert len(set(names)) == len(names) == len(CASE_VIEW_COLUMNS)
    assert all(re.search(r"[\u3400-\u9fff]", n) for n in names)
    assert not any(re.search(r"[a-z]_[a-z]", n) for n in names)
    assert {c.kind for c in view_columns()} <= set(vocabulary.VIEW_COLUMN_TYPE_NAMES.values())


def test_an_expression_reads_with_its_columns_named() -> None:
    assert expression_text(CUSTOM.expression) == (
        "〔办件状态〕 = 'finished' AND 〔超出承诺期限〕 > 3 AND 〔收费笔数〕 > 0"
    )
    # a quoted value that happens to be a column's identifier is the value, left as written
    assert expression_text("item_code = 'status'") == "〔事项编码〕 = 'status'"


def _seeded(url: str, tmp: Path) -> None:
    db = connect(url)
    try:
        seed(db, tmp)
        catalog = rule_catalog.current(db).with_custom(CUSTOM)
        rule_catalog.save(db, catalog, "web_admin", "新增自定义规则", AT, reason="测试")
    finally:
        db.close()


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    tmp = tmp_path_factory.mktemp("rule-columns")
    url = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    _seeded(url, tmp)
    app = make_app(url)
    with TestClient(app):
        yield app
    if request.param == "postgres":
        db = connect(url, migrate=False)
        drop_pg_schema(db)
        db.close()


def _names(app: FastAPI) -> dict[str, str]:
    db = app.state.pool.get()
    try:
        return code_names(db)
    finally:
        app.state.pool.put(db)


def test_the_column_list_names_each_column_and_keeps_its_identifier_on_hover(
    app: FastAPI,
) -> None:
    with TestClient(app) as admin:
        login(admin, "admin")
        html = admin.get("/rules").text
    listed = html.split('id="c-cols"', 1)[1].split("</details>", 1)[0]
    items = re.findall(
        r'<li><abbr title="([^"]+)">([^<]+)</abbr> <small>([^<]+)</small> '
        r'<button type="button" class="link insert-column" data-column="([^"]+)" '
        r'aria-label="([^"]+)">插入</button></li>',
        listed,
    )
    assert [i[3] for i in items] == list(CASE_VIEW_COLUMNS)  # every column, in the view's order
    for title, name, kind, column, spoken in items:
        title = unescape(title)
        assert name == vocabulary.CASE_VIEW_COLUMN_NAMES[column]
        assert title.startswith(f"表达式中写作 {column}；{kind}；")
        assert CASE_VIEW_COLUMNS[column][1] in title  # the column's meaning
        assert unescape(spoken) == f"把“{name}”插入条件表达式"
    assert "<code>" not in listed
    assert offences(html, _names(app)) == []


def test_a_custom_rule_shows_its_expression_in_chinese(app: FastAPI) -> None:
    names = _names(app)
    with TestClient(app) as admin, TestClient(app) as evaluator:
        login(admin, "admin")
        login(evaluator, "evaluator")
        for client in (admin, evaluator):
            for page in ("/rules", f"/rules/{CUSTOM.id}"):
                html = client.get(page).text
                shown = re.search(r'<code class="expression" title="([^"]+)">([^<]+)</code>', html)
                assert shown, page
                assert unescape(shown.group(1)) == f"条件表达式：{CUSTOM.expression}"
                assert unescape(shown.group(2)) == expression_text(CUSTOM.expression)
                assert offences(html, names) == [], page


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_insert_writes_the_identifier_into_the_expression(
    chromium: Any, tmp_path: Path, width: int
) -> None:
    url = f"duckdb:///{tmp_path}/govwatch.duckdb"
    _seeded(url, tmp_path)
    with served(make_app(url)) as base:
        s = Session(chromium, base, width=width)
        s.login("admin")
        s.go("/rules")
        s.page.click("#c-cols summary")
        s.page.fill("#c-id", "late_finish_checked")
        s.page.fill("#c-desc", "超承诺期限 3 天以上才办结且收过费")
        # at the end of what was typed, after a space
        s.page.fill("#c-expr", "status = 'finished' AND")
        s.page.click("button[data-column=promised_days_late]")
        assert s.page.input_value("#c-expr") == "status = 'finished' AND promised_days_late"
        # at the cursor, before what follows it; the form's check runs as if it was typed
        s.page.fill("#c-expr", "> 0")
        s.page.wait_for_function("document.getElementById('c-msg').className.includes('bad')")
        s.page.focus("#c-expr")
        s.page.keyboard.press("Home")
        s.page.click("button[data-column=payments]")
        assert s.page.input_value("#c-expr") == "payments > 0"
        s.page.wait_for_function(
            "document.getElementById('c-msg').textContent.includes('检查通过')"
        )
        title = s.page.locator("#c-cols abbr", has_text="超出承诺期限").first.get_attribute("title")
        assert title is not None and title.startswith("表达式中写作 promised_days_late")
        s.shot(f"rule-columns-{width}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        s.page.locator("#custom-form").screenshot(
            path=str(SHOTS / f"rule-columns-form-{width}.png")
        )
        s.close()
