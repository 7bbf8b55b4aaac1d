"""Escalation: what the sweeper does when a deadline of handling passes.

- An order still ``issued`` after its reply date turns ``overdue`` and raises an alert of rule
  ``order_overdue`` (class timeliness, type 督办反馈超期, key = the order id) on each case of
  the order, at level ``yellow``, in the engine's ``alerts`` table (``raised`` in
  ``alert_history``; ``reopened`` when a returned order goes overdue again).
- Still unanswered after a second reply period, those alerts turn ``red`` (``level``).
- An alert in rectification (整改中) whose due date has passed is escalated one level
  (warning → yellow → red, spec/rules.md "Alert levels"), once per due date: transition
  ``escalate`` by the system, a ``level`` history row, a ledger entry, notifications.
- With the setting ``auto_order_red`` on (the default), every red alert not yet under an order
  gets one automatically: one order per department per sweep, covering its new red alerts.
  Each alert is claimed on its workflow row (``order_id IS NULL`` → the new order) in the same
  unit of work that writes the order, so concurrent sweepers never put it under two orders.

Every change of an alert's condition made here is written through
:func:`govwatch.alerts.history.record` (history row + ledger entry ``alert.condition``).

When these anomalies arose (``alerts.occurred_at``): an order's lateness on the first moment of
the day after its reply date (a due date is the last day allowed), its red card on the day
after the second reply period, an escalated rectification's new level on the day after its
due date. A raise, a reopening and a level change write it, as the rule engine does
(:mod:`govwatch.rules.live`); ``first_seen_at`` and ``level_changed_at`` keep the sweep's
moment, when govwatch saw it.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson

from govwatch.alerts.history import Change, next_level, record
from govwatch.alerts.orders import (
    _COLUMNS,
    OVERDUE_RULE,
    OVERDUE_TYPE,
    Order,
    _transition,
    create_order,
    new_order_id,
)
from govwatch.alerts.settings import get_setting
from govwatch.alerts.states import MOVES
from govwatch.alerts.workflow import ensure_workflow, load_alert
from govwatch.auth.principal import SYSTEM
from govwatch.calendar.queries import add_workdays
from govwatch.ledger import LedgerEntry, append, run_claimed
from govwatch.notifications import Notice, notify
from govwatch.storage import Database
from govwatch.vocabulary import LEVEL_NAMES


def due_passed_at(due_on: date, at: datetime) -> datetime:
    """The moment a due date (the last day allowed) passed: the next day's first moment, never
    after ``at``, the sweep that saw it."""
    return min(datetime.combine(due_on + timedelta(days=1), time()), at)


def _overdue_alert_id(case_id: str, order_id: str) -> str:
    return hashlib.sha256(f"{case_id}|{OVERDUE_RULE}|{order_id}".encode()).hexdigest()


def check_overdue(db: Database, at: datetime) -> int:
    """Orders past their reply date become overdue and raise alerts; later ones escalate to red."""
    today = at.date()
    late = db.query(
        f"SELECT {_COLUMNS} FROM orders WHERE state = 'issued' AND reply_due_on < ?", [today]
    )
    count = 0
    for row in late:
        order = Order(*row)

        def work(tx: Database, order: Order = order) -> bool:
            claimed = tx.query(
                "UPDATE orders SET state = 'overdue', version = version + 1, updated_at = ? "
                "WHERE order_id = ? AND version = ? AND state = 'issued' RETURNING version",
                [at, order.order_id, order.version],
            )
            if not claimed:
                return False
            seq = int(claimed[0][0])
            _transition(
                tx,
                order,
                seq,
                "overdue",
                "issued",
                "overdue",
                "system",
                at,
                f"超过回复期限 {order.reply_due_on.isoformat()} 未回复",
            )
            _raise_overdue_alerts(tx, order, at)
            notify(
                tx,
                [
                    Notice(
                        f"order:{order.order_id}:{seq}:{who}",
                        "order.overdue",
                        order.order_id,
                        f"督办单 {order.order_id} 超过回复期限 "
                        f"{order.reply_due_on.isoformat()} 未回复",
                        who,
                        None if who == "supervisor" else order.org_code,
                        {"order_id": order.order_id},
                    )
                    for who in ("supervisor", "department")
                ],
                at,
            )
            return True

        count += int(run_claimed(db, work))
    _escalate(db, at)
    return count


def _raise_overdue_alerts(db: Database, order: Order, at: datetime) -> None:
    """One ``order_overdue`` alert per case of the order: raised, or reopened if it was cleared.

    A returned order that goes overdue again finds the alert its first lateness raised (same
    case, rule and key); that alert keeps its identity and is ``reopened`` at ``yellow``.
    """
    cases = db.query(
        "SELECT DISTINCT a.case_id, a.item_code, a.region_code FROM order_alerts oa "
        "JOIN alerts a ON a.alert_id = oa.alert_id WHERE oa.order_id = ? ORDER BY a.case_id",
        [order.order_id],
    )
    version = int(db.scalar("SELECT COALESCE(MAX(version), 0) FROM rule_catalog_versions"))
    message = (
        f"督办单 {order.order_id} 要求于 {order.reply_due_on.isoformat()} 前回复，"
        "责任部门逾期未回复"
    )
    evidence = orjson.dumps(
        {
            "order_id": order.order_id,
            "issued_at": order.issued_at,
            "reply_due_on": order.reply_due_on,
            "reply_days": order.reply_days,
        },
        default=str,
    ).decode()
    changes: list[Change] = []
    late_at = due_passed_at(order.reply_due_on, at)
    for case_id, item_code, region_code in cases:
        alert_id = _overdue_alert_id(str(case_id), order.order_id)
        inserted = db.query(
            "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level, "
            "status, message, evidence, catalog_version, item_code, region_code, "
            "department_code, org_code, "
            "occurred_at, first_seen_at, last_seen_at, level_changed_at, cleared_at) "
            "VALUES (?, ?, ?, 'timeliness', ?, ?, 'yellow', 'active', "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
            "ON CONFLICT DO NOTHING RETURNING alert_id",
            [
                alert_id,
                case_id,
                OVERDUE_RULE,
                OVERDUE_TYPE,
                order.order_id,
                message,
                evidence,
                version,
                item_code,
                region_code,
                order.org_code,
                order.org_code,
                late_at,
                at,
                at,
                at,
            ],
        )
        change = "raised"
        if not inserted:
            inserted = db.query(
                "UPDATE alerts SET status = 'active', cleared_at = NULL, level = 'yellow', "
                "level_changed_at = CASE WHEN level = 'yellow' THEN level_changed_at ELSE ? END, "
                "occurred_at = ?, "
                "message = ?, evidence = ?, catalog_version = ?, last_seen_at = ? "
                "WHERE alert_id = ? AND status = 'cleared' RETURNING alert_id",
                [at, late_at, message, evidence, version, at, alert_id],
            )
            change = "reopened"
        if inserted:
            details = {"rule": OVERDUE_RULE, "order_id": order.order_id, "case_id": case_id}
            changes.append(Change(alert_id, change, "yellow", message, details))
    record(db, changes, at)


def _escalate(db: Database, at: datetime) -> None:
    """An order still unanswered after a second reply period turns its alerts red."""
    for order_id, org_code, due, days in db.query(
        "SELECT order_id, org_code, reply_due_on, reply_days FROM orders "
        "WHERE state = 'overdue' ORDER BY order_id"
    ):
        second, _ = add_workdays(db, due, int(days))
        if at.date() <= second:
            continue

        def work(
            tx: Database,
            order_id: str = str(order_id),
            org: str = str(org_code),
            second: date = second,
        ) -> None:
            # Conditional on the level: a concurrent sweeper's update makes this one match
            # nothing (PostgreSQL re-checks after waiting; DuckDB conflicts and retries).
            raised = tx.query(
                "UPDATE alerts SET level = 'red', level_changed_at = ?, last_seen_at = ?, "
                "occurred_at = ? "
                "WHERE rule = ? AND key = ? AND status = 'active' AND level <> 'red' "
                "RETURNING alert_id, case_id, level",
                [at, at, due_passed_at(second, at), OVERDUE_RULE, order_id],
            )
            message = (
                f"督办单 {order_id} 逾期后又过一个回复期限（{second.isoformat()}）仍未回复，"
                "升为红牌"
            )
            record(
                tx,
                [
                    Change(
                        str(alert_id),
                        "level",
                        "red",
                        message,
                        {"rule": OVERDUE_RULE, "order_id": order_id, "case_id": case_id},
                    )
                    for alert_id, case_id, _ in sorted(raised)
                ],
                at,
            )
            # A red card is news for both sides; keyed by the reply period it missed, so an
            # order returned and left unanswered again tells them again.
            notify(
                tx,
                [
                    Notice(
                        f"alert:{alert_id}:red:{second.isoformat()}:{who}",
                        "alert.red",
                        str(alert_id),
                        f"办件 {case_id} 的告警（{OVERDUE_RULE}）：{message}",
                        who,
                        org if who == "department" else None,
                        {
                            "alert_id": str(alert_id),
                            "case_id": case_id,
                            "rule": OVERDUE_RULE,
                            "order_id": order_id,
                            "level_from": level,
                            "level_to": "red",
                        },
                    )
                    for alert_id, case_id, level in sorted(raised)
                    for who in ("department", "supervisor")
                ],
                at,
            )

        run_claimed(db, work)


def escalate_rectification(db: Database, at: datetime) -> int:
    """Alerts whose rectification due date has passed rise one level; once per due date.

    The claim is one conditional ``UPDATE`` of the workflow rows (``escalated_due_on`` below
    ``due_on``, the state still ``rectifying``), which also bumps ``version``: a department
    acting on a stale page is refused, and a second sweeper finds nothing left to claim.
    The due date is the last day allowed, as for orders: it passes the day after.
    """
    move = MOVES["escalate"]

    def work(tx: Database) -> int:
        claimed = tx.query(
            "UPDATE alert_workflow SET version = version + 1, escalated_due_on = due_on, "
            "updated_at = ?, updated_by = 'system' "
            "WHERE state = 'rectifying' AND due_on < ? "
            "AND (escalated_due_on IS NULL OR escalated_due_on < due_on) "
            "AND alert_id IN (SELECT alert_id FROM alerts WHERE status = 'active') "
            "RETURNING alert_id, version, due_on, case_id, org_code",
            [at, at.date()],
        )
        if not claimed:
            return 0
        claimed = sorted(claimed)
        ids = [str(r[0]) for r in claimed]
        marks = ", ".join("?" for _ in ids)
        current: dict[str, tuple[str, str]] = {
            str(aid): (str(level), str(rule))
            for aid, level, rule in tx.query(
                f"SELECT alert_id, level, rule FROM alerts WHERE alert_id IN ({marks})", ids
            )
        }
        transitions: list[tuple[Any, ...]] = []
        raised: list[tuple[str, datetime, str]] = []
        changes: list[Change] = []
        entries: list[LedgerEntry] = []
        notices: list[Notice] = []
        for alert_id, version, due_on, case_id, org in claimed:
            aid = str(alert_id)
            level, rule = current[aid]
            new = next_level(level)
            if new != level:
                reason = (
                    f"整改期限 {due_on.isoformat()} 已过仍未报告整改，"
                    f"告警由{LEVEL_NAMES[level]}升为{LEVEL_NAMES[new]}"
                )
                raised.append((new, due_passed_at(due_on, at), aid))
                changes.append(Change(aid, "level", new, reason))
            else:
                reason = (
                    f"整改期限 {due_on.isoformat()} 已过仍未报告整改，"
                    f"告警已是最高等级（{LEVEL_NAMES.get(level, level)}）"
                )
            transitions.append(
                (aid, int(version), "escalate", "rectifying", move.target, at, reason, due_on)
            )
            entries.append(
                LedgerEntry(
                    "alert.escalate",
                    "system",
                    aid,
                    at,
                    {
                        "seq": int(version),
                        "from": "rectifying",
                        "to": move.target,
                        "reason": reason,
                        "due_on": due_on.isoformat(),
                        "level_from": level,
                        "level_to": new,
                    },
                )
            )
            for who in ("department", "supervisor"):
                notices.append(
                    Notice(
                        f"alert:{aid}:{version}:{who}",
                        "alert.escalate",
                        aid,
                        f"办件 {case_id} 的告警（{rule}）：{reason}",
                        who,
                        org if who == "department" else None,
                        {
                            "alert_id": aid,
                            "case_id": case_id,
                            "rule": rule,
                            "due_on": due_on.isoformat(),
                            "level_from": level,
                            "level_to": new,
                            "seq": int(version),
                        },
                    )
                )
        tx.executemany(
            "UPDATE alerts SET level = ?, occurred_at = ?, level_changed_at = ?, last_seen_at = ? "
            "WHERE alert_id = ?",
            [(new, arose, at, at, aid) for new, arose, aid in raised],
        )
        # the transition's ledger entry says it all: the history row needs no entry of its own
        record(tx, changes, at, ledger=False)
        tx.executemany(
            "INSERT INTO alert_transitions (alert_id, seq, action, from_state, to_state, actor, "
            "actor_role, acted_at, reason, due_on) "
            "VALUES (?, ?, ?, ?, ?, 'system', 'system', ?, ?, ?)",
            transitions,
        )
        append(tx, entries)
        notify(tx, notices, at)
        return len(claimed)

    return run_claimed(db, work)


def auto_orders(db: Database, at: datetime, case_ids: list[str] | None = None) -> int:
    """Issue one automatic order per department on its red alerts not yet under an order."""
    if get_setting(db, "auto_order_red") != "on":
        return 0
    where, params = "", []
    if case_ids is not None:
        if not case_ids:
            return 0
        where = f" AND a.case_id IN ({', '.join('?' for _ in case_ids)})"
        params = list(case_ids)
    rows = db.query(
        "SELECT a.alert_id, COALESCE(a.department_code, a.org_code) FROM alerts a "
        "LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id "
        "WHERE a.level = 'red' AND a.status = 'active' AND a.rule <> ? "
        "AND COALESCE(w.state, 'open') NOT IN ('closed', 'dismissed') "
        "AND w.order_id IS NULL "
        "AND COALESCE(a.department_code, a.org_code) IS NOT NULL "
        f"AND NOT EXISTS (SELECT 1 FROM order_alerts oa WHERE oa.alert_id = a.alert_id){where} "
        "ORDER BY 2, 1",
        [OVERDUE_RULE, *params],
    )
    by_org: dict[str, list[str]] = {}
    for alert_id, org in rows:
        by_org.setdefault(str(org), []).append(str(alert_id))
    days = int(get_setting(db, "order_reply_days"))
    issued = 0
    for org, ids in by_org.items():

        def work(tx: Database, org: str = org, ids: list[str] = ids) -> bool:
            return _auto_order(tx, org, ids, at, days)

        issued += int(run_claimed(db, work))
    return issued


def _auto_order(tx: Database, org: str, ids: list[str], at: datetime, days: int) -> bool:
    """Claim those of ``ids`` still free and put them under one new automatic order."""
    for alert_id in ids:  # the claim is on the workflow row: make sure it exists
        ensure_workflow(tx, load_alert(tx, alert_id, SYSTEM), at)
    order_id = new_order_id(at)
    marks = ", ".join("?" for _ in ids)
    claimed = tx.query(
        "UPDATE alert_workflow SET order_id = ? "
        f"WHERE alert_id IN ({marks}) AND order_id IS NULL "
        "AND state NOT IN ('closed', 'dismissed') "
        "AND alert_id IN (SELECT alert_id FROM alerts WHERE level = 'red' AND status = 'active') "
        "RETURNING alert_id",
        [order_id, *ids],
    )
    if not claimed:
        return False
    mine = sorted(str(r[0]) for r in claimed)
    create_order(
        tx,
        SYSTEM,
        mine,
        at,
        content=f"系统自动督办：{len(mine)} 条红牌告警，请核查并回复处理情况",
        org_code=org,
        reply_days=days,
        automatic=True,
        order_id=order_id,
    )
    return True
