"""Notices (通报) over JSON: list, read, draft, edit, approve, issue, acknowledge, verify.

The same functions as the pages (:mod:`govwatch.reports.workflow`) and the same visibility:
a notice a caller may not read answers 404 exactly as one that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from govwatch.reports.workflow import (
    NoticeFilter,
    NoticeInputs,
    acknowledge,
    acknowledgements,
    approve_notice,
    count_notices,
    draft_notice,
    edit_notice,
    get_notice,
    issue_notice,
    list_notices,
    notice_of,
    verify_notice,
)
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, CONFLICT, NOT_FOUND

router = APIRouter(prefix="/api/v1", tags=["notices"])
NoticeId = Annotated[str, Path(min_length=1, max_length=32)]
READ_ROLES = frozenset({"admin", "supervisor", "department", "evaluator"})


class NoticeSummary(BaseModel):
    notice_id: str
    kind: Literal["supervision", "evaluation"]
    period: str | None
    scope: str | None
    round_id: str | None
    general: bool
    status: Literal["draft", "approved", "issued"]
    title: str
    doc_number: str
    drafted_at: datetime
    approved_at: datetime | None
    issued_at: datetime | None
    addressed: int = Field(description="收文单位数（下发时确定）")
    acked: int = Field(description="已签收的收文单位数")
    acked_by_me: int = Field(description="调用者所在单位是否已签收（1/0）")


class NoticeList(BaseModel):
    items: list[NoticeSummary]
    total: int
    limit: int
    offset: int


class Acknowledgement(BaseModel):
    unit: str
    acked_by: str | None
    acked_at: datetime | None
    addressed: bool


class NoticeDetail(BaseModel):
    notice_id: str
    kind: str
    period: str | None
    scope: str | None
    round_id: str | None
    general: bool
    status: str
    title: str
    doc_number: str
    templates: dict[str, str]
    settings: dict[str, Any]
    digest: str | None
    drafted_by: str
    drafted_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    issued_by: str | None
    issued_at: datetime | None
    body: dict[str, Any] = Field(description="通报正文（Notice.to_dict）：各节、表格、facts")
    acknowledgements: list[Acknowledgement] = Field(
        description="各收文单位的签收（管理员、监察人员可见）"
    )


class DraftIn(BaseModel):
    kind: Literal["supervision", "evaluation"]
    period: str | None = Field(None, max_length=32, description="电子监察通报的期间，如 2026-06")
    scope: str | None = Field(None, max_length=64, description="电子监察通报的范围（默认全省）")
    round_id: str | None = Field(None, max_length=64, description="评估结果通报的批次")
    templates: dict[str, str] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


class EditIn(BaseModel):
    templates: dict[str, str] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)


class Verification(BaseModel):
    notice: str
    ok: bool
    digest: str | None
    recomputed: str
    ledgered: str | None


def _detail(db: DB, caller: Caller, notice_id: str) -> NoticeDetail:
    row = get_notice(db, caller, notice_id)
    acks = acknowledgements(db, notice_id) if caller.role in ("admin", "supervisor") else []
    return NoticeDetail(
        **{
            k: v
            for k, v in row.items()
            if k in NoticeDetail.model_fields and k not in ("templates", "settings", "body")
        },
        templates=orjson.loads(str(row["templates"])),
        settings=orjson.loads(str(row["settings"])),
        body=notice_of(row).to_dict(),
        acknowledgements=[Acknowledgement(**a) for a in acks],
    )


def _require_reader(caller: Caller) -> None:
    if caller.role not in READ_ROLES:
        caller.require("notifications.read")


@router.get("/notices", response_model=NoticeList, responses={**AUTH})
def notices_index(
    db: DB,
    caller: Caller,
    status: Annotated[Literal["draft", "approved", "issued"] | None, Query()] = None,
    kind: Annotated[Literal["supervision", "evaluation"] | None, Query()] = None,
    period: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> NoticeList:
    """The notices the caller may read, newest first, with their acknowledgement counts."""
    _require_reader(caller)
    f = NoticeFilter(status, kind, period)
    rows = list_notices(db, caller, f, limit, offset)
    return NoticeList(
        items=[NoticeSummary(**{k: r[k] for k in NoticeSummary.model_fields}) for r in rows],
        total=count_notices(db, caller, f),
        limit=limit,
        offset=offset,
    )


@router.post(
    "/notices",
    response_model=NoticeDetail,
    status_code=201,
    responses={**AUTH, **BAD_INPUT, **CONFLICT},
)
def notices_draft(body: DraftIn, db: DB, caller: Caller, at: Clock) -> NoticeDetail:
    """Draft a notice (administrators)."""
    inputs = NoticeInputs(body.kind, body.period, body.scope, body.round_id)
    notice_id = draft_notice(db, caller, inputs, at, body.templates, body.settings)
    return _detail(db, caller, notice_id)


@router.get("/notices/{notice_id}", response_model=NoticeDetail, responses={**AUTH, **NOT_FOUND})
def notice_detail(notice_id: NoticeId, db: DB, caller: Caller) -> NoticeDetail:
    _require_reader(caller)
    return _detail(db, caller, notice_id)


@router.put(
    "/notices/{notice_id}",
    response_model=NoticeDetail,
    responses={**AUTH, **NOT_FOUND, **BAD_INPUT, **CONFLICT},
)
def notice_edit(
    notice_id: NoticeId, body: EditIn, db: DB, caller: Caller, at: Clock
) -> NoticeDetail:
    """Replace a draft's template overrides and settings (an issued notice: 409)."""
    edit_notice(db, caller, notice_id, body.templates, body.settings, at)
    return _detail(db, caller, notice_id)


@router.post(
    "/notices/{notice_id}/approve",
    response_model=NoticeDetail,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
)
def notice_approve(notice_id: NoticeId, db: DB, caller: Caller, at: Clock) -> NoticeDetail:
    approve_notice(db, caller, notice_id, at)
    return _detail(db, caller, notice_id)


@router.post(
    "/notices/{notice_id}/issue",
    response_model=NoticeDetail,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
)
def notice_issue(notice_id: NoticeId, db: DB, caller: Caller, at: Clock) -> NoticeDetail:
    """Freeze, ledger and send an approved notice."""
    issue_notice(db, caller, notice_id, at)
    return _detail(db, caller, notice_id)


@router.post(
    "/notices/{notice_id}/ack",
    response_model=Acknowledgement,
    responses={**AUTH, **NOT_FOUND},
)
def notice_ack(notice_id: NoticeId, db: DB, caller: Caller, at: Clock) -> Acknowledgement:
    """签收 for the caller's organisation (a department); again: the first acknowledgement."""
    acknowledge(db, caller, notice_id, at)
    mine = [a for a in acknowledgements(db, notice_id) if a["unit"] == caller.org_code]
    return Acknowledgement(**mine[0])


@router.get(
    "/notices/{notice_id}/verify",
    response_model=Verification,
    responses={**AUTH, **NOT_FOUND, **CONFLICT},
)
def notice_verify(notice_id: NoticeId, db: DB, caller: Caller) -> Verification:
    """Recompute an issued notice's digest and compare it with the row's and the ledger's."""
    _require_reader(caller)
    get_notice(db, caller, notice_id)
    return Verification(**verify_notice(db, notice_id).to_json())
