"""The live sweeper: time-driven supervision while ``govwatch serve`` runs.

The sweeper is a daemon thread: every ``interval`` seconds it evaluates cases left queued for the
live evaluator (:mod:`govwatch.live.evaluator`; after a crash), runs the rule engine's sweep
(time-driven findings), brings the alert workflow in step (auto-close, overdue orders, red-card
orders), reminds administrators of next year's missing holiday notice
(:mod:`govwatch.live.calendar_reminder`) and delivers due webhooks. Each step's failure is
logged and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext, suppress

from govwatch.alerts.notify import deliver_due
from govwatch.alerts.sync import sync_workflow
from govwatch.evaluation.rounds.round_notices import due_round_notices
from govwatch.live.calendar_reminder import remind_calendar
from govwatch.live.evaluator import LiveEvaluator, evaluate_pending
from govwatch.live.queue import pending_count
from govwatch.live.source_scope import sweep_held
from govwatch.reports.workflow import scheduled_drafts
from govwatch.rules.live import sweep as rule_sweep
from govwatch.storage import Database, DatabaseUnavailableError, checkpoint_if_idle, connect
from govwatch.timeutil import now

log = logging.getLogger("govwatch.sweeper")
SWEEP_SECONDS = 30.0
# What the sweeper's own PostgreSQL connection calls itself (pg_stat_activity).
SWEEPER_APPLICATION = "govwatch sweeper"


def sweep_once(
    db: Database, queue_turn: Callable[[], AbstractContextManager[object]] = nullcontext
) -> None:
    """The sweeper's tick: what follows the passing of time (see :mod:`govwatch.live.pipeline`)."""
    at = now()
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        # cases queued but not evaluated (a crash)
        # records held for cases whose organisation is known now (queued for the step below)
        ("held", lambda: sweep_held(db, queue_turn)),
        ("pending", lambda: evaluate_pending(db, queue_turn)),
        ("rules", lambda: rule_sweep(db, at)),
        ("workflow", lambda: sync_workflow(db, at)),
        # next year's holiday notice missing: one notification a year (before the webhooks)
        ("calendar", lambda: remind_calendar(db, at)),
        ("rounds", lambda: due_round_notices(db, at)),  # fill and rectification due dates
        ("notices", lambda: scheduled_drafts(db, at)),  # the monthly 通报 draft, once
        ("webhooks", lambda: deliver_due(db, at)),
    )
    for name, step in steps:
        try:
            step()
        except Exception:  # keep sweeping: one failed step must not stop supervision
            log.exception("sweeper step %s failed", name)


class Sweeper(threading.Thread):
    def __init__(self, db_url: str, interval: float = SWEEP_SECONDS) -> None:
        super().__init__(name="govwatch-sweeper", daemon=True)
        self.db_url, self.interval, self.stopped = db_url, interval, threading.Event()

    def run(self) -> None:
        """PostgreSQL: sweep on a connection of its own, replaced whenever it was lost (a
        restart); while the database cannot be reached, each tick tries again."""
        db: Database | None = None
        try:
            while not self.stopped.wait(self.interval):
                try:
                    db = self._connected(db)
                except DatabaseUnavailableError as exc:
                    log.warning("sweeper: no database connection, next tick tries again (%s)", exc)
                    continue
                sweep_once(db)
        finally:
            if db is not None:
                db.close()

    def _connected(self, db: Database | None) -> Database:
        """``db`` if it is still usable, else a new connection (the lost one closed)."""
        if db is not None and db.healthy():
            return db
        if db is not None:
            with suppress(Exception):  # a lost connection may fail to close: gone either way
                db.close()
        return connect(self.db_url, migrate=False, application_name=SWEEPER_APPLICATION)

    def stop(self) -> None:
        self.stopped.set()


class PoolSweeper(Sweeper):
    """DuckDB: one process holds the file, so the sweeper borrows the app's connections and
    takes the live evaluator's turns."""

    def __init__(
        self,
        acquire: Callable[[], Database],
        release: Callable[[Database], None],
        evaluator: LiveEvaluator,
        interval: float,
    ) -> None:
        super().__init__("", interval)
        self._acquire, self._release, self._evaluator = acquire, release, evaluator

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            db = self._acquire()
            try:
                # DuckDB: a sweep evaluates like a round (and dequeues under the import turn)
                with self._evaluator.evaluating():
                    sweep_once(db, self._evaluator.importing)
                    # nothing queued: fold the write-ahead log into the file now, not in the
                    # middle of the next burst (storage.db.CHECKPOINT_THRESHOLD)
                    with self._evaluator.importing():
                        if not pending_count(db):
                            checkpoint_if_idle(db)
            finally:
                self._release(db)
