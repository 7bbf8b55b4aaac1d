"""The anchor file: the ledger's head, signed and appended to a file outside the database.

Each line is one JSON object (append-only JSON lines)::

    {"n": 3, "seq": 120, "hash": "…", "keyed_from": 1, "key_id": "…", "at": "…",
     "prev": "<mac of line 2>", "mac": "<HMAC of the other fields>"}

``seq``/``hash`` is an entry the ledger held when the line was written (an anchor is only ever
written for committed entries), ``keyed_from`` the first entry signed with the key (entries
before it were written before the key existed and carry plain hashes). Lines are numbered and
chained by ``prev``, so a removed, reordered or edited line shows; the first line (the
*genesis*, written when the ledger took its key) fixes ``keyed_from``, so entries cannot be
passed off as pre-key ones to escape the key. Writers hold an exclusive ``flock`` on the file.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from govwatch.ledger.keys import LedgerKey, LedgerKeyError, LedgerPlace, anchor_mac, same
from govwatch.timeutil import wall_clock

NO_MAC = "0" * 64
_FIELDS = ("n", "seq", "hash", "keyed_from", "key_id", "at", "prev")


@dataclass(frozen=True)
class Anchor:
    line: int
    seq: int
    hash: str
    keyed_from: int
    key_id: str


@dataclass
class AnchorLog:
    """What the anchor file says, and what is wrong with the file itself."""

    path: Path
    exists: bool = False
    anchors: list[Anchor] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def keyed_from(self) -> int | None:
        return self.anchors[0].keyed_from if self.anchors else None

    @property
    def last(self) -> Anchor | None:
        return max(self.anchors, key=lambda a: a.seq) if self.anchors else None


def _body(record: dict[str, Any]) -> bytes:
    return orjson.dumps({k: record[k] for k in _FIELDS}, option=orjson.OPT_SORT_KEYS)


@contextmanager
def _locked(path: Path) -> Iterator[IO[bytes]]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lines(handle: IO[bytes]) -> list[bytes]:
    handle.seek(0)
    return [line for line in handle.read().split(b"\n") if line.strip()]


def _last_line(handle: IO[bytes]) -> bytes | None:
    """The file's last non-empty line, read backwards from the end."""
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    chunk, tail = 4096, b""
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        tail = handle.read(end - start) + tail
        end = start
        stripped = tail.rstrip(b"\n")
        if b"\n" in stripped or end == 0:
            return stripped.rsplit(b"\n", 1)[-1] or None
    return None


def _write(handle: IO[bytes], key: LedgerKey, n: int, prev: str, **values: Any) -> None:
    record: dict[str, Any] = {"n": n, "prev": prev, "key_id": key.key_id, **values}
    record["at"] = wall_clock().isoformat()
    record["mac"] = anchor_mac(key, _body(record))
    handle.seek(0, os.SEEK_END)
    handle.write(orjson.dumps(record, option=orjson.OPT_SORT_KEYS) + b"\n")
    handle.flush()
    os.fsync(handle.fileno())


def write_anchor(
    place: LedgerPlace, key: LedgerKey, seq: int, digest: str, keyed_from: int
) -> None:
    """Append a signed line for the committed entry (seq, digest)."""
    if place.anchors is None:
        return
    with _locked(place.anchors) as handle:
        last = _last_line(handle)
        n, prev = 0, NO_MAC
        if last is not None:
            try:
                record = orjson.loads(last)
                n, prev = int(record["n"]), str(record["mac"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise LedgerKeyError(
                    f"锚定文件 {place.anchors} 的最后一行无法解析，不能在其后继续锚定："
                    "请运行 govwatch ledger verify 查看"
                ) from exc
        _write(handle, key, n + 1, prev, seq=seq, hash=digest, keyed_from=keyed_from)


def ensure_genesis(place: LedgerPlace, key: LedgerKey, head_seq: int, head_hash: str) -> int:
    """Bind the ledger to ``key``: the first signed entry is the one after the head.

    Writes the genesis line when the file has none and returns ``keyed_from``; when the file
    already has lines (a binding whose transaction rolled back, or a concurrent one), returns
    theirs, after checking they belong to this key and to no longer ledger than this one.
    """
    if place.anchors is None:
        return head_seq + 1
    with _locked(place.anchors) as handle:
        lines = _lines(handle)
        if not lines:
            _write(handle, key, 1, NO_MAC, seq=head_seq, hash=head_hash, keyed_from=head_seq + 1)
            return head_seq + 1
        log = _parse(place.anchors, lines, key)
        if log.problems or not log.anchors:
            raise LedgerKeyError(
                f"锚定文件 {place.anchors} 已有内容但校验不通过（{(log.problems or ['无有效行'])[0]}）："
                "不能为账本启用密钥，请运行 govwatch ledger verify 查看"
            )
        last = log.last
        assert last is not None
        if last.seq > head_seq:
            raise LedgerKeyError(
                f"锚定文件 {place.anchors} 记录账本曾有 {last.seq} 条记录，而账本现只有 "
                f"{head_seq} 条：账本被截断，拒绝写入；请运行 govwatch ledger verify 查看"
            )
        return log.anchors[0].keyed_from


def read_log(place: LedgerPlace, key: LedgerKey | None) -> AnchorLog | None:
    """The anchor file checked line by line (None for an in-memory database)."""
    if place.anchors is None:
        return None
    path = place.anchors
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AnchorLog(path)
    lines = [line for line in raw.split(b"\n") if line.strip()]
    return _parse(path, lines, key)


def _parse(path: Path, lines: list[bytes], key: LedgerKey | None) -> AnchorLog:
    log = AnchorLog(path, exists=True)
    prev = NO_MAC
    for number, line in enumerate(lines, 1):
        where = f"锚定文件 {path} 第 {number} 行"
        try:
            record = orjson.loads(line)
            anchor = Anchor(
                number,
                int(record["seq"]),
                str(record["hash"]),
                int(record["keyed_from"]),
                str(record["key_id"]),
            )
            n, mac, linked = int(record["n"]), str(record["mac"]), str(record["prev"])
            body = _body(record)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.problems.append(f"{where}无法解析（锚定文件被改动）")
            prev = NO_MAC
            continue
        if key is not None and anchor.key_id != key.key_id:
            log.problems.append(
                f"{where}由另一把密钥（标识 {anchor.key_id}）写入，而当前密钥标识为 {key.key_id}"
            )
        elif key is not None and not same(mac, anchor_mac(key, body)):
            log.problems.append(f"{where}的签名不符（锚定文件被改动）")
            prev = mac
            continue
        if n != number:
            log.problems.append(f"{where}的行号为 {n}（有锚定行被删除、插入或调换）")
        elif linked != prev:
            log.problems.append(f"{where}与上一行不衔接（有锚定行被删除或调换）")
        if log.anchors and anchor.keyed_from != log.anchors[0].keyed_from:
            log.problems.append(
                f"{where}记录的启用密钥位置（第 {anchor.keyed_from} 条）与第 1 行"
                f"（第 {log.anchors[0].keyed_from} 条）不符"
            )
        log.anchors.append(anchor)
        prev = mac
    return log
