"""Rewriting the ledger behind govwatch's back, every way we could think of, on both engines.

The ledger's entries are signed with a key kept outside the database and its head is anchored
to a file outside it too (govwatch/ledger/keys.py, anchor.py): whoever can write SQL (but
cannot read the key file) edits, re-hashes, deletes, reorders, inserts or truncates, and
``govwatch ledger verify`` must say what, one line each, and exit non-zero. Before this change
two of these (re-hashing the tail and the head; deleting the last entry and moving the head
back) went unnoticed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.ledger import LedgerKeyError, anchor_now, append_one, run_claimed, verify
from govwatch.ledger.chain import entry_hash
from govwatch.ledger.keys import place_of
from govwatch.storage import Database, connect

T0 = datetime(2025, 10, 9, 10, 0)
ANCHORED = 25  # entries 1..25 are anchored by `ledger anchor`; 26 and 27 are not yet
TOTAL = 27


@pytest.fixture(autouse=True)
def ledger_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """PostgreSQL's key and anchor file in this test's directory (DuckDB's sit beside the file)."""
    where = tmp_path / "ledger-files"
    monkeypatch.setenv("GOVWATCH_LEDGER_DIR", str(where))
    for name in ("GOVWATCH_LEDGER_KEY_FILE", "GOVWATCH_LEDGER_ANCHOR_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVWATCH_LEDGER_ANCHOR_EVERY", "20")
    return where


@dataclass
class Ledger:
    url: str
    key: Path
    anchors: Path
    saved_heads: dict[int, tuple[Any, ...]]

    def sql(self, *statements: str, params: list[Any] | None = None) -> None:
        db = connect(self.url, migrate=False)
        try:
            for statement in statements:
                db.execute(statement, params or [])
        finally:
            db.close()

    def rows(self) -> list[tuple[Any, ...]]:
        db = connect(self.url, migrate=False)
        try:
            return db.query(
                "SELECT seq, logged_at, kind, actor, ref, payload, prev_hash, hash "
                "FROM ledger ORDER BY seq"
            )
        finally:
            db.close()

    def restore_head(self, seq: int) -> None:
        """Put back a ``ledger_head`` row saved when ``seq`` was the last entry."""
        row = self.saved_heads[seq]
        self.sql("DELETE FROM ledger_head")
        self.sql(
            "INSERT INTO ledger_head (id, seq, hash, keyed_from, key_id, head_mac, anchored_seq, "
            "head_txid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params=list(row),
        )


def _entry(db: Database, i: int) -> None:
    at = T0 + timedelta(minutes=i)
    append_one(db, "alert.appeal", f"user{i % 4}", f"A{i}", at, {"i": i, "reason": "材料齐全"})


def _head_row(db: Database) -> tuple[Any, ...]:
    return tuple(
        db.query(
            "SELECT id, seq, hash, keyed_from, key_id, head_mac, anchored_seq, head_txid "
            "FROM ledger_head"
        )[0]
    )


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    """27 entries written through govwatch (some inside a caller's unit of work), 1..25 anchored.

    The heads at 20 and 26 are kept, as an attacker reading the database over time could.
    """
    db = connect(db_url)
    saved: dict[int, tuple[Any, ...]] = {}
    try:
        for i in range(1, 21):
            _entry(db, i)
        saved[20] = _head_row(db)
        run_claimed(db, lambda tx: [_entry(tx, i) for i in range(21, 26)])
        assert anchor_now(db).seq == ANCHORED
        _entry(db, 26)
        saved[26] = _head_row(db)
        _entry(db, 27)
        place = place_of(db)
    finally:
        db.close()
    assert place.key_path is not None and place.anchors is not None
    state = Ledger(db_url, place.key_path, place.anchors, saved)
    code, answer = _verify(db_url)
    assert code == 0 and answer["ok"] and answer["entries"] == TOTAL, answer
    yield state


def _verify(db_url: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["ledger", "verify", "--db", db_url, "--format", "json"])
    return result.exit_code, orjson.loads(result.stdout)


def _plain_chain(ledger: Ledger, edit: Callable[[int, str], str], from_seq: int) -> None:
    """Re-hash every entry from ``from_seq`` with plain SHA-256, as the old chain did, editing
    payloads on the way, and move the head to the new last hash: the forger's best effort."""
    rows = ledger.rows()
    prev = next((r[7] for r in rows if r[0] == from_seq - 1), "0" * 64)
    db = connect(ledger.url, migrate=False)
    try:
        for seq, at, kind, actor, ref, payload, _prev, _digest in rows:
            if seq < from_seq:
                continue
            payload = edit(seq, payload)
            digest = entry_hash(prev, seq, at, kind, actor, ref, payload)
            db.execute(
                "UPDATE ledger SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                [payload, prev, digest, seq],
            )
            prev = digest
        db.execute("UPDATE ledger_head SET hash = ? WHERE id = 1", [prev])
    finally:
        db.close()


def _edit_tenth(seq: int, payload: str) -> str:
    return '{"i":10,"reason":"已撤回"}' if seq == 10 else payload


def _swap(ledger: Ledger, a: int, b: int) -> None:
    ledger.sql(
        f"UPDATE ledger SET seq = -1 WHERE seq = {a}",
        f"UPDATE ledger SET seq = {a} WHERE seq = {b}",
        f"UPDATE ledger SET seq = {b} WHERE seq = -1",
    )


def _renumber_from(ledger: Ledger, start: int, delta: int) -> None:
    """Move entries ``start``.. by ``delta`` (one by one, in an order the primary key allows)."""
    seqs = [r[0] for r in ledger.rows() if r[0] >= start]
    for seq in sorted(seqs, reverse=delta > 0):
        ledger.sql(f"UPDATE ledger SET seq = {seq + delta} WHERE seq = {seq}")


def _forge_row(ledger: Ledger, seq: int, prev: str) -> str:
    at = T0 + timedelta(days=1)
    payload = '{"i":0,"reason":"伪造"}'
    digest = entry_hash(prev, seq, at, "alert.appeal", "user0", "A0", payload)
    ledger.sql(
        "INSERT INTO ledger (seq, logged_at, kind, actor, ref, payload, prev_hash, hash) "
        "VALUES (?, ?, 'alert.appeal', 'user0', 'A0', ?, ?, ?)",
        params=[seq, at, payload, prev, digest],
    )
    return digest


def _anchor_lines(ledger: Ledger) -> list[bytes]:
    return [line for line in ledger.anchors.read_bytes().split(b"\n") if line]


def _write_anchor_lines(ledger: Ledger, lines: list[bytes]) -> None:
    ledger.anchors.write_bytes(b"".join(line + b"\n" for line in lines))


# -- the tampering, each with the first entry it must name (None: none in particular) and a
# -- fragment of the line that must say it ---------------------------------------------------


def edit_field(t: Ledger) -> None:
    t.sql('UPDATE ledger SET payload = \'{"i":10,"reason":"已撤回"}\' WHERE seq = 10')


def edit_actor(t: Ledger) -> None:
    t.sql("UPDATE ledger SET actor = 'someone_else' WHERE seq = 3")


def edit_time(t: Ledger) -> None:
    t.sql("UPDATE ledger SET logged_at = logged_at + INTERVAL '1 hour' WHERE seq = 27")


def edit_hash(t: Ledger) -> None:
    t.sql(f"UPDATE ledger SET hash = '{hashlib.sha256(b'x').hexdigest()}' WHERE seq = 10")


def rehash_tail_and_head(t: Ledger) -> None:
    _plain_chain(t, _edit_tenth, 10)


def rehash_unanchored_tail_and_head(t: Ledger) -> None:
    _plain_chain(t, lambda s, p: '{"i":27,"reason":"已撤回"}' if s == 27 else p, 27)


def pass_off_as_pre_key(t: Ledger) -> None:
    """Claim every entry was written before the key existed, re-hashed plainly."""
    _plain_chain(t, _edit_tenth, 1)
    t.sql("UPDATE ledger_head SET keyed_from = NULL, key_id = NULL, head_mac = NULL")


def delete_middle(t: Ledger) -> None:
    t.sql("DELETE FROM ledger WHERE seq = 10")


def delete_middle_and_renumber(t: Ledger) -> None:
    t.sql("DELETE FROM ledger WHERE seq = 10")
    _renumber_from(t, 11, -1)
    rows = t.rows()
    t.sql(f"UPDATE ledger_head SET seq = {rows[-1][0]}, hash = '{rows[-1][7]}'")


def delete_first(t: Ledger) -> None:
    t.sql("DELETE FROM ledger WHERE seq = 1")


def delete_last(t: Ledger) -> None:
    t.sql("DELETE FROM ledger WHERE seq = 27")


def delete_last_and_rewind_head(t: Ledger) -> None:
    hash26 = next(r[7] for r in t.rows() if r[0] == 26)
    t.sql(
        "DELETE FROM ledger WHERE seq = 27", f"UPDATE ledger_head SET seq = 26, hash = '{hash26}'"
    )


def truncate_to_a_saved_head(t: Ledger) -> None:
    """Delete 21..27 and put back the head row as it was at 20, MAC and all."""
    t.sql("DELETE FROM ledger WHERE seq > 20")
    t.restore_head(20)


def truncate_all(t: Ledger) -> None:
    t.sql("DELETE FROM ledger")


def truncate_all_and_head(t: Ledger) -> None:
    t.sql("DELETE FROM ledger", "DELETE FROM ledger_head")


def reorder(t: Ledger) -> None:
    _swap(t, 10, 11)


def insert_forged_last(t: Ledger) -> None:
    digest = _forge_row(t, 28, t.rows()[-1][7])
    t.sql(f"UPDATE ledger_head SET seq = 28, hash = '{digest}'")


def insert_forged_middle(t: Ledger) -> None:
    _renumber_from(t, 15, 1)
    prev = next(r[7] for r in t.rows() if r[0] == 14)
    _forge_row(t, 15, prev)
    t.sql("UPDATE ledger_head SET seq = 28")


def insert_before_first(t: Ledger) -> None:
    _forge_row(t, 0, "0" * 64)


def head_hash_edited(t: Ledger) -> None:
    t.sql(f"UPDATE ledger_head SET hash = '{hashlib.sha256(b'y').hexdigest()}'")


def head_keyed_from_edited(t: Ledger) -> None:
    t.sql("UPDATE ledger_head SET keyed_from = 12")


def key_replaced(t: Ledger) -> None:
    t.key.write_text(secrets.token_hex(32) + "\n")


def key_replaced_and_rebound(t: Ledger) -> None:
    """A new key, the head told its identifier, the whole chain re-signed with it."""
    from govwatch.ledger.keys import LedgerPlace, entry_mac, head_mac, load_key

    t.key.write_text(secrets.token_hex(32) + "\n")
    key = load_key(LedgerPlace(t.key, t.anchors))
    assert key is not None
    db = connect(t.url, migrate=False)
    try:
        prev = "0" * 64
        for seq, at, kind, actor, ref, payload, _p, _d in t.rows():
            from govwatch.ledger.chain import entry_body

            digest = entry_mac(key, prev, entry_body(seq, at, kind, actor, ref, payload))
            db.execute(
                "UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?", [prev, digest, seq]
            )
            prev = digest
        db.execute(
            "UPDATE ledger_head SET hash = ?, key_id = ?, head_mac = ?",
            [prev, key.key_id, head_mac(key, TOTAL, prev)],
        )
    finally:
        db.close()


def key_deleted(t: Ledger) -> None:
    t.key.unlink()


def anchor_line_edited(t: Ledger) -> None:
    lines = _anchor_lines(t)
    record = orjson.loads(lines[-1])
    record["hash"] = hashlib.sha256(b"z").hexdigest()
    _write_anchor_lines(t, [*lines[:-1], orjson.dumps(record)])


def anchor_line_removed(t: Ledger) -> None:
    lines = _anchor_lines(t)
    _write_anchor_lines(t, [lines[0], *lines[2:]])


def anchor_last_line_removed(t: Ledger) -> None:
    _write_anchor_lines(t, _anchor_lines(t)[:-1])


def anchor_line_forged(t: Ledger) -> None:
    lines = _anchor_lines(t)
    record = orjson.loads(lines[-1])
    record.update(n=record["n"] + 1, prev=record["mac"], seq=40, mac="0" * 64)
    _write_anchor_lines(t, [*lines, orjson.dumps(record)])


def anchor_file_deleted(t: Ledger) -> None:
    t.anchors.unlink()


def anchor_file_emptied(t: Ledger) -> None:
    t.anchors.write_bytes(b"")


TAMPERING: list[tuple[Callable[[Ledger], None], int | None, str]] = [
    (edit_field, 10, "第 10 条记录的内容与其签名不符"),
    (edit_actor, 3, "第 3 条记录的内容与其签名不符"),
    (edit_time, 27, "第 27 条记录的内容与其签名不符"),
    (edit_hash, 10, "第 11 条记录的前序哈希与前一条记录不符"),
    (rehash_tail_and_head, 10, "第 10 至 27 条记录的内容与其签名不符"),
    (rehash_unanchored_tail_and_head, 27, "账本头（第 27 条）的签名不符"),
    (pass_off_as_pre_key, 1, "第 1 至 27 条记录的内容与其签名不符"),
    (delete_middle, 10, "第 10 条记录缺失"),
    (delete_middle_and_renumber, 10, "第 10 至 26 条记录的内容与其签名不符"),
    (delete_first, 1, "第 1 条记录缺失"),
    (delete_last, 27, "第 27 条及之后的记录缺失"),
    (delete_last_and_rewind_head, 27, "账本头（第 26 条）的签名不符"),
    (truncate_to_a_saved_head, 21, "第 21 至 25 条记录被删除"),
    (truncate_all, 1, "第 1 条及之后的记录缺失"),
    (truncate_all_and_head, 1, "第 1 至 25 条记录被删除"),
    (reorder, 10, "第 10 至 11 条记录的内容与其签名不符"),
    (insert_forged_last, 28, "第 28 条记录的内容与其签名不符"),
    (insert_forged_middle, 15, "第 15 至 28 条记录的内容与其签名不符"),
    (insert_before_first, 0, "第 0 条记录的序号无效"),
    (head_hash_edited, 27, "账本头的哈希与第 27 条记录不符"),
    (head_keyed_from_edited, None, "有记录被冒充为启用密钥之前的记录"),
    (key_replaced, None, "不是账本所用的密钥"),
    (key_replaced_and_rebound, 20, "由另一把密钥"),
    (key_deleted, None, "账本密钥文件"),
    (anchor_line_edited, None, "的签名不符（锚定文件被改动）"),
    (anchor_line_removed, None, "的行号为"),
    (anchor_last_line_removed, None, "锚定文件末尾的行被删除"),
    (anchor_line_forged, None, "的签名不符（锚定文件被改动）"),
    (anchor_file_deleted, None, "不存在，而账本自第 1 条起已启用密钥"),
    (anchor_file_emptied, None, "是空的"),
]


@pytest.mark.parametrize("tamper, first, says", TAMPERING, ids=[t[0].__name__ for t in TAMPERING])
def test_verify_says_what_was_tampered_with(
    ledger: Ledger, tamper: Callable[[Ledger], None], first: int | None, says: str
) -> None:
    tamper(ledger)
    code, answer = _verify(ledger.url)
    assert code == 1 and answer["ok"] is False
    assert any(says in line for line in answer["problems"]), answer["problems"]
    if first is not None:
        assert answer["broken_seq"] == first, answer["problems"]
    assert all("\n" not in line for line in answer["problems"])
    assert answer["problem"] == answer["problems"][0]


def test_the_key_is_a_file_of_mode_0600_outside_the_database(ledger: Ledger) -> None:
    assert ledger.key.stat().st_mode & 0o777 == 0o600
    assert len(ledger.key.read_text().strip()) == 64
    secret = ledger.key.read_text().strip()
    db = connect(ledger.url, migrate=False)
    try:
        for table in ("ledger", "ledger_head", "schema_migrations"):
            text = " ".join(str(v) for row in db.query(f"SELECT * FROM {table}") for v in row)
            assert secret not in text
    finally:
        db.close()
    lines = [orjson.loads(line) for line in _anchor_lines(ledger)]
    assert [(a["n"], a["seq"]) for a in lines] == [(1, 0), (2, 20), (3, 25)]


def test_entries_after_the_last_anchor_are_counted_in_a_note(ledger: Ledger) -> None:
    """What the anchor file cannot show (removing its newest entries with a head row saved
    before they were written) is the part not anchored yet: verify says how much that is."""
    code, answer = _verify(ledger.url)
    assert code == 0 and answer["anchored_seq"] == ANCHORED
    assert any("最后 2 条记录（第 26 至 27 条）尚未锚定" in n for n in answer["notes"])


def test_an_append_refuses_a_missing_or_other_key(ledger: Ledger) -> None:
    original = ledger.key.read_bytes()
    ledger.key.unlink()
    db = connect(ledger.url)
    try:
        with pytest.raises(LedgerKeyError, match="不存在"):
            _entry(db, 28)
        ledger.key.write_text(secrets.token_hex(32) + "\n")
        with pytest.raises(LedgerKeyError, match="不是账本所用的密钥"):
            _entry(db, 28)
        ledger.key.write_bytes(original)
        _entry(db, 28)
        assert verify(db).ok
    finally:
        db.close()


def test_an_anchor_never_names_an_entry_that_rolled_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appends inside a caller's transaction that is then rolled back leave no anchor behind
    (the next entries take the same seqs with other hashes: a false alarm otherwise)."""
    monkeypatch.setenv("GOVWATCH_LEDGER_ANCHOR_EVERY", "1")
    db = connect(db_url)
    try:
        for i in range(1, 4):
            _entry(db, i)
        with pytest.raises(RuntimeError), db.transaction():
            for i in range(100, 105):
                _entry(db, i)
            raise RuntimeError("the unit of work fails")
        run_claimed(db, lambda tx: [_entry(tx, i) for i in range(4, 9)])
        _entry(db, 9)
        result = verify(db)
        assert result.ok, result.problems
        assert result.entries == 9 and result.anchored_seq == 9
    finally:
        db.close()


def test_anchors_are_written_every_n_entries(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVWATCH_LEDGER_ANCHOR_EVERY", "5")
    db = connect(db_url)
    try:
        for i in range(1, 13):
            _entry(db, i)
        place = place_of(db)
        assert place.anchors is not None
        seqs = [orjson.loads(x)["seq"] for x in place.anchors.read_bytes().splitlines()]
        assert seqs == [0, 5, 10]
        result = verify(db)
        assert result.ok and result.anchored_seq == 10
    finally:
        db.close()


def _legacy(db: Database, n: int) -> None:
    """Entries as govwatch wrote them before the key: plain hashes, a head without a key."""
    prev = "0" * 64
    for seq in range(1, n + 1):
        at = T0 + timedelta(minutes=seq)
        payload = orjson.dumps({"i": seq}).decode()
        digest = entry_hash(prev, seq, at, "auth.login", "wang", "U1", payload)
        db.execute(
            "INSERT INTO ledger (seq, logged_at, kind, actor, ref, payload, prev_hash, hash) "
            "VALUES (?, ?, 'auth.login', 'wang', 'U1', ?, ?, ?)",
            [seq, at, payload, prev, digest],
        )
        prev = digest
    db.execute("INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)", [n, prev])


def test_entries_from_before_the_key_are_verified_by_plain_hash_and_said_so(db_url: str) -> None:
    db = connect(db_url)
    try:
        _legacy(db, 6)
        place = place_of(db)
        assert place.key_path is not None and not place.key_path.exists()
        before = verify(db)
        assert before.ok and before.keyed_from is None
        assert any("全部 6 条记录按普通哈希校验" in n for n in before.notes)
        _entry(db, 7)  # first use: the key is created and the ledger bound to it
        assert place.key_path.stat().st_mode & 0o777 == 0o600
        after = verify(db)
        assert after.ok and after.keyed_from == 7 and after.entries == 7
        assert any("第 1 至 6 条记录写于启用密钥之前，按普通哈希校验" in n for n in after.notes)
        # the pre-key entries are anchored too (the genesis line): re-hashing them shows
        prev = "0" * 64
        for seq, at, kind, actor, ref, payload, _p, _d in db.query(
            "SELECT seq, logged_at, kind, actor, ref, payload, prev_hash, hash FROM ledger "
            "WHERE seq <= 6 ORDER BY seq"
        ):
            if seq == 2:
                payload = '{"i":99}'
            digest = entry_hash(prev, seq, at, kind, actor, ref, payload)
            db.execute(
                "UPDATE ledger SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                [payload, prev, digest, seq],
            )
            prev = digest
        broken = verify(db)
        assert not broken.ok and broken.broken_seq == 6
        assert any("第 7 条记录的前序哈希" in p for p in broken.problems), broken.problems
        assert any("第 6 条记录与锚定文件" in p for p in broken.problems), broken.problems
    finally:
        db.close()


def test_key_and_anchor_files_can_be_named(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, anchors = tmp_path / "secrets" / "ledger.key", tmp_path / "anchors" / "head.jsonl"
    monkeypatch.setenv("GOVWATCH_LEDGER_KEY_FILE", str(key))
    monkeypatch.setenv("GOVWATCH_LEDGER_ANCHOR_FILE", str(anchors))
    db = connect(db_url)
    try:
        _entry(db, 1)
        assert key.exists() and anchors.exists()
        assert verify(db).ok
        anchors.unlink()
        assert not verify(db).ok
    finally:
        db.close()


def _govwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=300,
        check=False,
    )


def test_the_commands_anchor_and_verify_in_their_own_processes(ledger: Ledger) -> None:
    anchored = _govwatch("ledger", "anchor", "--db", ledger.url)
    assert anchored.returncode == 0, anchored.stderr
    assert f"已锚定：账本第 {TOTAL} 条" in anchored.stdout
    good = _govwatch("ledger", "verify", "--db", ledger.url)
    assert good.returncode == 0, good.stderr
    assert f"账本完好：共 {TOTAL} 条记录" in good.stderr and f"已锚定到第 {TOTAL} 条" in good.stderr
    delete_last_and_rewind_head(ledger)
    ledger.anchors.write_bytes(ledger.anchors.read_bytes() + b"{not json\n")
    bad = _govwatch("ledger", "verify", "--db", ledger.url)
    assert bad.returncode == 1
    errors = [line for line in bad.stderr.splitlines() if line.startswith("错误：")]
    assert len(errors) >= 3, bad.stderr
    assert any("无法解析" in line for line in errors)
    assert any(f"第 {TOTAL} 条记录被删除" in line or "签名不符" in line for line in errors)
    assert "账本校验未通过" in bad.stderr.splitlines()[-1]
