"""The live evaluator: touched cases wait in ``live_pending`` and are evaluated in rounds.

An import through the HTTP API writes its events and, in the same breath, one
``live_pending`` row per case it touched (:func:`govwatch.live.queue.enqueue`). The evaluator's
thread then runs :func:`govwatch.live.pipeline.cases_changed` (clocks, rules, workflow) over
*every* pending case in one round, however many imports queued them: the fixed cost of a round (materialising the case
views, running 21 rule queries, syncing the workflow) is paid once for all the batches that
arrived while the previous round ran. That is what lets ingestion keep up with thousands of
events a second while each event still reaches its alerts within a round or two.

A caller that needs its alerts before it answers (the API's default, ``wait=true``) takes a
ticket and waits until a round that started after its enqueue has finished
(:meth:`LiveEvaluator.wait`). Rows are deleted only for the (case, token) pairs a round
evaluated: a case queued again during the round keeps its row and is evaluated again.
Rows survive a crash; the next round or the sweeper (:func:`evaluate_pending`) finishes them.
A round that loses its database connection (a PostgreSQL restart) is run again, after a pause
that grows to :data:`LOST_PAUSE_MAX` seconds, until the database answers; its waiters keep
waiting for that round rather than answer with their cases still queued.

On DuckDB one process holds the file, and DuckDB aborts the second of two transactions that
write one row. Imports and rounds write disjoint tables (events and cases; clocks, alerts and
workflow), so they run side by side; imports take turns among themselves (two batches may
rebuild one case) on :meth:`LiveEvaluator.importing`, rounds and sweeps on
:meth:`LiveEvaluator.evaluating`, and the one table both write, ``live_pending``, is changed
under the import turn. PostgreSQL's row locks make all of this unnecessary there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from functools import partial

import pyarrow as pa

from govwatch import timeutil
from govwatch.deadlines import refresh_next_check
from govwatch.live import pipeline
from govwatch.live.queue import pending_count
from govwatch.storage import Database, connection_lost

log = logging.getLogger("govwatch.live.evaluator")

_TAKEN = "_gw_live_taken"
# A round defers the refresh of its cases' stored deadlines (live_refresh) while more cases
# are queued, but never longer than this: the sweeper reads those moments.
REFRESH_SECONDS = 10.0
# After a round lost its connection: the pause before the next try doubles up to this.
LOST_PAUSE_MAX = 5.0


def evaluate_pending(
    db: Database,
    queue_turn: Callable[[], AbstractContextManager[object]] = nullcontext,
    on_alerts: Callable[[], None] | None = None,
) -> int:
    """One round: evaluate every pending case, then forget the rows evaluated; returns cases.

    ``queue_turn`` guards the deletion from ``live_pending`` against a concurrent enqueue
    (DuckDB; see the module's docstring); ``on_alerts`` is called once the round's alerts
    and workflow are written. The evaluated cases then wait in ``live_refresh`` for their
    stored deadlines (:func:`refresh_deadlines`), done at the end of the round unless more
    cases are already queued and the oldest has waited less than ``REFRESH_SECONDS``.
    """
    taken = [(str(r[0]), str(r[1])) for r in db.query("SELECT case_id, token FROM live_pending")]
    if taken:
        pipeline.cases_changed(
            db, sorted(c for c, _ in taken), on_alerts=on_alerts, deadlines=False
        )
        moment = timeutil.wall_clock()
        with queue_turn(), db.transaction():
            db.execute(f"DROP TABLE IF EXISTS {_TAKEN}")
            db.execute(f"CREATE TEMP TABLE {_TAKEN} (case_id VARCHAR(50), token VARCHAR(32))")
            db.insert_arrow(
                _TAKEN,
                pa.table(
                    {
                        "case_id": pa.array([c for c, _ in taken], pa.string()),
                        "token": pa.array([t for _, t in taken], pa.string()),
                    }
                ),
            )
            db.execute(
                f"DELETE FROM live_pending WHERE EXISTS (SELECT 1 FROM {_TAKEN} t "
                "WHERE t.case_id = live_pending.case_id AND t.token = live_pending.token)"
            )
            db.execute(
                f"INSERT INTO live_refresh (case_id, queued_at) SELECT DISTINCT case_id, ? "
                f"FROM {_TAKEN} t WHERE NOT EXISTS "
                "(SELECT 1 FROM live_refresh r WHERE r.case_id = t.case_id)",
                [moment],
            )
            db.execute(f"DROP TABLE IF EXISTS {_TAKEN}")
    oldest = db.scalar("SELECT MIN(queued_at) FROM live_refresh")
    if oldest is not None and (
        not pending_count(db)
        or timeutil.wall_clock() - oldest >= timedelta(seconds=REFRESH_SECONDS)
    ):
        refresh_deadlines(db)
    return len(taken)


def refresh_deadlines(db: Database) -> int:
    """Recompute the stored deadlines of the cases in ``live_refresh``; returns cases."""
    ids = [str(r[0]) for r in db.query("SELECT case_id FROM live_refresh")]
    if not ids:
        return 0
    refresh_next_check(db, ids, at=timeutil.now())
    for start in range(0, len(ids), 1000):
        db.execute("DELETE FROM live_refresh WHERE case_id = ANY(?)", [ids[start : start + 1000]])
    return len(ids)


class LiveEvaluator:
    """A thread that runs rounds of :func:`evaluate_pending` whenever cases are queued.

    ``acquire``/``release`` lend it a connection for a round (the web app's pool).
    """

    def __init__(
        self,
        acquire: Callable[[], Database],
        release: Callable[[Database], None],
        *,
        exclusive_writes: bool,
    ) -> None:
        self._acquire, self._release = acquire, release
        # DuckDB: imports take turns, and so do rounds and sweeps (see the module's docstring)
        self._import_lock: threading.RLock | None = threading.RLock() if exclusive_writes else None
        self._round_lock: threading.RLock | None = threading.RLock() if exclusive_writes else None
        self._cond = threading.Condition()
        self._started = 0  # rounds begun
        self._finished = 0  # rounds ended (successfully or not)
        self._alerted = 0  # the last round whose alerts and workflow are written
        self._wanted = 0  # the highest ticket handed out
        self._failures = 0
        self._lost = 0  # rounds in a row that lost their database connection
        self._stop = False
        self._thread: threading.Thread | None = None

    @staticmethod
    @contextmanager
    def _turn(lock: threading.RLock | None) -> Iterator[None]:
        if lock is None:  # PostgreSQL: rows lock themselves
            yield
            return
        with lock:
            yield

    def importing(self) -> AbstractContextManager[None]:
        """The import turn: hold it while importing (and queueing) a batch."""
        return self._turn(self._import_lock)

    def evaluating(self) -> AbstractContextManager[None]:
        """The evaluation turn: rounds hold it, and so must the sweeper."""
        return self._turn(self._round_lock)

    def submit(self) -> int:
        """Ask for a round that starts after now (call after the enqueue committed)."""
        with self._cond:
            ticket = self._started + 1
            self._wanted = max(self._wanted, ticket)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="govwatch-evaluator", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
            return ticket

    def wait(self, ticket: int, timeout: float) -> bool:
        """True once a round numbered ``ticket`` (or later) has written its alerts.

        False when that round failed first (its cases stay queued for the retry) or
        ``timeout`` passed.
        """
        with self._cond:
            self._cond.wait_for(
                lambda: self._alerted >= ticket or self._finished >= ticket, timeout
            )
            return self._alerted >= ticket

    def idle(self, timeout: float) -> bool:
        """True once no round is wanted or running (benchmarks and tests drain with this)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._finished >= self._wanted, timeout)

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _alerts_written(self, number: int) -> None:
        with self._cond:
            self._alerted = max(self._alerted, number)
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._wanted > self._started)
                if self._stop:
                    return
                self._started += 1
                number = self._started
            failed = lost = False
            try:
                db = self._acquire()
                try:
                    with self.evaluating():
                        evaluate_pending(db, self.importing, partial(self._alerts_written, number))
                finally:
                    self._release(db)
            except Exception as exc:  # keep evaluating: the rows stay queued, a round retries
                failed, lost = True, connection_lost(exc)
                if lost:
                    log.warning(
                        "live evaluation round %d: the database connection was lost (%s); "
                        "trying again",
                        number,
                        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                    )
                else:
                    log.exception("live evaluation round %d failed", number)
            self._lost = self._lost + 1 if lost else 0
            if failed:  # (a lost database: wait longer each time, until it answers again)
                time.sleep(min(0.2 * 2 ** (self._lost - 1), LOST_PAUSE_MAX) if lost else 0.2)
            with self._cond:
                if not lost:  # waiters of a round that lost its connection wait for its retry
                    self._finished = number
                    self._failures = self._failures + 1 if failed else 0
                if lost or (failed and self._failures < 5):
                    self._wanted = max(self._wanted, number + 1)  # retry at once, a few times
                self._cond.notify_all()
