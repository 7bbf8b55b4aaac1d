"""The batch audit of a PostgreSQL store on the embedded engine.

A whole-store audit reads every event once per view and joins millions of rows many times
(issue 17 target 3); on PostgreSQL each of those passes is a row-at-a-time executor over a
heap, on DuckDB a vectorised scan of columns. So a large PostgreSQL store is audited by
reading the tables the rules read once, in one consistent snapshot, through ``COPY … TO
STDOUT`` (CSV, parsed by Arrow's reader as the bytes arrive: memory stays bounded by the
embedded copy), into an in-memory DuckDB with the store's own schema, and by running the same
rules there (:func:`govwatch.rules.engine.run`, whole-store path). The findings come back as
:class:`~govwatch.rules.model.Finding` objects, as from the plain path, so that whoever writes
them (the alerts' reconcile) writes the same rows.

Only the columns the views read travel: ``events`` as of the moment (``occurred_at <= at``)
with :data:`~govwatch.rules.views.EVENT_COLUMNS`, ``event_materials`` with the columns
:func:`~govwatch.rules.views.event_materials_sql` reads, the catalog and calendar tables
whole.

When it is used (:func:`batch_wanted`): a whole-store evaluation (no case scope, every rule)
on PostgreSQL whose ``events`` table holds at least :data:`BATCH_MIN_EVENTS` rows;
``GOVWATCH_PG_BATCH=on|off`` forces the choice. Scoped evaluations (the
live path, the sweeper) and one rule's dry run keep PostgreSQL's own SQL.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from govwatch.rules.views import EVENT_COLUMNS
from govwatch.storage import Database, connect_memory
from govwatch.timeutil import sql_timestamp

# From this many stored events a whole-store audit on PostgreSQL runs on the embedded engine.
# Measured (bench/bench_audit_pg.py, both paths in one run): at 3,400 events the two cost the
# same CPU and PostgreSQL answers sooner (no embedded database to open); at 34,500 the batch
# costs 1.3× less CPU, at 1.1 M events 2×, and PostgreSQL's passes grow faster than the store.
# The threshold sits above the crossover so that the rule fixtures and small test provinces
# keep exercising PostgreSQL's SQL, which the live path uses.
BATCH_MIN_EVENTS = 50_000

# The tables the views and rules read (as govwatch.storage.spark.BASE_TABLES), and for the two
# large ones the columns that travel.
BATCH_TABLES = (
    "items",
    "item_steps",
    "item_materials",
    "item_tiers",
    "item_risk_points",
    "calendar",
    "events",
    "event_materials",
)
NARROW_COLUMNS: dict[str, tuple[str, ...]] = {
    "events": EVENT_COLUMNS,
    "event_materials": ("case_id", "event_id", "seq", "name", "provided"),
}

_ENV = "GOVWATCH_PG_BATCH"


def batch_wanted(db: Database) -> bool:
    """Whether a whole-store audit of ``db`` runs on the embedded engine (see the module)."""
    if db.dialect != "postgres":
        return False
    forced = os.environ.get(_ENV, "").strip().lower()
    if forced in ("on", "1", "true", "yes"):
        return True
    if forced in ("off", "0", "false", "no"):
        return False
    # counted, not estimated (pg_class knows nothing before the first ANALYZE), and the count
    # stops at the threshold: a few milliseconds at any size
    held = db.scalar(f"SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT {BATCH_MIN_EVENTS}) e")
    return int(held or 0) >= BATCH_MIN_EVENTS


class _CopyStream(io.RawIOBase):
    """A ``COPY … TO STDOUT`` as a readable byte stream (what Arrow's CSV reader pulls)."""

    def __init__(self, copy: Any) -> None:
        self._rows = iter(copy)
        self._held = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        parts = [self._held] if self._held else []
        size = len(self._held)
        for block in self._rows:  # psycopg yields a row (or a few) at a time
            parts.append(bytes(block))
            size += len(block)
            if size >= want:
                break
        data = b"".join(parts)
        buffer[: min(want, len(data))] = data[:want]
        self._held = data[want:]
        return min(want, len(data))


def _arrow_schema(mem: Database, table: str, columns: tuple[str, ...]) -> pa.Schema:
    cols = ", ".join(columns)
    return mem.arrow(f"SELECT {cols} FROM {table} LIMIT 0").schema


def table_columns(db: Database, table: str) -> tuple[str, ...]:
    """The columns of ``table`` in ``db`` (PostgreSQL, its current schema), in order."""
    rows = db.query(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        [table],
    )
    return tuple(str(r[0]) for r in rows)


def copy_table(
    db: Database, mem: Database, table: str, select: str, columns: tuple[str, ...]
) -> int:
    """``select`` (over ``db``, yielding ``columns``) into ``mem``'s ``table``: rows copied."""
    schema = _arrow_schema(mem, table, columns)
    reading = pacsv.ReadOptions(column_names=list(columns), block_size=8 << 20)
    parsing = pacsv.ParseOptions(newlines_in_values=True)
    converting = pacsv.ConvertOptions(
        column_types=schema,
        strings_can_be_null=True,  # PostgreSQL writes NULL as nothing, '' as ""
        quoted_strings_can_be_null=False,
        true_values=["t"],
        false_values=["f"],
    )
    cols = ", ".join(columns)
    mem.execute(f"DELETE FROM {table}")  # (the migrations seed the calendar)
    with db.raw.cursor() as cur, cur.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as copy:
        reader = pacsv.open_csv(
            io.BufferedReader(_CopyStream(copy), 8 << 20),
            read_options=reading,
            parse_options=parsing,
            convert_options=converting,
        )
        # one INSERT pulls the batches as they are parsed (one per batch costs twice the time)
        mem.raw.register("_gw_batch_in", reader)
        try:
            mem.raw.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _gw_batch_in")
            (copied,) = mem.raw.fetchone() or (0,)
        finally:
            mem.raw.unregister("_gw_batch_in")
    return int(copied)


@contextmanager
def _snapshot(db: Database) -> Iterator[None]:
    """One snapshot for every COPY: events and materials as of the same commit."""
    if db._in_tx:  # an outer transaction already gives its own view
        yield
        return
    with db.transaction():
        db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


@contextmanager
def embedded_copy(db: Database, at: datetime) -> Iterator[Database]:
    """An in-memory DuckDB holding what the rules read of the PostgreSQL store ``db`` as of
    ``at`` (closed on leaving)."""
    mem = connect_memory()
    try:
        with _snapshot(db):
            db.execute("SET LOCAL DateStyle = 'ISO, YMD'")
            for table in BATCH_TABLES:
                columns = NARROW_COLUMNS.get(table) or table_columns(db, table)
                select = f"SELECT {', '.join(columns)} FROM {table}"
                if table == "events":
                    select += f" WHERE occurred_at <= {sql_timestamp(at)}"
                copy_table(db, mem, table, select, columns)
        yield mem
    finally:
        mem.close()
