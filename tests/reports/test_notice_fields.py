"""The notices' template fields are Chinese: an override naming them renders, one saved before
(English keys) still renders and reads back in Chinese, a field a paragraph may not use is refused
naming it and the allowed ones; the edit form shows no English field name and a legend per
paragraph; a number in the preview's tables links to the list it counts, which has that many
rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import orjson
import pytest
from fastapi.testclient import TestClient

from govwatch.auth.users import add_user
from govwatch.errors import InputError
from govwatch.reports.evaluation import build_evaluation_notice
from govwatch.reports.supervision import build_supervision_notice
from govwatch.reports.workflow import NoticeInputs, draft_notice, get_notice
from govwatch.storage import Database, connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.reports.notice_seed import ADMIN, AT, seed, seed_cases

PASSWORD = "Fields-pass-2026!"
PERIOD = "2026"  # the seeded cases are applied in March and finished in April 2026


@pytest.fixture()
def seeded(db: Database) -> Database:
    seed(db)
    seed_cases(db)
    return db


def _overview(db: Database, templates: dict[str, str]) -> str:
    notice = build_supervision_notice(db, PERIOD, None, AT, templates=templates)
    return notice.sections[0].paragraphs[1]


def _finished(db: Database) -> int:
    return int(
        db.scalar(
            "SELECT COUNT(*) FROM cases WHERE finished_at >= ? AND finished_at < ?",
            [datetime(2026, 1, 1), datetime(2027, 1, 1)],
        )
        or 0
    )


def test_an_override_with_chinese_fields_renders(seeded: Database) -> None:
    text = _overview(seeded, {"overview": "{统计期间}{通报范围}共办结{办结数}件。"})
    assert text == f"2026年全省共办结{_finished(seeded)}件。"


def test_an_override_saved_with_the_old_english_names_still_renders(seeded: Database) -> None:
    old = _overview(seeded, {"overview": "{period}{scope}共办结{finished}件。"})
    assert old == f"2026年全省共办结{_finished(seeded)}件。"


def test_an_unknown_field_is_refused_naming_it_and_the_allowed_ones(seeded: Database) -> None:
    # change_up is not used this time (no previous year to compare): refused all the same
    with pytest.raises(InputError) as refused:
        build_supervision_notice(seeded, PERIOD, None, AT, templates={"change_up": "{红牌总数}"})
    message = str(refused.value)
    assert "{红牌总数}" in message and "按时办结率上升的说法" in message
    assert "{统计期间}" in message and "{变化百分点}" in message
    assert "{红牌数}" not in message  # a field of another paragraph is not offered here
    with pytest.raises(InputError) as refused_eval:
        build_evaluation_notice(seeded, "R2", AT, templates={"closing": "{score}"})
    assert "{score}" in str(refused_eval.value) and "{批次名称}" in str(refused_eval.value)


def test_evaluation_templates_accept_chinese_and_old_english_fields(seeded: Database) -> None:
    units = seeded.scalar("SELECT COUNT(*) FROM eval_results WHERE round_id = 'R2'")
    for text in ("{批次名称}共{参评单位数}个单位。", "{round_name}共{units}个单位。"):
        notice = build_evaluation_notice(seeded, "R2", AT, templates={"closing": text})
        name = seeded.scalar("SELECT name FROM eval_rounds WHERE round_id = 'R2'")
        assert notice.sections[4].paragraphs[1] == f"{name}共{units}个单位。"


def test_a_stored_english_override_reads_back_in_chinese(seeded: Database) -> None:
    notice_id = draft_notice(seeded, ADMIN, NoticeInputs("supervision", PERIOD, None), AT)
    seeded.execute(  # as saved before the fields had Chinese names
        "UPDATE notices SET templates = ? WHERE notice_id = ?",
        [orjson.dumps({"overview": "{period}办结{finished}件"}).decode(), notice_id],
    )
    row = get_notice(seeded, ADMIN, notice_id)
    assert orjson.loads(row["templates"]) == {"overview": "{统计期间}办结{办结数}件"}


# -- the page ----------------------------------------------------------------------------------


@pytest.fixture()
def admin(db_url: str) -> Iterator[TestClient]:
    db = connect(db_url)
    seed(db)
    seed_cases(db)
    add_user(db, "f_admin", PASSWORD, "admin", None, datetime(2026, 1, 1), display_name="管理员")
    db.close()
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: AT
    client = TestClient(app)
    answer = client.post(
        "/login", data={"username": "f_admin", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303
    yield client
    client.close()


def _notice_page(client: TestClient) -> str:
    html = client.get("/notices").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    answer = client.post(
        "/notices/draft",
        data={"kind": "supervision", "period": PERIOD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"].split("?")[0])
    assert page.status_code == 200
    return str(page.text)


def test_the_edit_form_shows_no_english_field_and_a_legend(admin: TestClient) -> None:
    page = _notice_page(admin)
    form = page[page.index('id="edit"') :]
    assert not re.search(r"\{[A-Za-z_]", form), re.findall(r"\{[A-Za-z_]\w*", form)[:5]
    assert "{统计期间}" in form and "统计期间的名称，如 2026年6月" in form
    legend = re.search(r'id="legend-overview".*?</details>', form, re.S)
    assert legend and "{较上期变化}" in legend.group(0) and "{红牌数}" not in legend.group(0)


def _total(client: TestClient, url: str) -> int:
    answer = client.get(url + "&format=json")
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def test_a_linked_number_lists_exactly_that_many_rows(admin: TestClient) -> None:
    page = _notice_page(admin)
    links = re.findall(r'<a href="([^"]+)" class="count-link">(\d+)</a>', page)
    alerts = [(u.replace("&amp;", "&"), int(n)) for u, n in links if u.startswith("/alerts")]
    cases = [(u.replace("&amp;", "&"), int(n)) for u, n in links if u.startswith("/cases")]
    red = [(u, n) for u, n in alerts if "level=red" in u and "department=D1" in u]
    assert [n for _, n in red] == [2]  # 市场监管局's two red cards (notice_seed.CASES)
    assert cases, "the units' case counts link to the case list"
    for url, n in alerts + cases:
        assert _total(admin, url) == n, url
