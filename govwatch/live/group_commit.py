"""Group commit: batches posted at the same time are imported as one run.

An import run costs a fixed tenth of a second or so whatever its size (staging the records,
probing the stored ids, rebuilding the touched cases, queueing them for the live evaluator),
and on DuckDB imports take turns. Source systems posting batches of 500 side by side would
spend most of their time waiting for that fixed cost, one batch after another.

So a request does not import alone: it joins the waiting group. Whoever finds no run in
progress becomes the leader, takes every batch waiting (up to ``max_records``), imports them
as one run on its own connection (:func:`govwatch.live.pipeline.queue_event_batches`: one
import run, its cases queued for the live evaluator) and hands each waiter its own report;
batches that arrive meanwhile form the next group. A lone request is imported at once, as
before. Should a group's run fail, each of its batches is retried alone, so that one batch's
failure never becomes another's; and should a batch alone fail on its data (a value its
checks let through and a column refuses), it is imported in halves down to the record that
fails alone, which is quarantined with the error (:meth:`GroupCommit._import_alone`): one
poison record never costs its batch's good records.

``check`` (the API's scope check, :func:`govwatch.live.source_scope.check_batches`, given by
whoever builds the group commit) judges the group's batches under the same turn, just before
their import: what it reads of the store (the stored cases' organisations) is read once for
the group and cannot change between the check and the import. A batch it refuses is not
imported and its caller gets the refusal; the rest of the group goes on. A batch it admits
with a :class:`govwatch.live.held.Hold` is imported without the records the check held back
(they wait for their case, see :mod:`govwatch.live.held`); the answer counts them as held.

A batch may come with records its reader already rejected (``rejected``: malformed, see
:mod:`govwatch.events.json_records`): they never reach the importer; an admitted batch's
rejected records are quarantined here, under the same turn, and its report names every
record by its position in the request body, whichever side judged it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, fields
from typing import Any

import duckdb
import orjson
import psycopg

from govwatch.events import quarantine
from govwatch.events.ingest import ImportReport, Problem
from govwatch.events.json_records import Rejected
from govwatch.live.held import Hold
from govwatch.live.pipeline import queue_event_batches
from govwatch.storage import Database

# (owner, records) of each batch -> the verdict on each: a refusal, records held back, or
# None (may be imported whole)
Check = Callable[[Database, list[tuple[Any, Sequence[Any]]]], Sequence[BaseException | Hold | None]]
# At most this many records are imported in one run (a group of twenty batches of 500).
MAX_GROUP_RECORDS = 10_000


@dataclass
class PostedReport(ImportReport):
    """A posted batch's report: every index is the record's position in its request body."""

    held: int = 0  # records held until their case's organisation is known


@dataclass(eq=False)
class _Batch:
    records: Sequence[Any]
    source: str
    owner: Any = None
    rejected: Sequence[Rejected] = ()
    held: frozenset[int] = frozenset()
    report: PostedReport | None = None
    error: BaseException | None = None
    done: bool = field(default=False)

    def positions(self) -> list[int]:
        """The request-body position of each of ``records`` (the rejected ones fill the gaps)."""
        if not self.rejected:
            return list(range(len(self.records)))
        gaps = {r.index for r in self.rejected}
        return [i for i in range(len(self.records) + len(gaps)) if i not in gaps]

    def imported(self) -> list[Any]:
        if not self.held:
            return list(self.records)
        return [r for i, r in enumerate(self.records) if i not in self.held]

    def finish(self, report: ImportReport) -> PostedReport:
        """The import's report of ``imported()`` told in request-body positions, with the
        rejected records added as quarantined and the held ones counted."""
        base = {f.name: getattr(report, f.name) for f in fields(ImportReport)}
        posted = PostedReport(**base, held=len(self.held))
        if not self.rejected and not self.held:
            return posted
        positions = self.positions()
        where = [p for i, p in enumerate(positions) if i not in self.held]
        problems = [_renumbered(p, where[p.index]) for p in report.problems]
        problems += [
            Problem(self.source, r.index + 1, r.index, r.field, _located(self.source, r))
            for r in self.rejected
        ]
        posted.problems = sorted(problems, key=lambda p: p.index)
        posted.quarantined = report.quarantined + len(self.rejected)
        posted.read = len(positions) + len(self.rejected)
        return posted


def _located(source: str, rejected: Rejected) -> str:
    return f"{source} 第 {rejected.index + 1} 行：{rejected.message}"


def _renumbered(problem: Problem, index: int) -> Problem:
    """An importer's problem at its place in the request body (its message names the line)."""
    if index == problem.index:
        return problem
    prefix = f"{problem.source} 第 {problem.line} 行："
    message = problem.message
    if message.startswith(prefix):
        message = f"{problem.source} 第 {index + 1} 行：" + message[len(prefix) :]
    return Problem(problem.source, index + 1, index, problem.field, message)


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
        self,
        db: Database,
        records: Sequence[Any],
        source: str,
        owner: Any = None,
        *,
        rejected: Sequence[Rejected] = (),
    ) -> PostedReport:
        """Import ``records`` (in a group, on some waiting caller's connection); its report.

        ``owner`` is what ``check`` judges the batch by (the API: the caller); ``rejected``
        the batch's records its reader refused (quarantined if the batch is admitted)."""
        batch = _Batch(records, source, owner, rejected)
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
                    verdicts = self._check(db, [(b.owner, b.records) for b in group])
                    for batch, verdict in zip(group, verdicts, strict=True):
                        batch.error = verdict if isinstance(verdict, BaseException) else None
                        batch.held = verdict.positions if isinstance(verdict, Hold) else frozenset()
                    admitted = [b for b in group if b.error is None]
                _quarantine(db, admitted)
                self.runs += 1
                if len(group) == 1 and admitted:  # alone: a record that breaks it is isolated
                    reports = [self._import_alone(db, admitted[0])]
                else:
                    reports = queue_event_batches(db, [(b.imported(), b.source) for b in admitted])
            for batch, report in zip(admitted, reports, strict=True):
                batch.report = batch.finish(report)
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

    def _import_alone(self, db: Database, batch: _Batch) -> ImportReport:
        """One batch's import (under the turn, after its check). Should the import fail on
        the batch's data (a value its checks let through and a column or cast refuses), the
        records are imported in halves, down to the one record that fails alone, which is
        quarantined with the error: a poison record costs itself, never the batch's good
        records nor an answer of 500. An error that is not about data (the connection, a
        conflict), or one every part fails with, fails the batch as before."""
        records = batch.imported()
        try:
            return queue_event_batches(db, [(records, batch.source)])[0]
        except _DATA_ERRORS as exc:
            first = exc
        salvage = _Salvage(records, batch.source)
        pending: list[tuple[int, int, Exception]] = [(0, len(records), first)]
        while pending:
            lo, hi, error = pending.pop(0)
            if hi - lo == 1 or salvage.runs >= MAX_SALVAGE_RUNS:
                salvage.failed.append((lo, hi, error))
                continue
            mid = (lo + hi) // 2
            for start, end in ((lo, mid), (mid, hi)):
                salvage.runs += 1
                self.runs += 1
                try:
                    part = queue_event_batches(db, [(records[start:end], batch.source)])[0]
                except _DATA_ERRORS as exc:
                    pending.append((start, end, exc))
                else:
                    salvage.add(part, start)
        if not salvage.imported and len(records) > 1:
            raise first  # every part fails: not one record's doing
        return salvage.finish(db)


# Errors an import run raises because of what a record holds (a value a column or cast cannot
# take); anything else (connection lost, a write conflict) is no record's fault.
_DATA_ERRORS: tuple[type[Exception], ...] = (
    duckdb.DataError,
    duckdb.InvalidInputException,
    psycopg.errors.DataError,
    psycopg.errors.NotNullViolation,
    psycopg.errors.CheckViolation,
    TypeError,
    ValueError,
    ArithmeticError,
)
# A failing batch is split at most this many times before its failing parts are quarantined
# whole (each record named): the isolation of one bad record in 10,000 takes about 28 runs.
MAX_SALVAGE_RUNS = 64


@dataclass
class _Salvage:
    """The parts of a failed batch imported one by one, and those that failed."""

    records: list[Any]
    source: str
    runs: int = 0
    imported: bool = False
    report: ImportReport = field(default_factory=ImportReport)
    failed: list[tuple[int, int, Exception]] = field(default_factory=list)

    def add(self, part: ImportReport, start: int) -> None:
        self.imported = True
        total = self.report
        total.applied += part.applied
        total.duplicates += part.duplicates
        total.quarantined += part.quarantined
        total.problems += [_renumbered(p, p.index + start) for p in part.problems]
        total.case_ids = sorted({*total.case_ids, *part.case_ids})
        total.token = part.token or total.token

    def finish(self, db: Database) -> ImportReport:
        """The merged report, the failed records quarantined with their error."""
        total = self.report
        entries = []
        for lo, hi, error in self.failed:
            why = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
            for index in range(lo, hi):
                line = index + 1
                message = (
                    f"{self.source} 第 {line} 行：导入该记录时出错，未导入（{type(error).__name__}："
                    f"{why}）：请检查其数值与文本是否超出字段的范围，修正后可从隔离区重新提交"
                )
                entries.append(
                    quarantine.QuarantineEntry(
                        "event", self.source, line, "record", message, _raw(self.records[index])
                    )
                )
                total.problems.append(Problem(self.source, line, index, "record", message))
        quarantine.add(db, entries)
        total.quarantined += len(entries)
        total.problems.sort(key=lambda p: p.index)
        total.read = len(self.records)
        total.cases = len(total.case_ids)
        return total


def _raw(record: Any) -> str:
    if isinstance(record, str):
        return record.replace("\x00", "\\x00")
    try:
        return orjson.dumps(record, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(record)


def _quarantine(db: Database, batches: list[_Batch]) -> None:
    """Keep the admitted batches' rejected records (a retried batch adds none twice)."""
    quarantine.add(
        db,
        [
            quarantine.QuarantineEntry(
                "event", b.source, r.index + 1, r.field, _located(b.source, r), r.raw
            )
            for b in batches
            for r in b.rejected
        ],
    )
