"""``ledger verify``: walk the chain, the head, the key and the anchor file; say what does not hold.

Every finding is one line in Chinese naming the entries concerned; consecutive entries that
fail the same way make one line (``第 3 至 120 条…``). What is checked:

- each entry's own hash: an HMAC with the ledger's key from ``keyed_from`` on, the plain
  SHA-256 of before the key existed below it (said in a note, not a failure);
- each entry's link to the one before (``prev_hash``) and the sequence having no gap;
- the head: the last entry's seq and hash, and its own MAC (a head moved back to an older
  entry has none a forger could compute);
- the key: present, and the one the ledger was bound to (``key_id``);
- the anchor file: present once the ledger has a key, every line's MAC and its chain to the
  line before, its ``keyed_from`` agreeing with the head's, and every anchored (seq, hash)
  still in the ledger: an entry re-hashed, or entries removed from the end, contradict it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govwatch.ledger.anchor import AnchorLog, read_log
from govwatch.ledger.chain import GENESIS, Head, entry_body, entry_hash, entry_rows, read_head
from govwatch.ledger.keys import (
    LedgerKey,
    LedgerKeyError,
    entry_mac,
    head_mac,
    key_file_mode,
    load_key,
    place_of,
    same,
)
from govwatch.storage import Database

_MAX_LINES = 50


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    broken_seq: int | None = None
    problem: str = ""
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    keyed_from: int | None = None
    anchored_seq: int | None = None
    key_file: str | None = None
    anchor_file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "keyed_from": self.keyed_from,
            "anchored_seq": self.anchored_seq,
            "key_file": self.key_file,
            "anchor_file": self.anchor_file,
        }


_RUN_TEXT = {
    "mac": "的内容与其签名不符（被改动过，或不是用账本密钥写入的）",
    "hash": "的内容与其哈希不符（已被改动）",
    "link": "的前序哈希与前一条记录不符（前一条被改动、调换或伪造）",
    "anchor": "与锚定文件记录的哈希不符（锚定之后被改写）",
}


@dataclass
class _Findings:
    """Problems as they are found; consecutive entries failing the same check make one line.

    :meth:`ordered` puts the findings about the key and the files first, then the entries'
    in ``seq`` order.
    """

    lines: list[tuple[int | None, str]] = field(default_factory=list)
    _runs: dict[str, tuple[int, int]] = field(default_factory=dict)

    def add(self, text: str, seq: int | None = None) -> None:
        self.lines.append((seq, text))

    def entry(self, kind: str, seq: int) -> None:
        run = self._runs.get(kind)
        if run is not None and run[1] == seq - 1:
            self._runs[kind] = (run[0], seq)
            return
        self._close(kind)
        self._runs[kind] = (seq, seq)

    def _close(self, kind: str) -> None:
        run = self._runs.pop(kind, None)
        if run is None:
            return
        first, last = run
        which = f"第 {first} 条" if first == last else f"第 {first} 至 {last} 条"
        self.lines.append((first, f"账本{which}记录{_RUN_TEXT[kind]}"))

    def ordered(self) -> list[tuple[int | None, str]]:
        for kind in list(self._runs):
            self._close(kind)
        return sorted(self.lines, key=lambda line: -1 if line[0] is None else line[0])


def _key(place: Any, head: Head, found: _Findings) -> LedgerKey | None:
    """The key to check signatures with, or None (with the reason among the findings)."""
    try:
        key = load_key(place)
    except LedgerKeyError as exc:
        found.add(str(exc))
        return None
    if key is None:
        if head.key_id is not None:
            found.add(
                f"账本密钥文件 {place.key_path} 不存在：账本自第 {head.keyed_from} 条起的签名"
                "记录无法校验（密钥文件被删除或移走；请恢复它，或用 GOVWATCH_LEDGER_KEY_FILE 指向它）"
            )
        return None
    if head.key_id is not None and key.key_id != head.key_id:
        found.add(
            f"账本密钥文件 {place.key_path} 的密钥（标识 {key.key_id}）不是账本所用的密钥"
            f"（标识 {head.key_id}）：密钥被更换，签名无法校验"
        )
        return None
    return key


def _anchor_file(
    log: AnchorLog | None, head: Head, keyed_from: int | None, found: _Findings
) -> None:
    if log is None:
        return
    for text in log.problems:
        found.add(text)
    if head.key_id is not None and not log.exists:
        found.add(
            f"锚定文件 {log.path} 不存在，而账本自第 {keyed_from} 条起已启用密钥："
            "锚定记录被删除（或 GOVWATCH_LEDGER_ANCHOR_FILE 指向了别的文件）"
        )
    elif head.key_id is not None and not log.anchors and not log.problems:
        found.add(f"锚定文件 {log.path} 是空的，而账本已启用密钥：锚定记录被清空")
    last = log.last
    if (
        head.anchored_seq is not None
        and log.exists
        and (last is None or last.seq < head.anchored_seq)
    ):
        found.add(
            f"锚定文件 {log.path} 最后锚定到第 {last.seq if last else 0} 条，而账本头记录已锚定到"
            f"第 {head.anchored_seq} 条：锚定文件末尾的行被删除"
        )
    file_from = log.keyed_from
    if file_from is not None and head.keyed_from is not None and file_from != head.keyed_from:
        found.add(
            f"账本头记录签名自第 {head.keyed_from} 条开始，而锚定文件记录为第 {file_from} 条："
            "有记录被冒充为启用密钥之前的记录"
        )


def verify(db: Database) -> VerifyResult:
    """Walk the ledger and everything that vouches for it; see the module's notes."""
    place = place_of(db)
    head = read_head(db)
    found = _Findings()
    notes: list[str] = []
    key = _key(place, head, found)
    log = read_log(place, key)
    file_from = log.keyed_from if log is not None else None
    keyed_from = file_from if file_from is not None else head.keyed_from
    _anchor_file(log, head, keyed_from, found)
    anchored: dict[int, list[tuple[int, str]]] = {}
    for anchor in log.anchors if log is not None else []:
        anchored.setdefault(anchor.seq, []).append((anchor.line, anchor.hash))
    for line, digest in anchored.get(0, []):
        if digest != GENESIS:
            found.add(f"锚定文件第 {line} 行记录的空账本哈希不对（锚定文件被改动）")

    count, expected, last_seq, prev = 0, 1, 0, GENESIS
    for seq, at, kind, actor, ref, payload, prev_hash, digest in entry_rows(db):
        seq = int(seq)
        count += 1
        if seq < expected:  # (seqs are unique and read in order: only below 1)
            found.add(
                f"账本第 {seq} 条记录的序号无效（应从第 1 条起连续编号）：伪造插入的记录", seq
            )
            continue
        after_gap = seq != expected
        if after_gap:
            missing = (
                f"第 {expected} 条" if seq == expected + 1 else f"第 {expected} 至 {seq - 1} 条"
            )
            found.add(f"账本{missing}记录缺失（第 {expected - 1} 条之后是第 {seq} 条）", expected)
        if not after_gap and prev_hash != prev:
            found.entry("link", seq)
        body = entry_body(seq, at, kind, actor, ref, payload)
        if keyed_from is not None and seq >= keyed_from:
            if key is not None and not same(entry_mac(key, prev_hash, body), digest):
                found.entry("mac", seq)
        elif entry_hash(prev_hash, seq, at, kind, actor, ref, payload) != digest:
            found.entry("hash", seq)
        if any(h != digest for _, h in anchored.get(seq, [])):
            found.entry("anchor", seq)
        prev, expected, last_seq = digest, seq + 1, seq

    if head.exists and head.seq > last_seq:
        found.add(
            f"账本第 {last_seq + 1} 条及之后的记录缺失"
            f"（账本头记录到第 {head.seq} 条，实际只到第 {last_seq} 条）",
            last_seq + 1,
        )
    elif head.exists and head.seq < last_seq:
        found.add(
            f"账本头只记录到第 {head.seq} 条，其后却还有第 {head.seq + 1} 至 {last_seq} 条记录"
            "（账本头被回退，或这些记录是伪造插入的）",
            head.seq + 1,
        )
    elif head.exists and head.hash != prev:
        found.add(f"账本头的哈希与第 {last_seq} 条记录不符（账本头被改写）", last_seq)
    elif not head.exists and count:
        found.add(f"账本头缺失（账本有 {count} 条记录）：账本头被删除", last_seq)
    signed = head.exists and head.key_id is not None and key is not None
    if signed and key is not None and not same(head.mac, head_mac(key, head.seq, head.hash)):
        found.add(
            f"账本头（第 {head.seq} 条）的签名不符：账本头被改写，或被回退到较早的记录"
            f"（第 {head.seq + 1} 条及之后的记录可能已被删除）",
            head.seq + 1,
        )
    beyond = [(s, lines[0][0]) for s, lines in anchored.items() if s > last_seq]
    if beyond:
        top, line = max(beyond)
        gone = f"第 {top} 条" if top == last_seq + 1 else f"第 {last_seq + 1} 至 {top} 条"
        found.add(
            f"锚定文件第 {line} 行记录账本曾有第 {top} 条记录，而账本现只到第 {last_seq} 条："
            f"{gone}记录被删除",
            last_seq + 1,
        )

    notes.extend(_notes(place, head, keyed_from, count, last_seq, anchored, log))
    lines = found.ordered()
    if len(lines) > _MAX_LINES:
        lines = [*lines[:_MAX_LINES], (None, f"……另有 {len(lines) - _MAX_LINES} 处问题未列出")]
    seqs = [s for s, _ in lines if s is not None]
    valid_anchors = [s for s in anchored if s <= last_seq]
    return VerifyResult(
        ok=not lines,
        entries=count,
        broken_seq=min(seqs) if seqs else None,
        problem=lines[0][1] if lines else "",
        problems=tuple(text for _, text in lines),
        notes=tuple(notes),
        keyed_from=keyed_from,
        anchored_seq=max(valid_anchors) if valid_anchors else None,
        key_file=None if place.key_path is None else str(place.key_path),
        anchor_file=None if place.anchors is None else str(place.anchors),
    )


def _notes(
    place: Any,
    head: Head,
    keyed_from: int | None,
    count: int,
    last_seq: int,
    anchored: dict[int, list[tuple[int, str]]],
    log: AnchorLog | None,
) -> list[str]:
    notes = []
    if place.in_memory:
        notes.append("内存数据库：密钥只在本进程内存中，没有锚定文件")
    if keyed_from is None:
        if count:
            notes.append(
                f"账本尚未启用密钥：全部 {count} 条记录按普通哈希校验（写入下一条记录或运行 "
                "govwatch ledger anchor 时启用）"
            )
    elif keyed_from > 1 and count:
        notes.append(
            f"第 1 至 {keyed_from - 1} 条记录写于启用密钥之前，按普通哈希校验；"
            f"此后的记录按密钥签名校验"
        )
    mode = key_file_mode(place)
    if mode is not None and mode & 0o077:
        notes.append(
            f"账本密钥文件 {place.key_path} 的权限为 {mode:04o}，应为 0600（只有运行 govwatch 的用户可读）"
        )
    if log is not None and log.exists and head.key_id is not None:
        done = max((s for s in anchored if s <= last_seq), default=0)
        if last_seq > done:
            notes.append(
                f"最后 {last_seq - done} 条记录（第 {done + 1} 至 {last_seq} 条）尚未锚定："
                "运行 govwatch ledger anchor 可立即锚定"
            )
    return notes
