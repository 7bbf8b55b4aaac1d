"""Append to the hash chain, keyed with a secret outside the database, and anchor its head.

Each entry's ``hash`` chains it to the previous one: HMAC-SHA256, with the ledger's key
(:mod:`govwatch.ledger.keys`), over the previous entry's hash and the entry's canonical JSON
(seq, at, kind, actor, ref, payload). Entries written before the key existed (``seq`` below
``keyed_from``) keep their plain SHA-256 hash. ``ledger_head`` keeps the last (seq, hash) with
its own MAC, the key's identifier, ``keyed_from`` and the last anchored seq.

Without the key, whoever can write SQL can no longer re-hash an edited entry and the tail after
it, nor move the head back to an older entry. What a key cannot show, removing the newest
entries together with a head row saved before they were written, the anchor file does
(:mod:`govwatch.ledger.anchor`): every ``ANCHOR_EVERY`` entries (``GOVWATCH_LEDGER_ANCHOR_EVERY``,
default 20) and on demand (``govwatch ledger anchor``) the head is signed and appended to a
file outside the database. Only committed entries are ever anchored: an append that owns its
transaction anchors its new head after the commit; one inside a caller's transaction anchors
the head it found, if no earlier append of the same transaction wrote it (``head_txid``).

:func:`govwatch.ledger.audit.verify` walks the chain and says what does not hold.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import pyarrow as pa

from govwatch.errors import GovwatchError
from govwatch.ledger.anchor import ensure_genesis, write_anchor
from govwatch.ledger.conflict import LedgerRace, is_conflict
from govwatch.ledger.keys import (
    LedgerKey,
    LedgerKeyError,
    LedgerPlace,
    create_key,
    entry_mac,
    head_mac,
    load_key,
    place_of,
)
from govwatch.storage import Database

_log = logging.getLogger(__name__)
GENESIS = "0" * 64
# pg_advisory_xact_lock(class, key) that serialises appends on PostgreSQL: advisory locks are
# database-wide, so the key is the schema's, and two govwatch schemas in one database (two
# deployments, or parallel test workers) never wait for each other's ledger.
_PG_LOCK_CLASS = 4_242_017
_CHUNK = 50_000
# Set when an append ran inside a caller's transaction (on this thread): the unit of work
# (run_claimed) anchors after its commit only then, not after every unit of work.
_NESTED = threading.local()


def take_nested_appends() -> bool:
    """Whether appends ran inside a caller's transaction on this thread since the last call."""
    appended = bool(getattr(_NESTED, "appended", False))
    _NESTED.appended = False
    return appended


def anchor_every() -> int:
    """Entries between two automatic anchors (``GOVWATCH_LEDGER_ANCHOR_EVERY``, default 20)."""
    raw = os.environ.get("GOVWATCH_LEDGER_ANCHOR_EVERY", "20")
    try:
        return max(1, int(raw))
    except ValueError:
        return 20


@dataclass(frozen=True)
class LedgerEntry:
    """What happened: ``kind`` (e.g. ``alert.appeal``), who, when, about what, and details."""

    kind: str
    actor: str
    ref: str
    at: datetime
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Head:
    """The ``ledger_head`` row (``exists`` False: no row yet, an empty ledger)."""

    seq: int = 0
    hash: str = GENESIS
    keyed_from: int | None = None
    key_id: str | None = None
    mac: str | None = None
    anchored_seq: int | None = None
    txid: int | None = None
    exists: bool = False


@dataclass(frozen=True)
class Anchored:
    """What ``govwatch ledger anchor`` wrote."""

    seq: int
    hash: str
    path: str


def payload_text(payload: Mapping[str, Any]) -> str:
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS, default=str).decode()


def entry_body(seq: int, at: datetime, kind: str, actor: str, ref: str, payload: str) -> bytes:
    return orjson.dumps(
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


def entry_hash(
    prev_hash: str, seq: int, at: datetime, kind: str, actor: str, ref: str, payload: str
) -> str:
    """The plain hash of an entry written before the ledger had a key."""
    body = entry_body(seq, at, kind, actor, ref, payload)
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def read_head(db: Database) -> Head:
    row = db.query(
        "SELECT seq, hash, keyed_from, key_id, head_mac, anchored_seq, head_txid "
        "FROM ledger_head WHERE id = 1"
    )
    if not row:
        return Head()
    seq, digest, keyed_from, key_id, mac, anchored, txid = row[0]
    return Head(
        int(seq),
        str(digest),
        None if keyed_from is None else int(keyed_from),
        None if key_id is None else str(key_id),
        None if mac is None else str(mac),
        None if anchored is None else int(anchored),
        None if txid is None else int(txid),
        True,
    )


def _due(seq: int, anchored: int | None) -> bool:
    return seq > 0 and (anchored is None or seq - anchored >= anchor_every())


def _locked_head(db: Database, place: LedgerPlace) -> tuple[Head, LedgerKey, int, bool]:
    """The head under the ledger's lock (PostgreSQL: an advisory lock per schema, inside the
    caller's transaction), with the key to sign with: (head, key, keyed_from, newly bound)."""
    if db.dialect == "postgres":
        db.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK_CLASS}, hashtext(current_schema()))")
    head = read_head(db)
    key, keyed_from, bound_now = _signing_key(place, head)
    return head, key, keyed_from, bound_now


def _signing_key(place: LedgerPlace, head: Head) -> tuple[LedgerKey, int, bool]:
    """(key, keyed_from, newly bound): the key to sign with, refusing a missing or other one."""
    key = load_key(place)
    if head.key_id is not None and head.keyed_from is not None:
        if key is None:
            raise LedgerKeyError(
                f"账本密钥文件 {place.key_path} 不存在，而账本自第 {head.keyed_from} 条起已用"
                "密钥签名：请恢复该文件（或用 GOVWATCH_LEDGER_KEY_FILE 指向它），此前不能写入账本"
            )
        if key.key_id != head.key_id:
            raise LedgerKeyError(
                f"账本密钥文件 {place.key_path} 的密钥（标识 {key.key_id}）不是账本所用的密钥"
                f"（标识 {head.key_id}）：请恢复原来的密钥文件，此前不能写入账本"
            )
        return key, head.keyed_from, False
    # First use: the key file is created (or an administrator's is taken) and the ledger bound
    # to it; the entries so far keep their plain hashes and the genesis anchor fixes where the
    # signed ones begin.
    if key is None:
        key = create_key(place)
    return key, ensure_genesis(place, key, head.seq, head.hash), True


def _txid(db: Database) -> int:
    return int(db.scalar("SELECT txid_current()"))


def append(db: Database, entries: Sequence[LedgerEntry]) -> list[int]:
    """Append entries in order, inside the caller's transaction (or a new one); return seqs."""
    if not entries:
        return []
    place = place_of(db)
    owner = not db._in_tx
    with db.transaction():
        head, key, keyed_from, bound_now = _locked_head(db, place)
        anchored = head.seq if bound_now and place.anchors is not None else head.anchored_seq
        # Inside a caller's transaction the new entries may yet roll back: anchor the head we
        # found instead, unless this very transaction wrote it (then it is not committed).
        nested_due = not owner and not bound_now and _due(head.seq, anchored)
        if nested_due and place.anchors and (head.txid is None or head.txid != _txid(db)):
            write_anchor(place, key, head.seq, head.hash, keyed_from)
            anchored = head.seq
        rows: list[tuple[int, datetime, str, str, str, str, str, str]] = []
        seq, prev = head.seq, head.hash
        for entry in entries:
            seq += 1
            text = payload_text(entry.payload)
            body = entry_body(seq, entry.at, entry.kind, entry.actor, entry.ref, text)
            digest = entry_mac(key, prev, body)
            rows.append((seq, entry.at, entry.kind, entry.actor, entry.ref, text, prev, digest))
            prev = digest
        _insert(db, rows)
        values = [seq, prev, keyed_from, key.key_id, head_mac(key, seq, prev), anchored]
        if not head.exists:
            db.execute(
                "INSERT INTO ledger_head (id, seq, hash, keyed_from, key_id, head_mac, "
                "anchored_seq, head_txid) VALUES (1, ?, ?, ?, ?, ?, ?, txid_current())",
                values,
            )
        else:
            # Conditional on the head we read: a concurrent appender makes this a conflict.
            claimed = db.query(
                "UPDATE ledger_head SET seq = ?, hash = ?, keyed_from = ?, key_id = ?, "
                "head_mac = ?, anchored_seq = ?, head_txid = txid_current() "
                "WHERE id = 1 AND seq = ? RETURNING id",
                [*values, head.seq],
            )
            if not claimed:
                raise LedgerRace("ledger head moved during append")
    if not owner:
        _NESTED.appended = True
    elif place.anchors is not None and _due(seq, anchored):
        _anchor_quietly(db, place, key, seq, prev, keyed_from)
    return [r[0] for r in rows]


def anchor_if_due(db: Database) -> None:
    """After a commit: anchor the committed head when it is due (never raises).

    :func:`govwatch.ledger.txn.run_claimed` calls it after a unit of work that appended (its
    appends ran inside its transaction and so could not anchor their own entries).
    """
    place = place_of(db)
    if place.anchors is None or db._in_tx:
        return
    try:
        head = read_head(db)
        if head.key_id is None or head.keyed_from is None or not _due(head.seq, head.anchored_seq):
            return
        key = load_key(place)
        if key is None or key.key_id != head.key_id:
            return  # the next append refuses with the reason; verify reports it
    except (OSError, GovwatchError) as exc:
        _log.warning("ledger anchor skipped: %s", exc)
        return
    _anchor_quietly(db, place, key, head.seq, head.hash, head.keyed_from)


def _anchor_quietly(
    db: Database, place: LedgerPlace, key: LedgerKey, seq: int, digest: str, keyed_from: int
) -> None:
    """Anchor after a commit: what failed is left for the next anchor, never the caller's
    (its work is committed); ``ledger verify`` counts the entries not anchored yet."""
    try:
        _anchor_committed(db, place, key, seq, digest, keyed_from)
    except (OSError, GovwatchError) as exc:
        _log.warning("ledger anchor at seq %s failed: %s", seq, exc)


def _anchor_committed(
    db: Database, place: LedgerPlace, key: LedgerKey, seq: int, digest: str, keyed_from: int
) -> None:
    """Anchor a committed entry, then record that it is (bookkeeping: a lost race is fine)."""
    write_anchor(place, key, seq, digest, keyed_from)
    try:
        db.execute(
            "UPDATE ledger_head SET anchored_seq = ? "
            "WHERE id = 1 AND (anchored_seq IS NULL OR anchored_seq < ?)",
            [seq, seq],
        )
    except Exception as exc:  # a concurrent append holds the head: the next one anchors again
        if not is_conflict(exc):
            raise


def append_one(
    db: Database, kind: str, actor: str, ref: str, at: datetime, payload: Mapping[str, Any]
) -> int:
    return append(db, [LedgerEntry(kind, actor, ref, at, payload)])[0]


def anchor_now(db: Database) -> Anchored:
    """Anchor the committed head now (binding the ledger to its key on first use)."""
    place = place_of(db)
    if place.anchors is None:
        raise LedgerKeyError("内存数据库随进程消失，没有锚定文件：请对数据库文件或 PostgreSQL 锚定")
    with db.transaction():
        head, key, keyed_from, bound_now = _locked_head(db, place)
        if bound_now:
            values = [head.seq, head.hash, keyed_from, key.key_id]
            values += [head_mac(key, head.seq, head.hash), head.seq]
            if head.exists:
                db.execute(
                    "UPDATE ledger_head SET seq = ?, hash = ?, keyed_from = ?, key_id = ?, "
                    "head_mac = ?, anchored_seq = ? WHERE id = 1",
                    values,
                )
            else:
                db.execute(
                    "INSERT INTO ledger_head (id, seq, hash, keyed_from, key_id, head_mac, "
                    "anchored_seq) VALUES (1, ?, ?, ?, ?, ?, ?)",
                    values,
                )
    if not bound_now:  # (binding wrote the genesis line: the head is anchored already)
        _anchor_committed(db, place, key, head.seq, head.hash, keyed_from)
    return Anchored(head.seq, head.hash, str(place.anchors))


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


def entry_rows(db: Database) -> Iterator[tuple[Any, ...]]:
    """Every entry in ``seq`` order, read in chunks."""
    last: int | None = None
    while True:
        where, params = ("WHERE seq > ? ", [last]) if last is not None else ("", [])
        chunk = db.query(
            "SELECT seq, logged_at, kind, actor, ref, payload, prev_hash, hash FROM ledger "
            f"{where}ORDER BY seq LIMIT {_CHUNK}",
            params,
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
