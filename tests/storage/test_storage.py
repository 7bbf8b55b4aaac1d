"""The storage layer: one schema on both engines, migrations once, a busy DuckDB file explained."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from govwatch.errors import DatabaseBusyError
from govwatch.storage import Database, connect
from govwatch.storage.db import _to_pyformat
from govwatch.storage.migrate import available, migrate


def test_migrations_apply_once_and_record_every_version(db: Database) -> None:
    versions = [v for v, _, _ in available()]
    assert [
        r[0] for r in db.query("SELECT version FROM schema_migrations ORDER BY version")
    ] == versions
    assert migrate(db) == []


def test_placeholders_and_percent_signs_mean_the_same_on_both_engines(db: Database) -> None:
    db.execute("CREATE TEMP TABLE t_pct (a VARCHAR, b INTEGER)")
    db.execute("INSERT INTO t_pct VALUES (?, ?)", ["100%", 1])
    assert db.query("SELECT a, b FROM t_pct WHERE a LIKE '%!%' ESCAPE '!' AND b = ?", [1]) == [
        ("100%", 1)
    ]
    assert db.scalar("SELECT count(*) FROM t_pct WHERE a = '?'") == 0


def test_pyformat_leaves_string_literals_alone() -> None:
    assert _to_pyformat("SELECT '?', ? WHERE x LIKE 'a%'") == "SELECT '?', %s WHERE x LIKE 'a%%'"


def test_bulk_insert_counts_rows_and_skips_conflicts(db: Database) -> None:
    rows = pa.table({"item_code": ["A", "B"], "seq": [1, 1], "name": ["受理", "审查"]})
    db.execute("CREATE TEMP TABLE t_bulk (item_code VARCHAR, seq INTEGER, name VARCHAR, "
               "PRIMARY KEY (item_code, seq))")  # fmt: skip
    assert db.insert_arrow("t_bulk", rows) == 2
    assert db.insert_arrow("t_bulk", rows, on_conflict_nothing=True) == 0
    assert db.scalar("SELECT count(*) FROM t_bulk") == 2


def test_a_duckdb_file_in_use_by_another_process_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ready', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        with pytest.raises(DatabaseBusyError) as caught:
            while time.monotonic() < deadline:
                connect(f"duckdb:///{path}").close()
        message = str(caught.value)
        assert str(path) in message and "另一个进程" in message and "PostgreSQL" in message
    finally:
        holder.kill()
        holder.wait()


def test_postgres_schema_names_are_checked(tmp_path: Path) -> None:
    from govwatch.errors import GovwatchError
    from tests.conftest import PG_BASE, pg_url

    pg_url()  # skips (or fails in CI) without a server
    with pytest.raises(GovwatchError, match="schema"):
        connect(f"{PG_BASE}?schema=bad;name")


def test_many_rows_inserted_at_once_keep_their_values_and_types(db: Database) -> None:
    from datetime import date, datetime
    from decimal import Decimal

    db.execute(
        "CREATE TABLE gw_many (id INTEGER, name VARCHAR, seen_at TIMESTAMP, day DATE, "
        "amount DECIMAL(14, 2), ok BOOLEAN, note VARCHAR)"
    )
    rows = [
        (
            n,
            f"办件{n}" if n % 7 else None,
            datetime(2025, 9, 26, 9, n % 60),
            date(2025, 9, 1 + n % 28),
            Decimal(f"{n}.25"),
            n % 2 == 0,
            None,
        )
        for n in range(150)
    ]
    sql = "INSERT INTO gw_many (id, name, seen_at, day, amount, ok, note) VALUES (?, ?, ?, ?, ?, ?, ?)"
    db.executemany(sql, rows)
    # a column mixing numbers and text is bound value by value, as the engine casts it
    db.executemany(
        sql, [(1000 + n, n if n % 2 else str(n), None, None, None, None, "x") for n in range(30)]
    )
    stored = db.query("SELECT id, name, seen_at, day, amount, ok, note FROM gw_many ORDER BY id")
    assert [tuple(r) for r in stored[:150]] == rows
    assert [r[1] for r in stored[150:153]] == ["0", "1", "2"]
    assert db.scalar("SELECT count(*) FROM gw_many") == 180


def test_an_idle_checkpoint_folds_the_log_into_the_file_and_leaves_an_open_writer_whole(
    tmp_path: Path,
) -> None:
    from govwatch.storage.db import checkpoint_if_idle, wal_bytes

    db = connect(f"duckdb:///{tmp_path / 'gw.duckdb'}")
    db.execute("CREATE TABLE gw_log (n INTEGER, note VARCHAR)")
    db.execute("INSERT INTO gw_log SELECT i, repeat('x', 100) FROM range(20000) t(i)")
    assert wal_bytes(db) > 1000  # far below the checkpoint threshold: still in the log
    assert not checkpoint_if_idle(db, min_bytes=2**40)  # not enough log to bother
    other = Database("duckdb", db.raw.cursor(), db.url)
    other.execute("BEGIN TRANSACTION")
    other.execute("INSERT INTO gw_log VALUES (-1, 'open')")
    checkpoint_if_idle(db, min_bytes=1)  # a writer in the middle: skipped or done, no error
    other.execute("COMMIT")
    assert checkpoint_if_idle(db, min_bytes=1) or wal_bytes(db) == 0
    assert wal_bytes(db) == 0
    db.close()
    again = connect(f"duckdb:///{tmp_path / 'gw.duckdb'}")
    assert again.scalar("SELECT count(*) FROM gw_log") == 20001
    again.close()
