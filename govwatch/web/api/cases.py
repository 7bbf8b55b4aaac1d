"""One case: its derived state, its clock, its events (personal data masked per role), alerts.

The case page's JSON twin is this resource (:func:`case_resource`), read through the one domain
reader :func:`govwatch.alerts.case_view.read_case`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from govwatch.alerts.case_view import CaseView, read_case
from govwatch.timeutil import SHANGHAI
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, NOT_FOUND
from govwatch.web.api.schemas import CaseAlertOut, CaseOut

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
