"""One case: its derived state, its clock, its events (personal data masked per role), alerts."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from govwatch.alerts.queries import case_alerts
from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.auth.masking import mask_record, pii_present
from govwatch.auth.pii_log import log_view
from govwatch.timeutil import SHANGHAI
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, NOT_FOUND
from govwatch.web.api.schemas import AlertOut, CaseOut

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


def _clock(db: DB, case_id: str, at: datetime) -> dict[str, Any] | None:
    """The case clock from ``govwatch.deadlines.explain_case`` once that exists."""
    module = importlib.import_module("govwatch.deadlines")
    explain: Callable[..., Any] | None = getattr(module, "explain_case", None)
    if explain is None:
        return None
    result = explain(db, case_id, at)
    if result is None:
        return None
    data = result if isinstance(result, dict) else getattr(result, "as_dict", lambda: None)()
    return {k: plain(v) for k, v in data.items()} if isinstance(data, dict) else None


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
    rows = db.query_dicts("SELECT * FROM cases WHERE case_id = ?", [case_id])
    if not rows:
        raise NotFoundError(f"办件“{case_id}”不存在")
    case = rows[0]
    if not caller.covers(
        case.get("department_code"), case.get("org_code"), case.get("region_code")
    ):
        raise ForbiddenError(f"办件“{case_id}”不属于本部门管辖范围，无权查看")
    events = db.query_dicts(
        "SELECT * FROM events WHERE case_id = ? ORDER BY occurred_at, kind_order, event_id",
        [case_id],
    )
    shown = []
    seen: set[str] = set()
    for event in events:
        record = {k: plain(v) for k, v in event.items() if v is not None}
        seen.update(pii_present(record))
        shown.append(record if caller.pii_entitled else mask_record(record))
    if caller.pii_entitled and seen:
        log_view(db, caller, case_id, seen, request.url.path, at)
    return CaseOut(
        case={k: plain(v) for k, v in case.items()},
        clock=_clock(db, case_id, at),
        events=shown,
        alerts=[AlertOut(**a) for a in case_alerts(db, caller, case_id)],
        masked=not caller.pii_entitled,
    )
