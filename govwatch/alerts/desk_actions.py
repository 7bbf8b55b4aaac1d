"""Acting on several items of the 督办台 at once, after a confirmation.

Each bulk action comes in two calls: a *plan* that reads what would be done and refuses what
cannot be (the page shows it to be confirmed), then the action itself, which checks again.

- Issue orders for a selection of alerts: one order per responsible department, all in one
  unit of work (all are issued, or none). Each alert is claimed on its workflow row
  (``order_id IS NULL``) as automatic orders claim theirs, so an alert another supervisor (or
  the sweeper) put under an order meanwhile refuses the whole issue with its case number.
- Accept several replies: each reply is accepted on its own (:func:`govwatch.alerts.orders.
  act_on_order`) at the version the supervisor confirmed, so a reply returned and answered
  again meanwhile is not accepted unseen; what could not be accepted is reported, the rest is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from govwatch.alerts.orders import (
    Order,
    act_on_order,
    create_order,
    get_order,
    new_order_id,
)
from govwatch.alerts.settings import get_setting
from govwatch.alerts.workflow import AlertRef, ensure_workflow, load_alert
from govwatch.auth.errors import ConflictError
from govwatch.auth.principal import Principal
from govwatch.calendar.queries import add_workdays
from govwatch.errors import GovwatchError, InputError
from govwatch.ledger import run_claimed
from govwatch.storage import Database

MAX_SELECTION = 500


@dataclass(frozen=True)
class OrderPlan:
    """One order the selection would issue: to a department, on these alerts, due then."""

    org_code: str
    alerts: tuple[AlertRef, ...]
    reply_due_on: date
    provisional: bool


@dataclass(frozen=True)
class ReplyPlan:
    order: Order
    expected_version: int


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: the ids done, and (id, reason) for those refused."""

    done: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]


def _selection(ids: Sequence[str], what: str) -> list[str]:
    chosen = sorted({i.strip() for i in ids if i.strip()})
    if not chosen:
        raise InputError(f"请先勾选要处理的{what}")
    if len(chosen) > MAX_SELECTION:
        raise InputError(f"一次最多处理 {MAX_SELECTION} 项，勾选了 {len(chosen)} 项")
    return chosen


def _reply_days(db: Database, reply_days: int | None) -> int:
    days = reply_days if reply_days is not None else int(get_setting(db, "order_reply_days"))
    if not 1 <= days <= 60:
        raise InputError(f"回复期限应为 1–60 个工作日，收到 {days}")
    return days


def _under_order(db: Database, alert_ids: Sequence[str]) -> dict[str, str]:
    """alert id → the order it was put under."""
    return {
        str(a): str(o)
        for a, o in db.query(
            "SELECT alert_id, order_id FROM alert_workflow "
            "WHERE order_id IS NOT NULL AND alert_id = ANY(?)",
            [list(alert_ids)],
        )
    }


def plan_orders(
    db: Database, principal: Principal, alert_ids: Sequence[str], at: datetime,
    reply_days: int | None = None,
) -> list[OrderPlan]:  # fmt: skip
    """The orders a selection would issue, one per department; refuses (in Chinese) alerts
    outside the caller's scope, already under an open order, finally handled or without a
    responsible department."""
    principal.require("orders.issue")
    ids = _selection(alert_ids, "告警")
    days = _reply_days(db, reply_days)
    alerts = [load_alert(db, a, principal) for a in ids]
    taken = _under_order(db, ids)
    if taken:
        cases = "、".join(sorted({a.case_id for a in alerts if a.alert_id in taken}))
        raise ConflictError(
            f"办件 {cases} 的告警已督办过（督办单 {'、'.join(sorted(set(taken.values())))}），"
            "请刷新后重新勾选；需再次督办的，请在告警页面发出"
        )
    final = {
        str(r[0])
        for r in db.query(
            "SELECT alert_id FROM alert_workflow WHERE state IN ('closed', 'dismissed') "
            "AND alert_id = ANY(?)",
            [ids],
        )
    }
    if final:
        cases = "、".join(sorted({a.case_id for a in alerts if a.alert_id in final}))
        raise ConflictError(f"办件 {cases} 的告警已办结，不能再督办")
    groups: dict[str, list[AlertRef]] = {}
    for alert in alerts:
        if not alert.responsible:
            raise InputError(f"办件 {alert.case_id} 的告警没有责任部门，不能督办")
        groups.setdefault(alert.responsible, []).append(alert)
    due, provisional = add_workdays(db, at.date(), days)
    return [
        OrderPlan(
            org, tuple(sorted(group, key=lambda a: (a.case_id, a.alert_id))), due, provisional
        )
        for org, group in sorted(groups.items())
    ]


def issue_orders(
    db: Database,
    principal: Principal,
    alert_ids: Sequence[str],
    at: datetime,
    *,
    content: str,
    reply_days: int | None = None,
) -> list[Order]:
    """Issue the planned orders, all or none (see the module's docstring)."""
    text = content.strip()
    if not text:
        raise InputError("督办内容不能为空")
    days = _reply_days(db, reply_days)
    plans = plan_orders(db, principal, alert_ids, at, days)

    def work(tx: Database) -> list[Order]:
        issued = []
        for plan in plans:
            order_id = new_order_id(at)
            ids = [a.alert_id for a in plan.alerts]
            for alert in plan.alerts:
                ensure_workflow(tx, alert, at)
            claimed = {
                str(r[0])
                for r in tx.query(
                    "UPDATE alert_workflow SET order_id = ? WHERE alert_id = ANY(?) "
                    "AND state NOT IN ('closed', 'dismissed') AND order_id IS NULL "
                    "RETURNING alert_id",
                    [order_id, ids],
                )
            }
            if claimed != set(ids):
                lost = sorted({a.case_id for a in plan.alerts if a.alert_id not in claimed})
                raise ConflictError(
                    f"办件 {'、'.join(lost)} 的告警刚被他人督办或已办结，本次督办未发出，请刷新后重试"
                )
            issued.append(
                create_order(
                    tx,
                    principal,
                    ids,
                    at,
                    content=text,
                    org_code=plan.org_code,
                    reply_days=days,
                    automatic=False,
                    order_id=order_id,
                )
            )
        return issued

    return run_claimed(db, work)


def _reply_refs(refs: Sequence[str]) -> list[tuple[str, int | None]]:
    """``order_id`` or ``order_id:version`` → (id, version)."""
    out = []
    for ref in _selection(refs, "督办回复"):
        order_id, _, version = ref.partition(":")
        if version and not version.isdecimal():
            raise InputError(f"督办单“{order_id}”的版本号无效")
        out.append((order_id, int(version) if version else None))
    return out


def plan_accepts(db: Database, principal: Principal, refs: Sequence[str]) -> list[ReplyPlan]:
    """The replies a selection would accept; refuses orders not (or no longer) replied."""
    principal.require("orders.issue")
    plans = []
    for order_id, version in _reply_refs(refs):
        order = get_order(db, order_id, principal)
        if order.state != "replied":
            raise ConflictError(f"督办单 {order_id} 当前不是待审核的回复，请刷新后重新勾选")
        plans.append(ReplyPlan(order, version or order.version))
    return plans


def accept_replies(
    db: Database, principal: Principal, refs: Sequence[str], at: datetime, text: str = ""
) -> BulkResult:
    """Accept each reply at its confirmed version; report those that could not be."""
    principal.require("orders.issue")
    done, refused = [], []
    for order_id, version in _reply_refs(refs):
        try:
            act_on_order(
                db, principal, order_id, "accept", at, text=text or None, expected_version=version
            )
        except GovwatchError as exc:
            refused.append((order_id, str(exc)))
        else:
            done.append(order_id)
    return BulkResult(tuple(done), tuple(refused))
