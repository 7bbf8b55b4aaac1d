"""Held records: posted events that wait until their case's organisation is known.

A source token may post only for its organisations (:mod:`govwatch.live.source_scope`). A
record that names no ``org_code`` and no known item, for a case not stored yet (its ``apply``
is in another batch, posted at the same time or later), cannot be judged on arrival. Refusing
it would make arrival order matter (a client that takes 403 as final drops the event); applying
it would let a token write into another department's case. So it is held in ``held_events``
(migration 056) with the token that posted it, and the batch's answer counts it as ``held``.

Held records are released by :func:`govwatch.live.source_scope.release_held` once their case's
organisation is known: right after an API import run that touched the case
(:func:`govwatch.live.pipeline.queue_event_batches`), and by the sweeper's tick for cases
that appeared any other way (a file import, another server process). This module only keeps
the table: what is held, what is ready, what is gone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from govwatch import timeutil
from govwatch.storage import Database


@dataclass(frozen=True)
class Hold:
    """A check's verdict on a batch it admits while holding some of its records back: their
    positions in the batch (the check has stored them; the import leaves them out)."""

    positions: frozenset[int]


@dataclass(frozen=True)
class HeldRecord:
    case_id: str
    token_id: str
    poster: str  # the principal's name, for messages
    source: str  # the batch's source, as the import stores it (api:<name>)
    position: int  # the record's index in its request body
    record: str  # the record's JSON text, as the import would have read it

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.source}\n{self.record}".encode()).hexdigest()


def hold(db: Database, records: Sequence[HeldRecord], at: datetime | None = None) -> None:
    """Keep these records until their case is known (a record already held is kept once)."""
    if not records:
        return
    moment = at or timeutil.now()
    unique = {r.key: r for r in records}
    table = pa.table(
        {
            "record_key": pa.array(list(unique), pa.string()),
            "case_id": pa.array([r.case_id for r in unique.values()], pa.string()),
            "token_id": pa.array([r.token_id for r in unique.values()], pa.string()),
            "poster": pa.array([r.poster for r in unique.values()], pa.string()),
            "source": pa.array([r.source for r in unique.values()], pa.string()),
            "position": pa.array([r.position for r in unique.values()], pa.int64()),
            "record": pa.array([r.record for r in unique.values()], pa.string()),
            "held_at": pa.array([moment] * len(unique), pa.timestamp("us")),
        }
    )
    db.insert_arrow("held_events", table, on_conflict_nothing=True)


def ready(db: Database, case_ids: Sequence[str] | None) -> list[HeldRecord]:
    """Held records (of these cases; all when None) whose case is stored with an organisation,
    in the order they were held."""
    sql = (
        "SELECT h.case_id, h.token_id, h.poster, h.source, h.position, h.record, h.held_at "
        "FROM held_events h JOIN cases c ON c.case_id = h.case_id "
        "WHERE (c.department_code IS NOT NULL OR c.org_code IS NOT NULL "
        "OR c.region_code IS NOT NULL)"
    )
    if case_ids is None:
        rows = db.query(sql)
    else:
        ids = sorted(set(case_ids))
        rows = []
        for start in range(0, len(ids), 1000):
            rows += db.query(sql + " AND h.case_id = ANY(?)", [ids[start : start + 1000]])
    rows.sort(key=lambda r: (r[6], str(r[3]), int(r[4])))
    return [
        HeldRecord(str(c), str(t), str(p), str(s), int(n), str(rec))
        for c, t, p, s, n, rec, _ in rows
    ]


def any_held(db: Database, case_ids: Sequence[str]) -> bool:
    """Whether any of these cases has a record held (the import run's cheap test: nothing is
    held almost always)."""
    if not db.query("SELECT 1 FROM held_events LIMIT 1"):
        return False
    ids = sorted(set(case_ids))
    return any(
        db.scalar("SELECT count(*) FROM held_events WHERE case_id = ANY(?)", [ids[i : i + 1000]])
        for i in range(0, len(ids), 1000)
    )


def remove(db: Database, records: Sequence[HeldRecord]) -> None:
    keys = sorted({r.key for r in records})
    for start in range(0, len(keys), 1000):
        db.execute(
            "DELETE FROM held_events WHERE record_key = ANY(?)", [keys[start : start + 1000]]
        )
