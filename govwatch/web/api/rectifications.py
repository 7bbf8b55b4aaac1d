"""Rectification demands (整改要求) in the JSON API: list, read, reply, confirm, return, move.

``GET /api/v1/rectifications`` (filters ``round``, ``unit``, ``status`` incl. ``overdue``,
overdue first), ``GET /api/v1/rectifications/{id}`` (with files and history),
``GET /api/v1/rectifications/gaps`` (data gaps: no demand), ``POST …/{id}/reply`` (department,
files in Base64), ``POST …/{id}/confirm``, ``…/return``, ``…/due`` (administrator). A demand
of a unit not the caller's answers 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from govwatch.alerts.attachments import MAX_FILES, check_attachments, store_attachments
from govwatch.alerts.workflow import decode_attachment
from govwatch.evaluation.rounds.rectification import (
    OWNER_KIND,
    DemandFilter,
    confirm,
    count_demands,
    get_demand,
    list_demands,
    list_gaps,
    move_due,
    reply,
    return_demand,
    set_round_days,
)
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, NOT_FOUND
from govwatch.web.api.schemas import AttachmentIn

router = APIRouter(tags=["rectifications"])
DemandId = Annotated[str, Path(min_length=1, max_length=32)]


class ReplyIn(BaseModel):
    """The unit's reply: what it rectified, with files (PDF, OFD, images, Word, Excel, WPS or
    text, at most 5 of 5 MB each, Base64)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES)
    expected_version: int | None = None


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=4000)  # the note (confirm) or the reason (return)
    expected_version: int | None = None


class DaysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(ge=1, le=250)


class DueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    due_on: date
    reason: str = Field(min_length=1, max_length=4000)


@router.get("/rectifications", responses={**AUTH, **BAD_INPUT})
def rectifications_index(
    db: DB,
    caller: Caller,
    at: Clock,
    round: Annotated[str | None, Query(max_length=64)] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """The demands the caller may read, overdue first, then by due date."""
    f = DemandFilter(round, unit, status)
    today = at.date()
    return {
        "items": list_demands(db, caller, today, f, limit, offset),
        "total": count_demands(db, caller, today, f),
        "limit": limit,
        "offset": offset,
    }


@router.get("/rectifications/gaps", responses={**AUTH})
def rectification_gaps(
    db: DB,
    caller: Caller,
    round: Annotated[str | None, Query(max_length=64)] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Indicators that lost points only for a missing value (缺数据): flagged, no demand."""
    return {"items": list_gaps(db, caller, round, unit)}


@router.get("/rectifications/{demand_id}", responses={**AUTH, **NOT_FOUND})
def rectification_detail(demand_id: DemandId, db: DB, caller: Caller, at: Clock) -> dict[str, Any]:
    return get_demand(db, caller, demand_id, at.date())


@router.post("/rectifications/{demand_id}/reply", responses={**AUTH, **NOT_FOUND, **BAD_INPUT})
def rectification_reply(
    demand_id: DemandId, body: ReplyIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """The unit's department replies (待整改 or 已退回 → 已回复)."""
    files = [decode_attachment(a.name, a.content_type, a.content_base64) for a in body.attachments]
    store = None
    if files:
        checked = check_attachments(files)

        def store(tx: Database) -> list[dict[str, Any]]:
            return store_attachments(tx, OWNER_KIND, demand_id, checked, caller.name, at)

    reply(db, caller, demand_id, body.text, at, store, body.expected_version)
    return get_demand(db, caller, demand_id, at.date())


@router.post("/rectifications/{demand_id}/confirm", responses={**AUTH, **NOT_FOUND, **BAD_INPUT})
def rectification_confirm(
    demand_id: DemandId, body: DecideIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """The administrator confirms the rectification (已回复 → 已确认)."""
    confirm(db, caller, demand_id, at, body.text, body.expected_version)
    return get_demand(db, caller, demand_id, at.date())


@router.post("/rectifications/{demand_id}/return", responses={**AUTH, **NOT_FOUND, **BAD_INPUT})
def rectification_return(
    demand_id: DemandId, body: DecideIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """The administrator returns the reply with a reason (已回复 → 已退回)."""
    return_demand(db, caller, demand_id, body.text, at, body.expected_version)
    return get_demand(db, caller, demand_id, at.date())


@router.post("/rectifications/{demand_id}/due", responses={**AUTH, **NOT_FOUND, **BAD_INPUT})
def rectification_due(
    demand_id: DemandId, body: DueIn, db: DB, caller: Caller, at: Clock
) -> dict[str, Any]:
    """The administrator moves the due date (a reason is required)."""
    move_due(db, caller, demand_id, body.due_on, body.reason, at)
    return get_demand(db, caller, demand_id, at.date())


@router.post("/rectifications/rounds/{round_id}/days", responses={**AUTH, **BAD_INPUT})
def rectification_round_days(
    round_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: DaysIn,
    db: DB,
    caller: Caller,
    at: Clock,
) -> dict[str, Any]:
    """The administrator sets a round's rectification period (working days, before publishing;
    default 15)."""
    set_round_days(db, caller, round_id, body.days, at)
    return {"round_id": round_id, "rectify_days": body.days}
