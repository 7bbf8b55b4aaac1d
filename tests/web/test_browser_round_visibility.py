"""A round under review in Chromium, as each role sees it (the one round reader's matrix,
docs/security.md): the department sees its own result and not the others' ranking, the
supervisor sees every unit, a visitor is sent to sign in and the public page omits the
round. Screenshots at desktop and phone width go to ``test-artifacts/screenshots/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govwatch.storage import connect
from tests.evaluation.visibility_seed import seed_round
from tests.web.seed import seed
from tests.web.test_browser import Session, browser  # noqa: F401  (the module's browser)

ROUND = "R-REVIEW"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The web seed plus a round under review (复核中) whose units are departments D1 and D2."""
    tmp = tmp_path_factory.mktemp("web-review")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    seed(db, Path(tmp))
    seed_round(db, ROUND, "review", units=("D1", "D2"))
    db.close()
    return url


@pytest.mark.parametrize("width", [1280, 390])
def test_a_department_sees_only_its_own_result_of_a_round_under_review(
    browser: Any,  # noqa: F811
    server: str,
    width: int,
) -> None:
    s = Session(browser, server, width=width)
    s.login("department")
    s.go(f"/evaluations/{ROUND}")
    body = s.page.inner_text("body")
    assert "复核中" in body
    assert "单位D1" in body and "单位D2" not in body
    s.shot(f"department-round-review-{width}")
    s.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_supervisor_sees_every_unit_of_a_round_under_review(
    browser: Any,  # noqa: F811
    server: str,
    width: int,
) -> None:
    s = Session(browser, server, width=width)
    s.login("supervisor")
    s.go(f"/evaluations/{ROUND}")
    body = s.page.inner_text("body")
    assert "单位D1" in body and "单位D2" in body
    s.shot(f"supervisor-round-review-{width}")
    s.close()


def test_a_visitor_is_sent_to_sign_in_and_the_public_page_omits_the_round(
    browser: Any,  # noqa: F811
    server: str,
) -> None:
    s = Session(browser, server)
    s.go(f"/evaluations/{ROUND}")
    assert "/login" in s.page.url
    assert "单位D1" not in s.page.inner_text("body")
    s.go("/public")
    body = s.page.inner_text("body")
    assert f"{ROUND} 评估" not in body and "单位D1" not in body
    s.shot("public-round-review")
    s.close()
