"""Rounds worked by the administrator over the API (issue 13 item 3): the twin of the pages in
:mod:`govwatch.web.pages.round_admin`, with the same functions and the same refusals.

``POST /evaluations`` creates a round (a preset or the YAML text of a system, refused with the
failing line), then ``…/{round}/collect``, ``…/{round}/compute`` (a job: :mod:`jobs`),
``…/{round}/review``, ``…/{round}/appeals/{appeal}/decision``, ``…/{round}/publish``
(``early: true`` confirms publishing before the period ends) and ``…/{round}/close``.
Administrators only (an admin token or session; others 403, the public 401); a step the
round's stage does not allow answers 409. Every action is ledgered under the caller's name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from govwatch.auth.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from govwatch.auth.principal import Principal
from govwatch.evaluation.rounds.lifecycle import (
    ADMIN_NEEDED,
    UnitSpec,
    close_round,
    collect,
    publish,
    settle_appeal,
    start_review,
)
from govwatch.evaluation.rounds.setup import (
    create_from_setup,
    default_units,
    read_setup,
    system_choice,
)
from govwatch.evaluation.rounds.values import Actor, RoundStateError, round_row
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, CONFLICT, NOT_FOUND

router = APIRouter(tags=["evaluations"])
RoundId = Annotated[str, Path(min_length=1, max_length=64)]
AppealId = Annotated[str, Path(min_length=1, max_length=64)]
REFUSED = f"只有管理员可以创建和管理评估批次（{ADMIN_NEEDED}）"


class UnitIn(BaseModel):
    unit: str = Field(min_length=1, max_length=64, description="单位编码")
    name: str | None = Field(default=None, max_length=200, description="单位名称")
    group: str | None = Field(default=None, max_length=100, description="分组")


class RoundCreateIn(BaseModel):
    round_id: str = Field(min_length=1, max_length=64, description="批次编号")
    name: str = Field(min_length=1, max_length=200, description="批次名称")
    preset: str | None = Field(default=None, description="预置指标体系名，如 online-service")
    system_yaml: str | None = Field(
        default=None, max_length=512 * 1024, description="指标体系 YAML 文本（给出则不用预置）"
    )
    period_start: date = Field(description="评估期起")
    period_end: date = Field(description="评估期止")
    unit_kind: str | None = Field(default=None, description="评估对象类型（默认取指标体系的）")
    units: list[UnitIn] | None = Field(
        default=None, description="评估对象与分组（默认该类型的全部单位）"
    )
    stars: dict[int, float] | None = Field(
        default=None, description="星级最低分，如 {2: 60, 3: 70, 4: 80, 5: 90}（默认取指标体系的）"
    )
    fill_deadline_at: datetime | None = Field(default=None, description="填报截止时刻")
    review_days: int = Field(default=5, ge=0, le=60, description="复核申诉期（工作日）")


class RoundState(BaseModel):
    round_id: str
    status: str = Field(description="阶段：configured collecting computed review published closed")
    message: str = Field(description="做了什么（中文）")
    review_until_at: datetime | None = None
    published_at: datetime | None = None
    published_early: bool = False
    digest: str | None = None
    closed_at: datetime | None = None


class DecisionIn(BaseModel):
    accepted: bool = Field(description="采纳（true）或不采纳（false）")
    decision: str = Field(min_length=1, max_length=400, description="处理理由")
    corrected_value: float | None = Field(default=None, description="采纳时更正的指标值")


class PublishIn(BaseModel):
    early: bool = Field(default=False, description="确认在评估期结束前提前发布")


def _admin(caller: Principal) -> Actor:
    if caller.role == "public":
        raise AuthenticationError("管理评估批次需要先登录")
    if caller.role != "admin":
        raise ForbiddenError(REFUSED)
    return Actor(caller.name, caller.role, caller.org_code)


def _state(db: Database, round_id: str, message: str) -> RoundState:
    row = round_row(db, round_id)
    return RoundState(
        round_id=round_id,
        status=str(row["status"]),
        message=message,
        review_until_at=row.get("review_until_at"),
        published_at=row.get("published_at"),
        published_early=bool(row.get("published_early")),
        digest=row.get("digest"),
        closed_at=row.get("closed_at"),
    )


class _Conflicts:
    """A step the round's stage does not allow: 409, with the reason."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, RoundStateError):
            raise ConflictError(str(exc)) from exc


WRITE = {**AUTH, **BAD_INPUT, **CONFLICT, **NOT_FOUND}


@router.post("/evaluations", response_model=RoundState, status_code=201, responses=WRITE)
def round_create(
    body: RoundCreateIn, response: Response, db: DB, caller: Caller, at: Clock
) -> RoundState:
    """Create a round from a preset or a system's YAML text (as ``/evaluations/new``)."""
    actor = _admin(caller)
    system = system_choice(
        body.preset or "", body.system_yaml.encode() if body.system_yaml else None
    )
    kind = body.unit_kind or system.unit_kind or ""
    units = (
        [UnitSpec(u.unit, u.name, u.group) for u in body.units]
        if body.units
        else default_units(db, kind)
    )
    raw = {
        "round_id": body.round_id,
        "name": body.name,
        "period_start": body.period_start.isoformat(),
        "period_end": body.period_end.isoformat(),
        "unit_kind": kind,
        "review_days": str(body.review_days),
        "fill_deadline": body.fill_deadline_at.isoformat() if body.fill_deadline_at else "",
        **{f"stars_{k}": str(v) for k, v in (body.stars or {}).items()},
    }
    setup = read_setup(raw, system, units)
    with _Conflicts():
        create_from_setup(db, setup, actor, at)
    response.headers["Location"] = f"/api/v1/evaluations/{setup.round_id}"
    return _state(db, setup.round_id, f"已创建评估批次：{len(setup.units)} 个评估对象")


@router.post("/evaluations/{round_id}/collect", response_model=RoundState, responses=WRITE)
def round_collect(round_id: RoundId, db: DB, caller: Caller, at: Clock) -> RoundState:
    """Open collection: compute the metric-backed values of every unit."""
    actor = _admin(caller)
    with _Conflicts():
        n = collect(db, round_id, actor, at)
    return _state(db, round_id, f"由监测数据计算了 {n} 个指标值")


@router.post("/evaluations/{round_id}/review", response_model=RoundState, responses=WRITE)
def round_review(round_id: RoundId, db: DB, caller: Caller, at: Clock) -> RoundState:
    """Open the review: units see their results and may appeal within the window."""
    actor = _admin(caller)
    with _Conflicts():
        start_review(db, round_id, actor, at)
    return _state(db, round_id, "已进入复核")


@router.post(
    "/evaluations/{round_id}/appeals/{appeal_id}/decision",
    response_model=RoundState,
    responses=WRITE,
)
def round_appeal_decision(
    round_id: RoundId, appeal_id: AppealId, body: DecisionIn, db: DB, caller: Caller, at: Clock
) -> RoundState:
    """Accept (optionally correcting the value it names) or reject an appeal, with a reason."""
    actor = _admin(caller)
    owner = db.scalar("SELECT round_id FROM eval_appeals WHERE appeal_id = ?", [appeal_id])
    if owner != round_id:
        raise NotFoundError(f"评估批次“{round_id}”中没有申诉“{appeal_id}”")
    with _Conflicts():
        settle_appeal(
            db,
            appeal_id,
            body.accepted,
            body.decision,
            actor,
            at,
            corrected_value=body.corrected_value if body.accepted else None,
        )
    return _state(db, round_id, f"申诉 {appeal_id} {'已采纳' if body.accepted else '未采纳'}")


@router.post("/evaluations/{round_id}/publish", response_model=RoundState, responses=WRITE)
def round_publish(
    round_id: RoundId, db: DB, caller: Caller, at: Clock, body: PublishIn | None = None
) -> RoundState:
    """Publish: freeze inputs and results (409 with the reasons when it may not be yet)."""
    actor = _admin(caller)
    with _Conflicts():
        publish(db, round_id, actor, at, early=body.early if body is not None else False)
    return _state(db, round_id, "已发布评估结果")


@router.post("/evaluations/{round_id}/close", response_model=RoundState, responses=WRITE)
def round_close(round_id: RoundId, db: DB, caller: Caller, at: Clock) -> RoundState:
    """Close a published round: its results stay public and frozen."""
    actor = _admin(caller)
    with _Conflicts():
        close_round(db, round_id, actor, at)
    return _state(db, round_id, "已关闭评估批次")
