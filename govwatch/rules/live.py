"""The live path: re-evaluate touched cases into ``alerts``, and sweep cases whose time has come.

``evaluate_cases(db, case_ids, at)`` runs the whole current catalog over those cases as of
``at`` and reconciles their alerts: one row per (case, rule, key), identified by
``sha256(case_id|rule|key)``. A new finding is ``raised``; a finding at another level changes
the row in place (``level``); a finding that no longer holds is ``cleared`` (the row stays);
a cleared one that holds again is ``reopened``. Each change is a row of ``alert_history``
with the catalog version it was made under. Re-evaluating the same state changes nothing but
``last_seen_at``.

Two moments per alert: ``first_seen_at``, when govwatch detected it (the evaluation), and
``occurred_at``, when the anomaly arose (the finding's ``occurred_at``, computed by the rule's
query from the events and clocks, so that a case evaluated long after its deadline shows the
deadline's moment). ``occurred_at`` is written when the alert is raised, reopened or changes
level (a graded rule's moment of its current level; ``level_changed_at`` records when govwatch
saw the change) and kept as it is by every other re-evaluation: the batch evaluation of a
whole store and the live path that raised the alert as time went by give the same value. An
alert whose ``occurred_at`` is only its detection moment (rows from before migration 063, or
written by another path) takes the finding's moment the next time the engine sees it.

A rule that fails to run (a custom rule's division by zero, a cast that cannot convert) is
skipped for that evaluation: every other rule runs, the cases are done with, the failing
rule's alerts are left as they were, and the failure is recorded for the administrator
(:mod:`govwatch.rules.failures`, shown on the rules page).

``sweep(db, at)`` finds the cases whose stored next moment has come (``case_deadlines.next_check_at``,
kept by :mod:`govwatch.deadlines.next_check`, and ``rule_schedule`` for catalogs whose
time-driven settings differ from the defaults the clock schedule assumes) and evaluates them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from govwatch import timeutil
from govwatch.deadlines.next_check import refresh_next_check
from govwatch.rules.catalog import Catalog, current
from govwatch.rules.engine import DatabaseExecutor, RuleFailure, run
from govwatch.rules.failures import clear_failures, record_failures
from govwatch.rules.item_rules import ITEM_CLASS
from govwatch.rules.model import LEVEL_RANK, Finding
from govwatch.storage import Database

_TIME_PARAMS = {
    "near_deadline",
    "long_suspension",
    "special_procedure_overrun",
    "step_overdue",
    "case_overdue",
}


def alert_id(case_id: str, rule: str, key: str) -> str:
    return hashlib.sha256(f"{case_id}|{rule}|{key}".encode()).hexdigest()


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


# Alerts the workflow raises itself (govwatch.alerts.escalation), not rules of the catalog: a
# re-evaluation of their case neither produces nor clears them.
WORKFLOW_RULES = ("order_overdue",)

# alert_id -> (level, status, last history seq, level_changed_at, escalated by the workflow,
# rule)
Held = tuple[str, str, int, datetime, bool, str]


def _existing(db: Database, case_ids: list[str] | None) -> dict[str, Held]:
    """The engine's alerts of these cases (all when None), with what reconciling needs."""
    own = "rule NOT IN (" + ", ".join(f"'{r}'" for r in WORKFLOW_RULES) + ")"
    # (an item's alerts follow guide check runs, not its cases: govwatch.rules.item_rules)
    own += f" AND rule_class <> '{ITEM_CLASS}'"

    def sql(where: str) -> str:
        # the history of these alerts only: a whole-table aggregate grows with the database
        scoped = f" WHERE {own}" + (f" AND {where}" if where else "")
        return (
            "SELECT a.alert_id, a.level, a.status, COALESCE(h.seq, 0), a.level_changed_at, "
            "CASE WHEN w.escalated_due_on IS NULL THEN 0 ELSE 1 END, a.rule "
            f"FROM (SELECT * FROM alerts{scoped}) a "
            "LEFT JOIN (SELECT alert_id, MAX(seq) AS seq FROM alert_history "
            f"WHERE alert_id IN (SELECT alert_id FROM alerts{scoped}) GROUP BY alert_id) h "
            "ON h.alert_id = a.alert_id "
            "LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id"
        )

    out: dict[str, Held] = {}
    if case_ids is None:
        rows = db.query(sql(""))
    else:
        rows = []
        for chunk in _chunks(case_ids):
            rows += db.query(sql("case_id = ANY(?)"), [chunk, chunk])
    for r in rows:
        out[str(r[0])] = (str(r[1]), str(r[2]), int(r[3]), r[4], bool(r[5]), str(r[6]))
    return out


def _scope_facts(db: Database, case_ids: set[str]) -> dict[str, tuple[object, ...]]:
    ids = sorted(case_ids)
    out: dict[str, tuple[object, ...]] = {}
    for chunk in _chunks(ids):
        for r in db.query(
            "SELECT case_id, item_code, region_code, department_code, org_code FROM cases "
            "WHERE case_id = ANY(?)",
            [chunk],
        ):
            out[str(r[0])] = tuple(r[1:])
    return out


_UPDATES = "_gw_alert_updates"


def _apply_updates(db: Database, updates: list[tuple[Any, ...]]) -> None:
    """One set-based UPDATE for the findings that still hold (row by row costs ms a row)."""
    if not updates:
        return
    cols = list(zip(*updates, strict=True))
    db.execute(f"DROP TABLE IF EXISTS {_UPDATES}")
    db.execute(
        f"CREATE TEMPORARY TABLE {_UPDATES} (alert_id VARCHAR(64), level VARCHAR(10), "
        "message VARCHAR, evidence VARCHAR, catalog_version INTEGER, last_seen_at TIMESTAMP, "
        "level_changed_at TIMESTAMP, occurred_at TIMESTAMP, arose_at TIMESTAMP)"
    )
    db.insert_arrow(
        _UPDATES,
        pa.table(
            {
                "alert_id": pa.array(cols[0], pa.string()),
                "level": pa.array(cols[1], pa.string()),
                "message": pa.array(cols[2], pa.string()),
                "evidence": pa.array(cols[3], pa.string()),
                "catalog_version": pa.array(cols[4], pa.int32()),
                "last_seen_at": pa.array(cols[5], pa.timestamp("us")),
                "level_changed_at": pa.array(cols[6], pa.timestamp("us")),
                "occurred_at": pa.array(cols[7], pa.timestamp("us")),
                "arose_at": pa.array(cols[8], pa.timestamp("us")),
            }
        ),
    )
    # occurred_at: the finding's moment when the alert reopens or changes level (u.occurred_at),
    # else kept, unless it only holds the detection moment (see the module's notes)
    db.execute(
        "UPDATE alerts SET level = u.level, status = 'active', message = u.message, "
        "evidence = u.evidence, catalog_version = u.catalog_version, "
        "last_seen_at = u.last_seen_at, cleared_at = NULL, level_changed_at = u.level_changed_at, "
        "occurred_at = CASE WHEN u.occurred_at IS NOT NULL THEN u.occurred_at "
        "WHEN u.arose_at IS NOT NULL AND (alerts.occurred_at IS NULL "
        "OR alerts.occurred_at = alerts.first_seen_at) THEN u.arose_at "
        "ELSE COALESCE(alerts.occurred_at, alerts.first_seen_at) END "
        f"FROM {_UPDATES} u WHERE alerts.alert_id = u.alert_id"
    )
    db.execute(f"DROP TABLE IF EXISTS {_UPDATES}")


def reconcile(
    db: Database,
    findings: list[Finding],
    case_ids: list[str] | None,
    at: datetime,
    version: int,
    unknown_rules: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Bring the alerts of these cases (all when None) in line with the findings.

    A level the workflow raised (overdue rectification) is not lowered by a re-evaluation
    that finds the rule's own level again: the finding can still raise it further. The
    alerts of ``unknown_rules`` (rules that failed to run this time) are left as they are:
    a rule that could not look has not found that its condition ended.
    """
    existing = _existing(db, case_ids)
    facts = _scope_facts(db, {f.case_id for f in findings})
    counts = {"raised": 0, "level": 0, "cleared": 0, "reopened": 0}
    inserts, updates, history = [], [], []
    seen = set()
    for f in findings:
        aid = alert_id(f.case_id, f.rule, f.key)
        seen.add(aid)
        arose = f.occurred_at or at
        evidence = json.dumps(f.evidence, ensure_ascii=False, sort_keys=True)
        held = existing.get(aid)
        if held is None:
            scope = facts.get(f.case_id, (None, None, None, None))
            inserts.append(
                [
                    aid,
                    f.case_id,
                    f.rule,
                    f.rule_class,
                    f.rule_type,
                    f.key,
                    f.level,
                    "active",
                    f.message,
                    evidence,
                    version,
                    *scope,
                    arose,
                    at,
                    at,
                    at,
                ]
            )
            history.append([aid, 1, at, "raised", f.level, f.message, version])
            counts["raised"] += 1
            continue
        level, status, seq, level_changed_at, escalated, _ = held
        new_level = f.level
        if escalated and status == "active" and LEVEL_RANK[level] > LEVEL_RANK[f.level]:
            new_level = level
        change = "reopened" if status != "active" else ("level" if level != new_level else None)
        changed_at = at if level != new_level else level_changed_at
        updates.append(
            (
                aid,
                new_level,
                f.message,
                evidence,
                version,
                at,
                changed_at,
                arose if change else None,
                f.occurred_at,
            )
        )
        if change:
            history.append([aid, seq + 1, at, change, new_level, f.message, version])
            counts[change] += 1
    cleared = [
        aid
        for aid, held in existing.items()
        if held[1] == "active" and aid not in seen and held[5] not in unknown_rules
    ]
    with db.transaction():
        db.executemany(
            "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level, "
            "status, message, evidence, catalog_version, item_code, region_code, "
            "department_code, org_code, occurred_at, first_seen_at, last_seen_at, "
            "level_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        _apply_updates(db, updates)
        for chunk in _chunks(cleared):
            db.execute(
                "UPDATE alerts SET status = 'cleared', cleared_at = ? WHERE alert_id = ANY(?)",
                [at, chunk],
            )
        for aid in cleared:
            level, _, seq, _, _, _ = existing[aid]
            history.append(
                [aid, seq + 1, at, "cleared", level, "告警条件已不再成立，自动关闭", version]
            )
            counts["cleared"] += 1
        db.executemany(
            "INSERT INTO alert_history (alert_id, seq, changed_at, change, level, message, "
            "catalog_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            history,
        )
    return counts


def _needs_daily_schedule(catalog: Catalog) -> bool:
    """True when time-driven settings differ from what the clock schedule assumes."""
    if any(s.rule in _TIME_PARAMS and s.params for s in catalog.settings):
        return True
    return any(
        compile_needs_clock
        for compile_needs_clock in (r.needs_clock for r in catalog.rules() if r.custom)
    )


def _schedule(db: Database, case_ids: list[str] | None, at: datetime, daily: bool) -> None:
    """Keep our own daily schedule for the cases when the catalog needs it, else none."""
    scope = "" if case_ids is None else " WHERE case_id IN (SELECT case_id FROM _gw_rule_ids)"
    with db.transaction():
        db.execute("DROP TABLE IF EXISTS _gw_rule_ids")
        db.execute("CREATE TEMPORARY TABLE _gw_rule_ids (case_id VARCHAR PRIMARY KEY)")
        if case_ids is not None:
            db.executemany("INSERT INTO _gw_rule_ids VALUES (?)", [(c,) for c in case_ids])
        db.execute(f"DELETE FROM rule_schedule{scope}")
        if daily:
            midnight = datetime.combine(at.date() + timedelta(days=1), datetime.min.time())
            where = "status IN ('open', 'applied')" + (
                "" if case_ids is None else " AND case_id IN (SELECT case_id FROM _gw_rule_ids)"
            )
            db.execute(
                f"INSERT INTO rule_schedule (case_id, next_check_at) SELECT case_id, ? FROM cases "
                f"WHERE {where}",
                [midnight],
            )
        db.execute("DROP TABLE IF EXISTS _gw_rule_ids")


def evaluate_cases(
    db: Database,
    case_ids: Sequence[str] | None,
    at: datetime | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Re-evaluate these cases (all when None) as of ``at`` and reconcile their alerts.

    ``progress`` is told (rules run, rules to run) as the engine goes (see ``engine.run``)."""
    moment = at or timeutil.now()
    ids = None if case_ids is None else sorted(set(case_ids))
    if ids is not None and not ids:
        return {"raised": 0, "level": 0, "cleared": 0, "reopened": 0}
    catalog = current(db)
    # a rule that fails is skipped and recorded; the others run, and the cases are done
    failures: list[RuleFailure] = []
    findings = run(DatabaseExecutor(db), catalog, moment, ids, failures=failures, progress=progress)
    failed = frozenset(f.rule for f in failures)
    counts = reconcile(db, findings, ids, moment, catalog.version, failed)
    _schedule(db, ids, moment, _needs_daily_schedule(catalog))
    record_failures(db, failures, moment, catalog.version, None if ids is None else len(ids))
    if ids is None:
        clear_failures(db, (r.id for r in catalog.rules() if r.id not in failed))
    return counts


def due_cases(db: Database, at: datetime) -> list[str]:
    rows = db.query(
        "SELECT case_id FROM case_deadlines WHERE next_check_at IS NOT NULL "
        "AND next_check_at <= ? UNION SELECT case_id FROM rule_schedule WHERE next_check_at <= ?",
        [at, at],
    )
    return sorted(str(r[0]) for r in rows)


def sweep(db: Database, at: datetime | None = None) -> dict[str, int]:
    """Evaluate every case whose next moment has come; the server calls this every ~30 s."""
    moment = at or timeutil.now()
    due = due_cases(db, moment)
    if not due:
        return {"cases": 0, "raised": 0, "level": 0, "cleared": 0, "reopened": 0}
    counts = evaluate_cases(db, due, moment)
    refresh_next_check(db, due, at=moment)  # re-arm next_check_at past this moment
    return {"cases": len(due), **counts}
