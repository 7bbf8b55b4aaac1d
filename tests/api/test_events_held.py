"""Arrival order never decides whether a posted event is accepted (issue 18 item 8).

A source token's record that names no ``org_code`` and no known item, for a case whose
``apply`` has not arrived yet, is held (answered ``held``), then judged by the same scope
check once the case's organisation is known: imported when in scope, quarantined when not.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from govwatch.auth.tokens import list_tokens, revoke_token
from govwatch.live.pipeline import import_event_records
from govwatch.live.sweeper import sweep_once
from tests.api.conftest import T0, World, events_for


def _late(case_id: str, n: int = 1) -> list[dict[str, object]]:
    """What a second system posts about the case: no org_code, no item."""
    return [
        {
            "event_id": f"{case_id}-late{n}",
            "case_id": case_id,
            "kind": "supplement_request",
            "occurred_at": "2025-09-02T09:00:00+08:00",
            "materials": ["身份证复印件"],
        }
    ]


def _apply(case_id: str, item: str = "ITEM-D1") -> list[dict[str, object]]:
    """The case's own start, organisation told by its item (and no org_code either)."""
    return events_for(case_id, item)


def _post(world: World, who: str, records: list[dict[str, object]]) -> dict[str, Any]:
    answer = world.post(who, "/api/v1/events", json=records)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _stored(world: World, case_id: str) -> tuple[Any, ...]:
    """A case's stored state, without its id: events and the case row."""
    events = world.db.query(
        "SELECT replace(event_id, ?, ''), kind, occurred_at, item_code, org_code, source "
        "FROM events WHERE case_id = ? ORDER BY occurred_at, event_id",
        [case_id, case_id],
    )
    case = world.db.query(
        "SELECT item_code, org_code, region_code, department_code, status, event_count, "
        "applied_at, accepted_at FROM cases WHERE case_id = ?",
        [case_id],
    )
    return tuple(tuple(r) for r in events), tuple(tuple(r) for r in case)


def _held(world: World) -> int:
    return int(world.db.scalar("SELECT count(*) FROM held_events") or 0)


def test_either_order_ends_in_the_same_stored_state(world: World) -> None:
    # the apply first: the later record is judged at once
    first = _post(world, "source1", _apply("C-AB"))
    then = _post(world, "source1", _late("C-AB"))
    assert (first["applied"], then["applied"], then["held"]) == (2, 1, 0)
    # the later record first: it is held (not refused), then applied with the apply
    early = _post(world, "source1", _late("C-BA"))
    assert (early["applied"], early["held"], early["quarantined"]) == (0, 1, [])
    assert _held(world) == 1
    assert world.db.scalar("SELECT count(*) FROM events WHERE case_id = 'C-BA'") == 0
    _post(world, "source1", _apply("C-BA"))
    assert _held(world) == 0
    assert _stored(world, "C-AB") == _stored(world, "C-BA")
    assert _stored(world, "C-BA")[1][0][5] == 3  # event_count


def test_concurrent_batches_in_any_order_end_in_the_same_stored_state(world: World) -> None:
    cases = [f"C-RACE{n}" for n in range(8)]
    errors: list[str] = []

    def post(records: list[dict[str, object]]) -> None:
        answer = world.post("source1", "/api/v1/events?wait=false", json=records)
        if answer.status_code != 200:
            errors.append(answer.text)

    threads = []
    for n, case_id in enumerate(cases):
        pair = [_apply(case_id), _late(case_id)]
        if n % 2:
            pair.reverse()
        threads += [threading.Thread(target=post, args=(records,)) for records in pair]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert _held(world) == 0
    states = {_stored(world, c) for c in cases}
    assert len(states) == 1, states
    assert next(iter(states))[1][0][5] == 3


def test_a_held_record_for_another_departments_case_is_never_applied(world: World) -> None:
    held = _post(world, "source1", _late("C-OTHER"))
    assert held["held"] == 1
    # the case turns out to be department D2's (posted by a token that may)
    _post(world, "source_all", _apply("C-OTHER", "ITEM-D2"))
    assert _held(world) == 0
    kinds = {str(r[0]) for r in world.db.query("SELECT kind FROM events WHERE case_id = 'C-OTHER'")}
    assert kinds == {"apply", "accept"}
    [entry] = world.db.query_dicts(
        "SELECT field, message, raw, line FROM quarantine WHERE raw LIKE '%C-OTHER-late1%'"
    )
    assert entry["field"] == "case_id"
    assert "D2" in entry["message"] and "不在令牌" in entry["message"]
    assert entry["line"] == 1


def test_the_sweeper_releases_what_waits_for_a_case_imported_any_other_way(world: World) -> None:
    assert _post(world, "source1", _late("C-FILE"))["held"] == 1
    assert _post(world, "source1", _late("C-FILE2"))["held"] == 1
    # the cases arrive by a file import (no API import run to release them)
    import_event_records(world.db, _apply("C-FILE"), source="file")
    import_event_records(world.db, _apply("C-FILE2", "ITEM-D2"), source="file")
    assert _held(world) == 2
    evaluator = world.client.app.state.pool.evaluator  # as the server's sweeper runs a tick
    with evaluator.evaluating():
        sweep_once(world.db, evaluator.importing)
    assert _held(world) == 0
    assert world.db.scalar("SELECT event_count FROM cases WHERE case_id = 'C-FILE'") == 3
    assert world.db.scalar("SELECT event_count FROM cases WHERE case_id = 'C-FILE2'") == 2
    assert world.db.scalar("SELECT count(*) FROM live_pending") == 0  # evaluated in the tick
    assert world.db.scalar("SELECT count(*) FROM quarantine WHERE raw LIKE '%C-FILE2-late1%'") == 1


def test_a_batch_refused_for_its_scope_holds_nothing(world: World) -> None:
    _post(world, "source_all", _apply("C-D2", "ITEM-D2"))
    mixed = [*_late("C-UNKNOWN"), {**_late("C-D2")[0], "event_id": "C-D2-x"}]
    answer = world.post("source1", "/api/v1/events", json=mixed)
    assert answer.status_code == 403
    assert _held(world) == 0


def test_a_record_held_twice_is_kept_once_and_applied_once(world: World) -> None:
    assert _post(world, "source1", _late("C-TWICE"))["held"] == 1
    assert _post(world, "source1", _late("C-TWICE"))["held"] == 1
    assert _held(world) == 1
    _post(world, "source1", _apply("C-TWICE"))
    assert world.db.scalar("SELECT count(*) FROM events WHERE case_id = 'C-TWICE'") == 3


def test_a_revoked_tokens_held_records_are_quarantined_not_applied(world: World) -> None:
    assert _post(world, "source1", _late("C-REVOKED"))["held"] == 1
    token = next(t for t in list_tokens(world.db) if t.name == "source1")
    revoke_token(world.db, token.token_id, T0)
    _post(world, "source_all", _apply("C-REVOKED"))
    assert _held(world) == 0
    assert world.db.scalar("SELECT count(*) FROM events WHERE case_id = 'C-REVOKED'") == 2
    message = world.db.scalar("SELECT message FROM quarantine WHERE raw LIKE '%C-REVOKED-late1%'")
    assert "吊销" in str(message)


@pytest.mark.parametrize("who", ["admin", "source_all"])
def test_an_unscoped_or_covering_poster_is_never_held(world: World, who: str) -> None:
    # an administrator is not scoped: its record is imported as it comes (the case is new)
    result = _post(world, who, _late(f"C-{who}"))
    if who == "admin":
        assert (result["applied"], result["held"]) == (1, 0)
    else:  # a scoped token always waits for the case's organisation
        assert (result["applied"], result["held"]) == (0, 1)
