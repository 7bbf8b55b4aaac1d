"""The review stage of a round: units see their results and appeal (申诉) within a window.

``open_review`` starts the window (``review_days`` working days after the day it opens, to
23:59:59 of the last day, on the calendar table); ``submit_appeal`` records a unit's appeal
against its result or one indicator; ``decide_appeal`` accepts or rejects it, and an accepted
appeal may correct the value it names (the round must then be computed again).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from govwatch.calendar.queries import add_days
from govwatch.errors import InputError
from govwatch.evaluation.rounds.values import (
    Actor,
    RoundStateError,
    require_status,
    round_row,
    round_system,
    write_value,
)
from govwatch.storage import Database


def open_review(db: Database, round_id: str, actor: Actor, at: datetime) -> datetime:
    """Show units their results; appeals are accepted until the returned moment."""
    if actor.role != "admin":
        raise RoundStateError("只有政务服务管理机构（admin）可以发布复核")
    row = round_row(db, round_id)
    require_status(row, ("computed",), "进入复核（请先计算结果）")
    until_on: date = add_days(db, at.date(), int(row["review_days"]), "W")
    until = datetime.combine(until_on, time(23, 59, 59))
    db.execute(
        "UPDATE eval_rounds SET status = 'review', review_until_at = ? WHERE round_id = ?",
        [until, round_id],
    )
    return until


def submit_appeal(
    db: Database,
    round_id: str,
    unit: str,
    reason: str,
    actor: Actor,
    at: datetime,
    indicator: str | None = None,
) -> str:
    """A unit appeals (申诉) its result, or one indicator's value, within the review window."""
    row = round_row(db, round_id)
    require_status(row, ("review",), "提出申诉")
    if actor.role == "department" and actor.org != unit:
        raise RoundStateError(f"部门账号只能为本单位（{actor.org}）提出申诉")
    if at > row["review_until_at"]:
        raise RoundStateError(f"复核申诉期已于 {row['review_until_at']} 结束")
    if not reason.strip():
        raise InputError("申诉须说明理由")
    if indicator is not None and indicator not in round_system(row).leaf_ids:
        raise InputError(f"指标“{indicator}”不是本批次指标体系的叶子指标")
    appeal_id = uuid.uuid4().hex[:16]
    db.execute(
        "INSERT INTO eval_appeals (appeal_id, round_id, unit, indicator, reason, submitted_by, "
        "submitted_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'open')",
        [appeal_id, round_id, unit, indicator, reason, f"{actor.role}:{actor.name}", at],
    )
    return appeal_id


def decide_appeal(
    db: Database,
    appeal_id: str,
    accepted: bool,
    decision: str,
    actor: Actor,
    at: datetime,
    *,
    corrected_value: float | None = None,
) -> None:
    """Accept or reject an appeal; an accepted appeal may correct the value it names."""
    if actor.role != "admin":
        raise RoundStateError("只有政务服务管理机构（admin）可以处理申诉")
    rows = db.query_dicts("SELECT * FROM eval_appeals WHERE appeal_id = ?", [appeal_id])
    if not rows:
        raise InputError(f"申诉“{appeal_id}”不存在")
    appeal = rows[0]
    row = round_row(db, str(appeal["round_id"]))
    require_status(row, ("review",), "处理申诉")
    if appeal["status"] != "open":
        raise RoundStateError(f"申诉“{appeal_id}”已处理（{appeal['status']}）")
    with db.transaction():
        db.execute(
            "UPDATE eval_appeals SET status = ?, decided_by = ?, decided_at = ?, decision = ? "
            "WHERE appeal_id = ?",
            [
                "accepted" if accepted else "rejected",
                f"{actor.role}:{actor.name}",
                at,
                decision,
                appeal_id,
            ],
        )
        if accepted and corrected_value is not None:
            if not appeal["indicator"]:
                raise InputError("该申诉未指明指标，不能更正数值")
            leaf = round_system(row).leaf(str(appeal["indicator"]))
            write_value(
                db,
                str(appeal["round_id"]),
                str(appeal["unit"]),
                leaf.id,
                corrected_value,
                leaf.source,
                "submitted",
                actor,
                at,
                f"申诉 {appeal_id} 更正：{decision}",
            )
