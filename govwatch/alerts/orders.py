"""Supervision orders (督办): issued on alerts to a department, answered within working days.

::

    issued ──reply──► replied ──accept──► closed
      │                  └──return──► issued (a new reply period)
      └──(reply period passed; sweeper)──► overdue ──reply (late)──► replied

An order that goes overdue raises ``order_overdue`` alerts (:mod:`govwatch.alerts.escalation`);
a reply clears those alerts (with a ``cleared`` history row), and the workflow then closes them
automatically. Every order records itself on its alerts' workflow rows (``order_id``): that
column is what an automatic order claims, so that no alert is put under two of them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from govwatch.alerts.attachments import (
    Attachment,
    check_attachments,
    store_attachments,
    with_size_text,
)
from govwatch.alerts.history import Change, record
from govwatch.alerts.reconcile import SYNC_LOCK, reconcile
from govwatch.alerts.settings import get_setting
from govwatch.alerts.workflow import ensure_workflow, load_alert
from govwatch.auth.errors import ConflictError, ForbiddenError, NotFoundError
from govwatch.auth.principal import SYSTEM, Principal
from govwatch.calendar.queries import add_workdays
from govwatch.errors import InputError
from govwatch.ledger import append_one, run_claimed
from govwatch.notifications import Notice, notify
from govwatch.storage import Database
from govwatch.vocabulary import ORDER_ACTION_NAMES, ORDER_HISTORY_NAMES, label
from govwatch.vocabulary import ORDER_STATE_NAMES as ORDER_STATE_NAMES  # pages import it here

OVERDUE_RULE = "order_overdue"
OVERDUE_TYPE = "督办反馈超期"
# action -> (from states, to state, permission, name)
ORDER_MOVES: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "reply": (("issued", "overdue"), "replied", "orders.reply", ORDER_ACTION_NAMES["reply"]),
    "accept": (("replied",), "closed", "orders.issue", ORDER_ACTION_NAMES["accept"]),
    "return": (("replied",), "issued", "orders.issue", ORDER_ACTION_NAMES["return"]),
}


@dataclass(frozen=True)
class Order:
    order_id: str
    org_code: str
    state: str
    version: int
    content: str
    issued_by: str
    issued_at: datetime
    reply_days: int
    reply_due_on: date
    provisional: bool
    automatic: bool
    reply_text: str | None
    replied_by: str | None
    replied_at: datetime | None
    closed_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["state_name"] = ORDER_STATE_NAMES[self.state]
        return out


_COLUMNS = (
    "order_id, org_code, state, version, content, issued_by, issued_at, reply_days, "
    "reply_due_on, provisional, automatic, reply_text, replied_by, replied_at, closed_at"
)


def get_order(db: Database, order_id: str, principal: Principal) -> Order:
    rows = db.query(f"SELECT {_COLUMNS} FROM orders WHERE order_id = ?", [order_id])
    if not rows:
        raise NotFoundError(f"督办单“{order_id}”不存在")
    order = Order(*rows[0])
    if not principal.covers(order.org_code):
        raise ForbiddenError(f"督办单“{order_id}”不是发给本部门的，无权查看或处理")
    return order


def orders_by_ids(db: Database, order_ids: Sequence[str]) -> dict[str, Order]:
    """These orders by id (no scope check: the caller's list query applied the scope)."""
    if not order_ids:
        return {}
    rows = db.query(f"SELECT {_COLUMNS} FROM orders WHERE order_id = ANY(?)", [list(order_ids)])
    return {str(r[0]): Order(*r) for r in rows}


def order_transitions(db: Database, order_id: str) -> list[dict[str, Any]]:
    """The order's history (issued, replied, returned, overdue, accepted), oldest first, each
    with the attachments it carried."""
    rows = db.query_dicts(
        "SELECT seq, action, from_state, to_state, actor, acted_at, reason, attachments "
        "FROM order_transitions WHERE order_id = ? ORDER BY seq",
        [order_id],
    )
    for row in rows:
        row["attachments"] = with_size_text(row["attachments"])
        row["action_name"] = ORDER_ACTION_NAMES.get(row["action"]) or label(
            ORDER_HISTORY_NAMES, row["action"]
        )
    return rows


def order_alert_ids(db: Database, order_id: str) -> list[str]:
    return [
        str(r[0])
        for r in db.query(
            "SELECT alert_id FROM order_alerts WHERE order_id = ? ORDER BY alert_id", [order_id]
        )
    ]


def list_orders(
    db: Database, principal: Principal, state: str | None = None, limit: int = 50, offset: int = 0
) -> list[Order]:
    where, params = ["1 = 1"], []
    if state:
        where.append("state = ?")
        params.append(state)
    if principal.scope is not None:
        codes = sorted(principal.scope) or ["-"]
        where.append(f"org_code IN ({', '.join('?' for _ in codes)})")
        params += codes
    rows = db.query(
        f"SELECT {_COLUMNS} FROM orders WHERE {' AND '.join(where)} "
        f"ORDER BY issued_at DESC, order_id LIMIT {int(limit)} OFFSET {int(offset)}",
        params,
    )
    return [Order(*r) for r in rows]


def _transition(
    db: Database,
    order: Order,
    seq: int,
    action: str,
    from_state: str | None,
    to_state: str,
    actor: str,
    at: datetime,
    reason: str,
    files: Sequence[dict[str, Any]] = (),
) -> None:
    db.execute(
        "INSERT INTO order_transitions (order_id, seq, action, from_state, to_state, actor, "
        "acted_at, reason, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            order.order_id,
            seq,
            action,
            from_state,
            to_state,
            actor,
            at,
            reason,
            orjson.dumps(list(files)).decode() if files else None,
        ],
    )
    entry: dict[str, Any] = {"seq": seq, "from": from_state, "to": to_state, "reason": reason}
    if files:
        entry["attachments"] = [f["sha256"] for f in files]
    append_one(db, f"order.{action}", actor, order.order_id, at, entry)


def new_order_id(at: datetime) -> str:
    return f"DB{at:%Y%m%d}{secrets.token_hex(4).upper()}"


def issue_order(
    db: Database,
    principal: Principal,
    alert_ids: list[str],
    at: datetime,
    *,
    content: str,
    org_code: str | None = None,
    reply_days: int | None = None,
    automatic: bool = False,
) -> Order:
    """Issue one order on these alerts to their department; due in ``reply_days`` W (default 5)."""
    principal.require("orders.issue")
    ids = sorted(set(alert_ids))
    if not ids:
        raise InputError("督办至少要针对一条告警")
    if not content.strip():
        raise InputError("督办内容不能为空")
    days = reply_days if reply_days is not None else int(get_setting(db, "order_reply_days"))
    if not 1 <= days <= 60:
        raise InputError(f"回复期限应为 1–60 个工作日，收到 {days}")

    def work(tx: Database) -> Order:
        return create_order(
            tx,
            principal,
            ids,
            at,
            content=content.strip(),
            org_code=org_code,
            reply_days=days,
            automatic=automatic,
            order_id=new_order_id(at),
        )

    return run_claimed(db, work)


def create_order(
    tx: Database,
    principal: Principal,
    ids: list[str],
    at: datetime,
    *,
    content: str,
    org_code: str | None,
    reply_days: int,
    automatic: bool,
    order_id: str,
) -> Order:
    """Write one order inside the caller's unit of work (inputs already checked)."""
    alerts = [load_alert(tx, a, principal) for a in ids]
    targets = {a.responsible for a in alerts}
    target = org_code or (targets.pop() if len(targets) == 1 else None)
    if not target:
        raise InputError("这些告警属于不同部门（或没有责任部门）：请指定被督办部门（org_code）")
    due, provisional = add_workdays(tx, at.date(), reply_days)
    tx.execute(
        f"INSERT INTO orders ({_COLUMNS}, updated_at) VALUES "
        "(?, ?, 'issued', 1, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?)",
        [
            order_id,
            target,
            content,
            principal.name,
            at,
            reply_days,
            due,
            provisional,
            automatic,
            at,
        ],
    )
    tx.executemany(
        "INSERT INTO order_alerts (order_id, alert_id) VALUES (?, ?)",
        [(order_id, a) for a in ids],
    )
    for alert in alerts:
        ensure_workflow(tx, alert, at)
    marks = ", ".join("?" for _ in ids)
    tx.execute(
        f"UPDATE alert_workflow SET order_id = ? WHERE alert_id IN ({marks})", [order_id, *ids]
    )
    order = get_order(tx, order_id, SYSTEM)
    _transition(tx, order, 1, "issue", None, "issued", principal.name, at, content)
    notify(
        tx,
        [
            Notice(
                f"order:{order_id}:1",
                "order.issued",
                order_id,
                f"收到督办单 {order_id}（{len(ids)} 条告警），请于 {due.isoformat()} 前回复",
                "department",
                target,
                {"order_id": order_id, "alert_ids": ids, "reply_due_on": due.isoformat()},
            )
        ],
        at,
    )
    return order


def _clear_overdue_alerts(tx: Database, order: Order, at: datetime) -> None:
    """An answered order owes nothing: its ``order_overdue`` alerts clear, each with history."""
    cleared = tx.query(
        "UPDATE alerts SET status = 'cleared', cleared_at = ?, last_seen_at = ? "
        "WHERE rule = ? AND key = ? AND status = 'active' RETURNING alert_id, level, case_id",
        [at, at, OVERDUE_RULE, order.order_id],
    )
    record(
        tx,
        [
            Change(
                str(alert_id),
                "cleared",
                str(level),
                f"督办单 {order.order_id} 已于 {at:%Y-%m-%d} 回复，督办反馈超期告警解除",
                {"rule": OVERDUE_RULE, "order_id": order.order_id, "case_id": case_id},
            )
            for alert_id, level, case_id in sorted(cleared)
        ],
        at,
    )


def act_on_order(
    db: Database,
    principal: Principal,
    order_id: str,
    action: str,
    at: datetime,
    *,
    text: str | None = None,
    expected_version: int | None = None,
    attachments: Sequence[Attachment] = (),
) -> Order:
    """Reply to an order (the department, optionally with files), accept or return a reply."""
    if action not in ORDER_MOVES:
        possible = "、".join(f"{move[3]}（{code}）" for code, move in ORDER_MOVES.items())
        raise InputError(f"督办操作“{action}”无效：可以办理的操作为 {possible}")
    sources, target, permission, name = ORDER_MOVES[action]
    principal.require(permission)
    body = (text or "").strip()
    if action in ("reply", "return") and not body:
        raise InputError(f"“{name}”必须填写内容")
    if attachments and action != "reply":
        raise InputError(f"“{name}”不带附件：附件随部门的督办回复提交")
    files_in = check_attachments(attachments)  # refused before anything is claimed

    def work(tx: Database) -> Order:
        order = get_order(tx, order_id, principal)
        if expected_version is not None and expected_version != order.version:
            raise ConflictError(f"督办单已被他人处理（当前版本 {order.version}），请刷新后重试")
        if order.state not in sources:
            raise ConflictError(f"督办单当前状态为“{ORDER_STATE_NAMES[order.state]}”，不能“{name}”")
        sets, params = ["state = ?", "version = version + 1", "updated_at = ?"], [target, at]
        if action == "reply":
            sets += ["reply_text = ?", "replied_by = ?", "replied_at = ?"]
            params += [body, principal.name, at]
        elif action == "accept":
            sets.append("closed_at = ?")
            params.append(at)
        else:  # return: a new reply period from today
            due, provisional = add_workdays(tx, at.date(), order.reply_days)
            sets += ["reply_due_on = ?", "provisional = ?"]
            params += [due, provisional]
        claimed = tx.query(
            f"UPDATE orders SET {', '.join(sets)} WHERE order_id = ? AND version = ? "
            "AND state = ? RETURNING version",
            [*params, order_id, order.version, order.state],
        )
        if not claimed:
            raise ConflictError("督办单已被他人同时处理，本次操作未生效，请刷新后查看")
        seq = int(claimed[0][0])
        files = store_attachments(tx, "order", order_id, files_in, principal.name, at)
        _transition(
            tx, order, seq, action, order.state, target, principal.name, at, body or name, files
        )
        if action == "reply":
            _clear_overdue_alerts(tx, order, at)
        to_supervisor = action == "reply"
        notify(
            tx,
            [
                Notice(
                    f"order:{order_id}:{seq}",
                    f"order.{action}",
                    order_id,
                    f"督办单 {order_id}：{name}" + (f"（附件 {len(files)} 个）" if files else ""),
                    "supervisor" if to_supervisor else "department",
                    None if to_supervisor else order.org_code,
                    {"order_id": order_id, "from": order.state, "to": target},
                )
            ],
            at,
        )
        return get_order(tx, order_id, SYSTEM)

    result = run_claimed(db, work)
    if action == "reply":
        # the reply cleared the order's overdue alerts: their workflow closes as part of this
        # decision (nothing else follows a workflow decision; see govwatch.live.pipeline)
        with SYNC_LOCK:
            reconcile(db, at, None)
    return result
