"""办件: one case's clock as a timeline, its events, its alerts and their history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.alerts.queries import alert_history, case_alerts
from govwatch.auth.masking import mask_record
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import error_page, json_response, login_redirect, render, wants_json
from govwatch.web.pages.timeline import KIND_NAMES, build_timeline

router = APIRouter()
EVENT_COLUMNS = (
    "event_id, kind, occurred_at, actor, org_code, applicant_name, applicant_id, phone, "
    "channel, step, action, opinion, reason, legal_basis, procedure_type, limit_days, "
    "limit_unit, result, license_no, amount, level, text, field, old_value, new_value"
)


def _rest_days(db: Database, first: date, last: date) -> set[date] | None:
    if not db.table_exists("calendar"):
        return None
    rows = db.query(
        "SELECT on_date, is_workday FROM calendar WHERE on_date BETWEEN ? AND ?", [first, last]
    )
    if not rows:
        return None
    return {r[0] for r in rows if not r[1]}


def case_data(db: Database, caller: Principal, case_id: str, at: datetime) -> dict[str, Any] | None:
    rows = db.query_dicts("SELECT * FROM cases WHERE case_id = ?", [case_id])
    if not rows:
        return None
    case = rows[0]
    if not caller.covers(
        case.get("department_code"), case.get("org_code"), case.get("region_code")
    ):
        return {"forbidden": True}
    events = db.query_dicts(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE case_id = ? "
        "ORDER BY occurred_at, kind_order, event_id",
        [case_id],
    )
    if not caller.pii_entitled:
        events = [mask_record(e) for e in events]
    deadlines: dict[str, date | None] = {"promised": None, "legal": None}
    if db.table_exists("case_deadlines"):
        d = db.query(
            "SELECT promised_deadline, legal_deadline, status, provisional "
            "FROM case_deadlines WHERE case_id = ?",
            [case_id],
        )
        if d:
            deadlines = {"promised": d[0][0], "legal": d[0][1]}
            case["clock_status"], case["provisional"] = d[0][2], d[0][3]
    alerts = case_alerts(db, caller, case_id) if db.table_exists("alert_workflow") else []
    for a in alerts:
        a["history"] = alert_history(db, a["alert_id"])
    item = None
    if case.get("item_code"):
        found = db.query_dicts(
            "SELECT item_code, name, department_name, legal_limit, "
            "legal_limit_unit, promised_limit, promised_limit_unit "
            "FROM items WHERE item_code = ?",
            [case["item_code"]],
        )
        item = found[0] if found else None
    rest = None
    if events:
        first = min(e["occurred_at"] for e in events).date()
        rest = _rest_days(db, first, first + timedelta(days=420))
    timeline = build_timeline(events, deadlines, rest, alerts, at)
    return {
        "case": case,
        "events": events,
        "alerts": alerts,
        "deadlines": deadlines,
        "item": item,
        "timeline": timeline,
        "masked": not caller.pii_entitled,
    }


@router.get("/cases/{case_id}", response_model=None)
def case_page(
    request: Request,
    case_id: Annotated[str, Path(min_length=1, max_length=50)],
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("cases.read"):
        return error_page(request, db, caller, 403, "本角色无权查看办件")
    data = case_data(db, caller, case_id, at)
    if data is None:
        return error_page(request, db, caller, 404, f"办件“{case_id}”不存在")
    if data.get("forbidden"):
        return error_page(request, db, caller, 403, f"办件“{case_id}”不属于本部门管辖范围")
    if wants_json(request):
        return json_response({k: v for k, v in data.items() if k != "timeline"})
    return render(request, db, caller, "case.html", data | {"kinds": KIND_NAMES})
