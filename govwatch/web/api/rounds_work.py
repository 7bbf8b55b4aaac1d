"""Rounds worked by departments and evaluators in the JSON API (issue 13 items 2-4).

The twins of the pages of :mod:`govwatch.web.pages.round_work`, over the same functions
(:mod:`govwatch.evaluation.rounds`: values, review, commission, work), which check who may do
what and append every change to the ledger under the caller (a session or a user's token):

- ``GET /evaluation-work/todo`` (not under ``/evaluations/``, whose next segment is a round):
  what the caller owes (a department: values to fill with their
  deadlines; an evaluator: its rounds with progress);
- ``GET /evaluations/{round}/fill`` and ``POST /evaluations/{round}/values`` (a department's
  value, or an evaluator's with ``evidence_url``; files in Base64);
- ``GET /evaluations/{round}/check``, ``POST /evaluations/{round}/checks`` (verify or
  dispute), ``POST /evaluations/{round}/imports`` (an XLSX or CSV sheet in Base64: rows
  applied and each bad row's error);
- ``GET /evaluations/{round}/appeal`` and ``POST /evaluations/{round}/appeals``;
- ``GET|PUT|DELETE /evaluations/{round}/commissions`` (the administrator).

Files go through the attachment allow-list, size limit and content check
(:mod:`govwatch.alerts.attachments`) before the domain stores them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from govwatch.alerts.attachments import Attachment, check_attachments
from govwatch.alerts.countdown import countdown, today_ordinal
from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.auth.principal import Principal
from govwatch.calendar.queries import ordinal
from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.commission import (
    Evaluator,
    commission,
    commissioned_rounds,
    commissions,
    revoke,
)
from govwatch.evaluation.rounds.digest import plain
from govwatch.evaluation.rounds.review import APPEAL_FILES, submit_appeal
from govwatch.evaluation.rounds.values import (
    Actor,
    EvidenceFile,
    add_evidence_files,
    round_row,
    submit_value,
    verify_value,
)
from govwatch.evaluation.rounds.views import RoundViewer, access_of
from govwatch.evaluation.rounds.work import (
    appeal_sheet,
    check_sheet,
    fill_sheet,
    fill_todo,
    import_values,
    read_sheet,
)
from govwatch.storage import Database
from govwatch.vocabulary import ROUND_STAGE_NAMES
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, NOT_FOUND
from govwatch.web.api.schemas import AttachmentIn

router = APIRouter(tags=["evaluation-work"])
RoundId = Annotated[str, Path(min_length=1, max_length=64)]
ROUND_STATUS_NAMES = ROUND_STAGE_NAMES


# --- who acts, and the round as they may see it ----------------------------------------------


def actor_of(caller: Principal) -> Actor:
    """The signed-in user as the rounds' actor (administrator, department or evaluator)."""
    if caller.role not in ("admin", "department", "evaluator"):
        who = "监察人员" if caller.role == "supervisor" else "本角色"
        raise ForbiddenError(f"{who}只能查看评估，不能填报、核查或委托")
    return Actor.of_principal(caller)


def _open_round(
    db: Database,
    caller: Principal,
    round_id: str,
    roles: Collection[str] | None = None,
    refused: str = "",
) -> None:
    """The caller reads rounds, has one of ``roles`` (when given; else 403 with ``refused``)
    and may see the round (404 otherwise)."""
    caller.require("evaluations.read")
    if roles is not None and caller.role not in roles:
        raise ForbiddenError(refused)
    visible_round(db, caller, round_id)


def visible_round(db: Database, caller: Principal, round_id: str) -> dict[str, Any]:
    """The round's row, or 404 exactly as for a round that does not exist."""
    hidden = NotFoundError(f"评估批次“{round_id}”不存在，或尚未发布")
    try:
        row = round_row(db, round_id)
    except InputError:
        raise hidden from None
    if not access_of(db, RoundViewer.of_principal(caller), round_id, str(row["status"])).visible:
        raise hidden
    return row


def due_of(db: Database, deadline: object, today: date) -> dict[str, Any]:
    """A fill deadline as a working-day countdown (the calendar's count)."""
    if isinstance(deadline, str):
        deadline = datetime.fromisoformat(deadline)
    due_on = deadline.date() if isinstance(deadline, datetime) else None
    if due_on is None:
        return {k: plain(v) for k, v in countdown(None, today, None, None).as_dict().items()}
    try:
        due_ord: int | None = ordinal(db, due_on, "W")
    except GovwatchError:
        due_ord = None
    found = countdown(due_on, today, due_ord, today_ordinal(db, today))
    return {k: plain(v) for k, v in found.as_dict().items()}


def named_round(row: dict[str, Any]) -> dict[str, Any]:
    status = str(row["status"])
    return row | {"status_name": ROUND_STATUS_NAMES.get(status, status)}


# --- what each owes (the menu's count and the to-do list) -------------------------------------


def evaluator_rounds(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """The rounds an evaluator is commissioned for, with its progress and the values waiting."""
    out = []
    for round_id in sorted(commissioned_rounds(db, actor)):
        try:
            sheet = check_sheet(db, round_id, actor)
        except GovwatchError:
            continue
        out.append(
            {
                "round": named_round(sheet["round"]),
                "open": sheet["open"],
                "entered": sheet["entered"],
                "commissioned": sheet["commissioned"],
                "unchecked": sheet["unchecked"],
            }
        )
    return out


def owed(db: Database, caller: Principal, at: datetime) -> int:
    """What the user owes in rounds: a department the values to fill, an evaluator the values
    to enter and the departments' values to check in open rounds."""
    if caller.role == "department":
        return sum(len(r["pending"]) for r in fill_todo(db, Actor.of_principal(caller), at))
    if caller.role == "evaluator":
        return sum(
            r["commissioned"] - r["entered"] + r["unchecked"]
            for r in evaluator_rounds(db, Actor.of_principal(caller))
            if r["open"]
        )
    return 0


def todo_context(db: Database, caller: Principal, at: datetime) -> dict[str, Any]:
    actor = actor_of(caller)
    if actor.role == "department":
        rows = [
            r | {"countdown": due_of(db, r["deadline"], at.date())}
            for r in fill_todo(db, actor, at)
        ]
        return {"role": "department", "fill": rows, "owed": sum(len(r["pending"]) for r in rows)}
    if actor.role == "evaluator":
        rounds = evaluator_rounds(db, actor)
        return {
            "role": "evaluator",
            "rounds": rounds,
            "owed": sum(
                r["commissioned"] - r["entered"] + r["unchecked"] for r in rounds if r["open"]
            ),
        }
    raise ForbiddenError("评估填报和评估核查供部门用户和第三方评估人员使用")


def round_file(db: Database, caller: Principal, round_id: str, file_id: str) -> tuple[str, bytes]:
    """An evidence or appeal file of the round (its name and bytes), for a reader who may see
    that unit's values: 404 otherwise, as for a file that does not exist."""
    missing = NotFoundError(f"附件“{file_id}”不存在")
    row = visible_round(db, caller, round_id)
    found = db.query(
        "SELECT unit, file_name, content_base64 FROM eval_evidence "
        "WHERE evidence_id = ? AND round_id = ?",
        [file_id, round_id],
    )
    if not found:
        found = db.query(
            "SELECT p.unit, a.name, a.content_base64 FROM attachments a JOIN eval_appeals p "
            "ON p.appeal_id = a.owner_id WHERE a.attachment_id = ? AND a.owner_kind = ? "
            "AND p.round_id = ?",
            [file_id, APPEAL_FILES, round_id],
        )
    if not found:
        raise missing
    unit, name, content = found[0]
    viewer = RoundViewer.of_principal(caller)
    if viewer.role == "department" and str(unit) not in viewer.units:
        raise missing
    if not access_of(db, viewer, round_id, str(row["status"])).detail:
        raise missing
    return str(name), base64.b64decode(str(content))


def checked_files(raw: Sequence[Attachment]) -> list[EvidenceFile]:
    """Files through the attachment allow-list, size limit and content check."""
    return [EvidenceFile(f.name, f.content_type, f.content) for f in check_attachments(raw)]


def decode_files(items: Sequence[AttachmentIn]) -> list[EvidenceFile]:
    """Base64 files of the API, checked as uploads are."""
    raw = []
    for f in items:
        try:
            content = base64.b64decode(f.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"附件“{f.name}”的内容不是有效的 Base64 编码") from None
        raw.append(Attachment(f.name, f.content_type, content))
    return checked_files(raw)


# --- the API ---------------------------------------------------------------------------------


class ValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=64, description="单位代码")
    indicator: str = Field(min_length=1, max_length=128, description="叶子指标编码")
    value: str | float | bool | None = Field(
        default=None, description="指标值：数字、百分比（85%）、是/否；不给则只上传证据"
    )
    note: str | None = Field(default=None, max_length=2000, description="说明")
    evidence_url: str | None = Field(default=None, max_length=2000, description="证据链接")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=64)
    indicator: str = Field(min_length=1, max_length=128)
    verdict: Literal["verified", "disputed"] = Field(description="核验通过，或有异议（须说明）")
    note: str | None = Field(default=None, max_length=2000)


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200, description="文件名（.xlsx 或 .csv）")
    content_base64: str = Field(max_length=7_000_000)


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=4000, description="申诉理由")
    indicator: str | None = Field(default=None, max_length=128, description="针对的指标（可选）")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=5)


class CommissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["user", "org"] = Field(description="user：评估人员账号；org：评估机构")
    evaluator: str = Field(min_length=1, max_length=64, description="用户名或机构编码")
    leaves: list[str] = Field(default_factory=list, max_length=500, description="委托的叶子指标")


def _work_responses() -> dict[int | str, dict[str, Any]]:
    return {**AUTH, **NOT_FOUND, **BAD_INPUT}


@router.get("/evaluation-work/todo", responses=_work_responses())
def api_todo(db: DB, caller: Caller, at: Clock) -> dict[str, Any]:
    """What the caller owes in rounds: a department its values to fill, an evaluator its
    commissioned rounds with progress."""
    caller.require("evaluations.read")
    return todo_context(db, caller, at)


@router.get("/evaluations/{round_id}/fill", responses=_work_responses())
def api_fill_sheet(round_id: RoundId, db: DB, caller: Caller, at: Clock) -> dict[str, Any]:
    """A department's filled indicators of the round, per unit, with values and files."""
    _open_round(db, caller, round_id, ("department",), "评估填报供部门用户使用")
    return fill_sheet(db, round_id, actor_of(caller), at)


@router.post("/evaluations/{round_id}/values", responses=_work_responses())
def api_value(
    round_id: RoundId, body: ValueIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """A value (a department's filled one, an evaluator's commissioned one) with evidence."""
    _open_round(db, caller, round_id)
    actor = actor_of(caller)
    files = decode_files(body.attachments)
    stored: list[dict[str, Any]] = []
    with db.transaction():
        if body.value is not None and str(body.value).strip():
            submit_value(
                db,
                round_id,
                body.unit,
                body.indicator,
                body.value,
                actor,
                at,
                (body.note or "").strip() or None,
                evidence_url=body.evidence_url,
            )
        elif not files:
            raise InputError("请给出指标值（value），或上传证据（attachments）")
        stored = add_evidence_files(db, round_id, body.unit, body.indicator, files, actor, at)
    return {"round_id": round_id, "unit": body.unit, "indicator": body.indicator, "files": stored}


@router.get("/evaluations/{round_id}/check", responses=_work_responses())
def api_check_sheet(round_id: RoundId, db: DB, caller: Caller) -> dict[str, Any]:
    """An evaluator's commissioned indicators per unit, its progress, values to verify."""
    _open_round(db, caller, round_id, ("evaluator", "admin"), "评估核查供受托的第三方评估人员使用")
    return check_sheet(db, round_id, actor_of(caller))


@router.post("/evaluations/{round_id}/checks", responses=_work_responses())
def api_check(
    round_id: RoundId, body: CheckIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """Verify a value others entered, or dispute it with a note (never one's own)."""
    _open_round(db, caller, round_id)
    verify_value(
        db,
        round_id,
        body.unit,
        body.indicator,
        actor_of(caller),
        at,
        disputed=body.verdict == "disputed",
        note=body.note,
    )
    return {"round_id": round_id, "unit": body.unit, "indicator": body.indicator,
            "status": body.verdict}  # fmt: skip


@router.post("/evaluations/{round_id}/imports", responses=_work_responses())
def api_import(
    round_id: RoundId, body: ImportIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """A sheet of values (columns 单位代码, 指标, 值, 证据链接, 说明): the rows applied and
    each bad row's error (row number, column, what was expected); a bad row is not applied."""
    _open_round(db, caller, round_id)
    actor = actor_of(caller)
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"导入文件“{body.name}”的内容不是有效的 Base64 编码") from None
    return import_values(db, round_id, read_sheet(body.name, content), actor, at).as_dict()


@router.get("/evaluations/{round_id}/appeal", responses=_work_responses())
def api_appeal_sheet(round_id: RoundId, db: DB, caller: Caller, at: Clock) -> dict[str, Any]:
    """A department's results in review, the points lost per indicator, its appeals."""
    _open_round(db, caller, round_id, ("department",), "申诉由被评估单位（部门用户）提出")
    return appeal_sheet(db, round_id, actor_of(caller), at)


@router.post("/evaluations/{round_id}/appeals", responses=_work_responses())
def api_appeal(
    round_id: RoundId, body: AppealIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """A unit's appeal with reasons and files, within the review window."""
    _open_round(db, caller, round_id, ("department",), "申诉由被评估单位（部门用户）提出")
    appeal_id = submit_appeal(
        db,
        round_id,
        body.unit,
        body.reason,
        actor_of(caller),
        at,
        body.indicator or None,
        decode_files(body.attachments),
    )
    return {"round_id": round_id, "appeal_id": appeal_id}


@router.get("/evaluations/{round_id}/commissions", responses=_work_responses())
def api_commissions(round_id: RoundId, db: DB, caller: Caller) -> dict[str, Any]:
    """The round's evaluators and the indicators each may enter (administrator)."""
    if caller.role != "admin":
        raise ForbiddenError("查看和设置委托需要管理员角色")
    visible_round(db, caller, round_id)
    return {"round_id": round_id, "commissions": commissions(db, round_id)}


@router.put("/evaluations/{round_id}/commissions", responses=_work_responses())
def api_commission(
    round_id: RoundId, body: CommissionIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """Commission an evaluator for exactly these indicators (its earlier list is replaced)."""
    if caller.role != "admin":
        raise ForbiddenError("委托第三方评估需要管理员角色")
    visible_round(db, caller, round_id)
    leaves = commission(
        db, round_id, Evaluator(body.kind, body.evaluator), body.leaves, actor_of(caller), at
    )
    return {"round_id": round_id, "kind": body.kind, "evaluator": body.evaluator, "leaves": leaves}


@router.delete(
    "/evaluations/{round_id}/commissions/{kind}/{evaluator}", responses=_work_responses()
)
def api_revoke(
    round_id: RoundId,
    kind: Annotated[str, Path(max_length=8)],
    evaluator: Annotated[str, Path(max_length=64)],
    db: DB,
    caller: Caller,
    at: Clock,
) -> dict[str, Any]:
    """Withdraw an evaluator's commission for the round."""
    if caller.role != "admin":
        raise ForbiddenError("撤销委托需要管理员角色")
    visible_round(db, caller, round_id)
    had = revoke(db, round_id, Evaluator(kind, evaluator), actor_of(caller), at)
    return {"round_id": round_id, "kind": kind, "evaluator": evaluator, "revoked": had}
