"""The one way a moment enters SQL text: ``timeutil.sql_timestamp`` / ``sql_date``.

Read back on every engine as the same Shanghai wall time, and carried to Spark by sqlglot as a
timestamp, not as text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlglot

from govwatch.storage import Database
from govwatch.timeutil import sql_date, sql_timestamp


def _as_datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_a_moment_reads_back_as_the_same_wall_time(db: Database) -> None:
    at = datetime(2025, 10, 9, 17, 30, 5)
    assert _as_datetime(db.scalar(f"SELECT {sql_timestamp(at)}")) == at


def test_fractions_of_a_second_are_dropped(db: Database) -> None:
    at = datetime(2025, 10, 9, 17, 30, 5, 999_999)
    assert _as_datetime(db.scalar(f"SELECT {sql_timestamp(at)}")) == at.replace(microsecond=0)


def test_an_aware_moment_is_written_as_shanghai_wall_time(db: Database) -> None:
    utc = datetime(2025, 10, 9, 9, 30, tzinfo=UTC)
    assert sql_timestamp(utc) == "TIMESTAMP '2025-10-09 17:30:00'"
    assert _as_datetime(db.scalar(f"SELECT {sql_timestamp(utc)}")) == datetime(2025, 10, 9, 17, 30)


def test_moments_compare_with_stored_timestamps(db: Database) -> None:
    at = datetime(2025, 10, 9, 17, 30)
    earlier = sql_timestamp(at - timedelta(seconds=1))
    assert db.scalar(f"SELECT {earlier} < {sql_timestamp(at)}")
    on = db.scalar(f"SELECT CAST({sql_timestamp(at)} AS DATE) = {sql_date(at.date())}")
    assert on


def test_a_day_reads_back_as_a_date(db: Database) -> None:
    value = db.scalar(f"SELECT {sql_date(date(2025, 10, 1))}")
    assert (value if isinstance(value, date) else date.fromisoformat(str(value))) == date(
        2025, 10, 1
    )


def test_spark_receives_a_timestamp_literal() -> None:
    sql = f"SELECT {sql_timestamp(datetime(2025, 10, 9, 17, 30))} AS at"
    spark = sqlglot.transpile(sql, read="duckdb", write="spark")[0]
    assert "2025-10-09 17:30:00" in spark
    assert "TIMESTAMP" in spark.upper()
