"""Long administrator operations of the web app, run in the background as jobs.

Saving a rule setting answers at once; the re-evaluation of every case that follows
(:func:`govwatch.live.pipeline.rule_catalog_changed`) runs here, and so does a round's
computation asked for through the API. Each job is a row of ``jobs`` (migration 061), written
as it goes: ``queued`` when asked for, ``running`` with its stage and ``done`` of ``total``
steps (a step per rule, then the workflow; a round's computation has one stage and no count),
then ``done`` with its summary (alerts raised and cleared; units computed), ``failed`` with a
Chinese message, or ``interrupted`` (中断) when the server stopped first. The pages poll
``GET /api/v1/jobs/{id}`` and draw a progress bar; the health page lists the recent ones.

One :class:`JobRunner` per app runs the jobs one at a time on a thread of its own, on a
connection it borrows from the app's pool for each job, as the live evaluator does
(:mod:`govwatch.live.runtime`): on DuckDB one process holds the file, and a re-evaluation writes
what the evaluator's rounds write (alerts, workflow), so it takes the evaluator's turn. The
job's own row is written on another connection, outside the job's transactions, so its
progress shows while the work runs.

A server that stops leaves its unfinished jobs behind; the next start-up marks them
interrupted (:meth:`JobRunner.recover`). On PostgreSQL several servers may share a database: a
runner holds the advisory lock ``(JOBS_LOCK_CLASS, runner)`` on its bookkeeping connection
while it lives, so only the jobs of a runner whose lock is free are taken for dead.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govwatch import timeutil
from govwatch.auth.errors import NotFoundError
from govwatch.errors import GovwatchError
from govwatch.evaluation.rounds.lifecycle import compute_round
from govwatch.evaluation.rounds.values import EDITABLE, Actor, require_status, round_row
from govwatch.live.pipeline import rule_catalog_changed
from govwatch.storage import Database, connect
from govwatch.vocabulary import JOB_KIND_NAMES, JOB_STAGE_NAMES, JOB_STATUS_NAMES, label

log = logging.getLogger("govwatch.live.jobs")

JOBS_LOCK_CLASS = 0x6A6F6273  # "jobs": the first key of a runner's advisory lock
ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "interrupted")
RECENT = 10
# Progress is written at most this often (a stage change is written at once).
PROGRESS_SECONDS = 0.5
# How long a stopping server lets the running and queued jobs finish.
STOP_SECONDS = 60.0
# What the runner's own PostgreSQL connection calls itself (pg_stat_activity).
JOBS_APPLICATION = "govwatch jobs"

Progress = Callable[[str, int | None, int | None], None]
Work = Callable[[Database, Mapping[str, Any], Progress], dict[str, Any]]

# Runners alive in this process: a start-up on DuckDB (one process holds the file) takes every
# unfinished job for interrupted except theirs (tests open several apps on one file in turn).
_LIVE: set[int] = set()


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    subject: str
    requested_by: str
    status: str
    stage: str
    done: int | None
    total: int | None
    summary: Mapping[str, Any]
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    params: Mapping[str, Any] = field(default_factory=dict)
    # who asked, by name (users.display_name; the account when it names no user)
    requested_by_name: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        """How far, 0–100; None while no count is known (a bar without a width)."""
        if self.status == "done":
            return 100
        if self.done is None or not self.total:
            return None
        return min(100, int(100 * self.done / self.total))

    def summary_text(self) -> str:
        """What the finished job did, in Chinese ('' before it is done)."""
        s = self.summary
        if self.status != "done":
            return ""
        if self.kind == "rule_reevaluation":
            return (
                f"新增预警 {s.get('raised', 0)} 条，解除 {s.get('cleared', 0)} 条，"
                f"等级改变 {s.get('level', 0)} 条，重新出现 {s.get('reopened', 0)} 条"
            )
        if self.kind == "round_compute":
            return f"评估批次 {s.get('round_id', '')}：{s.get('units', 0)} 个单位的结果已算出"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "kind": self.kind,
            "kind_name": label(JOB_KIND_NAMES, self.kind),
            "subject": self.subject,
            "requested_by": self.requested_by,
            "requested_by_name": self.requested_by_name or self.requested_by,
            "status": self.status,
            "status_name": label(JOB_STATUS_NAMES, self.status),
            "stage": self.stage,
            "stage_name": label(JOB_STAGE_NAMES, self.stage),
            "done": self.done,
            "total": self.total,
            "percent": self.percent,
            "summary": dict(self.summary),
            "summary_text": self.summary_text(),
            "error": self.error,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "updated_at": _iso(self.updated_at),
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(sep=" ") if at is not None else None


_COLUMNS = (
    "j.job_id, j.kind, j.subject, j.requested_by, j.status, j.stage, j.done, j.total, "
    "j.summary, j.error, j.created_at, j.started_at, j.finished_at, j.updated_at, j.params, "
    "u.display_name AS requested_by_name"
)
# (a job names its requester by account; the page shows the person's name)
_FROM = "jobs j LEFT JOIN users u ON u.username = j.requested_by"


def _job(row: Mapping[str, Any]) -> Job:
    return Job(
        job_id=str(row["job_id"]),
        kind=str(row["kind"]),
        subject=str(row["subject"]),
        requested_by=str(row["requested_by"]),
        status=str(row["status"]),
        stage=str(row["stage"]),
        done=None if row["done"] is None else int(row["done"]),
        total=None if row["total"] is None else int(row["total"]),
        summary=json.loads(row["summary"]) if row["summary"] else {},
        error=str(row["error"] or ""),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
        params=json.loads(row["params"]) if row["params"] else {},
        requested_by_name=str(row["requested_by_name"] or ""),
    )


def get_job(db: Database, job_id: str) -> Job:
    rows = db.query_dicts(f"SELECT {_COLUMNS} FROM {_FROM} WHERE j.job_id = ?", [job_id])
    if not rows:
        raise NotFoundError(f"后台任务“{job_id}”不存在：请在系统检查页的“最近任务”中查看")
    return _job(rows[0])


def recent_jobs(db: Database, limit: int = RECENT) -> list[Job]:
    rows = db.query_dicts(f"SELECT {_COLUMNS} FROM {_FROM} ORDER BY j.seq DESC LIMIT ?", [limit])
    return [_job(r) for r in rows]


# -- the work ---------------------------------------------------------------------------------


def _reevaluate(db: Database, params: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    counts = rule_catalog_changed(db, datetime.fromisoformat(params["at"]), progress=progress)
    return {**counts, "catalog_version": params.get("catalog_version")}


def _compute(db: Database, params: Mapping[str, Any], progress: Progress) -> dict[str, Any]:
    progress("compute", None, None)
    actor = Actor(str(params["actor"]), "admin")
    uncertainty = int(params.get("uncertainty", 0))
    at = datetime.fromisoformat(params["at"])
    result = compute_round(db, str(params["round_id"]), actor, at, uncertainty=uncertainty)
    return {"round_id": params["round_id"], "units": len(result.units), "uncertainty": uncertainty}


WORK: Mapping[str, Work] = {"rule_reevaluation": _reevaluate, "round_compute": _compute}
# Kinds that write what the live evaluator's rounds write (DuckDB: they take its turn).
EVALUATING = frozenset({"rule_reevaluation"})

INTERRUPTED = {
    "rule_reevaluation": "服务在重新评估完成前停止，任务中断：规则设置已保存，部分预警可能仍按"
    "旧规则；请在系统检查页点“重新运行”",
    "round_compute": "服务在计算完成前停止，任务中断：评估结果未更新；请在系统检查页点“重新运行”",
}


def _failure(kind: str, exc: BaseException) -> str:
    if isinstance(exc, GovwatchError):
        return f"{label(JOB_KIND_NAMES, kind)}失败：{exc}"
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{label(JOB_KIND_NAMES, kind)}失败（程序错误：{first}）：详情见服务日志，请联系运维人员"


# -- the runner -------------------------------------------------------------------------------


class JobRunner:
    """The app's jobs: asked for by requests, run one at a time on a thread of their own.

    ``acquire``/``release`` lend connections (the app's pool); ``evaluating`` is the live
    evaluator's turn (:meth:`govwatch.live.evaluator.LiveEvaluator.evaluating`); ``changed``
    is called once a job has written what it changed (the app forgets its cached figures).
    """

    def __init__(
        self,
        url: str,
        acquire: Callable[[], Database],
        release: Callable[[Database], None],
        evaluating: Callable[[], AbstractContextManager[object]] = nullcontext,
        changed: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self._acquire, self._release, self._evaluating = acquire, release, evaluating
        self._changed = changed
        self._postgres = url.startswith(("postgresql://", "postgres://"))
        self.runner = secrets.randbelow(2**31 - 2) + 1
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._book_lock = threading.Lock()
        self._own: Database | None = None
        self._own_raw: Any = None
        self._gate = threading.Lock()
        self._cond = threading.Condition()
        self._mine: set[str] = set()
        self._ended: set[str] = set()
        _LIVE.add(self.runner)

    # -- bookkeeping ------------------------------------------------------------------------

    @contextmanager
    def _book(self) -> Iterator[Database]:
        """The connection the jobs' rows are written on: a pooled one on DuckDB; on
        PostgreSQL the runner's own, holding its advisory lock (taken again after a
        reconnect, which loses it)."""
        with self._book_lock:
            if not self._postgres:
                db = self._acquire()
                try:
                    yield db
                finally:
                    self._release(db)
                return
            if self._own is not None and self._own.raw is not self._own_raw:
                self._own_raw = None  # reconnected by itself: its lock went with the old one
            if self._own is None or self._own.lost:
                if self._own is not None:
                    with suppress(Exception):
                        self._own.close()
                self._own, self._own_raw = None, None
                self._own = connect(self.url, migrate=False, application_name=JOBS_APPLICATION)
            if self._own_raw is None:
                self._own.scalar(
                    "SELECT pg_advisory_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))",
                    [JOBS_LOCK_CLASS, self.runner],
                )
                self._own_raw = self._own.raw
            yield self._own

    def recover(self) -> int:
        """At start-up: jobs left queued or running by a server that is gone are marked
        interrupted; returns how many."""
        db = self._acquire()
        try:
            rows = db.query(
                "SELECT DISTINCT runner FROM jobs WHERE status IN ('queued', 'running')"
            )
            dead = []
            for (runner,) in rows:
                runner = int(runner)
                if runner in _LIVE:
                    continue
                if self._postgres:
                    lock = "CAST(? AS INTEGER), CAST(? AS INTEGER)"
                    args = [JOBS_LOCK_CLASS, runner]
                    if not db.scalar(f"SELECT pg_try_advisory_lock({lock})", args):
                        continue  # another server runs them
                    db.scalar(f"SELECT pg_advisory_unlock({lock})", args)
                dead.append(runner)
            count = 0
            for runner in dead:
                for job_id, kind in db.query(
                    "SELECT job_id, kind FROM jobs WHERE runner = ? "
                    "AND status IN ('queued', 'running')",
                    [runner],
                ):
                    db.execute(
                        "UPDATE jobs SET status = 'interrupted', error = ?, finished_at = ?, "
                        "updated_at = ? WHERE job_id = ? AND status IN ('queued', 'running')",
                        [INTERRUPTED.get(str(kind), "服务停止，任务中断"), *_now2(), job_id],
                    )
                    count += 1
            if count:
                log.warning("%d background jobs left by a stopped server marked interrupted", count)
            return count
        finally:
            self._release(db)

    # -- asking for jobs ------------------------------------------------------------------

    def submit(self, kind: str, subject: str, requested_by: str, params: Mapping[str, Any]) -> Job:
        """Queue a job (its row committed before this returns) and wake the worker."""
        if kind not in WORK:
            raise GovwatchError(f"未知的后台任务类型“{kind}”：应为 {'、'.join(WORK)} 之一")
        job_id = secrets.token_hex(16)
        now = timeutil.wall_clock()
        with self._book() as db:
            db.execute(
                "INSERT INTO jobs (job_id, seq, kind, subject, requested_by, status, stage, params, "
                "runner, created_at, updated_at) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, "
                "'queued', 'queued', ?, ?, ?, ? FROM jobs",
                [
                    job_id,
                    kind,
                    subject[:200],
                    requested_by[:64],
                    json.dumps(dict(params), ensure_ascii=False, sort_keys=True, default=str),
                    self.runner,
                    now,
                    now,
                ],
            )
        _LIVE.add(self.runner)  # (again, after a lifespan's end stopped the runner)
        with self._cond:
            self._mine.add(job_id)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="govwatch-jobs", daemon=True)
                self._thread.start()
        self._queue.put(job_id)
        return Job(job_id, kind, subject, requested_by, "queued", "queued", None, None, {}, "",
                   now, None, None, now, dict(params))  # fmt: skip

    def reevaluate(self, requested_by: str, subject: str, at: datetime, version: int) -> Job:
        """The re-evaluation of every case after the rule catalog changed (version ``version``)."""
        params = {"at": at.isoformat(), "catalog_version": version}
        return self.submit("rule_reevaluation", subject, requested_by, params)

    def compute(
        self, db: Database, requested_by: str, round_id: str, uncertainty: int, at: datetime
    ) -> Job:
        """A round's computation; refused at once when the round cannot be computed now."""
        require_status(round_row(db, round_id), (*EDITABLE, "review"), "计算结果")
        Actor(requested_by, "admin")
        params = {"round_id": round_id, "uncertainty": uncertainty, "at": at.isoformat(),
                  "actor": requested_by}  # fmt: skip
        return self.submit("round_compute", f"评估批次 {round_id}", requested_by, params)

    def rerun(self, db: Database, job_id: str, requested_by: str, at: datetime) -> Job:
        """Run a failed or interrupted job again, as of ``at``."""
        job = get_job(db, job_id)
        if job.status not in ("failed", "interrupted"):
            raise GovwatchError(
                f"后台任务“{job_id}”{label(JOB_STATUS_NAMES, job.status)}：只有失败或中断的任务可以重新运行"
            )
        if job.kind == "round_compute":
            return self.compute(
                db, requested_by, str(job.params["round_id"]),
                int(job.params.get("uncertainty", 0)), at,
            )  # fmt: skip
        params = {**job.params, "at": at.isoformat()}
        return self.submit(job.kind, job.subject, requested_by, params)

    def wait(self, job_id: str, timeout: float) -> bool:
        """True once this runner's job ``job_id`` has finished (at once for another's)."""
        with self._cond:
            if job_id not in self._mine:
                return True
            return self._cond.wait_for(lambda: job_id in self._ended, timeout)

    def idle(self, timeout: float) -> bool:
        """True once every job asked of this runner has finished."""
        with self._cond:
            return self._cond.wait_for(lambda: self._mine <= self._ended, timeout)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Jobs wait (queued) while this is held; the one running finishes first."""
        with self._gate:
            yield

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Let the queued jobs finish (up to ``timeout``), then close the runner's connection.
        What is left unfinished is marked interrupted at the next start-up."""
        self._queue.put(None)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        _LIVE.discard(self.runner)
        with self._book_lock:
            if self._own is not None:
                with suppress(Exception):
                    self._own.close()  # (its advisory lock goes with it)
                self._own = None

    # -- running them ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            try:
                with self._gate:
                    self._execute(job_id)
            except Exception:  # the row could not be written (the database is gone)
                log.exception("background job %s could not be recorded", job_id)
            finally:
                if self._changed is not None:
                    self._changed()
                with self._cond:
                    self._ended.add(job_id)
                    self._cond.notify_all()

    def _execute(self, job_id: str) -> None:
        now = timeutil.wall_clock()
        with self._book() as book:
            book.execute(
                "UPDATE jobs SET status = 'running', stage = 'started', started_at = ?, updated_at = ? "
                "WHERE job_id = ? AND status = 'queued'",
                [now, now, job_id],
            )
            job = get_job(book, job_id)
        if job.status != "running":
            return  # interrupted meanwhile by another server's start-up
        last_stage, last_at = job.stage, 0.0

        def progress(stage: str, done: int | None, total: int | None) -> None:
            nonlocal last_stage, last_at
            moment = time.monotonic()
            if stage == last_stage and moment - last_at < PROGRESS_SECONDS:
                return
            last_stage, last_at = stage, moment
            try:
                with self._book() as book:
                    book.execute(
                        "UPDATE jobs SET stage = ?, done = ?, total = ?, updated_at = ? "
                        "WHERE job_id = ?",
                        [stage, done, total, timeutil.wall_clock(), job_id],
                    )
            except Exception:  # the bar may lag; the work goes on and its end is written
                log.warning("progress of background job %s not written", job_id, exc_info=True)

        turn = self._evaluating if job.kind in EVALUATING else nullcontext
        try:
            db = self._acquire()
            try:
                with turn():
                    summary = WORK[job.kind](db, job.params, progress)
            finally:
                self._release(db)
        except Exception as exc:
            log.exception("background job %s (%s) failed", job_id, job.kind)
            self._finish(job_id, "failed", error=_failure(job.kind, exc))
            return
        self._finish(job_id, "done", summary=summary)

    def _finish(
        self, job_id: str, status: str, *, summary: Mapping[str, Any] | None = None, error: str = ""
    ) -> None:
        # a job done has gone all the way (its last step may not have been written)
        reached = "stage = 'done', done = total, " if status == "done" else ""
        with self._book() as book:
            book.execute(
                f"UPDATE jobs SET status = ?, {reached}summary = ?, error = ?, finished_at = ?, "
                "updated_at = ? WHERE job_id = ?",
                [
                    status,
                    None if summary is None else json.dumps(dict(summary), ensure_ascii=False),
                    error or None,
                    *_now2(),
                    job_id,
                ],
            )


def _now2() -> tuple[datetime, datetime]:
    now = timeutil.wall_clock()
    return now, now
