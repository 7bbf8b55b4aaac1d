"""The clock views, transpiled by sqlglot from DuckDB to Spark SQL, give the same clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from govwatch.deadlines import clock_views, install_clock_views
from govwatch.errors import GovwatchError
from govwatch.storage import Database, connect_memory
from govwatch.storage.spark import session
from tests.conftest import skip_or_fail
from tests.deadlines.clock_builders import add_events, add_item, event

AT = datetime(2025, 10, 31, 10, 0)
BASE_TABLES = ("events", "items", "item_steps", "calendar")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """govwatch's own session. One JVM serves every session a process makes, and its heap is
    fixed when it starts: a smaller session built here first left the audit tests that follow
    in the same worker a 1 GB heap, where a 10k-case audit ran out of memory and hung."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        skip_or_fail("pyspark is not installed")
    try:
        shared = session()
    except GovwatchError as exc:  # no Java, or Spark cannot start
        skip_or_fail(f"Spark cannot start: {exc}")
    yield shared
    for table in shared.catalog.listTables():  # the session outlives this module
        if table.isTemporary:
            shared.catalog.dropTempView(table.name)


def _sample() -> Database:
    db = connect_memory()
    add_item(db, "I20W", steps=[("审查", 2, "W")])
    add_item(db, "I30N", promised=(30, "N"), legal=(30, "N"))
    add_events(
        db,
        [
            event("c1", "accept", "2025-09-26 10:00", item_code="I20W"),
            event("c1", "step_start", "2025-09-26 11:00", step="审查"),
            event("c1", "step_end", "2025-10-10 11:00", step="审查", action="pass"),
            event("c2", "accept", "2025-09-26 10:00", item_code="I20W"),
            event(
                "c2",
                "special_start",
                "2025-10-09 14:00",
                procedure_kind="2",
                limit_days=10,
                limit_unit="W",
            ),
            event("c2", "special_end", "2025-10-15 09:00"),
            event("c2", "supplement_request", "2025-10-20 09:00"),
            event("c3", "accept", "2025-09-02 09:00", item_code="I30N"),
            event("c3", "finish", "2025-10-09 16:00", result="6"),
        ],
    )
    return db


@pytest.mark.spark
def test_spark_runs_transpiled_clock_views_with_duckdb_results(spark: Any) -> None:
    import sqlglot

    db = _sample()
    for table in BASE_TABLES:
        frame = db.arrow(f"SELECT * FROM {table}").to_pandas()
        spark.createDataFrame(frame).createOrReplaceTempView(table)
    for name, select in clock_views(AT):
        spark_sql = sqlglot.transpile(select, read="duckdb", write="spark")[0]
        spark.sql(spark_sql).createOrReplaceTempView(name)
    columns = (
        "case_id, status, promised_deadline, promised_elapsed, promised_remaining, "
        "promised_overdue, paused_days_promised, legal_deadline"
    )
    query = f"SELECT {columns} FROM case_clock ORDER BY case_id"
    got = [tuple(r) for r in spark.sql(query).collect()]

    install_clock_views(db, AT)
    expected = db.query(f"SELECT {columns} FROM case_clock ORDER BY case_id")
    assert got == expected
    # c2: 5 paused working days, then an open supplement since 20 Oct (9 more by 31 Oct).
    assert got[1][2] == date(2025, 11, 19)
    steps = spark.sql("SELECT case_id, elapsed, overdue FROM step_clock").collect()
    assert [tuple(r) for r in steps] == [("c1", 5, True)]  # 28-30 Sep, 9-10 Oct
