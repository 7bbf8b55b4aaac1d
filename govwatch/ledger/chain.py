"""Append to and verify the hash chain.

Each entry's ``hash`` is SHA-256 over the previous entry's hash and the entry's canonical JSON
(seq, at, kind, actor, ref, payload). ``ledger_head`` keeps the last (seq, hash): editing a row
breaks its own hash, removing one breaks the sequence and the next entry's ``prev_hash``, and
removing the last ones disagrees with the head. ``verify`` names the first broken entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from govwatch.storage import Database

GENESIS = "0" * 64
# pg_advisory_xact_lock(class, key) that serialises appends on PostgreSQL: advisory locks are
# database-wide, so the key is the schema's, and two govwatch schemas in one database (two
# deployments, or parallel test workers) never wait for each other's ledger.
_PG_LOCK_CLASS = 4_242_017
_CHUNK = 50_000


class LedgerRace(RuntimeError):
    """Another writer moved the head between our read and our write; the unit of work retries."""


@dataclass(frozen=True)
class LedgerEntry:
    """What happened: ``kind`` (e.g. ``alert.appeal``), who, when, about what, and details."""

    kind: str
    actor: str
    ref: str
    at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    broken_seq: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
        }


def payload_text(payload: Mapping[str, Any]) -> str:
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str).decode()


def entry_hash(
    prev_hash: str, seq: int, at: datetime, kind: str, actor: str, ref: str, payload: str
) -> str:
    body = orjson.dumps(
        {
            "seq": seq,
            "at": at.isoformat(),
            "kind": kind,
            "actor": actor,
            "ref": ref,
            "payload": payload,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def _head(db: Database) -> tuple[int, str]:
    row = db.query("SELECT seq, hash FROM ledger_head WHERE id = 1")
    if not row:
        return 0, GENESIS
    return int(row[0][0]), str(row[0][1])


def append(db: Database, entries: Sequence[LedgerEntry]) -> list[int]:
    """Append entries in order, inside the caller's transaction (or a new one); return seqs."""
    if not entries:
        return []
    with db.transaction():
        if db.dialect == "postgres":
            db.execute(
                f"SELECT pg_advisory_xact_lock({_PG_LOCK_CLASS}, hashtext(current_schema()))"
            )
        head_seq, head_hash = _head(db)
        rows: list[tuple[int, datetime, str, str, str, str, str, str]] = []
        seq, prev = head_seq, head_hash
        for entry in entries:
            seq += 1
            text = payload_text(entry.payload)
            digest = entry_hash(prev, seq, entry.at, entry.kind, entry.actor, entry.ref, text)
            rows.append((seq, entry.at, entry.kind, entry.actor, entry.ref, text, prev, digest))
            prev = digest
        _insert(db, rows)
        if head_seq == 0 and head_hash == GENESIS:
            db.execute("INSERT INTO ledger_head (id, seq, hash) VALUES (1, ?, ?)", [seq, prev])
        else:
            # Conditional on the head we read: a concurrent appender makes this a conflict.
            claimed = db.query(
                "UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ? RETURNING id",
                [seq, prev, head_seq],
            )
            if not claimed:
                raise LedgerRace("ledger head moved during append")
        return [r[0] for r in rows]


def append_one(
    db: Database, kind: str, actor: str, ref: str, at: datetime, payload: Mapping[str, Any]
) -> int:
    return append(db, [LedgerEntry(kind, actor, ref, at, payload)])[0]


_COLUMNS = ("seq", "logged_at", "kind", "actor", "ref", "payload", "prev_hash", "hash")


def _insert(db: Database, rows: list[tuple[int, datetime, str, str, str, str, str, str]]) -> None:
    if len(rows) < 200:
        db.executemany(
            "INSERT INTO ledger (seq, logged_at, kind, actor, ref, payload, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        return
    columns = list(zip(*rows, strict=True))
    schema = pa.schema(
        [
            ("seq", pa.int64()),
            ("logged_at", pa.timestamp("us")),
            ("kind", pa.string()),
            ("actor", pa.string()),
            ("ref", pa.string()),
            ("payload", pa.string()),
            ("prev_hash", pa.string()),
            ("hash", pa.string()),
        ]
    )
    table = pa.table(
        {name: list(col) for name, col in zip(_COLUMNS, columns, strict=True)}, schema=schema
    )
    db.insert_arrow("ledger", table)


def _rows(db: Database) -> Iterator[tuple[Any, ...]]:
    last = 0
    while True:
        chunk = db.query(
            "SELECT seq, logged_at, kind, actor, ref, payload, prev_hash, hash FROM ledger "
            f"WHERE seq > ? ORDER BY seq LIMIT {_CHUNK}",
            [last],
        )
        if not chunk:
            return
        yield from chunk
        last = int(chunk[-1][0])


def recent_entries(db: Database, limit: int, kind: str | None = None) -> list[dict[str, Any]]:
    """The latest ``limit`` entries, newest first, optionally of one ``kind``."""
    where, params = ("WHERE kind = ? ", [kind]) if kind else ("", [])
    return db.query_dicts(
        "SELECT seq, logged_at, kind, actor, ref, payload FROM ledger "
        f"{where}ORDER BY seq DESC LIMIT {int(limit)}",
        params,
    )


def verify(db: Database) -> VerifyResult:
    """Walk the chain from the first entry; stop at the first one that does not hold."""
    expected_seq, prev = 1, GENESIS
    count = 0
    for seq, at, kind, actor, ref, payload, prev_hash, digest in _rows(db):
        seq = int(seq)
        if seq != expected_seq:
            missing = expected_seq if seq > expected_seq else seq
            return VerifyResult(
                False,
                count,
                missing,
                f"账本第 {missing} 条记录缺失（第 {expected_seq - 1} 条之后是第 {seq} 条）",
            )
        if prev_hash != prev:
            return VerifyResult(
                False, count, seq, f"账本第 {seq} 条记录的前序哈希与第 {seq - 1} 条不符"
            )
        if entry_hash(prev, seq, at, kind, actor, ref, payload) != digest:
            return VerifyResult(
                False, count, seq, f"账本第 {seq} 条记录的内容与其哈希不符（已被改动）"
            )
        prev = digest
        expected_seq += 1
        count += 1
    head_seq, head_hash = _head(db)
    if head_seq != count or head_hash != prev:
        missing = count + 1
        return VerifyResult(
            False,
            count,
            missing,
            f"账本第 {missing} 条及之后的记录缺失"
            f"（账本头记录到第 {head_seq} 条，实际只有 {count} 条）",
        )
    return VerifyResult(True, count)
