"""The live queue: cases whose clocks, rules and workflow wait for the live evaluator.

An HTTP import writes one ``live_pending`` row per case it touched, under one token per
import run (:func:`enqueue`); :mod:`govwatch.live.evaluator` takes them in rounds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import pyarrow as pa

from govwatch import timeutil
from govwatch.storage import Database


def enqueue(db: Database, case_ids: Sequence[str], at: datetime | None = None) -> str:
    """Queue these cases for the next round; returns the token written (one per call)."""
    token = uuid.uuid4().hex
    ids = sorted(set(case_ids))
    if not ids:
        return token
    moment = at or timeutil.now()
    with db.transaction():
        for start in range(0, len(ids), 1000):
            db.execute(
                "DELETE FROM live_pending WHERE case_id = ANY(?)", [ids[start : start + 1000]]
            )
        db.insert_arrow(
            "live_pending",
            pa.table(
                {
                    "case_id": pa.array(ids, pa.string()),
                    "token": pa.array([token] * len(ids), pa.string()),
                    "queued_at": pa.array([moment] * len(ids), pa.timestamp("us")),
                }
            ),
        )
    return token


def pending_count(db: Database) -> int:
    return int(db.scalar("SELECT count(*) FROM live_pending") or 0)


def pending_of(db: Database, token: str, case_ids: Sequence[str]) -> int:
    """How many of these cases are still queued under ``token`` (not yet evaluated)."""
    ids = list(case_ids)
    return sum(
        int(
            db.scalar(
                "SELECT count(*) FROM live_pending WHERE token = ? AND case_id IN "
                f"({', '.join('?' for _ in chunk)})",
                [token, *chunk],
            )
            or 0
        )
        for chunk in (ids[i : i + 1000] for i in range(0, len(ids), 1000))
    )
