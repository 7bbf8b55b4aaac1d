"""Pages share figures for a few seconds, yet show every change made through the app at once,
and a caller is checked afresh on every request."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from govwatch.auth.passwords import digest
from govwatch.auth.sessions import COOKIE, close_session
from govwatch.web.api.cache import TTLCache
from tests.web.conftest import login, make_app
from tests.web.seed import AT
from tests.web.test_pages import csrf


def test_a_closed_alert_leaves_the_dashboard_and_the_open_list_at_once(seeded_url: str) -> None:
    app = make_app(seeded_url)
    with TestClient(app) as sup:
        login(sup, "supervisor")
        before = sup.get("/?format=json").json()
        open_rows = sup.get("/alerts?format=json&state=open").json()["items"]
        alert = open_rows[0]
        page = f"/alerts/{alert['alert_id']}"
        sup.post(
            f"{page}/act",
            data={
                "action": "close",
                "reason": "已核实办结",
                "csrf_token": csrf(sup.get(page).text),
            },
        )
        after = sup.get("/?format=json").json()
        assert after["open_total"] == before["open_total"] - 1
        assert after["closed_today"] == before["closed_today"] + 1
        still_open = sup.get("/alerts?format=json&state=open").json()["items"]
        assert alert["alert_id"] not in {r["alert_id"] for r in still_open}
        closed = sup.get("/alerts?format=json&state=closed").json()["items"]
        assert alert["alert_id"] in {r["alert_id"] for r in closed}


def test_a_session_closed_outside_the_app_signs_the_user_out_at_once(seeded_url: str) -> None:
    app = make_app(seeded_url)
    with TestClient(app) as client:
        login(client, "supervisor")
        assert client.get("/", follow_redirects=False).status_code == 200
        pool = app.state.pool
        db = pool.get()
        try:
            close_session(db, digest(client.cookies[COOKIE]), AT)
        finally:
            pool.put(db)
        answer = client.get("/", follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_department_and_supervisor_never_share_a_cached_list(seeded_url: str) -> None:
    app = make_app(seeded_url)
    with TestClient(app) as sup, TestClient(app) as dept:
        login(sup, "supervisor")
        login(dept, "department")
        everyone = {r["department_code"] for r in sup.get("/alerts?format=json").json()["items"]}
        own = {r["department_code"] for r in dept.get("/alerts?format=json").json()["items"]}
        assert len(everyone) > 1 and own == {"D1"}
        dashboard = dept.get("/?format=json").json()
        assert {r["code"] for r in dashboard["red_departments"]} <= {"D1"}


def test_cache_computes_a_key_once_for_concurrent_callers() -> None:
    cache: TTLCache[int] = TTLCache(ttl=60)
    calls: list[int] = []
    gate = threading.Event()

    def compute() -> int:
        gate.wait(5)
        calls.append(1)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", compute)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.05)  # let every thread reach the cache before the value is ready
    gate.set()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1


def test_cache_forgets_on_invalidate_and_keeps_nothing_computed_across_it() -> None:
    cache: TTLCache[str] = TTLCache(ttl=60)
    assert cache.get_or_compute("k", lambda: "old") == "old"
    cache.invalidate()
    assert cache.get_or_compute("k", lambda: "new") == "new"

    def racing() -> str:
        cache.invalidate()  # a write lands while the value is being computed
        return "stale"

    assert cache.get_or_compute("r", racing) == "stale"
    assert cache.get_or_compute("r", lambda: "fresh") == "fresh"


def test_cache_with_no_lifetime_always_computes() -> None:
    cache: TTLCache[int] = TTLCache(ttl=0)
    values = iter(range(3))
    assert [cache.get_or_compute("k", lambda: next(values)) for _ in range(3)] == [0, 1, 2]
