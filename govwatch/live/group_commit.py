"""Group commit: batches posted at the same time are imported as one run.

An import run costs a fixed tenth of a second or so whatever its size (staging the records,
probing the stored ids, rebuilding the touched cases, queueing them for the live evaluator),
and on DuckDB imports take turns. Source systems posting batches of 500 side by side would
spend most of their time waiting for that fixed cost, one batch after another.

So a request does not import alone: it joins the waiting group. Whoever finds no run in
progress becomes the leader, takes every batch waiting (up to ``max_records``), imports them
as one run on its own connection (:func:`govwatch.live.pipeline.queue_event_batches`: one
import run, its cases queued for the live evaluator) and hands each waiter its own report; batches that arrive meanwhile form the next group. A lone request is
imported at once, as before. Should a group's run fail, each of its batches is retried alone,
so that one batch's failure never becomes another's.

``check`` (the API's scope check, :func:`govwatch.live.source_scope.check_batches`, given by
whoever builds the group commit) judges the group's batches under the same turn, just before
their import: what it reads of the store (the stored cases' organisations) is read once for
the group and cannot change between the check and the import. A batch it refuses is not
imported and its caller gets the refusal; the rest of the group goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from govwatch.events.ingest import ImportReport
from govwatch.live.pipeline import queue_event_batches
from govwatch.storage import Database

# (owner, records) of each batch -> the refusal of each (None: may be imported)
Check = Callable[[Database, list[tuple[Any, Sequence[Any]]]], list[BaseException | None]]
# At most this many records are imported in one run (a group of twenty batches of 500).
MAX_GROUP_RECORDS = 10_000


@dataclass(eq=False)
class _Batch:
    records: Sequence[Any]
    source: str
    owner: Any = None
    report: ImportReport | None = None
    error: BaseException | None = None
    done: bool = field(default=False)


class GroupCommit:
    """Imports concurrent in-memory batches in groups; ``turn`` is held around each run."""

    def __init__(
        self,
        turn: Callable[[], AbstractContextManager[object]] = nullcontext,
        *,
        max_records: int = MAX_GROUP_RECORDS,
        check: Check | None = None,
    ) -> None:
        self._turn = turn
        self._check = check
        self._max = max_records
        self._cond = threading.Condition()
        self._waiting: list[_Batch] = []
        self._running = False
        self.runs = 0  # import runs so far (tests and benchmarks read it)

    def run(
        self, db: Database, records: Sequence[Any], source: str, owner: Any = None
    ) -> ImportReport:
        """Import ``records`` (in a group, on some waiting caller's connection); its report.

        ``owner`` is what ``check`` judges the batch by (the API: the caller)."""
        batch = _Batch(records, source, owner)
        with self._cond:
            self._waiting.append(batch)
        while True:
            with self._cond:
                while not batch.done and self._running:
                    self._cond.wait()
                if batch.done:
                    break
                # no run in progress: lead one with what waits (ours, unless the group is full)
                group = self._take()
                self._running = True
            try:
                self._import(db, group)
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()
        if batch.error is not None:
            raise batch.error
        assert batch.report is not None
        return batch.report

    @property
    def waiting(self) -> int:
        """Batches waiting for a run (not counting those being imported)."""
        with self._cond:
            return len(self._waiting)

    @property
    def running(self) -> bool:
        with self._cond:
            return self._running

    def _take(self) -> list[_Batch]:
        """The waiting batches up to the group's size (always the first, however large)."""
        group: list[_Batch] = []
        size = 0
        for batch in self._waiting:
            if group and size + len(batch.records) > self._max:
                break
            group.append(batch)
            size += len(batch.records)
        del self._waiting[: len(group)]
        return group

    def _import(self, db: Database, group: list[_Batch]) -> None:
        try:
            with self._turn():
                admitted = group
                if self._check is not None:
                    refusals = self._check(db, [(b.owner, b.records) for b in group])
                    for batch, refusal in zip(group, refusals, strict=True):
                        batch.error = refusal
                    admitted = [b for b in group if b.error is None]
                self.runs += 1
                reports = queue_event_batches(db, [(b.records, b.source) for b in admitted])
            for batch, report in zip(admitted, reports, strict=True):
                batch.report = report
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for batch in group:  # alone, each batch fails or succeeds on its own
                    self._import(db, [batch])
        finally:
            with self._cond:
                for batch in group:
                    batch.done = True
                self._cond.notify_all()
