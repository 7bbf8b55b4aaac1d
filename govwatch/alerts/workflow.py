"""Acting on one alert: check the move, claim it with a conditional update, record it.

A transition is one unit of work: claim (``UPDATE alert_workflow … WHERE version = ?``), the
transition row (its ``seq`` is the new version), attachments, a ledger entry, notifications.
Two supervisors deciding one appeal at the same moment: one claim wins, the other finds the
state changed and is refused with the state it found.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from govwatch.alerts.attachments import (
    Attachment,
    StoredFile,
    check_attachments,
    store_attachments,
    stored_file,
    with_size_text,
)
from govwatch.alerts.states import (
    ACTIONS,
    DEPARTMENT,
    MOVES,
    STATE_NAMES,
    SUPERVISOR,
    allowed_actions,
)
from govwatch.auth.errors import ConflictError, ForbiddenError, NotFoundError
from govwatch.auth.principal import Principal
from govwatch.calendar.queries import add_workdays
from govwatch.errors import InputError
from govwatch.ledger import append_one, run_claimed
from govwatch.notifications import Notice, notify
from govwatch.storage import Database
from govwatch.vocabulary import WORKFLOW_ACTION_DONE, WORKFLOW_ACTION_NAMES, label, rule_name

RECTIFY_DAYS = 15  # default rectification period, working days


@dataclass(frozen=True)
class AlertRef:
    alert_id: str
    case_id: str
    rule: str
    level: str
    status: str
    department_code: str | None
    org_code: str | None
    region_code: str | None

    @property
    def responsible(self) -> str | None:
        return self.department_code or self.org_code


@dataclass(frozen=True)
class WorkflowState:
    alert_id: str
    state: str
    version: int
    due_on: date | None
    close_reason: str | None
    updated_at: datetime
    updated_by: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "state": self.state,
            "state_name": STATE_NAMES[self.state],
            "version": self.version,
            "due_on": self.due_on,
            "close_reason": self.close_reason,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "allowed_actions": allowed_actions(self.state),
        }


def load_alert(db: Database, alert_id: str, principal: Principal) -> AlertRef:
    """The alert, or 404 when it does not exist and 403 when it is outside the caller's scope."""
    rows = db.query(
        "SELECT alert_id, case_id, rule, level, status, department_code, org_code, region_code "
        "FROM alerts WHERE alert_id = ?",
        [alert_id],
    )
    if not rows:
        raise NotFoundError(f"告警“{alert_id}”不存在")
    alert = AlertRef(*rows[0])
    if not principal.covers(alert.department_code, alert.org_code, alert.region_code):
        raise ForbiddenError(f"告警“{alert_id}”不属于本部门管辖范围，无权查看或处理")
    return alert


def ensure_workflow(db: Database, alert: AlertRef, at: datetime) -> None:
    """Start the workflow of an alert that has none yet (state open, transition 1 ``raise``)."""
    inserted = db.query(
        "INSERT INTO alert_workflow (alert_id, state, version, case_id, org_code, updated_at, "
        "updated_by) VALUES (?, 'open', 1, ?, ?, ?, 'system') ON CONFLICT DO NOTHING "
        "RETURNING alert_id",
        [alert.alert_id, alert.case_id, alert.responsible, at],
    )
    if inserted:
        db.execute(
            "INSERT INTO alert_transitions (alert_id, seq, action, from_state, to_state, actor, "
            "actor_role, acted_at, reason) VALUES (?, 1, 'raise', NULL, 'open', 'system', "
            "'system', ?, ?)",
            [alert.alert_id, at, f"规则“{rule_name(alert.rule)}”发现异常"],
        )
        append_one(
            db,
            "alert.raise",
            "system",
            alert.alert_id,
            at,
            {"case_id": alert.case_id, "rule": alert.rule, "to": "open"},
        )


def get_state(db: Database, alert_id: str) -> WorkflowState | None:
    rows = db.query(
        "SELECT alert_id, state, version, due_on, close_reason, updated_at, updated_by "
        "FROM alert_workflow WHERE alert_id = ?",
        [alert_id],
    )
    return WorkflowState(*rows[0]) if rows else None


def _check_side(principal: Principal, by: str, action: str) -> None:
    if by == DEPARTMENT and not principal.can("alerts.department_act"):
        raise ForbiddenError(f"“{MOVES[action].name}”只能由责任部门办理")
    if by == SUPERVISOR and not principal.can("alerts.supervise"):
        raise ForbiddenError(f"“{MOVES[action].name}”只能由监察人员办理")


def decode_attachment(name: str, content_type: str, content_base64: str) -> Attachment:
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"附件“{name}”的内容不是有效的 Base64 编码") from exc
    return Attachment(name, content_type or "application/octet-stream", content)


def act(
    db: Database,
    principal: Principal,
    alert_id: str,
    action: str,
    at: datetime,
    *,
    reason: str | None = None,
    due_on: date | None = None,
    attachments: Sequence[Attachment] = (),
    expected_version: int | None = None,
) -> WorkflowState:
    """Apply a human action to an alert, once; refuse illegal moves with what is allowed."""
    move = MOVES.get(action)
    if move is None or move.by not in (DEPARTMENT, SUPERVISOR):
        possible = "、".join(f"{WORKFLOW_ACTION_NAMES[a]}（{a}）" for a in ACTIONS)
        raise InputError(f"操作“{action}”无效：可以办理的操作为 {possible}")
    _check_side(principal, move.by, action)
    text = (reason or "").strip()
    if move.reason_required and not text:
        raise InputError(f"“{move.name}”必须填写理由")
    if due_on is not None and not move.due:
        raise InputError(f"“{move.name}”不设整改期限")
    if due_on is not None and due_on < at.date():
        raise InputError(f"整改期限 {due_on.isoformat()} 早于今天：应为今天或以后的日期")
    if attachments and move.by != DEPARTMENT:
        raise InputError(f"“{move.name}”不带附件：附件随部门的情况说明、申诉和整改报告提交")
    files_in = check_attachments(attachments)  # refused before anything is claimed

    def work(tx: Database) -> WorkflowState:
        alert = load_alert(tx, alert_id, principal)
        ensure_workflow(tx, alert, at)
        current = get_state(tx, alert_id)
        assert current is not None
        if expected_version is not None and expected_version != current.version:
            raise ConflictError(
                f"告警已被他人处理（当前版本 {current.version}，"
                f"状态“{STATE_NAMES[current.state]}”），"
                "请刷新后重试"
            )
        if current.state not in move.sources:
            possible = allowed_actions(current.state)
            raise ConflictError(
                f"告警当前状态为“{STATE_NAMES[current.state]}”，不能“{move.name}”；"
                + (f"可以进行的操作：{'、'.join(possible)}" if possible else "该告警已终结")
            )
        due = current.due_on
        if move.due:
            due = due_on or add_workdays(tx, at.date(), RECTIFY_DAYS)[0]
        close_reason = "manual" if move.target in ("closed", "dismissed") else None
        claimed = tx.query(
            "UPDATE alert_workflow SET state = ?, version = version + 1, due_on = ?, "
            "close_reason = ?, updated_at = ?, updated_by = ? "
            "WHERE alert_id = ? AND version = ? AND state = ? RETURNING version",
            [
                move.target,
                due,
                close_reason,
                at,
                principal.name,
                alert_id,
                current.version,
                current.state,
            ],
        )
        if not claimed:
            raise ConflictError("告警已被他人同时处理，本次操作未生效，请刷新后查看")
        seq = int(claimed[0][0])
        files = store_attachments(tx, "alert", alert_id, files_in, principal.name, at)
        tx.execute(
            "INSERT INTO alert_transitions (alert_id, seq, action, from_state, to_state, actor, "
            "actor_role, acted_at, reason, due_on, attachments) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                alert_id,
                seq,
                action,
                current.state,
                move.target,
                principal.name,
                principal.role,
                at,
                text or move.name,
                due if move.due else None,
                orjson.dumps(files).decode() if files else None,
            ],
        )
        append_one(
            tx,
            f"alert.{action}",
            principal.name,
            alert_id,
            at,
            {
                "seq": seq,
                "from": current.state,
                "to": move.target,
                "reason": text,
                "due_on": due.isoformat() if move.due and due else None,
                "attachments": [f["sha256"] for f in files],
            },
        )
        to_supervisor = move.by == DEPARTMENT
        notify(
            tx,
            [
                Notice(
                    dedupe_key=f"alert:{alert_id}:{seq}",
                    kind=f"alert.{action}",
                    ref=alert_id,
                    message=f"办件 {alert.case_id} 的告警“{rule_name(alert.rule)}”：{move.name}"
                    + (f"，整改期限 {due.isoformat()}" if move.due and due else "")
                    + (f"（附件 {len(files)} 个）" if files else ""),
                    recipient_role="supervisor" if to_supervisor else "department",
                    recipient_org=None if to_supervisor else alert.responsible,
                    payload={
                        "alert_id": alert_id,
                        "case_id": alert.case_id,
                        "rule": alert.rule,
                        "from": current.state,
                        "to": move.target,
                        "seq": seq,
                    },
                )
            ],
            at,
        )
        state = get_state(tx, alert_id)
        assert state is not None
        return state

    return run_claimed(db, work)


def transitions(db: Database, alert_id: str) -> list[dict[str, Any]]:
    rows = db.query_dicts(
        "SELECT seq, action, from_state, to_state, actor, actor_role, acted_at, reason, due_on, "
        "attachments FROM alert_transitions WHERE alert_id = ? ORDER BY seq",
        [alert_id],
    )
    for row in rows:
        row["attachments"] = with_size_text(row["attachments"])
    return rows


def done_message(action: str) -> str:
    """What a page says after an action succeeded: “已提交情况说明”, not “已情况说明”."""
    return label(WORKFLOW_ACTION_DONE, action) if action in WORKFLOW_ACTION_DONE else "已办理"


def attachment(
    db: Database, principal: Principal, attachment_id: str
) -> tuple[Mapping[str, Any], bytes]:
    """An attachment's metadata and bytes, for a reader whose scope covers its owner (the
    alert, or the supervision order it was replied to): 404 when missing, 403 outside."""
    meta, content = stored_file(db, attachment_id)
    check_file_scope(db, principal, meta)
    return meta.as_dict(), content


def check_file_scope(db: Database, principal: Principal, meta: StoredFile) -> None:
    if meta.owner_kind == "order":
        # read here rather than through govwatch.alerts.orders, which imports this module
        org = db.scalar("SELECT org_code FROM orders WHERE order_id = ?", [meta.owner_id])
        if org is None:
            raise NotFoundError(f"附件“{meta.attachment_id}”不存在")
        if not principal.covers(str(org)):
            raise ForbiddenError(f"附件“{meta.name}”不属于本部门管辖范围，无权下载")
        return
    load_alert(db, meta.owner_id, principal)
