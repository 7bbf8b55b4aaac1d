"""Values of a round with their provenance: who may enter what, when, and the log of it.

Three kinds of party enter values (spec/evaluation.md):

- ``department``: fills the ``filled`` indicators of its own unit, with evidence files, until
  the round's fill deadline;
- ``evaluator`` (third party): submits ``check``, ``survey`` and ``rating`` values and verifies
  departments' submissions; it cannot change monitoring data (values computed from the
  database) nor another party's submissions;
- ``admin`` (the government-service administration): may correct anything before
  publication, with a note.

Every change is appended to ``eval_value_log``; nothing of a published round can change.
"""

from __future__ import annotations

import base64
import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.evaluation.systems.values import parse_value
from govwatch.storage import Database

ROLES = ("admin", "department", "evaluator")
EDITABLE = ("configured", "collecting", "computed")
EVIDENCE_MAX_BYTES = 20 * 2**20


class RoundStateError(GovwatchError):
    """An operation the round's state (or the actor's role) does not allow."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a name for the record, a role, and for departments the unit they are."""

    name: str
    role: str
    org: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(f"角色“{self.role}”无效：应为 {'、'.join(ROLES)} 之一")
        if not self.name.strip():
            raise InputError("操作人不能为空")


def round_row(db: Database, round_id: str) -> dict[str, Any]:
    rows = db.query_dicts("SELECT * FROM eval_rounds WHERE round_id = ?", [round_id])
    if not rows:
        raise InputError(f"评估批次“{round_id}”不存在：请用 govwatch evaluation list 查看已有批次")
    return rows[0]


def round_system(row: dict[str, Any]) -> IndicatorSystem:
    return parse_system(str(row["system_yaml"]), origin=f"评估批次 {row['round_id']} 的指标体系")


def require_status(row: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    if row["status"] == "published":
        raise RoundStateError(f"评估批次“{row['round_id']}”已发布，输入和结果已冻结，不能{what}")
    if row["status"] not in allowed:
        raise RoundStateError(
            f"评估批次“{row['round_id']}”处于 {row['status']} 阶段，不能{what}"
            f"（允许的阶段：{'、'.join(allowed)}）"
        )


def _log(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    action: str,
    value: float | None,
    source: str,
    actor: Actor,
    at: datetime,
    note: str | None,
) -> None:
    seq = (
        int(
            db.scalar(
                "SELECT COALESCE(MAX(seq), 0) FROM eval_value_log WHERE round_id = ?", [round_id]
            )
            or 0
        )
        + 1
    )
    db.execute(
        "INSERT INTO eval_value_log (round_id, seq, unit, indicator, action, value, source, actor,"
        " acted_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            round_id,
            seq,
            unit,
            indicator,
            action,
            value,
            source,
            f"{actor.role}:{actor.name}",
            at,
            note,
        ],
    )


def _check_unit(db: Database, round_id: str, unit: str) -> None:
    if not db.scalar(
        "SELECT COUNT(*) FROM eval_units WHERE round_id = ? AND unit = ?", [round_id, unit]
    ):
        raise InputError(f"单位“{unit}”不在评估批次“{round_id}”的评估对象中")


def write_value(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    value: float | None,
    source: str,
    status: str,
    actor: Actor,
    at: datetime,
    note: str | None = None,
) -> None:
    """Upsert one value and log it (no permission checks: callers check)."""
    db.execute(
        "DELETE FROM eval_values WHERE round_id = ? AND unit = ? AND indicator = ?",
        [round_id, unit, indicator],
    )
    db.execute(
        "INSERT INTO eval_values (round_id, unit, indicator, value, source, status, entered_by,"
        " entered_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [round_id, unit, indicator, value, source, status, f"{actor.role}:{actor.name}", at, note],
    )
    _log(db, round_id, unit, indicator, "set", value, source, actor, at, note)


def submit_value(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    value: Any,
    actor: Actor,
    at: datetime,
    note: str | None = None,
) -> None:
    """A party enters the value of one leaf indicator for one unit."""
    with db.transaction():
        row = round_row(db, round_id)
        require_status(row, EDITABLE, "录入指标值")
        system = round_system(row)
        try:
            leaf = system.leaf(indicator)
        except KeyError:
            raise InputError(
                f"指标“{indicator}”不是评估批次“{round_id}”所用指标体系的叶子指标"
            ) from None
        _check_unit(db, round_id, unit)
        number = parse_value(value, f"单位“{unit}”指标“{indicator}”的")
        parsed = None if math.isnan(number) else number
        existing = db.query_dicts(
            "SELECT * FROM eval_values WHERE round_id = ? AND unit = ? AND indicator = ?",
            [round_id, unit, indicator],
        )
        old = existing[0] if existing else None
        if actor.role == "department":
            if actor.org != unit:
                raise RoundStateError(
                    f"部门账号只能填报本单位（{actor.org}）的指标，不能填报“{unit}”"
                )
            if leaf.source != "filled":
                raise RoundStateError(f"指标“{indicator}”的数据来源是 {leaf.source}，不由部门填报")
            deadline = row["fill_deadline_at"]
            if deadline is not None and at > deadline:
                raise RoundStateError(f"填报已于 {deadline} 截止，不能再填报或修改")
        elif actor.role == "evaluator":
            if leaf.source not in ("check", "survey", "rating"):
                raise RoundStateError(
                    f"第三方评估机构只能提交核查、问卷和评价类指标；“{indicator}”的来源是 "
                    f"{leaf.source}（可用“核验”确认部门填报）"
                )
            if old is not None and old["status"] == "computed":
                raise RoundStateError(f"“{indicator}”是监测数据计算值，第三方不能修改")
            if old is not None and not str(old["entered_by"]).startswith("evaluator:"):
                raise RoundStateError(f"“{indicator}”已由 {old['entered_by']} 提交，第三方不能修改")
        elif old is not None and old["status"] == "computed" and not note:
            raise InputError("修改由监测数据计算的指标值须说明理由（note）")
        write_value(
            db, round_id, unit, indicator, parsed, leaf.source, "submitted", actor, at, note
        )
        if row["status"] == "configured":
            db.execute(
                "UPDATE eval_rounds SET status = 'collecting' WHERE round_id = ?", [round_id]
            )


def verify_value(
    db: Database, round_id: str, unit: str, indicator: str, actor: Actor, at: datetime
) -> None:
    """A third-party evaluator (or the administration) verifies a submitted value."""
    if actor.role == "department":
        raise RoundStateError("部门不能核验自己填报的数据")
    with db.transaction():
        require_status(round_row(db, round_id), EDITABLE, "核验指标值")
        existing = db.query_dicts(
            "SELECT value, source FROM eval_values WHERE round_id = ? AND unit = ? AND indicator = ?",
            [round_id, unit, indicator],
        )
        if not existing:
            raise InputError(f"单位“{unit}”的指标“{indicator}”尚无数值，无从核验")
        db.execute(
            "UPDATE eval_values SET status = 'verified', verified_by = ?, verified_at = ? "
            "WHERE round_id = ? AND unit = ? AND indicator = ?",
            [f"{actor.role}:{actor.name}", at, round_id, unit, indicator],
        )
        _log(
            db,
            round_id,
            unit,
            indicator,
            "verify",
            existing[0]["value"],
            str(existing[0]["source"]),
            actor,
            at,
            None,
        )


def add_evidence(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    file_name: str,
    content: bytes,
    actor: Actor,
    at: datetime,
) -> str:
    """Attach an evidence file (证明材料) to a value; returns its id."""
    if len(content) > EVIDENCE_MAX_BYTES:
        raise InputError(f"证明材料 {file_name} 超过 {EVIDENCE_MAX_BYTES // 2**20} MB")
    if actor.role == "department" and actor.org != unit:
        raise RoundStateError(f"部门账号只能为本单位（{actor.org}）上传证明材料")
    with db.transaction():
        row = round_row(db, round_id)
        require_status(row, EDITABLE, "上传证明材料")
        deadline = row["fill_deadline_at"]
        if actor.role == "department" and deadline is not None and at > deadline:
            raise RoundStateError(f"填报已于 {deadline} 截止，不能再上传证明材料")
        _check_unit(db, round_id, unit)
        if indicator not in round_system(row).leaf_ids:
            raise InputError(f"指标“{indicator}”不是评估批次“{round_id}”所用指标体系的叶子指标")
        evidence_id = uuid.uuid4().hex
        db.execute(
            "INSERT INTO eval_evidence (evidence_id, round_id, unit, indicator, file_name, "
            "size_bytes, sha256, content_base64, uploaded_by, uploaded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                evidence_id,
                round_id,
                unit,
                indicator,
                file_name,
                len(content),
                hashlib.sha256(content).hexdigest(),
                base64.b64encode(content).decode(),
                f"{actor.role}:{actor.name}",
                at,
            ],
        )
    return evidence_id


def value_history(db: Database, round_id: str, unit: str, indicator: str) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT seq, action, value, source, actor, acted_at, note FROM eval_value_log "
        "WHERE round_id = ? AND unit = ? AND indicator = ? ORDER BY seq",
        [round_id, unit, indicator],
    )
