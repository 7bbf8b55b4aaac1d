"""The quarantine: malformed records kept whole, with where they came from and what was wrong.

Records are listed, fixed (one field at a time, or the whole text) and retried; a retried
record that now imports is marked ``resolved``, one that fails again gets a fresh entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
import pyarrow as pa

from govwatch.errors import GovwatchError
from govwatch.events.checks import storable
from govwatch.storage import Database
from govwatch.timeutil import now


@dataclass(frozen=True)
class QuarantineEntry:
    record_type: str  # "event" | "item"
    source: str
    line: int | None
    field: str
    message: str
    raw: str


def add(db: Database, entries: Sequence[QuarantineEntry]) -> None:
    """Keep malformed records; one already held (same file, line and text) is not added twice."""
    if not entries:
        return
    sources = sorted({e.source for e in entries})
    marks = ", ".join("?" for _ in sources)
    held = {
        (r[0], r[1], r[2])
        for r in db.query(
            f"SELECT source, line, raw FROM quarantine WHERE status = 'open' AND source IN ({marks})",
            sources,
        )
    }
    entries = [_storable(e) for e in entries]
    entries = [e for e in entries if (e.source, e.line, e.raw) not in held]
    if not entries:
        return
    start = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM quarantine")) + 1
    stamp = now()
    table = pa.table(
        {
            "id": pa.array(range(start, start + len(entries)), pa.int64()),
            "record_type": [e.record_type for e in entries],
            "source": [e.source for e in entries],
            "line": pa.array([e.line for e in entries], pa.int64()),
            "field": [e.field for e in entries],
            "message": [e.message for e in entries],
            "raw": [e.raw for e in entries],
            "status": ["open"] * len(entries),
            "created_at": pa.array([stamp] * len(entries), pa.timestamp("us")),
        }
    )
    db.insert_arrow("quarantine", table)


def _storable(entry: QuarantineEntry) -> QuarantineEntry:
    """The entry as every engine can store it: no PostgreSQL text column holds NUL, nor any
    a lone surrogate (bytes a reader could not decode), so those are written as ``\\xNN``."""
    source, field, message, raw = (
        storable(t) for t in (entry.source, entry.field, entry.message, entry.raw)
    )
    return replace(entry, source=source, field=field, message=message, raw=raw)


def list_entries(
    db: Database,
    *,
    status: str | None = "open",
    record_type: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    where, params = [], []
    if status:
        where.append("status = ?")
        params.append(status)
    if record_type:
        where.append("record_type = ?")
        params.append(record_type)
    sql = "SELECT id, record_type, source, line, field, message, raw, status, created_at FROM quarantine"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return db.query_dicts(sql, params)


def fix(db: Database, entry_id: int, field: str, value: str | None) -> str:
    """Set one field of a quarantined record (``value`` None removes it); returns the new text."""
    rows = db.query("SELECT raw FROM quarantine WHERE id = ? AND status = 'open'", [entry_id])
    if not rows:
        raise GovwatchError(
            f"隔离区中没有待处理的记录 {entry_id}：用 govwatch quarantine list 查看编号"
        )
    try:
        record = orjson.loads(rows[0][0])
    except orjson.JSONDecodeError:
        raise GovwatchError(
            f"隔离记录 {entry_id} 不是合法的 JSON，无法按字段修改：请用 --raw 提供整条修正后的记录"
        ) from None
    if not isinstance(record, dict):
        raise GovwatchError(
            f"隔离记录 {entry_id} 不是 JSON 对象，无法按字段修改：请用 --raw 提供整条记录"
        )
    if value is None:
        record.pop(field, None)
    else:
        record[field] = value
    text = orjson.dumps(record).decode()
    db.execute("UPDATE quarantine SET raw = ? WHERE id = ?", [text, entry_id])
    return text


def replace_raw(db: Database, entry_id: int, text: str) -> None:
    if not db.query("SELECT 1 FROM quarantine WHERE id = ? AND status = 'open'", [entry_id]):
        raise GovwatchError(f"隔离区中没有待处理的记录 {entry_id}")
    db.execute("UPDATE quarantine SET raw = ? WHERE id = ?", [storable(text), entry_id])


def mark(db: Database, ids: Sequence[int], status: str) -> None:
    if ids:
        marks = ", ".join("?" for _ in ids)
        db.execute(
            f"UPDATE quarantine SET status = ?, resolved_at = ? WHERE id IN ({marks})",
            [status, now(), *ids],
        )
