"""Group commit: concurrent batches imported as one run, each answered with its own counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from govwatch.events.ingest import ImportReport, import_records
from govwatch.live.group_commit import GroupCommit
from govwatch.live.pipeline import queue_event_batches
from govwatch.storage import Database
from govwatch.web.api.deps import Pool


def _event(case_id: str, n: int, kind: str = "apply", **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}-{n}",
        "case_id": case_id,
        "kind": kind,
        "item_code": "E001",
        "org_code": "DEPT1",
        "occurred_at": f"2025-09-{n:02d}T09:00:00",
        **extra,
    }


@pytest.fixture(autouse=True)
def _frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVWATCH_NOW", "2025-10-01T12:00:00")


def _until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_parts_imported_in_one_run_count_as_if_imported_one_after_another(db: Database) -> None:
    import_records(db, [_event("S", 1)], source="earlier")
    first = [_event("A", 1), {"case_id": "A", "event_id": "A-x"}, _event("A", 2, "accept")]
    second = [_event("A", 1), _event("S", 1), _event("B", 1), "not json", _event("B", 2, "accept")]
    a, b, empty = queue_event_batches(
        db, [(first, "api:one"), (second, "api:two"), ([], "api:three")]
    )
    assert (a.applied, a.duplicates, a.quarantined, a.read) == (2, 0, 1, 3)
    assert [(p.index, p.line, p.field, p.source) for p in a.problems] == [(1, 2, "kind", "api:one")]
    # A-1 repeats the first part's event, S-1 one stored before: both duplicates
    assert (b.applied, b.duplicates, b.quarantined, b.read) == (2, 2, 1, 5)
    assert [(p.index, p.line, p.field, p.source) for p in b.problems] == [
        (3, 4, "record", "api:two")
    ]
    assert a.case_ids == ["A"] and a.cases == 1
    assert b.case_ids == ["A", "B", "S"] and b.cases == 3
    assert a.token is not None and a.token == b.token
    assert (empty.read, empty.applied, empty.cases, empty.token) == (0, 0, 0, None)
    queued = {str(r[0]) for r in db.query("SELECT case_id FROM live_pending")}
    assert queued == {"A", "B", "S"}
    stored = db.query("SELECT event_id, source, source_line FROM events ORDER BY event_id")
    assert [(str(e), str(s), int(n)) for e, s, n in stored] == [
        ("A-1", "api:one", 1),
        ("A-2", "api:one", 3),
        ("B-1", "api:two", 3),
        ("B-2", "api:two", 5),
        ("S-1", "earlier", 1),
    ]
    assert db.scalar("SELECT count(*) FROM quarantine") == 2
    assert db.scalar("SELECT event_count FROM cases WHERE case_id = 'A'") == 2


def _stored_cases(pool: Pool) -> set[str]:
    db = pool.get()
    try:
        return {str(r[0]) for r in db.query("SELECT case_id FROM cases")}
    finally:
        pool.put(db)


class _Gate:
    """An import turn the test holds shut until every batch it wants is waiting."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def turn(self) -> Any:
        return self.lock


@pytest.fixture
def pool(db_url: str) -> Iterator[Pool]:
    pool = Pool(db_url)
    try:
        yield pool
    finally:
        pool.close()
        if pool._root is not None:
            pool._root.close()


def _post_all(
    pool: Pool, commit: GroupCommit, gate: _Gate, batches: list[list[Any]]
) -> list[ImportReport | BaseException]:
    """The first batch leads a run that waits at the gate; the rest queue behind it."""
    answers: list[ImportReport | BaseException | None] = [None] * len(batches)

    def post(n: int) -> None:
        db = pool.get()
        try:
            answers[n] = commit.run(db, batches[n], f"api:client{n}", owner=f"client{n}")
        except BaseException as exc:  # handed to the test
            answers[n] = exc
        finally:
            pool.put(db)

    gate.lock.acquire()
    threads = [threading.Thread(target=post, args=(n,)) for n in range(len(batches))]
    threads[0].start()
    _until(lambda: commit.running)
    for thread in threads[1:]:
        thread.start()
    _until(lambda: commit.waiting == len(batches) - 1)
    gate.lock.release()
    for thread in threads:
        thread.join(timeout=120)
    return [a for a in answers if a is not None]


def test_batches_posted_while_a_run_is_in_progress_are_imported_together(pool: Pool) -> None:
    gate = _Gate()
    commit = GroupCommit(gate.turn)
    batches: list[list[Any]] = [
        [_event(f"C{n}", d) for d in (1, 2)] + [_event("Z", 1)] for n in range(4)
    ]
    answers = _post_all(pool, commit, gate, batches)
    assert commit.runs == 2  # the leader's batch alone, then the three that waited, at once
    assert all(isinstance(a, ImportReport) for a in answers)
    reports = [a for a in answers if isinstance(a, ImportReport)]
    # Z-1 is new in the first batch and a duplicate in every later one
    assert [(r.applied, r.duplicates) for r in reports] == [(3, 0), (2, 1), (2, 1), (2, 1)]
    assert [r.case_ids for r in reports] == [["C0", "Z"], ["C1", "Z"], ["C2", "Z"], ["C3", "Z"]]
    assert len({r.token for r in reports[1:]}) == 1 and reports[0].token != reports[1].token
    db = pool.get()
    try:
        assert db.scalar("SELECT count(*) FROM events") == 9
        assert db.scalar("SELECT count(*) FROM cases") == 5
    finally:
        pool.put(db)


def test_a_batch_that_cannot_be_imported_fails_alone_and_its_group_is_still_imported(
    pool: Pool,
) -> None:
    gate = _Gate()
    commit = GroupCommit(gate.turn)
    unwritable = _event("X", 1, amount=2**70)  # no JSON encoder writes this integer
    batches: list[list[Any]] = [[_event("L", 1)], [_event("P", 1)], [unwritable], [_event("Q", 1)]]
    answers = _post_all(pool, commit, gate, batches)
    assert commit.runs == 5  # the leader; the failed group of three; each of the three again
    # alone, the record that breaks the import is quarantined with its error, not the answer
    unwritable_report = answers[2]
    assert isinstance(unwritable_report, ImportReport)
    assert (unwritable_report.applied, unwritable_report.quarantined) == (0, 1)
    assert "TypeError" in unwritable_report.problems[0].message
    assert [a.applied for a in answers if isinstance(a, ImportReport)] == [1, 1, 0, 1]
    assert _stored_cases(pool) == {"L", "P", "Q"}


def test_a_group_takes_waiting_batches_up_to_its_size_and_leaves_the_rest_for_the_next() -> None:
    commit = GroupCommit(max_records=5)
    sizes = [3, 2, 4, 9, 1]
    from govwatch.live import group_commit as module

    commit._waiting = [module._Batch([{}] * n, "api") for n in sizes]
    assert [len(b.records) for b in commit._take()] == [3, 2]
    assert [len(b.records) for b in commit._take()] == [4]
    assert [len(b.records) for b in commit._take()] == [9]  # a large batch goes alone
    assert [len(b.records) for b in commit._take()] == [1]


def test_a_batch_the_check_refuses_is_not_imported_while_the_rest_of_its_group_is(
    pool: Pool,
) -> None:
    gate = _Gate()
    judged: list[list[str]] = []

    def check(db: Database, parts: list[tuple[Any, Any]]) -> list[BaseException | None]:
        judged.append([str(owner) for owner, _ in parts])
        return [
            PermissionError(f"{owner} 无权提交") if owner == "client2" else None
            for owner, _ in parts
        ]

    commit = GroupCommit(gate.turn, check=check)
    batches: list[list[Any]] = [[_event(f"K{n}", 1)] for n in range(4)]
    answers = _post_all(pool, commit, gate, batches)
    # once per group (the waiting batches in whatever order their threads came)
    assert [sorted(g) for g in judged] == [["client0"], ["client1", "client2", "client3"]]
    assert isinstance(answers[2], PermissionError)
    assert [a.applied for a in answers if isinstance(a, ImportReport)] == [1, 1, 1]
    assert _stored_cases(pool) == {"K0", "K1", "K3"}
