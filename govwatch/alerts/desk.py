"""督办台: what waits for a supervisor, as four lists with totals, paged.

- ``follow`` 督办跟踪: orders issued and not yet answered (``issued``, ``overdue``), by reply
  date: the overdue first, then the next due; each with its working-day countdown.
- ``replies`` 回复待审核: orders answered (``replied``), the longest waiting first: accept or
  return (several at once: :mod:`govwatch.alerts.desk_actions`).
- ``decide`` 待裁决: alerts a department has explained, appealed or reported rectified
  (``explained``, ``appealed``, ``rectified``), the longest waiting first, each with what the
  department wrote and attached.
- ``issue`` 待督办: active yellow and red alerts (all levels on request) the department still
  owes an answer on (``open``, ``rectifying``) and never yet put under an order (the alert's
  workflow row names none, as automatic orders require): red first, then the oldest anomaly.
  Issue orders for a selection (one per department). An alert whose order was answered and
  accepted is not listed again; a further order on it is issued from its alert page.

The menu's badge on 督办台 counts ``replies`` + ``decide``: the things only the supervisor can
move (:mod:`govwatch.alerts.waiting`). Each list is one query for its page and one for its
total; what a row shows (alerts, orders, attachments) is read for that page only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from govwatch.alerts.attachments import owner_files, with_size_text
from govwatch.alerts.countdown import DUE_ORDINAL, countdown, today_ordinal
from govwatch.alerts.orders import OVERDUE_RULE, orders_by_ids
from govwatch.alerts.queries import alerts_by_ids, scope_condition
from govwatch.auth.principal import Principal
from govwatch.errors import InputError
from govwatch.storage import Database

LISTS = ("follow", "replies", "decide", "issue")
PAGE_SIZE = 50
OPEN_ORDER_STATES = ("issued", "overdue")
DECIDE_STATES = ("explained", "appealed", "rectified")
OWED_STATES = ("open", "rectifying")  # the department owes an answer
ISSUE_LEVELS = ("red", "yellow")  # the default of 待督办; ``level=warning`` lists warnings
LEVEL_RANK = "CASE a.level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END"
DERIVED_STATE = "COALESCE(w.state, CASE WHEN a.status = 'cleared' THEN 'closed' ELSE 'open' END)"


@dataclass(frozen=True)
class DeskFilter:
    """What a desk list is narrowed to: a department, a level (待督办), a state (待裁决)."""

    org_code: str | None = None
    level: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class DeskPage:
    """One page of a desk list and where it stands in the whole."""

    name: str
    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    overdue: int | None = None  # how many of the whole list are past due (今日待办)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))

    def as_dict(self) -> dict[str, Any]:
        return {
            "list": self.name,
            "rows": self.rows,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "page_size": self.page_size,
        } | ({} if self.overdue is None else {"overdue": self.overdue})


def code_list(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)  # fixed codes of this module, never input


def _order_scope(principal: Principal) -> tuple[str, list[Any]]:
    if principal.scope is None:
        return "", []
    return " AND o.org_code = ANY(?)", [sorted(principal.scope | principal.regions) or ["-"]]


def _alert_scope(principal: Principal) -> tuple[str, list[Any]]:
    condition, params = scope_condition(principal)
    return (f" AND {condition}", params) if condition else ("", [])


def orders_where(
    principal: Principal, states: Sequence[str], f: DeskFilter
) -> tuple[str, list[Any]]:
    where = f"o.state IN ({code_list(states)})"
    scope, params = _order_scope(principal)
    if f.org_code:
        where += " AND o.org_code = ?"
        params = [*params, f.org_code]
    return where + scope, params


def decide_where(principal: Principal, f: DeskFilter) -> tuple[str, list[Any]]:
    states: tuple[str, ...] = DECIDE_STATES
    if f.state:
        if f.state not in DECIDE_STATES:
            raise InputError(f"待裁决的状态“{f.state}”无效")
        states = (f.state,)
    where = f"w.state IN ({code_list(states)})"
    scope, params = _alert_scope(principal)
    if f.org_code:
        where += " AND a.department_code = ?"
        params = [*params, f.org_code]
    return where + scope, params


def issue_where(principal: Principal, f: DeskFilter) -> tuple[str, list[Any]]:
    levels: tuple[str, ...] = ISSUE_LEVELS
    if f.level:
        if f.level not in ("red", "yellow", "warning"):
            raise InputError(f"告警级别“{f.level}”无效：应为红牌、黄牌或预警")
        levels = (f.level,)
    where = (
        f"a.status = 'active' AND a.rule <> '{OVERDUE_RULE}' AND a.level IN ({code_list(levels)}) "
        f"AND {DERIVED_STATE} IN ({code_list(OWED_STATES)}) AND w.order_id IS NULL"
    )
    scope, params = _alert_scope(principal)
    if f.org_code:
        where += " AND a.department_code = ?"
        params = [*params, f.org_code]
    return where + scope, params


ISSUE_FROM = "alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id"
DECIDE_FROM = "alert_workflow w JOIN alerts a ON a.alert_id = w.alert_id"


def decide_from(principal: Principal, f: DeskFilter) -> str:
    """``alert_workflow w``, joined to ``alerts a`` only when the scope or the department
    filter reads the alert's columns (a supervisor's count reads the workflow alone)."""
    return DECIDE_FROM if principal.scope is not None or f.org_code else "alert_workflow w"


def desk_counts(db: Database, principal: Principal) -> dict[str, int]:
    """The total of each list (unfiltered), in one query."""
    follow, fp = orders_where(principal, OPEN_ORDER_STATES, DeskFilter())
    replies, rp = orders_where(principal, ("replied",), DeskFilter())
    decide, dp = decide_where(principal, DeskFilter())
    issue, ip = issue_where(principal, DeskFilter())
    row = db.query(
        f"SELECT (SELECT COUNT(*) FROM orders o WHERE {follow}), "
        f"(SELECT COUNT(*) FROM orders o WHERE {replies}), "
        f"(SELECT COUNT(*) FROM {decide_from(principal, DeskFilter())} WHERE {decide}), "
        f"(SELECT COUNT(*) FROM {ISSUE_FROM} WHERE {issue})",
        [*fp, *rp, *dp, *ip],
    )[0]
    return {name: int(value or 0) for name, value in zip(LISTS, row, strict=True)}


def page_limit(page: int, page_size: int) -> str:
    if page < 1 or not 1 <= page_size <= 1000:
        raise InputError("页码应为不小于 1 的整数，每页 1–1000 条")
    return f" LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}"


def page_rows(
    db: Database,
    columns: str,
    source: str,
    params: Sequence[Any],
    order: str,
    page: int,
    page_size: int,
) -> tuple[list[tuple[Any, ...]], int]:
    """One page of ``SELECT columns FROM source ORDER BY order`` and the total, in one query
    (``COUNT(*) OVER ()`` is computed before ``LIMIT``); a page past the end asks for the total
    alone."""
    rows = db.query(
        f"SELECT {columns}, COUNT(*) OVER () FROM {source} ORDER BY {order}"
        + page_limit(page, page_size),
        params,
    )
    if rows:
        return [tuple(r[:-1]) for r in rows], int(rows[0][-1])
    if page == 1:
        return [], 0
    return [], int(db.scalar(f"SELECT COUNT(*) FROM {source}", params) or 0)


_ACTOR_KEYS = frozenset({"issued_by", "replied_by", "actor", "uploaded_by"})


def actors_of(data: object) -> set[str]:
    """The usernames a desk's data names (who issued, replied, acted, uploaded), for the pages
    to show people by their names."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key in _ACTOR_KEYS and isinstance(value, str):
                found.add(value)
            else:
                found |= actors_of(value)
    elif isinstance(data, list | tuple):
        for item in data:
            found |= actors_of(item)
    return found


def order_rows(
    db: Database,
    order_ids: Sequence[str],
    today: date,
    due_ordinals: dict[str, object],
    today_ord: int | None = None,
) -> list[dict[str, Any]]:
    """Orders shaped for a desk: the order, its countdown, its alerts (case numbers, the
    first few), the files of its replies; in the order given. ``today_ord``: today's
    working-day ordinal when the caller has read it. No orders: nothing is read."""
    if not order_ids:
        return []
    orders = orders_by_ids(db, order_ids)
    alerts: dict[str, list[dict[str, Any]]] = {}
    for order_id, alert_id, case_id, rule_type, level in db.query(
        "SELECT oa.order_id, a.alert_id, a.case_id, a.rule_type, a.level FROM order_alerts oa "
        "JOIN alerts a ON a.alert_id = oa.alert_id WHERE oa.order_id = ANY(?) "
        "ORDER BY oa.order_id, a.case_id, a.alert_id",
        [list(order_ids)],
    ):
        alerts.setdefault(str(order_id), []).append(
            {"alert_id": alert_id, "case_id": case_id, "rule_type": rule_type, "level": level}
        )
    files = owner_files(db, "order", order_ids)
    if today_ord is None:
        today_ord = today_ordinal(db, today)
    rows = []
    for order_id in order_ids:
        order = orders.get(order_id)
        if order is None:
            continue
        row = order.as_dict()
        row["countdown"] = countdown(
            order.reply_due_on, today, due_ordinals.get(order_id), today_ord
        ).as_dict()
        row["alerts"] = alerts.get(order_id, [])
        row["alert_count"] = len(row["alerts"])
        row["attachments"] = [f.as_dict() for f in files.get(order_id, [])]
        rows.append(row)
    return rows


def _order_list(
    db: Database,
    principal: Principal,
    name: str,
    states: Sequence[str],
    order_by: str,
    today: date,
    f: DeskFilter,
    page: int,
    page_size: int,
) -> DeskPage:
    where, params = orders_where(principal, states, f)
    found, total = page_rows(
        db,
        "o.order_id, cd.workday_ordinal",
        f"orders o {DUE_ORDINAL.format(due='o.reply_due_on')} WHERE {where}",
        params,
        order_by,
        page,
        page_size,
    )
    ids = [str(r[0]) for r in found]
    rows = order_rows(db, ids, today, {str(r[0]): r[1] for r in found})
    return DeskPage(name, rows, total, page, page_size)


def follow_list(
    db: Database,
    principal: Principal,
    today: date,
    f: DeskFilter,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> DeskPage:
    """督办跟踪: unanswered orders by reply date, overdue first."""
    return _order_list(
        db, principal, "follow", OPEN_ORDER_STATES, "o.reply_due_on, o.order_id", today, f,
        page, page_size,
    )  # fmt: skip


def reply_list(
    db: Database,
    principal: Principal,
    today: date,
    f: DeskFilter,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> DeskPage:
    """回复待审核: answered orders, the longest waiting first."""
    return _order_list(
        db, principal, "replies", ("replied",), "o.replied_at, o.order_id", today, f, page,
        page_size,
    )  # fmt: skip


def last_answers(db: Database, versions: Mapping[str, object]) -> dict[str, dict[str, Any]]:
    """Each alert's latest transition (what the department wrote, when, and its files):
    ``versions`` gives each alert's workflow version, the number of its latest transition
    (the rows already read carry it: no second read of the workflow to join on)."""
    if not versions:
        return {}
    rows = db.query_dicts(
        "SELECT t.alert_id, t.seq, t.action, t.actor, t.acted_at, t.reason, t.attachments "
        "FROM alert_transitions t WHERE t.alert_id = ANY(?)",
        [list(versions)],
    )
    out = {}
    for row in rows:
        alert_id, seq = str(row.pop("alert_id")), row.pop("seq")
        if int(seq) != int(str(versions[alert_id])):
            continue
        row["attachments"] = with_size_text(row["attachments"])
        out[alert_id] = row
    return out


def decide_list(
    db: Database, principal: Principal, f: DeskFilter, page: int = 1, page_size: int = PAGE_SIZE
) -> DeskPage:
    """待裁决: explained, appealed or rectified alerts, the longest waiting first."""
    where, params = decide_where(principal, f)
    found, total = page_rows(
        db,
        "w.alert_id",
        f"{decide_from(principal, f)} WHERE {where}",
        params,
        "w.updated_at, w.alert_id",
        page,
        page_size,
    )
    ids = [str(r[0]) for r in found]
    rows = alerts_by_ids(db, principal, ids)
    answers = last_answers(db, {str(r["alert_id"]): r["version"] for r in rows})
    for row in rows:
        row["answer"] = answers.get(str(row["alert_id"]))
    return DeskPage("decide", rows, total, page, page_size)


def issue_list(
    db: Database, principal: Principal, f: DeskFilter, page: int = 1, page_size: int = PAGE_SIZE
) -> DeskPage:
    """待督办: active alerts owed an answer and never under an order, red and oldest first."""
    where, params = issue_where(principal, f)
    found, total = page_rows(
        db,
        "a.alert_id",
        f"{ISSUE_FROM} WHERE {where}",
        params,
        f"{LEVEL_RANK}, COALESCE(a.occurred_at, a.first_seen_at), a.alert_id",
        page,
        page_size,
    )
    ids = [str(r[0]) for r in found]
    return DeskPage("issue", alerts_by_ids(db, principal, ids), total, page, page_size)


def desk_list(
    db: Database,
    principal: Principal,
    name: str,
    today: date,
    f: DeskFilter,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> DeskPage:
    """One of the four lists by name (:data:`LISTS`)."""
    principal.require("alerts.supervise")
    if name == "follow":
        return follow_list(db, principal, today, f, page, page_size)
    if name == "replies":
        return reply_list(db, principal, today, f, page, page_size)
    if name == "decide":
        return decide_list(db, principal, f, page, page_size)
    if name == "issue":
        return issue_list(db, principal, f, page, page_size)
    raise InputError(f"督办台没有“{name}”这一栏")
