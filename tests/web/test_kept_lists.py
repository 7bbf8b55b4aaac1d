"""Lists the app keeps a few seconds (issue 14 item 10, docs/web-performance.md): 今日待办 is
read once for its page, its total, its overdue count and the menu's badge, and the dashboard's
figures of now are shared by every period; an answer through the app shows on all at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.storage import connect
from govwatch.web.api.cache import TTLCache
from tests.conftest import drop_pg_schema, pg_url
from tests.web.conftest import login, make_app
from tests.web.seed import seed
from tests.web.test_pages import csrf


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The web seed on each engine."""
    tmp = tmp_path_factory.mktemp("kept")
    url = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(url)
    seed(db, Path(tmp))
    db.close()
    yield url
    cleanup = connect(url, migrate=False)
    drop_pg_schema(cleanup)
    cleanup.close()


@pytest.fixture
def app(seeded: str) -> Iterator[FastAPI]:
    made = make_app(seeded)
    with TestClient(made):
        yield made


def _badge(html: str) -> int:
    found = re.search(r'href="/workspace"[^>]*>今日待办 <span class="badge"[^>]*>(\d+)<', html)
    return int(found.group(1)) if found else 0


def test_an_answer_leaves_the_kept_todo_list_its_total_and_its_badge_at_once(app: FastAPI) -> None:
    with TestClient(app) as dept:
        login(dept, "department")
        before = dept.get("/workspace?format=json").json()
        assert _badge(dept.get("/workspace").text) == before["todo"]["total"] > 0
        row = next(r for r in before["todo"]["rows"] if r["kind"] == "open")
        page = f"/workspace/alerts/{row['ref_id']}"
        answered = dept.post(
            f"{page}/act",
            data={"action": "explain", "reason": "已核实", "csrf_token": csrf(dept.get(page).text)},
            follow_redirects=False,
        )
        assert answered.status_code == 303
        after = dept.get("/workspace?format=json").json()
        assert after["todo"]["total"] == before["todo"]["total"] - 1
        assert row["ref_id"] not in [r["ref_id"] for r in after["todo"]["rows"]]
        assert row["ref_id"] in [r["ref_id"] for r in after["submitted"]["rows"]]
        assert _badge(dept.get("/").text) == after["todo"]["total"]


def test_the_todo_pages_slice_one_list_without_gaps_or_repeats(app: FastAPI) -> None:
    with TestClient(app) as dept:
        login(dept, "department")
        first = dept.get("/workspace?format=json").json()["todo"]
        seen = [r["ref_id"] for r in first["rows"]]
        for number in range(2, first["pages"] + 1):
            seen += [
                r["ref_id"]
                for r in dept.get(f"/workspace?page={number}&format=json").json()["todo"]["rows"]
            ]
        assert len(seen) == len(set(seen)) == first["total"]
        past = dept.get(f"/workspace?page={first['pages'] + 1}&format=json").json()["todo"]
        assert past["rows"] == [] and past["total"] == first["total"]


def test_every_period_shows_the_same_figures_of_now(app: FastAPI) -> None:
    with TestClient(app) as sup:
        login(sup, "supervisor")
        week = sup.get("/?since=2025-10-21&until=2025-10-27&format=json").json()
        year = sup.get("/?since=2025-01-01&until=2025-10-27&format=json").json()
        for figure in ("open_total", "open_by_level", "open_by_type", "new_today", "orders"):
            assert week[figure] == year[figure]
        assert len(week["trend"]) == 7 and len(year["trend"]) == 300
        assert sum(d["new"] for d in year["trend"]) >= sum(d["new"] for d in week["trend"])


def test_peek_gives_only_a_fresh_value_and_never_computes() -> None:
    cache: TTLCache[int] = TTLCache(60)
    assert cache.peek("k") is None
    assert cache.get_or_compute("k", lambda: 3) == 3
    assert cache.peek("k") == 3
    cache.invalidate()
    assert cache.peek("k") is None
    assert TTLCache[int](0).peek("k") is None
