"""The stored next moment: warning start, deadlines passing, pause overruns, steps."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import orjson
import time_machine

from govwatch.deadlines import refresh_next_check
from govwatch.events.cases import rebuild_cases
from govwatch.storage import Database
from govwatch.timeutil import SHANGHAI
from tests.deadlines.clock_builders import add_events, add_item, event


def next_check(db: Database, case_id: str) -> datetime | None:
    value = db.scalar("SELECT next_check_at FROM case_deadlines WHERE case_id = ?", [case_id])
    assert value is None or isinstance(value, datetime)
    return value


def setup_example_1(db: Database) -> None:
    add_item(db, "I20W", promised=(20, "W"), legal=(25, "W"))
    add_events(db, [event("c1", "accept", "2025-09-26 10:00", item_code="I20W")])
    rebuild_cases(db, None)


def test_open_case_next_moment_walks_warning_then_yellow_then_red(db: Database) -> None:
    setup_example_1(db)
    refresh_next_check(db, ["c1"], at=datetime(2025, 10, 20, 9, 0))
    assert next_check(db, "c1") == datetime(2025, 10, 28)  # remaining 2: the warning starts
    refresh_next_check(db, ["c1"], at=datetime(2025, 10, 28))
    assert next_check(db, "c1") == datetime(2025, 10, 31)  # promised deadline 30 Oct passed
    refresh_next_check(db, ["c1"], at=datetime(2025, 10, 31))
    assert next_check(db, "c1") == datetime(2025, 11, 7)  # legal deadline 6 Nov passed
    refresh_next_check(db, ["c1"], at=datetime(2025, 11, 7))
    assert next_check(db, "c1") is None
    stored = db.query_dicts("SELECT * FROM case_deadlines WHERE case_id = 'c1'")[0]
    assert stored["promised_deadline"] == date(2025, 10, 30)
    assert stored["legal_deadline"] == date(2025, 11, 6)


def test_finished_case_has_no_next_moment(db: Database) -> None:
    setup_example_1(db)
    add_events(db, [event("c1", "finish", "2025-10-10 10:00", result="6")])
    rebuild_cases(db, None)
    refresh_next_check(db, None, at=datetime(2025, 10, 11))
    assert next_check(db, "c1") is None


def test_paused_case_waits_for_special_procedure_overrun_not_warnings(db: Database) -> None:
    setup_example_1(db)
    add_events(
        db,
        [
            event(
                "c1",
                "special_start",
                "2025-10-27 09:00",
                procedure_kind="2",
                limit_days=3,
                limit_unit="W",
            )
        ],
    )
    rebuild_cases(db, None)
    refresh_next_check(db, None, at=datetime(2025, 10, 28, 9, 0))
    # days(27 Oct, d) > 3 working days first on Friday 31 Oct.
    assert next_check(db, "c1") == datetime(2025, 10, 31)


def test_long_suspension_moment_is_thirty_natural_days_after_it_starts(db: Database) -> None:
    setup_example_1(db)
    add_events(db, [event("c1", "suspend", "2025-10-10 09:00")])
    rebuild_cases(db, None)
    refresh_next_check(db, None, at=datetime(2025, 10, 11))
    assert next_check(db, "c1") == datetime(2025, 11, 10)  # 31st natural day after 10 Oct


def test_open_step_overdue_moment_comes_before_case_warning(db: Database) -> None:
    add_item(db, "I20W", promised=(20, "W"), legal=(25, "W"), steps=[("审查", 2, "W")])
    add_events(
        db,
        [
            event("c1", "accept", "2025-09-26 10:00", item_code="I20W"),
            event("c1", "step_start", "2025-09-26 11:00", step="审查"),
        ],
    )
    rebuild_cases(db, None)
    refresh_next_check(db, ["c1"], at=datetime(2025, 9, 27))
    # Step: 28 Sep day 1, 29 Sep day 2, 30 Sep day 3 > 2: overdue from 30 Sep.
    assert next_check(db, "c1") == datetime(2025, 9, 30)


def test_refresh_of_some_cases_leaves_the_others_alone(db: Database) -> None:
    setup_example_1(db)
    add_events(db, [event("c2", "accept", "2025-09-26 10:00", item_code="I20W")])
    rebuild_cases(db, None)
    refresh_next_check(db, ["c1"], at=datetime(2025, 10, 20))
    assert next_check(db, "c1") == datetime(2025, 10, 28)
    assert next_check(db, "c2") is None
    assert db.scalar("SELECT count(*) FROM case_deadlines") == 1


def test_import_stores_next_check_through_the_hooks(db: Database, tmp_path: Path) -> None:
    from govwatch.items.ingest import import_catalog
    from govwatch.live.pipeline import import_event_files

    catalog, events = tmp_path / "catalog.jsonl", tmp_path / "events.jsonl"
    catalog.write_bytes(orjson.dumps({
        "item_code": "I20W", "name": "食品经营许可", "department_code": "D1",
        "region_code": "330100", "case_kind": "2", "legal_limit": 25, "legal_limit_unit": "W",
        "promised_limit": 20, "promised_limit_unit": "W"}) + b"\n")  # fmt: skip
    events.write_bytes(orjson.dumps({
        "event_id": "a1", "case_id": "c1", "item_code": "I20W", "kind": "accept",
        "occurred_at": "2025-09-26T10:00:00+08:00"}) + b"\n")  # fmt: skip
    with time_machine.travel(datetime(2025, 10, 20, 9, 0, tzinfo=SHANGHAI), tick=False):
        import_catalog(db, [catalog])
        import_event_files(db, [events])
    assert next_check(db, "c1") == datetime(2025, 10, 28)
