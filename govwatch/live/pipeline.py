"""What follows a change: one function per trigger, called by the faces (command line, pages, API).

Domain packages change what they own and report what they touched; they never decide what
follows. This module does, for every trigger, so that every face gets the same aftermath:

==========================  ==============================  ====================================
trigger                     function (faces call it)        what follows
==========================  ==============================  ====================================
events imported from files  :func:`import_event_files`      :func:`cases_changed` on the touched
                                                            cases, before the command returns
events posted over HTTP     :class:`govwatch.live.runtime`  the touched cases are queued
                            ``LiveRuntime.import_batch``    (:func:`queue_event_batches`, under
                            (group commit)                  the import turn); the live
                                                            evaluator's next round runs
                                                            :func:`cases_changed` on every queued
                                                            case
events imported in process  :func:`import_event_records`    :func:`cases_changed` at once
quarantine retried          :func:`retry_quarantine`        :func:`cases_changed` on the cases
                                                            the re-imported records touched
service items imported      :func:`import_item_files`       the changed items' cases were rebuilt
                                                            (new limits): :func:`cases_changed`
rule catalog changed        :func:`rule_catalog_changed`    every case re-evaluated under the new
(setting saved, custom                                      catalog, then the whole workflow sync
rule added; any face)                                       (stored clocks do not read the
                                                            catalog: not recomputed)
calendar loaded             :func:`load_calendar`           the open cases the changed dates
                                                            reach: :func:`cases_changed` (rules,
                                                            workflow, stored deadlines); the
                                                            report says whose deadlines moved
the passing of time         :func:`govwatch.live.sweeper`   queued cases left by a crash, due
                            ``.sweep_once``                 rules, whole workflow sync, webhooks
a workflow decision         (nothing here)                  nothing follows from live: handling
(``alerts.workflow.act``,                                   an alert changes no event, clock or
``alerts.orders.act_on_                                     finding. An order's reply clears the
order``)                                                    overdue alerts of that order and
                                                            closes their workflow in the same
                                                            domain action (alerts.orders calls
                                                            alerts.reconcile itself)
an evaluation value         (nothing here)                  nothing follows: a round's scores
changed (``evaluation.                                      are computed on demand
rounds.values``)                                            (``compute_round``), and
                                                            ``publish_round`` refuses while a
                                                            value changed after the last
                                                            computation
stateless audit             :func:`load_memory`             nothing: audits compute as of a moment
==========================  ==============================  ====================================

:func:`cases_changed` is the one aftermath of changed cases: their rules (alerts raised or
cleared as of the moment), the alerts' workflow, then their stored next moments
(``next_check_at``, read by the sweeper).

An import that was killed or failed leaves its mark (:mod:`govwatch.events.ingest`): the next
event import of any kind (files, in process, quarantine retried, HTTP batch) rebuilds that
run's cases with its own and gives them the same aftermath as its own (``report.run.repaired``:
:func:`cases_changed`, or the live queue); the marks go only once that is done, so a crash
during the aftermath is repaired the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from govwatch import timeutil
from govwatch.alerts.sync import sync_workflow
from govwatch.calendar.notice import Notice
from govwatch.calendar.store import LoadReport, load_notice
from govwatch.calendar.store import load_file as load_calendar_file
from govwatch.deadlines import refresh_next_check
from govwatch.deadlines.reach import open_cases_reached, stored_deadlines
from govwatch.events import quarantine
from govwatch.events.ingest import (
    ImportReport,
    OpenRun,
    close_run,
    drop_marks,
    import_events,
    import_parts,
    import_records,
    release_run,
)
from govwatch.formats import RawRecord
from govwatch.items.ingest import import_catalog, import_catalog_records
from govwatch.live.guide_runs import item_rules_changed
from govwatch.live.queue import enqueue
from govwatch.live.source_scope import release_held
from govwatch.rules.live import evaluate_cases
from govwatch.storage import Database, connect_memory

log = logging.getLogger("govwatch.live.pipeline")


def cases_changed(
    db: Database,
    case_ids: Sequence[str] | None,
    *,
    at: datetime | None = None,
    on_alerts: Callable[[], None] | None = None,
    deadlines: bool = True,
) -> int:
    """Re-evaluate rules of these cases (all when None), then recompute their stored deadlines.

    Alerts come first, so that ``on_alerts`` (the live evaluator's waiters) is told as soon as
    they are written; the stored next moments only serve the sweeper, which reads them later.
    Rules compute their own clocks, so neither step depends on the other. ``deadlines``
    False leaves that last step to the caller (the live evaluator defers it under load).
    Returns the accepted cases whose stored deadlines were recomputed.
    """
    moment = at or timeutil.now()
    count = "all" if case_ids is None else len(case_ids)
    log.debug("rules for %s cases", count)
    evaluate_cases(db, case_ids, moment)
    log.debug("workflow for %s cases", count)
    # alerts raised or cleared above enter (or leave) the handling workflow at once; automatic
    # orders for red cards come with the sweeper's sync (one order per department and sweep,
    # gathering the red cards of every case changed meanwhile), not with each batch
    sync_workflow(db, moment, case_ids, orders=case_ids is None)
    if on_alerts is not None:
        on_alerts()
    if deadlines:
        log.debug("stored clocks for %s cases", count)
        return refresh_next_check(db, case_ids, at=moment)
    return 0


# -- events and items imported ---------------------------------------------------------------


def import_event_files(
    db: Database,
    paths: Sequence[Path | str],
    *,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """``govwatch import events``: import the files, then bring the touched cases up to date
    (and those of interrupted imports it repaired).

    ``progress`` receives the records read per chunk (see :func:`import_events`)."""
    try:
        report = import_events(db, paths, chunk_size=chunk_size, progress=progress, aftermath=True)
    except Exception:
        _repair_after_failure(db)
        raise
    _follow(db, report.case_ids, report.run)
    return report


def import_event_records(db: Database, records: Iterable[Any], source: str = "api") -> ImportReport:
    """Import in-memory records and bring the touched cases up to date before returning."""
    try:
        report = import_records(db, records, source, aftermath=True)
    except Exception:
        _repair_after_failure(db)
        raise
    _follow(db, report.case_ids, report.run)
    return report


def _follow(db: Database, case_ids: Sequence[str], run: OpenRun | None) -> None:
    """What follows an import run: :func:`cases_changed` on its cases and on those of the
    interrupted runs it repaired, then its marks go. Should that fail, they stay for the next
    import to repair."""
    ids = sorted({*case_ids, *(run.repaired if run is not None else ())})
    try:
        if ids:
            cases_changed(db, ids)
    except BaseException:
        if run is not None:
            release_run(db, run)
        raise
    if run is not None:
        close_run(db, run)
    log.debug("import run complete")


def _repair_after_failure(db: Database) -> None:
    """An import failed (a file unreadable half-way, say): the chunks it committed are taken
    over at once, as the next import would, so that the store is whole when the error is
    reported. Should the database itself be what failed, the next import repairs instead."""
    try:
        report = import_records(db, [], "repair", aftermath=True)
        _follow(db, report.case_ids, report.run)
    except Exception:
        log.info("repair after a failed import failed: the next import repairs", exc_info=True)


def queue_event_batches(
    db: Database, parts: Sequence[tuple[Sequence[Any], str]]
) -> list[ImportReport]:
    """HTTP batches ((records, source) each) as one import run; their cases queued for the
    live evaluator under one token (``report.token`` of each part that touched a case).

    Called under the import turn (:class:`govwatch.live.group_commit.GroupCommit`): the queue
    table is written there (see :mod:`govwatch.live.evaluator`). A batch held in memory needs
    no import memory cap, which would squeeze the evaluator running beside it.
    """
    reports = import_parts(db, parts, memory_cap=False, aftermath=True)
    run = reports[0].run if reports else None
    try:
        touched = sorted({c for r in reports for c in r.case_ids})
        # records held for these cases (their organisation was unknown) are judged now
        touched = sorted({*touched, *release_held(db, touched)}) if touched else touched
        # the cases of interrupted runs this one repaired are queued with its own, and the
        # queue's rows take the place of the marks in one transaction
        queued = sorted({*touched, *(run.repaired if run is not None else ())})
        if queued or (run is not None and run.keys):
            with db.transaction():
                token = enqueue(db, queued) if queued else None
                if run is not None:
                    drop_marks(db, run)
    except BaseException:
        if run is not None:
            release_run(db, run)
        raise
    if run is not None:
        release_run(db, run)
    if touched:
        for report in reports:
            if report.case_ids:
                report.token = token
    return reports


def import_item_files(db: Database, paths: Sequence[Path | str]) -> ImportReport:
    """``govwatch import catalog``: items changed give their cases new limits and clocks."""
    report = import_catalog(db, paths)
    if report.case_ids:
        cases_changed(db, report.case_ids)
    return report


def retry_quarantine(db: Database, ids: Sequence[int] | None) -> ImportReport:
    """Re-submit open quarantine entries (all when None); those that now import are resolved,
    the others stay open (a failing one gets a fresh entry). The touched cases follow."""
    rows = quarantine.list_entries(db, status="open")
    if ids is not None:
        wanted = set(ids)
        rows = [r for r in rows if r["id"] in wanted]
    total = ImportReport()
    touched: set[str] = set()
    run: OpenRun | None = None
    for record_type in ("item", "event"):
        chosen = [r for r in rows if r["record_type"] == record_type]
        if not chosen:
            continue
        quarantine.mark(db, [r["id"] for r in chosen], "retried")
        records = [RawRecord(r["source"], r["line"] or 0, r["raw"]) for r in chosen]
        if record_type == "item":
            report = import_catalog_records(db, records)
        else:
            report = import_records(
                db, [r.text for r in records], source="quarantine", aftermath=True
            )
            run = report.run
        still_bad = {p.index for p in report.problems}
        resolved = [r["id"] for i, r in enumerate(chosen) if i not in still_bad]
        try:
            quarantine.mark(db, resolved, "resolved")
        except BaseException:
            if run is not None:
                release_run(db, run)
            raise
        for field_name in ("applied", "duplicates", "quarantined", "read"):
            setattr(total, field_name, getattr(total, field_name) + getattr(report, field_name))
        total.problems += report.problems
        touched.update(report.case_ids)
    total.case_ids = sorted(touched)
    _follow(db, total.case_ids, run)
    return total


def load_memory(
    catalog_paths: Sequence[Path | str],
    event_paths: Sequence[Path | str],
    *,
    progress: Callable[[int], None] | None = None,
) -> Database:
    """An in-memory DuckDB holding a catalog and events, for the stateless commands.

    Nothing follows the import: an audit computes clocks and rules as of its own moment.
    ``progress`` receives the event records read per chunk.
    """
    db = connect_memory()
    if catalog_paths:
        import_catalog(db, catalog_paths)
    if event_paths:
        import_events(db, event_paths, progress=progress)
    return db


# -- the rule catalog --------------------------------------------------------------------------


def rule_catalog_changed(
    db: Database,
    at: datetime | None = None,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """After a rule setting or custom rule is saved (any face): alerts follow the new catalog.

    Every case is re-evaluated (a setting scoped to a region, department or item would allow
    fewer, but a disabled or re-levelled rule must clear or change alerts wherever they are,
    and one set-based run over all cases is what the sweeper pays anyway), then the whole
    workflow is brought in step, as the sweeper's sync does. Stored clocks do not read the
    catalog, so they are not recomputed. Returns the alerts changed (``raised``, ``level``,
    ``cleared``, ``reopened``). ``progress`` is told (stage, steps done, steps): a step per
    rule (stage ``rules``), then one for the workflow (stage ``workflow``); the web app runs
    this as a job (:mod:`govwatch.live.jobs`) whose page shows them.
    """
    moment = at or timeutil.now()
    steps = [0]

    def rules_done(done: int, total: int) -> None:
        steps[0] = total + 1
        if progress is not None:
            progress("rules", done, total + 1)

    counts = evaluate_cases(db, None, moment, progress=rules_done)
    # The item-information rules (事项公开信息异常) read the latest guide check run, not the
    # cases: a setting of theirs applies now, not at the next run.
    for name, number in item_rules_changed(db, moment).items():
        counts[name] = counts.get(name, 0) + number
    if progress is not None:
        progress("workflow", steps[0] - 1, steps[0])
    sync_workflow(db, moment)
    return counts


# -- the calendar --------------------------------------------------------------------------


def load_calendar(db: Database, source: Path | Notice, *, at: datetime | None = None) -> LoadReport:
    """``govwatch calendar load``: load a year's notice (a CSV file, or a published notice's
    parsed text), then re-clock the open cases it reaches.

    Their rules are evaluated again (an overdue or near-deadline alert is raised or cleared),
    their workflow follows, and their stored deadlines are recomputed; the report counts the
    cases re-clocked and names those whose deadlines moved.
    """
    if isinstance(source, Notice):
        report = load_notice(db, source)
    else:
        report = load_calendar_file(db, source)
    moment = at or timeutil.now()
    reached = open_cases_reached(db, report.changed_dates, moment)
    if not reached:
        return report
    before = stored_deadlines(db, reached)
    recomputed = cases_changed(db, reached, at=moment)
    after = stored_deadlines(db, reached)
    moved = sorted(c for c in after if after[c] != before.get(c))
    return replace(report, cases_recomputed=recomputed, cases_changed=moved)
