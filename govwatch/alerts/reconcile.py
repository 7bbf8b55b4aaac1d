"""Reconcile the workflow with the rule engine's alerts (the first half of a workflow sync).

- an alert without a workflow gets one (state ``open``, transition ``raise``);
- an alert the engine cleared is closed automatically (``auto_close``, close reason ``auto``)
  from whatever state its handling had reached, except a dismissed one;
- an auto-closed alert whose condition came back is reopened (``reopen``).

Each step is one set-based conditional ``UPDATE … RETURNING`` (or ``INSERT … ON CONFLICT DO
NOTHING RETURNING``): a row changes once even when the sweeper and an import run it at the same
time, and the transitions, ledger entries and notifications are written for exactly the rows
returned. Orders and escalation follow in :mod:`govwatch.alerts.sync`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from govwatch.alerts.states import MOVES
from govwatch.ledger import LedgerEntry, append, run_claimed
from govwatch.notifications import Notice, notify
from govwatch.storage import Database

# One sync at a time per process. Not needed for correctness (every step claims its rows, and
# automatic orders claim their alerts: see escalation.py); it spares DuckDB's retries when the
# events API syncs several batches of one process at once.
SYNC_LOCK = threading.Lock()
_CHUNK = 1000


def _filter(case_ids: Sequence[str] | None, column: str) -> tuple[str, list[Any]]:
    if case_ids is None:
        return "", []
    # one list parameter: binding a thousand separate ones costs more than the query
    return f" AND {column} = ANY(?)", [list(case_ids)]


def _write_transitions(db: Database, rows: list[tuple[Any, ...]]) -> None:
    """rows: (alert_id, seq, action, from_state, to_state, at, reason)."""
    if len(rows) < 200:
        db.executemany(
            "INSERT INTO alert_transitions (alert_id, seq, action, from_state, to_state, actor, "
            "actor_role, acted_at, reason) VALUES (?, ?, ?, ?, ?, 'system', 'system', ?, ?)",
            rows,
        )
        return
    cols = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "alert_id": pa.array(cols[0], pa.string()),
            "seq": pa.array(cols[1], pa.int32()),
            "action": pa.array(cols[2], pa.string()),
            "from_state": pa.array(cols[3], pa.string()),
            "to_state": pa.array(cols[4], pa.string()),
            "actor": pa.array(["system"] * len(rows), pa.string()),
            "actor_role": pa.array(["system"] * len(rows), pa.string()),
            "acted_at": pa.array(cols[5], pa.timestamp("us")),
            "reason": pa.array(cols[6], pa.string()),
        }
    )
    db.insert_arrow("alert_transitions", table)


def _sync_chunk(db: Database, at: datetime, case_ids: Sequence[str] | None) -> tuple[int, int, int]:
    def work(tx: Database) -> tuple[int, int, int]:
        where_a, params_a = _filter(case_ids, "a.case_id")
        raised = tx.query(
            "INSERT INTO alert_workflow (alert_id, state, version, case_id, org_code, updated_at, "
            "updated_by) SELECT a.alert_id, 'open', 1, a.case_id, "
            "COALESCE(a.department_code, a.org_code), ?, 'system' FROM alerts a "
            "WHERE NOT EXISTS (SELECT 1 FROM alert_workflow w WHERE w.alert_id = a.alert_id)"
            f"{where_a} ON CONFLICT DO NOTHING RETURNING alert_id, case_id",
            [at, *params_a],
        )
        where_w, params_w = _filter(case_ids, "case_id")
        sources = MOVES["auto_close"].sources
        closed = tx.query(
            "UPDATE alert_workflow SET prev_state = state, state = 'closed', "
            "version = version + 1, "
            "close_reason = 'auto', updated_at = ?, updated_by = 'system' "
            f"WHERE state IN ({', '.join('?' for _ in sources)}){where_w} AND alert_id IN "
            "(SELECT alert_id FROM alerts WHERE status = 'cleared') "
            "RETURNING alert_id, version, prev_state, case_id, org_code",
            [at, *sources, *params_w],
        )
        reopened = tx.query(
            "UPDATE alert_workflow SET prev_state = state, state = 'open', version = version + 1, "
            "close_reason = NULL, updated_at = ?, updated_by = 'system' "
            f"WHERE state = 'closed' AND close_reason = 'auto'{where_w} AND alert_id IN "
            "(SELECT alert_id FROM alerts WHERE status = 'active') "
            "RETURNING alert_id, version, prev_state, case_id, org_code",
            [at, *params_w],
        )
        transitions: list[tuple[Any, ...]] = []
        entries: list[LedgerEntry] = []
        notices: list[Notice] = []
        for alert_id, case_id in raised:
            transitions.append((alert_id, 1, "raise", None, "open", at, "规则发现异常"))
            entries.append(
                LedgerEntry(
                    "alert.raise",
                    "system",
                    str(alert_id),
                    at,
                    {"seq": 1, "case_id": case_id, "to": "open"},
                )
            )
        for action, rows in (("auto_close", closed), ("reopen", reopened)):
            move = MOVES[action]
            for alert_id, version, prev, case_id, org in rows:
                transitions.append(
                    (alert_id, int(version), action, prev, move.target, at, move.name)
                )
                entries.append(
                    LedgerEntry(
                        f"alert.{action}",
                        "system",
                        str(alert_id),
                        at,
                        {"seq": int(version), "from": prev, "to": move.target},
                    )
                )
                if prev != "open" or action == "reopen":
                    notices.append(
                        Notice(
                            f"alert:{alert_id}:{version}",
                            f"alert.{action}",
                            str(alert_id),
                            f"办件 {case_id} 的告警：{move.name}",
                            "department",
                            org,
                            {
                                "alert_id": alert_id,
                                "case_id": case_id,
                                "from": prev,
                                "to": move.target,
                            },
                        )
                    )
        _write_transitions(tx, transitions)
        append(tx, entries)
        notify(tx, notices, at)
        return len(raised), len(closed), len(reopened)

    return run_claimed(db, work)


def reconcile(db: Database, at: datetime, case_ids: Sequence[str] | None) -> tuple[int, int, int]:
    """Raise, auto-close and reopen the workflow of these cases' alerts (all when None), a
    thousand cases per transaction; returns (raised, auto_closed, reopened). The caller holds
    :data:`SYNC_LOCK`."""
    totals = [0, 0, 0]
    ids = None if case_ids is None else sorted(set(case_ids))
    chunks: list[Sequence[str] | None] = (
        [None] if ids is None else [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
    )
    for chunk in chunks:
        for i, n in enumerate(_sync_chunk(db, at, chunk)):
            totals[i] += n
    return totals[0], totals[1], totals[2]
