"""The hash-chained ledger: appends chain, and tampering behind the application's back shows."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import orjson
import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.ledger import LedgerEntry, append, append_one, verify
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url

T0 = datetime(2025, 10, 9, 10, 0)


def _fill(db: Database, n: int = 5) -> None:
    for i in range(n):
        append_one(db, "alert.appeal", f"user{i}", f"A{i}", T0 + timedelta(minutes=i), {"i": i})


def _verify_cli(db_url: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli, ["ledger", "verify", "--db", db_url, "--format", "json"])
    return result.exit_code, orjson.loads(result.stdout)


def test_untouched_ledger_verifies(db: Database) -> None:
    _fill(db)
    append(db, [LedgerEntry("alert.raise", "system", f"B{i}", T0, {"i": i}) for i in range(300)])
    result = verify(db)
    assert (result.ok, result.entries) == (True, 305)
    seqs = [r[0] for r in db.query("SELECT seq FROM ledger ORDER BY seq")]
    assert seqs == list(range(1, 306))


def test_empty_ledger_verifies(db: Database) -> None:
    assert verify(db).ok


@pytest.mark.parametrize(
    "tamper, broken",
    [
        ("UPDATE ledger SET payload = '{\"i\":99}' WHERE seq = 3", 3),
        ("UPDATE ledger SET actor = 'someone_else' WHERE seq = 1", 1),
        ("UPDATE ledger SET logged_at = logged_at + INTERVAL '1 hour' WHERE seq = 5", 5),
        ("DELETE FROM ledger WHERE seq = 2", 2),
        ("DELETE FROM ledger WHERE seq = 1", 1),
        ("DELETE FROM ledger WHERE seq = 5", 5),
        ("DELETE FROM ledger WHERE seq >= 4", 4),
    ],
)
def test_ledger_verify_names_the_first_altered_or_removed_entry(
    db_url: str, tamper: str, broken: int
) -> None:
    db = connect(db_url)
    _fill(db)
    db.close()
    code, answer = _verify_cli(db_url)
    assert (code, {k: answer[k] for k in ("ok", "entries", "broken_seq", "problem")}) == (
        0,
        {"ok": True, "entries": 5, "broken_seq": None, "problem": ""},
    )
    db = connect(db_url, migrate=False)
    db.execute(tamper)
    db.close()
    code, answer = _verify_cli(db_url)
    assert code == 1
    assert answer["ok"] is False and answer["broken_seq"] == broken
    assert f"第 {broken} 条" in str(answer["problem"])


def test_rewriting_a_row_with_a_fresh_hash_fails_its_own_signature(db: Database) -> None:
    """A forger without the ledger's key cannot sign the rewritten row (tests/ledger/
    test_ledger_tamper.py tries every other rewrite)."""
    from govwatch.ledger.chain import entry_hash

    _fill(db)
    prev, at = db.query("SELECT prev_hash, logged_at FROM ledger WHERE seq = 3")[0]
    forged = entry_hash(prev, 3, at, "alert.appeal", "user2", "A2", '{"i":42}')
    db.execute("UPDATE ledger SET payload = '{\"i\":42}', hash = ? WHERE seq = 3", [forged])
    result = verify(db)
    assert (result.ok, result.broken_seq) == (False, 3)


@pytest.mark.postgres
def test_an_open_append_in_one_schema_does_not_hold_up_another_schemas_ledger() -> None:
    first, second = connect(pg_url()), connect(pg_url())
    done = threading.Event()
    try:
        with first.transaction():
            append_one(first, "alert.appeal", "a", "A1", T0, {})  # holds its schema's lock
            writer = threading.Thread(
                target=lambda: (append_one(second, "alert.appeal", "b", "B1", T0, {}), done.set())
            )
            writer.start()
            writer.join(timeout=30)
            assert done.is_set(), "the other schema's append waited for this transaction"
        assert verify(first).ok and verify(second).ok
    finally:
        for one in (first, second):
            drop_pg_schema(one)
            one.close()
