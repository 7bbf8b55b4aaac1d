"""The live runtime of one database: the live evaluator, the group commit and the sweeper.

``govwatch serve`` keeps one (the web app's connection pool holds it, :mod:`govwatch.web.api.deps`);
the faces hand it what they parsed and render what it returns. It lends connections from its
owner (``acquire``/``release``) to the evaluator's rounds and, on DuckDB, to the sweeper.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from govwatch.events.json_records import Rejected
from govwatch.live.evaluator import LiveEvaluator
from govwatch.live.group_commit import Check, GroupCommit, PostedReport
from govwatch.live.queue import pending_of
from govwatch.live.sweeper import SWEEP_SECONDS, PoolSweeper, Sweeper
from govwatch.storage import Database

# How long a waiting HTTP import waits for the live evaluator before answering anyway.
WAIT_SECONDS = 60.0


class LiveRuntime:
    """What runs beside the faces for one database (``url``); threads start when first needed."""

    def __init__(
        self,
        url: str,
        acquire: Callable[[], Database],
        release: Callable[[Database], None],
        *,
        exclusive_writes: bool,
        check: Check | None = None,
    ) -> None:
        self.url = url
        self._acquire, self._release = acquire, release
        self.evaluator = LiveEvaluator(acquire, release, exclusive_writes=exclusive_writes)
        # posted batches are imported in groups, taking the evaluator's import turn
        self.imports = GroupCommit(self.evaluator.importing, check=check)
        self._sweeper: Sweeper | None = None
        self._lock = threading.Lock()

    def import_batch(
        self,
        db: Database,
        records: Sequence[Any],
        source: str,
        owner: Any = None,
        *,
        rejected: Sequence[Rejected] = (),
        wait: bool = True,
        wait_seconds: float = WAIT_SECONDS,
    ) -> tuple[PostedReport, int]:
        """Import an HTTP batch (in a group with concurrent ones), its cases queued for the
        evaluator; with ``wait``, answer once a round has written their alerts.

        ``records`` are what the importer reads (the API: each good record's orjson text),
        ``rejected`` the body's records its parser refused (quarantined, never applied), and
        ``owner`` what the group's check judges. Returns the report (indexes are positions in
        the request body; ``held``: records waiting for their case) and how many of the
        batch's cases are still queued (0 normally; without ``wait``, all it touched).
        """
        report = self.imports.run(db, records, source, owner, rejected=rejected)
        if report.token is None:
            return report, 0
        ticket = self.evaluator.submit()
        if not wait:
            return report, report.cases
        if self.evaluator.wait(ticket, wait_seconds):
            return report, 0  # a round that read the queue after our enqueue wrote its alerts
        return report, pending_of(db, report.token, report.case_ids)

    def start_sweeper(self, interval: float = SWEEP_SECONDS) -> None:
        """Start the time-driven sweeper (its own connection on PostgreSQL; on DuckDB one
        process holds the file, so it borrows the owner's connections and the evaluator's turns)."""
        with self._lock:
            if self._sweeper is not None or interval <= 0:
                return
            if self.url.startswith(("postgresql://", "postgres://")):
                self._sweeper = Sweeper(self.url, interval)
            else:
                self._sweeper = PoolSweeper(self._acquire, self._release, self.evaluator, interval)
            self._sweeper.start()

    def stop(self) -> None:
        with self._lock:
            if self._sweeper is not None:
                self._sweeper.stop()
                self._sweeper = None
        self.evaluator.stop()
