"""今日待办: everything a department must answer, and by when, overdue first.

One list (``todo``) of three kinds of item, each with a due date and its working-day countdown
(:mod:`govwatch.alerts.countdown`), ordered by due date (so the overdue come first, the most
overdue at the top), then red before yellow before warnings:

- ``order``: a supervision order to reply to (``issued`` or ``overdue``), due on its reply date;
- ``rectifying``: an alert under rectification, due on its rectification date;
- ``open``: an alert to answer (情况说明, 申诉): due on the reply date of the open order it is
  under, if any; otherwise ``order_reply_days`` working days (the setting an order's reply
  period uses, 5 by default) after it was raised or reopened.

Alerts of rule ``order_overdue`` are not listed: they stand for an unanswered order, which is
(and answering it clears them). Beside it, ``submitted``: what the department has answered and
the supervisor has not yet decided (orders replied, alerts explained, appealed or reported
rectified), newest first; and the evaluation forms the department has to fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from govwatch.alerts.countdown import DUE_ORDINAL, countdown, today_ordinal
from govwatch.alerts.desk import (
    DECIDE_STATES,
    DERIVED_STATE,
    LEVEL_RANK,
    OPEN_ORDER_STATES,
    OWED_STATES,
    PAGE_SIZE,
    DeskPage,
    code_list,
    last_answers,
    order_rows,
    page_limit,
    page_rows,
)
from govwatch.alerts.orders import OVERDUE_RULE
from govwatch.alerts.queries import alerts_by_ids, scope_condition
from govwatch.alerts.settings import get_setting
from govwatch.auth.principal import Principal
from govwatch.evaluation.rounds.forms import forms_to_fill
from govwatch.storage import Database

# Workflow states in which the department owes an answer.
TO_ANSWER = OWED_STATES


def _scopes(principal: Principal) -> tuple[str, list[Any], str, list[Any]]:
    """(order condition, params, alert condition, params) for the principal's scope."""
    if principal.scope is None:
        return "", [], "", []
    alert_scope, alert_params = scope_condition(principal)
    codes = sorted(principal.scope | principal.regions) or ["-"]
    return " AND o.org_code = ANY(?)", [codes], f" AND {alert_scope}", alert_params


def todo_sql(principal: Principal, answer_days: int) -> tuple[str, list[Any]]:
    """The union of the three kinds: ``kind, ref_id, due_on, level_rank``."""
    order_scope, order_params, alert_scope, alert_params = _scopes(principal)
    sql = (
        "SELECT 'order' AS kind, o.order_id AS ref_id, o.reply_due_on AS due_on, "
        "-1 AS level_rank FROM orders o "
        f"WHERE o.state IN ({code_list(OPEN_ORDER_STATES)}){order_scope} "
        "UNION ALL "
        f"SELECT {DERIVED_STATE} AS kind, a.alert_id AS ref_id, "
        f"CASE WHEN {DERIVED_STATE} = 'rectifying' THEN w.due_on "
        "WHEN oo.order_id IS NOT NULL THEN oo.reply_due_on ELSE ad.on_date END AS due_on, "
        f"{LEVEL_RANK} AS level_rank "
        "FROM alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id "
        "LEFT JOIN orders oo ON oo.order_id = w.order_id "
        f"AND oo.state IN ({code_list(OPEN_ORDER_STATES)}) "
        "LEFT JOIN calendar rs ON rs.on_date = CAST(COALESCE(w.updated_at, a.first_seen_at) AS DATE) "
        "LEFT JOIN calendar ad ON ad.is_workday AND ad.workday_ordinal = rs.workday_ordinal + ? "
        f"WHERE a.rule <> '{OVERDUE_RULE}' AND {DERIVED_STATE} IN ({code_list(OWED_STATES)})"
        f"{alert_scope}"
    )
    return sql, [*order_params, answer_days, *alert_params]


def todo_count_sql(principal: Principal) -> tuple[str, list[Any]]:
    """The length of :func:`todo_sql`'s list as a scalar subquery (the menu's badge): its rows
    without the joins that only give their due dates (each joins at most one row: an order by
    its id, a calendar day by its date, the working day of an ordinal), which a count need not
    read."""
    order_scope, order_params, alert_scope, alert_params = _scopes(principal)
    sql = (
        "((SELECT COUNT(*) FROM orders o "
        f"WHERE o.state IN ({code_list(OPEN_ORDER_STATES)}){order_scope}) + "
        "(SELECT COUNT(*) FROM alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id "
        f"WHERE a.rule <> '{OVERDUE_RULE}' AND {DERIVED_STATE} IN ({code_list(OWED_STATES)})"
        f"{alert_scope}))"
    )
    return sql, [*order_params, *alert_params]


def alert_due(db: Database, principal: Principal, alert_id: str, today: date) -> dict[str, Any]:
    """The countdown of one alert the department owes (as its to-do row shows it); no due
    date when it owes nothing on it now."""
    sql, params = todo_sql(principal, int(get_setting(db, "order_reply_days")))
    rows = db.query(
        f"SELECT t.due_on, cd.workday_ordinal FROM ({sql}) t "
        f"{DUE_ORDINAL.format(due='t.due_on')} WHERE t.ref_id = ?",
        [*params, alert_id],
    )
    if not rows:
        return countdown(None, today, None, None).as_dict() | {"owed": False}
    due_on, due_ordinal = rows[0]
    cd = countdown(due_on, today, due_ordinal, today_ordinal(db, today))
    return cd.as_dict() | {"owed": True}


@dataclass(frozen=True)
class TodoEntries:
    """A principal's whole to-do list on a day, in its order: ``(kind, ref_id, due_on,
    due_ordinal)`` per item, and how many are past due. One query gives the page, the total,
    the overdue count and the menu's badge (the web app keeps it a few seconds per scope)."""

    rows: tuple[tuple[str, str, date | None, int | None], ...]
    overdue: int

    @property
    def total(self) -> int:
        return len(self.rows)


def todo_entries(db: Database, principal: Principal, today: date) -> TodoEntries:
    """Every item of the to-do list, by due date (overdue first), red first within a day."""
    sql, params = todo_sql(principal, int(get_setting(db, "order_reply_days")))
    got = db.query(
        f"SELECT t.kind, t.ref_id, t.due_on, cd.workday_ordinal FROM ({sql}) t "
        f"{DUE_ORDINAL.format(due='t.due_on')} "
        "ORDER BY t.due_on NULLS LAST, t.level_rank, t.kind, t.ref_id",
        params,
    )
    rows = tuple(
        (str(kind), str(ref), _day(due), None if ordinal is None else int(ordinal))
        for kind, ref, due, ordinal in got
    )
    return TodoEntries(rows, sum(1 for r in rows if r[2] is not None and r[2] < today))


def _day(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def todo_list(
    db: Database,
    principal: Principal,
    today: date,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    entries: TodoEntries | None = None,
) -> DeskPage:
    """待办理: orders and alerts owed, by due date (overdue first), red first within a day.

    ``entries``: the list already read (:func:`todo_entries`, for this principal and day)."""
    page_limit(page, page_size)  # (checks the page and its size)
    if entries is None:
        entries = todo_entries(db, principal, today)
    found = entries.rows[(page - 1) * page_size : page * page_size]
    today_ord = today_ordinal(db, today) if found else None
    order_ids = [r[1] for r in found if r[0] == "order"]
    alert_ids = [r[1] for r in found if r[0] != "order"]
    orders = {
        str(o["order_id"]): o
        for o in order_rows(db, order_ids, today, {r[1]: r[3] for r in found}, today_ord)
    }
    alerts = {str(a["alert_id"]): a for a in alerts_by_ids(db, principal, alert_ids)}
    rows: list[dict[str, Any]] = []
    for kind, ref_id, due_on, due_ordinal in found:
        item = orders.get(ref_id) if kind == "order" else alerts.get(ref_id)
        if item is None:
            continue
        rows.append(
            {
                "kind": kind,
                "ref_id": ref_id,
                "due_on": due_on,
                "countdown": countdown(due_on, today, due_ordinal, today_ord).as_dict(),
                "order" if kind == "order" else "alert": item,
            }
        )
    return DeskPage("todo", rows, entries.total, page, page_size, entries.overdue)


def submitted_list(
    db: Database, principal: Principal, today: date, page: int = 1, page_size: int = 20
) -> DeskPage:
    """已提交待审核: the department's answers the supervisor has not decided, newest first."""
    order_scope, order_params, alert_scope, alert_params = _scopes(principal)
    sql = (
        "SELECT 'order' AS kind, o.order_id AS ref_id, o.replied_at AS at FROM orders o "
        f"WHERE o.state = 'replied'{order_scope} UNION ALL "
        "SELECT 'alert' AS kind, w.alert_id AS ref_id, w.updated_at AS at "
        "FROM alert_workflow w JOIN alerts a ON a.alert_id = w.alert_id "
        f"WHERE w.state IN ({code_list(DECIDE_STATES)}){alert_scope}"
    )
    params = [*order_params, *alert_params]
    found, total = page_rows(
        db, "t.kind, t.ref_id", f"({sql}) t", params, "t.at DESC, t.ref_id", page, page_size
    )
    order_ids = [str(r[1]) for r in found if r[0] == "order"]
    alert_ids = [str(r[1]) for r in found if r[0] == "alert"]
    orders = {str(o["order_id"]): o for o in order_rows(db, order_ids, today, {})}
    alerts = {str(a["alert_id"]): a for a in alerts_by_ids(db, principal, alert_ids)}
    answers = last_answers(db, {a: r["version"] for a, r in alerts.items()})
    rows: list[dict[str, Any]] = []
    for kind, ref_id in found:
        if kind == "order" and str(ref_id) in orders:
            rows.append({"kind": kind, "ref_id": str(ref_id), "order": orders[str(ref_id)]})
        elif kind == "alert" and str(ref_id) in alerts:
            alert = alerts[str(ref_id)] | {"answer": answers.get(str(ref_id))}
            rows.append({"kind": kind, "ref_id": str(ref_id), "alert": alert})
    return DeskPage("submitted", rows, total, page, page_size)


def department_workspace(
    db: Database,
    principal: Principal,
    today: date,
    page: int = 1,
    entries: TodoEntries | None = None,
    submitted: DeskPage | None = None,
) -> dict[str, Any]:
    """今日待办 of the principal: ``todo`` (a page of it), ``submitted`` and ``forms``;
    ``entries``, ``submitted``: the to-do list and the answers waiting for review already read
    (:func:`todo_entries`, :func:`submitted_list`)."""
    principal.require("orders.read")
    todo = todo_list(db, principal, today, page, entries=entries)
    if submitted is None:
        submitted = submitted_list(db, principal, today)
    return {
        "today": today,
        "todo": todo.as_dict(),
        "overdue": todo.overdue,
        "submitted": submitted.as_dict(),
        "forms": forms_to_fill(db, principal.org_code),
    }
