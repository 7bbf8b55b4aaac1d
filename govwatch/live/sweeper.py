"""The live sweeper: time-driven supervision while ``govwatch serve`` runs.

The sweeper is a daemon thread: every ``interval`` seconds it evaluates cases left queued for the
live evaluator (:mod:`govwatch.live.evaluator`; after a crash), runs the rule engine's sweep
(time-driven findings), brings the alert workflow in step (auto-close, overdue orders, red-card
orders) and delivers due webhooks. Each step's failure is logged and the loop goes on.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from govwatch.alerts.notify import deliver_due
from govwatch.alerts.sync import sync_workflow
from govwatch.live.evaluator import evaluate_pending, pending_count
from govwatch.storage import Database, connect
from govwatch.storage.db import checkpoint_if_idle
from govwatch.timeutil import now

log = logging.getLogger("govwatch.sweeper")
SWEEP_SECONDS = 30.0


def _rule_sweep() -> Callable[[Database, Any], Any] | None:
    try:
        module = importlib.import_module("govwatch.rules.live")
    except ModuleNotFoundError:
        return None
    sweep: Callable[[Database, Any], Any] | None = getattr(module, "sweep", None)
    return sweep


def sweep_once(
    db: Database, queue_turn: Callable[[], AbstractContextManager[object]] = nullcontext
) -> None:
    at = now()
    rule_sweep = _rule_sweep()
    for name, step in (
        (
            "pending",
            lambda: evaluate_pending(db, queue_turn),
        ),  # cases queued but not evaluated (a crash)
        ("rules", (lambda: rule_sweep(db, at)) if rule_sweep else None),
        ("workflow", lambda: sync_workflow(db, at)),
        ("webhooks", lambda: deliver_due(db, at)),
    ):
        if step is None:
            continue
        try:
            step()
        except Exception:  # keep sweeping: one failed step must not stop supervision
            log.exception("sweeper step %s failed", name)


class Sweeper(threading.Thread):
    def __init__(self, db_url: str, interval: float = SWEEP_SECONDS) -> None:
        super().__init__(name="govwatch-sweeper", daemon=True)
        self.db_url, self.interval, self.stopped = db_url, interval, threading.Event()

    def run(self) -> None:
        db = connect(self.db_url, migrate=False)
        try:
            while not self.stopped.wait(self.interval):
                sweep_once(db)
        finally:
            db.close()

    def stop(self) -> None:
        self.stopped.set()


class PoolSweeper(Sweeper):
    """DuckDB: one process holds the file, so the sweeper uses the app's pool."""

    def __init__(self, pool: Any, interval: float) -> None:
        super().__init__("", interval)
        self.pool = pool

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            db = self.pool.get()
            try:
                # DuckDB: a sweep evaluates like a round (and dequeues under the import turn)
                with self.pool.evaluator.evaluating():
                    sweep_once(db, self.pool.evaluator.importing)
                    # nothing queued: fold the write-ahead log into the file now, not in the
                    # middle of the next burst (storage.db.CHECKPOINT_THRESHOLD)
                    with self.pool.evaluator.importing():
                        if not pending_count(db):
                            checkpoint_if_idle(db)
            finally:
                self.pool.put(db)
