"""The batch audit of a PostgreSQL store on the embedded engine (govwatch.rules.pg_batch) finds
what PostgreSQL's own SQL finds, on every rule fixture and moment; the copy it reads is the
store's rows exactly; and a whole-store re-evaluation through it leaves the same alerts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules.engine import audit
from govwatch.rules.live import evaluate_cases
from govwatch.rules.model import Finding
from govwatch.rules.pg_batch import (
    BATCH_TABLES,
    NARROW_COLUMNS,
    batch_wanted,
    embedded_copy,
    table_columns,
)
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url
from tests.rules import fixture_cases as fx
from tests.rules.test_default_rules import write_fixture


def _loaded(folder: Path) -> Database:
    catalog, events = write_fixture(folder)
    db = connect(pg_url())
    import_catalog(db, [catalog])
    import_events(db, [events])
    return db


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = _loaded(tmp_path_factory.mktemp("pg-batch"))
    try:
        yield db
    finally:
        drop_pg_schema(db)
        db.close()


def _full(findings: list[Finding]) -> list[tuple[object, ...]]:
    return [(f.as_dict(), f.occurred_at) for f in findings]


def test_a_small_store_keeps_postgresql_sql_unless_told(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVWATCH_PG_BATCH", raising=False)
    assert not batch_wanted(store)
    monkeypatch.setenv("GOVWATCH_PG_BATCH", "on")
    assert batch_wanted(store)


def test_batch_audit_equals_postgresql_audit_at_every_moment(store: Database) -> None:
    for name, at in fx.MOMENTS.items():
        plain = audit(store, at, batch=False)
        batched = audit(store, at, batch=True)
        assert plain, name
        assert _full(batched) == _full(plain), name


def test_the_copy_holds_the_stored_rows_exactly(tmp_path: Path) -> None:
    db = _loaded(tmp_path)
    try:
        # text PostgreSQL's CSV must quote, an empty text beside NULL, a fraction of a second
        (event_id,) = db.query("SELECT MIN(event_id) FROM events")[0]
        db.execute(
            "UPDATE events SET reason = ?, actor = '', handler = NULL, "
            "occurred_at = occurred_at + INTERVAL '0.25 second' WHERE event_id = ?",
            ['说明,含"引号"\n及换行', event_id],
        )
        at = max(fx.MOMENTS.values())
        with embedded_copy(db, at) as memory:
            for table in BATCH_TABLES:
                columns = NARROW_COLUMNS.get(table) or table_columns(db, table)
                cols = ", ".join(columns)
                where = " WHERE occurred_at <= ?" if table == "events" else ""
                stored = db.query(f"SELECT {cols} FROM {table}{where}", [at] if where else [])
                copied = memory.query(f"SELECT {cols} FROM {table}")
                assert sorted(copied, key=repr) == sorted(stored, key=repr), table
            assert memory.query(
                "SELECT reason, actor, handler FROM events WHERE event_id = ?", [event_id]
            ) == [('说明,含"引号"\n及换行', "", None)]
    finally:
        drop_pg_schema(db)
        db.close()


def _alert_rows(db: Database) -> list[tuple[object, ...]]:
    return db.query(
        "SELECT alert_id, case_id, rule, key, level, status, message, evidence, occurred_at, "
        "first_seen_at, last_seen_at, level_changed_at, cleared_at FROM alerts ORDER BY alert_id"
    ) + db.query("SELECT alert_id, seq, change, level, message FROM alert_history ORDER BY 1, 2")


def test_a_whole_store_reevaluation_through_the_batch_leaves_the_same_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores = {}
    try:
        for mode in ("off", "on"):
            monkeypatch.setenv("GOVWATCH_PG_BATCH", mode)
            (tmp_path / mode).mkdir()
            db = stores[mode] = _loaded(tmp_path / mode)
            for at in sorted(fx.MOMENTS.values()):
                evaluate_cases(db, None, at)
        assert _alert_rows(stores["on"]) == _alert_rows(stores["off"])
        assert _alert_rows(stores["on"])
    finally:
        for db in stores.values():
            drop_pg_schema(db)
            db.close()
