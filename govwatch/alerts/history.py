"""Changes the workflow makes to an alert's *condition*, recorded as the rule engine does.

The rule engine writes one ``alert_history`` row per change of its alerts (``raised``,
``level``, ``cleared``, ``reopened``: see :func:`govwatch.rules.live.reconcile`). The workflow
changes alerts too: it raises ``order_overdue`` alerts, turns them red, clears them when the
order is answered, and escalates an alert whose rectification is overdue. Each such change gets
the same kind of history row (next ``seq`` of the alert, the catalog version current at the
time) and, because the engine is not the one deciding, an entry in the ledger
(kind ``alert.condition``) so that it cannot be removed unnoticed.

Callers run inside the unit of work that claimed the change: the history's primary key
``(alert_id, seq)`` turns a concurrent duplicate into a conflict that the unit retries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govwatch.ledger import LedgerEntry, append
from govwatch.storage import Database

LEVELS = ("warning", "yellow", "red")
CHANGES = ("raised", "level", "cleared", "reopened")
LEDGER_KIND = "alert.condition"


@dataclass(frozen=True)
class Change:
    """One change of one alert: ``change`` is one of :data:`CHANGES`, ``level`` the level after."""

    alert_id: str
    change: str
    level: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


def next_level(level: str) -> str:
    """One step up warning → yellow → red; red stays red (an unknown level is left as is)."""
    if level not in LEVELS:
        return level
    return LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]


def catalog_version(db: Database) -> int:
    """The current rule catalog version (0 before the first), as the engine stamps its rows."""
    return int(db.scalar("SELECT COALESCE(MAX(version), 0) FROM rule_catalog_versions"))


def record(
    db: Database, changes: Sequence[Change], at: datetime, *, ledger: bool = True
) -> list[int]:
    """Append a history row per change (and a ledger entry unless ``ledger`` is False).

    Returns the history ``seq`` given to each change, in order. ``ledger=False`` is for a
    change whose own ledger entry already says it (e.g. the ``alert.escalate`` transition).
    """
    if not changes:
        return []
    ids = sorted({c.alert_id for c in changes})
    marks = ", ".join("?" for _ in ids)
    last = {
        str(aid): int(seq)
        for aid, seq in db.query(
            f"SELECT alert_id, MAX(seq) FROM alert_history WHERE alert_id IN ({marks}) "
            "GROUP BY alert_id",
            ids,
        )
    }
    version = catalog_version(db)
    rows, entries, seqs = [], [], []
    for c in changes:
        if c.change not in CHANGES:
            raise ValueError(f"unknown alert change {c.change!r}")
        seq = last.get(c.alert_id, 0) + 1
        last[c.alert_id] = seq
        seqs.append(seq)
        rows.append((c.alert_id, seq, at, c.change, c.level, c.message, version))
        entries.append(
            LedgerEntry(
                LEDGER_KIND,
                "system",
                c.alert_id,
                at,
                {"seq": seq, "change": c.change, "level": c.level, "message": c.message}
                | dict(c.details),
            )
        )
    db.executemany(
        "INSERT INTO alert_history (alert_id, seq, changed_at, change, level, message, "
        "catalog_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    if ledger:
        append(db, entries)
    return seqs
