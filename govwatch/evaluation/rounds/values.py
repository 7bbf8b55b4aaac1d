"""Values of a round with their provenance: who may enter what, when, and the log of it.

Three kinds of party enter values (spec/evaluation.md):

- ``department``: fills the ``filled`` indicators of its own unit, with evidence files, until
  the round's fill deadline;
- ``evaluator`` (third party): submits ``check``, ``survey`` and ``rating`` values and verifies
  departments' submissions; it cannot change monitoring data (values computed from the
  database) nor another party's submissions;
- ``admin`` (the government-service administration): may correct anything before
  publication, with a note.

An evaluator enters only the leaves it is commissioned for (:mod:`commission`), and verifies
or disputes (with a note) the values others entered, never its own. A department fills only
its own units (its organisation subtree). Every change is appended to ``eval_value_log`` and
to the ledger under the named user; nothing of a published round can change.

Evidence files reach :func:`add_evidence_files` already checked at the edge (the attachment
allow-list, size and content check of ``govwatch.alerts.attachments``, which this layer may not
import): they are stored with their size, content type and SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.commission import commissioned_leaves, commissioned_rounds
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.evaluation.systems.values import parse_value
from govwatch.ledger import append_one
from govwatch.storage import Database

ROLES = ("admin", "department", "evaluator")
EDITABLE = ("configured", "collecting", "computed")
EVIDENCE_MAX_BYTES = 20 * 2**20
URL_MAX_CHARS = 2000


class RoundStateError(GovwatchError):
    """An operation the round's state (or the actor's role) does not allow."""


@dataclass(frozen=True)
class Actor:
    """Who acts: a name for the record (the account's username), a role, the organisation
    (a department's unit, an evaluator's organisation) and, for a department signed in on the
    web, the units of its organisation subtree that are its own too."""

    name: str
    role: str
    org: str | None = None
    units: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise InputError(f"角色“{self.role}”无效：应为 {'、'.join(ROLES)} 之一")
        if not self.name.strip():
            raise InputError("操作人不能为空")

    @property
    def label(self) -> str:
        """How the actor is recorded (``role:username``)."""
        return f"{self.role}:{self.name}"

    @property
    def own_units(self) -> frozenset[str]:
        return self.units | ({self.org} if self.org else frozenset())

    @classmethod
    def of_principal(cls, principal: Any) -> Actor:
        """The signed-in user (a web Principal) acting: its username, role and organisation;
        a department's own units are its subtree (as it reads them, views.RoundViewer)."""
        units: frozenset[str] = frozenset()
        if principal.scope is not None:
            units = frozenset(principal.scope) | frozenset(principal.regions)
        return cls(str(principal.name), str(principal.role), principal.org_code, units)


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file as the edge checked it: clean name, content type, bytes."""

    name: str
    content_type: str
    content: bytes


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
    *,
    evidence_url: str | None = None,
) -> None:
    """Upsert one value and log it (no permission checks: callers check)."""
    db.execute(
        "DELETE FROM eval_values WHERE round_id = ? AND unit = ? AND indicator = ?",
        [round_id, unit, indicator],
    )
    db.execute(
        "INSERT INTO eval_values (round_id, unit, indicator, value, source, status, entered_by,"
        " entered_at, note, evidence_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            round_id,
            unit,
            indicator,
            value,
            source,
            status,
            f"{actor.role}:{actor.name}",
            at,
            note,
            evidence_url,
        ],
    )
    _log(db, round_id, unit, indicator, "set", value, source, actor, at, note)


def _leaf_name(system: IndicatorSystem, indicator: str) -> str:
    try:
        return system.leaf(indicator).name
    except KeyError:
        return indicator


def check_evidence_url(url: str | None) -> str | None:
    """An evidence link: an http(s) address, or nothing."""
    text = (url or "").strip()
    if not text:
        return None
    if not text.lower().startswith(("http://", "https://")) or any(c.isspace() for c in text):
        raise InputError(f"证据链接“{text[:80]}”无效：应为以 http:// 或 https:// 开头的网址")
    if len(text) > URL_MAX_CHARS:
        raise InputError(f"证据链接过长（{len(text)} 个字符）：不能超过 {URL_MAX_CHARS} 个字符")
    return text


def check_may_enter(
    db: Database,
    row: dict[str, Any],
    system: IndicatorSystem,
    unit: str,
    indicator: str,
    actor: Actor,
    at: datetime,
    what: str = "填报",
) -> None:
    """Whether ``actor`` may enter (or attach evidence to) this unit's leaf: a department its
    own units' filled leaves before the deadline, an evaluator its commissioned leaves."""
    round_id = str(row["round_id"])
    leaf = system.leaf(indicator)
    if actor.role == "department":
        if unit not in actor.own_units:
            raise RoundStateError(
                f"部门账号只能为本单位（{actor.org}）{what}，不能为单位“{unit}”的"
                f"“{leaf.name}”{what}"
            )
        if leaf.source != "filled":
            raise RoundStateError(
                f"指标“{leaf.name}”的数据来源是 {leaf.source}，不由部门填报（核查类指标由受托的"
                "第三方评估机构录入）"
            )
        deadline = row["fill_deadline_at"]
        if deadline is not None and at > deadline:
            raise RoundStateError(
                f"评估批次“{round_id}”的填报已于 {deadline:%Y-%m-%d %H:%M} 截止，"
                f"不能再为“{leaf.name}”{what}"
            )
    elif actor.role == "evaluator":
        if leaf.source not in ("check", "survey", "rating"):
            raise RoundStateError(
                f"第三方评估机构只能提交核查、问卷和评价类指标；“{leaf.name}”的来源是 "
                f"{leaf.source}（可用“核验”确认部门填报）"
            )
        allowed = commissioned_leaves(db, round_id, actor)
        if leaf.id not in allowed:
            names = "、".join(_leaf_name(system, x) for x in sorted(allowed)) or "无"
            raise RoundStateError(
                f"未受托录入指标“{leaf.name}”：评估批次“{round_id}”委托给你的指标是 {names}"
            )


def submit_value(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    value: Any,
    actor: Actor,
    at: datetime,
    note: str | None = None,
    *,
    evidence_url: str | None = None,
) -> None:
    """A party enters the value of one leaf indicator for one unit."""
    url = check_evidence_url(evidence_url)
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
        number = parse_value(value, f"单位“{unit}”指标“{leaf.name}”的")
        parsed = None if math.isnan(number) else number
        existing = db.query_dicts(
            "SELECT * FROM eval_values WHERE round_id = ? AND unit = ? AND indicator = ?",
            [round_id, unit, indicator],
        )
        old = existing[0] if existing else None
        check_may_enter(db, row, system, unit, indicator, actor, at)
        if actor.role == "evaluator":
            if old is not None and old["status"] == "computed":
                raise RoundStateError(f"“{leaf.name}”是监测数据计算值，第三方不能修改")
            if old is not None and not str(old["entered_by"]).startswith("evaluator:"):
                raise RoundStateError(f"“{leaf.name}”已由 {old['entered_by']} 提交，第三方不能修改")
        elif actor.role == "admin" and old is not None and old["status"] == "computed" and not note:
            raise InputError("修改由监测数据计算的指标值须说明理由（note）")
        write_value(
            db,
            round_id,
            unit,
            indicator,
            parsed,
            leaf.source,
            "submitted",
            actor,
            at,
            note,
            evidence_url=url,
        )
        if row["status"] == "configured":
            db.execute(
                "UPDATE eval_rounds SET status = 'collecting' WHERE round_id = ?", [round_id]
            )
        append_one(
            db,
            "round.value",
            actor.label,
            f"round:{round_id}",
            at,
            {
                "round_id": round_id,
                "unit": unit,
                "indicator": indicator,
                "value": parsed,
                "note": note,
                "evidence_url": url,
            },
        )


def verify_value(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    actor: Actor,
    at: datetime,
    *,
    disputed: bool = False,
    note: str | None = None,
) -> None:
    """A third-party evaluator (or the administration) verifies a submitted value, or disputes
    it with a note; never a value it entered itself. An evaluator must be commissioned for the
    round."""
    if actor.role == "department":
        raise RoundStateError("部门不能核验自己填报的数据")
    note = (note or "").strip() or None
    if disputed and not note:
        raise InputError(f"对单位“{unit}”指标“{indicator}”提出异议须填写说明")
    with db.transaction():
        row = round_row(db, round_id)
        require_status(row, EDITABLE, "核验指标值")
        system = round_system(row)
        name = _leaf_name(system, indicator)
        if actor.role == "evaluator" and round_id not in commissioned_rounds(db, actor):
            raise RoundStateError(f"未受托评估批次“{round_id}”，不能核验其中的指标值")
        existing = db.query_dicts(
            "SELECT value, source, status, entered_by FROM eval_values "
            "WHERE round_id = ? AND unit = ? AND indicator = ?",
            [round_id, unit, indicator],
        )
        if not existing:
            raise InputError(f"单位“{unit}”的指标“{name}”尚无数值，无从核验")
        old = existing[0]
        if str(old["entered_by"]) == actor.label:
            raise RoundStateError(
                f"单位“{unit}”的指标“{name}”是你本人录入的，不能自己核验（须由他人核验）"
            )
        if old["status"] == "computed":
            raise RoundStateError(f"单位“{unit}”的指标“{name}”由监测数据计算，无需核验")
        status = "disputed" if disputed else "verified"
        db.execute(
            "UPDATE eval_values SET status = ?, verified_by = ?, verified_at = ?, check_note = ? "
            "WHERE round_id = ? AND unit = ? AND indicator = ?",
            [status, actor.label, at, note, round_id, unit, indicator],
        )
        _log(
            db,
            round_id,
            unit,
            indicator,
            "dispute" if disputed else "verify",
            old["value"],
            str(old["source"]),
            actor,
            at,
            note,
        )
        append_one(
            db,
            "round.value_check",
            actor.label,
            f"round:{round_id}",
            at,
            {
                "round_id": round_id,
                "unit": unit,
                "indicator": indicator,
                "status": status,
                "note": note,
            },
        )


def _insert_evidence(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    f: EvidenceFile,
    actor: Actor,
    at: datetime,
) -> dict[str, Any]:
    evidence_id = uuid.uuid4().hex
    sha = hashlib.sha256(f.content).hexdigest()
    db.execute(
        "INSERT INTO eval_evidence (evidence_id, round_id, unit, indicator, file_name, "
        "size_bytes, sha256, content_base64, uploaded_by, uploaded_at, content_type) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            evidence_id,
            round_id,
            unit,
            indicator,
            f.name,
            len(f.content),
            sha,
            base64.b64encode(f.content).decode(),
            actor.label,
            at,
            f.content_type or None,
        ],
    )
    return {
        "evidence_id": evidence_id,
        "name": f.name,
        "content_type": f.content_type,
        "size_bytes": len(f.content),
        "sha256": sha,
    }


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
    """Attach an evidence file (证明材料) to a value; returns its id (the command line's)."""
    if len(content) > EVIDENCE_MAX_BYTES:
        raise InputError(f"证明材料 {file_name} 超过 {EVIDENCE_MAX_BYTES // 2**20} MB")
    if actor.role == "department" and unit not in actor.own_units:
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
        stored = _insert_evidence(
            db, round_id, unit, indicator, EvidenceFile(file_name, "", content), actor, at
        )
    return str(stored["evidence_id"])


def add_evidence_files(
    db: Database,
    round_id: str,
    unit: str,
    indicator: str,
    files: Sequence[EvidenceFile],
    actor: Actor,
    at: datetime,
) -> list[dict[str, Any]]:
    """Attach evidence files, checked at the edge, to one value, by whoever may enter it (a
    department before the fill deadline, a commissioned evaluator); ledgered. Their
    references (id, name, type, size, SHA-256)."""
    if not files:
        return []
    with db.transaction():
        row = round_row(db, round_id)
        require_status(row, EDITABLE, "上传证明材料")
        system = round_system(row)
        if indicator not in system.leaf_ids:
            raise InputError(f"指标“{indicator}”不是评估批次“{round_id}”所用指标体系的叶子指标")
        _check_unit(db, round_id, unit)
        check_may_enter(db, row, system, unit, indicator, actor, at, "上传证明材料")
        stored = [_insert_evidence(db, round_id, unit, indicator, f, actor, at) for f in files]
        append_one(
            db,
            "round.evidence",
            actor.label,
            f"round:{round_id}",
            at,
            {
                "round_id": round_id,
                "unit": unit,
                "indicator": indicator,
                "files": [{k: s[k] for k in ("evidence_id", "name", "sha256")} for s in stored],
            },
        )
    return stored


def value_history(db: Database, round_id: str, unit: str, indicator: str) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT seq, action, value, source, actor, acted_at, note FROM eval_value_log "
        "WHERE round_id = ? AND unit = ? AND indicator = ? ORDER BY seq",
        [round_id, unit, indicator],
    )
