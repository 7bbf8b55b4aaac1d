"""The review stage of a round: units see their results and appeal (申诉) within a window.

``open_review`` starts the window (``review_days`` working days after the day it opens, to
23:59:59 of the last day, on the calendar table); ``submit_appeal`` records a unit's appeal
against its result or one indicator; ``decide_appeal`` accepts or rejects it, and an accepted
appeal may correct the value it names (the round must then be computed again).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from govwatch.calendar.queries import add_days
from govwatch.errors import InputError
from govwatch.evaluation.rounds.round_notices import on_appeal_decided, on_review_opened
from govwatch.evaluation.rounds.values import (
    Actor,
    EvidenceFile,
    RoundStateError,
    require_status,
    round_row,
    round_system,
    write_value,
)
from govwatch.ledger import append_one
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
    on_review_opened(db, round_id, at)
    return until


def submit_appeal(
    db: Database,
    round_id: str,
    unit: str,
    reason: str,
    actor: Actor,
    at: datetime,
    indicator: str | None = None,
    files: Sequence[EvidenceFile] = (),
) -> str:
    """A unit appeals (申诉) its result, or one indicator's value, within the review window,
    with files checked at the edge (stored as ``attachments`` of owner kind ``eval_appeal``,
    with their size, type and SHA-256); ledgered (``round.appeal``) under the named user."""
    with db.transaction():
        row = round_row(db, round_id)
        require_status(row, ("review",), "提出申诉")
        if actor.role == "department" and unit not in actor.own_units:
            raise RoundStateError(f"部门账号只能为本单位（{actor.org}）提出申诉，不能为“{unit}”")
        if actor.role == "evaluator":
            raise RoundStateError("第三方评估机构不能提出申诉：申诉由被评估单位提出")
        if not db.scalar(
            "SELECT COUNT(*) FROM eval_units WHERE round_id = ? AND unit = ?", [round_id, unit]
        ):
            raise InputError(f"单位“{unit}”不在评估批次“{round_id}”的评估对象中")
        until = row["review_until_at"]
        if until is not None and at > until:
            raise RoundStateError(
                f"评估批次“{round_id}”的复核申诉期已于 {until:%Y-%m-%d %H:%M} 结束，不能再申诉"
            )
        if not reason.strip():
            raise InputError("申诉须说明理由")
        if indicator is not None and indicator not in round_system(row).leaf_ids:
            raise InputError(f"指标“{indicator}”不是本批次指标体系的叶子指标")
        appeal_id = uuid.uuid4().hex[:16]
        db.execute(
            "INSERT INTO eval_appeals (appeal_id, round_id, unit, indicator, reason, submitted_by, "
            "submitted_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'open')",
            [appeal_id, round_id, unit, indicator, reason.strip(), actor.label, at],
        )
        stored = [_store_file(db, appeal_id, f, actor, at) for f in files]
        append_one(
            db,
            "round.appeal",
            actor.label,
            f"round:{round_id}",
            at,
            {
                "round_id": round_id,
                "appeal_id": appeal_id,
                "unit": unit,
                "indicator": indicator,
                "reason": reason.strip(),
                "files": stored,
            },
        )
    return appeal_id


APPEAL_FILES = "eval_appeal"  # owner kind of an appeal's files in ``attachments``


def _store_file(
    db: Database, appeal_id: str, f: EvidenceFile, actor: Actor, at: datetime
) -> dict[str, Any]:
    attachment_id = uuid.uuid4().hex
    sha = hashlib.sha256(f.content).hexdigest()
    db.execute(
        "INSERT INTO attachments (attachment_id, owner_kind, owner_id, name, content_type, "
        "size_bytes, sha256, content_base64, uploaded_by, uploaded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            attachment_id,
            APPEAL_FILES,
            appeal_id,
            f.name,
            f.content_type,
            len(f.content),
            sha,
            base64.b64encode(f.content).decode(),
            actor.label,
            at,
        ],
    )
    return {"attachment_id": attachment_id, "name": f.name, "sha256": sha}


def appeal_files(db: Database, appeal_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The files of these appeals (no content), each appeal's in upload order."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not appeal_ids:
        return out
    for r in db.query_dicts(
        "SELECT attachment_id, owner_id, name, content_type, size_bytes, sha256, uploaded_at "
        "FROM attachments WHERE owner_kind = ? AND owner_id = ANY(?) "
        "ORDER BY uploaded_at, attachment_id",
        [APPEAL_FILES, list(appeal_ids)],
    ):
        out.setdefault(str(r["owner_id"]), []).append(r)
    return out


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
    on_appeal_decided(db, appeal_id, at)
