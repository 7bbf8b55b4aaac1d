"""The case order rules compare, and scoped evaluation by literal ids or by the scope table."""

from __future__ import annotations

from pathlib import Path

import pytest

from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules import views
from govwatch.rules.catalog import Catalog
from govwatch.rules.engine import DatabaseExecutor, audit, run
from govwatch.storage.db import Database
from tests.rules.province import end_at, make_province

T = "TIMESTAMP '2025-03-03 09:00:00'"
LATER = "TIMESTAMP '2025-03-03 09:00:01'"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((T, "3", "'e2'"), (LATER, "1", "'e1'"), True),  # earlier instant first
        ((LATER, "1", "'e1'"), (T, "3", "'e2'"), False),
        ((T, "1", "'e9'"), (T, "3", "'e1'"), True),  # same instant: kind order
        ((T, "3", "'e1'"), (T, "3", "'e2'"), True),  # same instant and kind: event id
        ((T, "3", "'e2'"), (T, "3", "'e2'"), False),  # an event is not before itself
    ],
)
def test_before_orders_by_time_then_kind_order_then_event_id(
    db: Database, a: tuple[str, str, str], b: tuple[str, str, str], expected: bool
) -> None:
    assert db.scalar(f"SELECT CASE WHEN {views.before(a, b)} THEN TRUE ELSE FALSE END") is expected


def test_before_is_not_true_when_an_event_is_missing(db: Database) -> None:
    missing = ("CAST(NULL AS TIMESTAMP)", "CAST(NULL AS INTEGER)", "CAST(NULL AS VARCHAR)")
    present = (T, "1", "'e1'")
    sql = f"SELECT CASE WHEN {views.before(present, missing)} THEN 1 ELSE 0 END"
    assert db.scalar(sql) == 0


def test_scope_filter_quotes_ids_and_falls_back_to_the_scope_table() -> None:
    assert views.scope_filter("e.case_id", True, ["a'b", "c"]) == "e.case_id IN ('a''b', 'c')"
    many = [str(i) for i in range(views.LITERAL_SCOPE_MAX + 1)]
    assert "SELECT case_id FROM gw_scope" in views.scope_filter("e.case_id", True, many)
    assert views.scope_filter("e.case_id", False, ["a"]) == ""


def test_scoped_runs_by_literal_ids_and_by_scope_table_match_the_whole_audit(
    tmp_path: Path, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_province(tmp_path, 300, 5)
    import_catalog(db, [folder / "catalog.jsonl"])
    import_events(db, [folder / "events.jsonl"])
    at = end_at(folder)
    whole = [f.as_dict() for f in audit(db, at)]
    flagged = sorted({str(f["case_id"]) for f in whole})
    scope = flagged[::2] + [str(r[0]) for r in db.query("SELECT case_id FROM cases LIMIT 20")]
    expected = [f for f in whole if f["case_id"] in set(scope)]
    assert expected
    literal = run(DatabaseExecutor(db), Catalog(), at, scope)
    monkeypatch.setattr(views, "LITERAL_SCOPE_MAX", 0)
    by_table = run(DatabaseExecutor(db), Catalog(), at, scope)
    assert [f.as_dict() for f in literal] == expected
    assert [f.as_dict() for f in by_table] == expected
