"""The live evaluator: queued cases are evaluated in coalesced rounds, nothing lost or doubled."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from govwatch.items.ingest import import_catalog
from govwatch.live import evaluator as live_queue
from govwatch.live.evaluator import LiveEvaluator, evaluate_pending
from govwatch.live.pipeline import queue_event_batches
from govwatch.live.queue import enqueue, pending_count
from govwatch.rules.engine import audit
from govwatch.storage import Database, connect
from tests.rules.province import end_at, identities, make_province


def _active(db: Database) -> set[tuple[str, str, str, str]]:
    rows = db.query("SELECT case_id, rule, key, level FROM alerts WHERE status = 'active'")
    return {(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows}


def _province(db: Database, tmp_path: Path, cases: int = 120) -> tuple[list[str], Path]:
    folder = make_province(tmp_path / "p", cases, 7)
    import_catalog(db, [folder / "catalog.jsonl"])
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return lines, folder


def test_a_queued_import_leaves_its_cases_pending_until_a_round_evaluates_them(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, folder = _province(db, tmp_path)
    monkeypatch.setenv("GOVWATCH_NOW", end_at(folder).isoformat())
    report = queue_event_batches(db, [(lines, "test")])[0]
    assert report.token is not None
    assert pending_count(db) == report.cases > 0
    assert db.scalar("SELECT count(*) FROM alerts") == 0  # nothing evaluated yet
    assert evaluate_pending(db) == report.cases
    assert pending_count(db) == 0
    assert _active(db) == identities(audit(db, end_at(folder)))
    assert db.scalar("SELECT count(*) FROM alert_workflow") == db.scalar(
        "SELECT count(*) FROM alerts"
    )


def test_a_case_queued_again_during_a_round_keeps_its_row_for_the_next_round(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, folder = _province(db, tmp_path, cases=20)
    monkeypatch.setenv("GOVWATCH_NOW", end_at(folder).isoformat())
    queue_event_batches(db, [(lines, "test")])
    queued = [str(r[0]) for r in db.query("SELECT case_id FROM live_pending ORDER BY case_id")]
    again = queued[0]
    import govwatch.live.pipeline

    real = govwatch.live.pipeline.cases_changed
    seen: list[list[str]] = []

    def concurrent_import(db_: Database, case_ids: list[str] | None, **kw: Any) -> None:
        seen.append(list(case_ids or []))
        real(db_, case_ids, **kw)
        enqueue(db_, [again])  # an import of this case committed while the round ran

    monkeypatch.setattr(govwatch.live.pipeline, "cases_changed", concurrent_import)
    assert evaluate_pending(db) == len(queued)
    assert seen == [queued]
    assert [str(r[0]) for r in db.query("SELECT case_id FROM live_pending")] == [again]
    monkeypatch.setattr(govwatch.live.pipeline, "cases_changed", real)
    assert evaluate_pending(db) == 1
    assert pending_count(db) == 0


def test_many_small_shuffled_batches_through_the_evaluator_end_as_one_batch_audit(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = connect(db_url)
    lines, folder = _province(setup, tmp_path, cases=200)
    setup.close()
    monkeypatch.setenv("GOVWATCH_NOW", end_at(folder).isoformat())
    random.Random(11).shuffle(lines)
    main = connect(db_url, migrate=False)
    connections: list[Database] = []

    def acquire() -> Database:
        # DuckDB: a cursor of the one instance; PostgreSQL: a connection of its own
        if main.dialect == "duckdb":
            cursor = main.raw.cursor()
            cursor.execute("SET TimeZone = 'Asia/Shanghai'")
            return Database("duckdb", cursor, db_url)
        return connect(db_url, migrate=False)

    def release(db: Database) -> None:
        connections.append(db)

    live = LiveEvaluator(acquire, release, exclusive_writes=main.dialect == "duckdb")
    try:
        size = len(lines) // 15 + 1
        for start in range(0, len(lines), size):
            with live.importing():
                queue_event_batches(main, [(lines[start : start + size], "test")])
            live.submit()  # no wait: batches pile up while rounds run
        assert live.idle(timeout=300)
        assert pending_count(main) == 0
        assert _active(main) == identities(audit(main, end_at(folder)))
        assert main.scalar("SELECT count(*) FROM alerts") == main.scalar(
            "SELECT count(DISTINCT alert_id) FROM alerts"
        )
    finally:
        live.stop()
        for db in connections:
            db.close()
        main.close()


def test_a_failed_round_keeps_the_cases_queued_and_a_later_round_finishes_them(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = connect(db_url)
    lines, folder = _province(main, tmp_path, cases=30)
    monkeypatch.setenv("GOVWATCH_NOW", end_at(folder).isoformat())
    queue_event_batches(main, [(lines, "test")])
    queued = pending_count(main)
    calls = {"n": 0}
    real = live_queue.evaluate_pending

    def flaky(db: Database, queue_turn: Any, on_alerts: Any = None) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(db, queue_turn, on_alerts)

    monkeypatch.setattr(live_queue, "evaluate_pending", flaky)
    cursors: list[Database] = []

    def acquire() -> Database:
        if main.dialect == "duckdb":
            return Database("duckdb", main.raw.cursor(), db_url)
        return connect(db_url, migrate=False)

    live = LiveEvaluator(acquire, cursors.append, exclusive_writes=main.dialect == "duckdb")
    try:
        ticket = live.submit()
        live.wait(ticket, timeout=60)  # the first round fails: its cases stay queued
        assert live.idle(timeout=120)  # … and the retry evaluates them
        assert calls["n"] >= 2
        assert queued > 0 and pending_count(main) == 0
        assert _active(main) == identities(audit(main, end_at(folder)))
    finally:
        live.stop()
        for db in cursors:
            db.close()
        main.close()


def test_the_api_answers_after_evaluation_by_default_and_at_once_with_wait_false(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from govwatch.auth.orgs import sync_from_catalog
    from govwatch.auth.tokens import create_token
    from govwatch.web.app import create_app

    url = f"duckdb:///{tmp_path / 'api.duckdb'}"
    setup = connect(url)
    lines, folder = _province(setup, tmp_path, cases=80)
    at = end_at(folder)
    monkeypatch.setenv("GOVWATCH_NOW", at.isoformat())
    sync_from_catalog(setup, at)
    roots = [str(r[0]) for r in setup.query("SELECT org_code FROM orgs WHERE parent_code IS NULL")]
    token, _ = create_token(setup, "feed", "source", roots, "test", at)
    setup.close()
    events = [json.loads(x) for x in lines]
    by_case: dict[str, list[dict[str, object]]] = {}
    for e in events:
        by_case.setdefault(str(e["case_id"]), []).append(e)
    cases = sorted(by_case)
    first = [e for c in cases[:40] for e in by_case[c]]
    rest = [e for c in cases[40:] for e in by_case[c]]
    headers = {"Authorization": f"Bearer {token}"}
    app = create_app(url)
    with TestClient(app) as client:
        answer = client.post("/api/v1/events", json=first, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["applied"] == len(first)
        assert answer.headers["X-Govwatch-Pending-Cases"] == "0"
        pool = app.state.pool
        db = pool.get()
        try:
            expected_first = {a for a in identities(audit(db, at)) if a[0] in set(cases[:40])}
            assert _active(db) == expected_first  # evaluated before the answer
            quick = client.post("/api/v1/events?wait=false", json=rest, headers=headers)
            assert quick.status_code == 200
            assert int(quick.headers["X-Govwatch-Pending-Cases"]) == len(cases) - 40
            assert pool.evaluator.idle(timeout=120)
            assert pending_count(db) == 0
            assert _active(db) == identities(audit(db, at))
        finally:
            pool.put(db)


def _queued_province(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: int
) -> list[str]:
    """A province imported through the queue, seen at its end; the queued case ids."""
    lines, folder = _province(db, tmp_path, cases=cases)
    monkeypatch.setenv("GOVWATCH_NOW", end_at(folder).isoformat())
    queue_event_batches(db, [(lines, "test")])
    return sorted(str(r[0]) for r in db.query("SELECT case_id FROM live_pending"))


def _import_meanwhile(db: Database, case_ids: list[str]) -> Callable[[], None]:
    """An ``on_alerts`` hook: an import of these cases commits while the round runs."""

    def hook() -> None:
        enqueue(db, case_ids)

    return hook


def _deadline_cases(db: Database) -> set[str]:
    return {str(r[0]) for r in db.query("SELECT case_id FROM case_deadlines")}


def test_stored_deadlines_wait_while_more_cases_are_queued_and_follow_once_none_are(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued = _queued_province(db, tmp_path, monkeypatch, cases=40)
    later = queued[-1]
    db.execute("DELETE FROM live_pending WHERE case_id = ?", [later])  # arrives mid-round

    # an import of another case commits while the round writes its alerts
    assert evaluate_pending(db, on_alerts=_import_meanwhile(db, [later])) == len(queued) - 1
    assert [str(r[0]) for r in db.query("SELECT case_id FROM live_pending")] == [later]
    deferred = {str(r[0]) for r in db.query("SELECT case_id FROM live_refresh")}
    assert deferred == set(queued) - {later}
    assert _deadline_cases(db) == set()  # alerts first; the sweeper's moments can wait
    assert db.scalar("SELECT count(*) FROM alerts") > 0

    assert evaluate_pending(db) == 1  # the queue is empty after it: everything is refreshed
    assert db.scalar("SELECT count(*) FROM live_refresh") == 0
    accepted = {
        str(r[0]) for r in db.query("SELECT case_id FROM cases WHERE accepted_at IS NOT NULL")
    }
    assert _deadline_cases(db) == accepted


def test_deferred_deadlines_are_refreshed_after_a_bounded_wait_even_under_load(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _queued_province(db, tmp_path, monkeypatch, cases=20)
    monkeypatch.setattr(live_queue, "REFRESH_SECONDS", 0.0)
    evaluate_pending(db, on_alerts=_import_meanwhile(db, first[:1]))
    assert pending_count(db) == 1  # still busy …
    assert db.scalar("SELECT count(*) FROM live_refresh") == 0  # … but the wait is over
    assert _deadline_cases(db)


def test_the_sweep_finishes_deadlines_a_crash_left_deferred(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = _queued_province(db, tmp_path, monkeypatch, cases=20)
    evaluate_pending(db, on_alerts=_import_meanwhile(db, cases[:1]))
    db.execute("DELETE FROM live_pending")  # the process stopped with deadlines deferred
    db.execute("DELETE FROM case_deadlines")
    assert db.scalar("SELECT count(*) FROM live_refresh") > 0
    assert evaluate_pending(db) == 0  # what the sweeper runs first
    assert db.scalar("SELECT count(*) FROM live_refresh") == 0
    assert _deadline_cases(db)
