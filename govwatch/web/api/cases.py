"""One case: its derived state, its clock, its events (personal data masked per role), alerts.

The case page's JSON twin is this resource (:func:`case_resource`), read through the one domain
reader :func:`govwatch.alerts.case_view.read_case`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from govwatch.alerts.case_list import CaseFilter, count_cases, list_cases
from govwatch.alerts.case_view import CaseView, read_case
from govwatch.alerts.date_range import DateRangeError, parse_range
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.timeutil import SHANGHAI
from govwatch.vocabulary import CASE_STATUS_NAMES, label
from govwatch.web.api.alerts import BAD_DATES, unusable
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.api.errors import AUTH, NOT_FOUND
from govwatch.web.api.schemas import CaseAlertOut, CaseOut, Moment

router = APIRouter(tags=["cases"])


def plain(value: Any) -> Any:
    """JSON-friendly values: times with their offset, money as numbers."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=SHANGHAI).isoformat() if value.tzinfo is None else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _plain_dict(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: plain(v) for k, v in row.items()}


def case_resource(view: CaseView) -> CaseOut:
    """The one JSON shape of a case, for the API and the case page's twin."""
    return CaseOut(
        case={k: plain(v) for k, v in view.case.items()},
        clock=_plain_dict(view.clock),
        events=[{k: plain(v) for k, v in e.items() if v is not None} for e in view.events],
        item=_plain_dict(view.item),
        alerts=[CaseAlertOut(**a) for a in view.alerts],
        masked=view.masked,
    )


class CaseRow(BaseModel):
    """One case of the case list."""

    case_id: str
    item_code: str | None
    item_name: str | None
    department_code: str | None
    department_name: str | None
    org_code: str | None
    region_code: str | None
    region_name: str | None
    channel: str | None
    applied_at: Moment | None
    accepted_at: Moment | None
    finished_at: Moment | None
    status: str
    status_name: str
    overdue: bool = Field(
        description="an active 办件超期 alert: past the deadline, or finished late"
    )
    active_alerts: int
    top_level: str | None = Field(description="the highest level among its active alerts")


class CaseList(BaseModel):
    """A page of the case list (also the JSON twin of ``/cases``)."""

    items: list[CaseRow]
    limit: int
    offset: int
    next_offset: int | None
    total: int = Field(description="cases matching the filter (within the caller's scope)")


def case_filter(
    *,
    case_prefix: str | None = None,
    item: str | None = None,
    department: str | None = None,
    region: str | None = None,
    region_only: bool = False,
    status: str | None = None,
    applied_from: str | None = None,
    applied_to: str | None = None,
    timing: str | None = None,
    finished_from: str | None = None,
    finished_to: str | None = None,
) -> CaseFilter:
    """The case list's filter from the words of a request (the API, the page, its export);
    raises :class:`DateRangeError` for dates it cannot use."""
    days = parse_range(applied_from, applied_to, first_name="申请日期起", last_name="申请日期止")
    done = parse_range(finished_from, finished_to, first_name="办结日期起", last_name="办结日期止")
    return CaseFilter(
        case_prefix=(case_prefix or "").strip() or None,
        item=(item or "").strip() or None,
        department_code=(department or "").strip() or None,
        region_code=(region or "").strip() or None,
        region_only=region_only,
        status=status or None,
        applied_from=days.first,
        applied_to=days.last,
        timing=timing or None,
        finished_from=done.first,
        finished_to=done.last,
    )


def case_page_resource(
    request: Request, db: Database, caller: Principal, f: CaseFilter, limit: int, offset: int
) -> CaseList:
    """A page of cases with the filter's total (the total kept a few seconds per scope and
    filter, forgotten on any write through the app: paging asks it once)."""
    rows = list_cases(db, caller, f, limit + 1, offset)
    key = ("case-total", caller.role, caller.scope, caller.regions, f)
    total = int(pool_of(request).pages.get_or_compute(key, lambda: count_cases(db, caller, f)))
    departments, regions = department_names(db), region_names(db)
    items = [
        CaseRow(
            **r,
            department_name=departments.get(r["department_code"] or "", r["department_code"]),
            region_name=regions.get(r["region_code"] or "", r["region_code"]),
            status_name=label(CASE_STATUS_NAMES, r["status"]),
        )
        for r in rows[:limit]
    ]
    return CaseList(
        items=items,
        limit=limit,
        offset=offset,
        next_offset=offset + limit if len(rows) > limit else None,
        total=total,
    )


@router.get(
    "/cases",
    response_model=CaseList,
    responses={**AUTH, **BAD_DATES},
)
def cases_index(
    request: Request,
    db: DB,
    caller: Caller,
    case_prefix: Annotated[
        str | None, Query(max_length=50, description="case numbers beginning so")
    ] = None,
    item: Annotated[
        str | None, Query(max_length=100, description="item code, or part of its name")
    ] = None,
    department_code: Annotated[str | None, Query(max_length=64)] = None,
    region_code: Annotated[str | None, Query(max_length=12)] = None,
    region_only: Annotated[bool, Query(description="the region itself, not its subtree")] = False,
    status: Annotated[Literal["applied", "open", "finished", "terminated"] | None, Query()] = None,
    applied_from: Annotated[
        str | None, Query(max_length=10, description="first day applied, YYYY-MM-DD")
    ] = None,
    applied_to: Annotated[
        str | None, Query(max_length=10, description="last day applied, YYYY-MM-DD")
    ] = None,
    timing: Annotated[
        Literal["overdue", "ontime"] | None, Query(description="overdue, or finished on time")
    ] = None,
    finished_from: Annotated[
        str | None, Query(max_length=10, description="first day finished, YYYY-MM-DD")
    ] = None,
    finished_to: Annotated[
        str | None, Query(max_length=10, description="last day finished, YYYY-MM-DD")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CaseList:
    """Cases the caller may see, newest application first, with the number the filter
    matches."""
    caller.require("cases.read")
    try:
        f = case_filter(
            case_prefix=case_prefix,
            item=item,
            department=department_code,
            region=region_code,
            region_only=region_only,
            status=status,
            applied_from=applied_from,
            applied_to=applied_to,
            timing=timing,
            finished_from=finished_from,
            finished_to=finished_to,
        )
    except DateRangeError as exc:
        raise unusable(exc) from exc
    return case_page_resource(request, db, caller, f, limit, offset)


@router.get("/cases/{case_id}", response_model=CaseOut, responses={**AUTH, **NOT_FOUND})
def case_detail(
    case_id: Annotated[str, Path(min_length=1, max_length=50)],
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
) -> CaseOut:
    """A case with its clock, its ordered events and its alerts."""
    caller.require("cases.read")
    return case_resource(read_case(db, caller, case_id, at, request.url.path))
