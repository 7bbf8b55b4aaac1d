"""The calendar table: official notices from the package, make-up days, provisional years."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from govwatch.calendar import days_between, deadline_on, is_workday
from govwatch.calendar.official import migration_sql, official_years
from govwatch.calendar.store import status
from govwatch.storage import Database

ROOT = Path(__file__).resolve().parents[2]
MIGRATION = ROOT / "govwatch" / "storage" / "migrations" / "011_calendar_official.sql"


def test_shipped_migration_is_generated_from_the_installed_package() -> None:
    assert MIGRATION.read_text(encoding="utf-8") == migration_sql()


def test_package_covers_2004_to_2026() -> None:
    assert official_years() == list(range(2004, 2027))


def test_national_day_2025_rest_days_and_makeup_working_days(db: Database) -> None:
    assert is_workday(db, date(2025, 9, 28))  # Sunday, make-up
    assert is_workday(db, date(2025, 10, 11))  # Saturday, make-up
    for day in range(1, 9):
        assert not is_workday(db, date(2025, 10, day))
    assert is_workday(db, date(2025, 10, 9))


def test_ordinals_count_days_after_the_start_date(db: Database) -> None:
    assert days_between(db, date(2025, 10, 9), date(2025, 10, 15), "W") == 5
    assert days_between(db, date(2025, 10, 9), date(2025, 10, 15), "N") == 6
    assert days_between(db, date(2025, 10, 1), date(2025, 10, 8), "W") == 0
    assert deadline_on(db, date(2025, 9, 26), 20, "W") == date(2025, 10, 30)
    assert deadline_on(db, date(2025, 9, 2), 30, "N") == date(2025, 10, 9)
    assert deadline_on(db, date(2025, 9, 26), 0, "W") == date(2025, 9, 26)


def test_years_without_notice_are_provisional_weekends_only(db: Database) -> None:
    by_year = {y.year: y for y in status(db)}
    assert by_year[2026].covered and not by_year[2027].covered
    assert by_year[2003].covered is False
    assert by_year[2027].source == "provisional"
    assert is_workday(db, date(2027, 10, 1))  # a Friday: no notice yet, so a working day
    assert not is_workday(db, date(2027, 10, 2))
    rows = db.query("SELECT DISTINCT provisional FROM calendar WHERE on_date >= DATE '2027-01-01'")
    assert rows == [(True,)]


def test_calendar_spans_2000_to_2035_one_row_per_date(db: Database) -> None:
    assert db.scalar("SELECT count(*) FROM calendar") == 13149
    assert db.scalar("SELECT MIN(on_date) FROM calendar") == date(2000, 1, 1)
    assert db.scalar("SELECT MAX(on_date) FROM calendar") == date(2035, 12, 31)
    assert db.scalar("SELECT MAX(day_ordinal) FROM calendar") == 13149
