"""Reading only recent event rows for touched cases loses nothing; the id hash finds every duplicate."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from govwatch.events import cases as case_module
from govwatch.events import ingest
from govwatch.events.ingest import import_records
from govwatch.storage import Database, connect


def _event(case_id: str, n: int, kind: str, day: int) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}-{n}",
        "case_id": case_id,
        "kind": kind,
        "item_code": "E001",
        "org_code": "DEPT1",
        "occurred_at": f"2025-09-{day:02d}T09:00:00",
    }


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """Each import begins a day after the previous one (timeutil.wall_clock as seen by ingest)."""
    moments = [datetime(2026, 1, 1, 8, 0)]

    def wall_clock() -> datetime:
        moments[0] += timedelta(days=1)
        return moments[0]

    monkeypatch.setattr(ingest, "wall_clock", wall_clock)
    return moments


def _case(db: Database, case_id: str) -> dict[str, Any]:
    rows = db.query_dicts(
        "SELECT event_count, accepted_at, finished_at, status, first_ingested_at FROM cases "
        "WHERE case_id = ?",
        [case_id],
    )
    assert len(rows) == 1
    return rows[0]


def test_a_case_touched_by_later_imports_is_rebuilt_from_all_its_events(
    db: Database, clock: list[datetime]
) -> None:
    import_records(db, [_event("A", 1, "apply", 1), _event("A", 2, "accept", 1)])
    first = clock[0]
    for n in range(3, 8):  # other cases' rows pile up after A's in later imports
        import_records(db, [_event(f"B{n}", 1, "apply", 2)])
    import_records(db, [_event("A", 9, "finish", 5)])
    case = _case(db, "A")
    assert case["event_count"] == 3
    assert case["status"] == "finished"
    assert case["accepted_at"] == datetime(2025, 9, 1, 9, 0)
    assert case["first_ingested_at"] == first
    # what the window asks for: rows since A's first import
    assert case_module.ingest_window(db, "SELECT 'A'") == first
    assert case_module.ingest_window(db, "SELECT 'A' UNION SELECT 'B5'") == first


def test_a_case_without_a_known_first_moment_reads_all_its_rows(
    db: Database, clock: list[datetime]
) -> None:
    import_records(db, [_event("A", 1, "apply", 1), _event("A", 2, "accept", 1)])
    db.execute("UPDATE cases SET first_ingested_at = NULL")  # stored before migration 051
    assert case_module.ingest_window(db, "SELECT 'A'") is None
    import_records(db, [_event("A", 3, "finish", 4)])
    assert _case(db, "A")["event_count"] == 3
    assert _case(db, "A")["first_ingested_at"] is not None
    # a case the store does not know yet: nothing to go by without the import's own moment
    assert case_module.ingest_window(db, "SELECT 'NEW'") is None
    assert case_module.ingest_window(db, "SELECT 'NEW'", since=clock[0]) == clock[0]


@pytest.fixture
def duck(tmp_path: Any) -> Any:
    database = connect(f"duckdb:///{tmp_path / 'hash.duckdb'}")
    yield database
    database.close()


def test_rows_written_without_an_id_hash_still_count_as_duplicates(duck: Database) -> None:
    events = [_event("A", 1, "apply", 1), _event("A", 2, "accept", 1)]
    import_records(duck, events)
    duck.execute("UPDATE events SET id_hash = NULL")  # written by another tool
    again = import_records(duck, events)
    assert (again.applied, again.duplicates) == (0, 2)
    assert duck.scalar("SELECT count(*) FROM events") == 2
    assert duck.scalar("SELECT count(*) FROM events WHERE id_hash IS NULL") == 0


def test_a_changed_hash_function_rehashes_every_row_before_probing(duck: Database) -> None:
    events = [_event("A", 1, "apply", 1), _event("A", 2, "accept", 1)]
    import_records(duck, events)
    # as if an upgraded DuckDB hashed differently: stored hashes and probe no longer match
    duck.execute("UPDATE events SET id_hash = id_hash + 1")
    duck.execute("UPDATE store_meta SET value = 'another' WHERE key = 'event_id_hash_probe'")
    ingest._HASHES_CHECKED.clear()  # … and a new process opens the file
    again = import_records(duck, events)
    assert (again.applied, again.duplicates) == (0, 2)
    assert duck.scalar("SELECT count(*) FROM events WHERE id_hash <> hash(event_id)") == 0
