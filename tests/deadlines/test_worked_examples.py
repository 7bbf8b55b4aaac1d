"""spec/time.md's worked examples (calendar: 2025 notices), on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from govwatch.deadlines import install_clock_views
from govwatch.storage import Database
from tests.deadlines.clock_builders import add_events, add_item, event


def clock(db: Database, case_id: str, at: str) -> dict[str, Any]:
    install_clock_views(db, datetime.fromisoformat(at))
    rows = db.query_dicts("SELECT * FROM case_clock WHERE case_id = ?", [case_id])
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def example_1(db: Database) -> Database:
    add_item(db, "I20W", promised=(20, "W"), legal=(20, "W"))
    add_events(db, [event("c1", "accept", "2025-09-26 10:00", item_code="I20W")])
    return db


def test_example_1_deadline_counts_makeup_days_and_skips_national_day(example_1: Database) -> None:
    row = clock(example_1, "c1", "2025-10-12 12:00")
    assert row["promised_deadline"] == date(2025, 10, 30)
    assert row["legal_deadline"] == date(2025, 10, 30)
    # 28 Sep, 29, 30 Sep, 9, 10, 11 Oct: six working days by Sunday 12 Oct.
    assert row["promised_elapsed"] == 6
    assert row["provisional"] is False


def test_example_1_finish_on_deadline_day_is_on_time(example_1: Database) -> None:
    add_events(example_1, [event("c1", "finish", "2025-10-30 17:00", result="6")])
    row = clock(example_1, "c1", "2025-11-05 00:00")
    assert row["status"] == "finished"
    assert row["promised_overdue"] is False
    assert row["promised_days_late"] == 0


def test_example_1_finish_next_morning_is_one_working_day_late(example_1: Database) -> None:
    add_events(example_1, [event("c1", "finish", "2025-10-31 09:00", result="6")])
    row = clock(example_1, "c1", "2025-11-05 00:00")
    assert row["promised_overdue"] is True
    assert row["promised_days_late"] == 1
    assert row["legal_days_late"] == 1


def test_example_2_special_procedure_pauses_five_working_days(db: Database) -> None:
    add_item(db, "I20W", promised=(20, "W"), legal=(20, "W"))
    add_events(
        db,
        [
            event("c2", "accept", "2025-09-26 10:00", item_code="I20W"),
            event(
                "c2",
                "special_start",
                "2025-10-09 14:00",
                procedure_kind="2",
                procedure_type="检测",
                limit_days=10,
                limit_unit="W",
            ),
            event("c2", "special_end", "2025-10-15 09:00", result="合格"),
        ],
    )
    row = clock(db, "c2", "2025-10-20 12:00")
    assert row["paused_days_promised"] == 5
    assert row["promised_deadline"] == date(2025, 11, 6)
    pauses = db.query_dicts("SELECT * FROM case_pauses WHERE case_id = 'c2'")
    assert [(p["kind"], p["days_w"]) for p in pauses] == [("special", 5)]


def test_example_3_natural_days_ending_on_holiday_move_to_next_working_day(db: Database) -> None:
    add_item(db, "I30N", promised=(30, "N"), legal=(30, "N"))
    add_events(db, [event("c3", "accept", "2025-09-02 09:00", item_code="I30N")])
    row = clock(db, "c3", "2025-09-10 12:00")
    assert row["promised_deadline"] == date(2025, 10, 9)
    assert row["legal_deadline"] == date(2025, 10, 9)


@pytest.mark.parametrize(
    ("at", "elapsed", "remaining", "overdue"),
    [
        ("2025-10-27 10:00", 17, 3, False),
        ("2025-10-28 10:00", 18, 2, False),
        ("2025-10-30 10:00", 20, 0, False),
        ("2025-10-31 10:00", 21, -1, True),
    ],
)
def test_example_4_same_case_at_several_moments(
    example_1: Database, at: str, elapsed: int, remaining: int, overdue: bool
) -> None:
    row = clock(example_1, "c1", at)
    assert row["promised_elapsed"] == elapsed
    assert row["promised_remaining"] == remaining
    assert row["promised_overdue"] is overdue
    assert row["status"] == "open"
    warned = 0 <= row["promised_remaining"] <= 2 and not row["paused_now"]
    assert warned is (remaining <= 2 and remaining >= 0)
