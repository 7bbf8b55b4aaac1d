"""One case as every face shows it: its derived state, stored clock, events, item and alerts.

The case page, its JSON twin and ``GET /api/v1/cases/{case_id}`` read a case through
:func:`read_case` only, so the scope check, the masking of personal data and the log of
unmasked views (``pii_views``, docs/security.md) are decided once for every face. It lives in
``alerts`` because a case's view carries its alerts and their history; ``alerts`` is the
domain package the pages read and nothing below it imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from govwatch.alerts.queries import alert_history, case_alerts
from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.auth.masking import mask_record, pii_present
from govwatch.auth.pii_log import log_view
from govwatch.auth.principal import Principal
from govwatch.storage import Database

# How far past the first event the timeline draws working and rest days.
TIMELINE_DAYS = 420


@dataclass(frozen=True)
class CaseView:
    """What a principal may see of one case; events already masked when the role requires."""

    case: dict[str, Any]
    events: list[dict[str, Any]]
    deadlines: dict[str, date | None]
    item: dict[str, Any] | None
    alerts: list[dict[str, Any]]
    rest_days: set[date] | None
    masked: bool

    @property
    def clock(self) -> dict[str, Any] | None:
        """The stored clock (case_deadlines): deadlines, status, provisional; None before one."""
        if "clock_status" not in self.case:
            return None
        return {
            "promised_deadline": self.deadlines["promised"],
            "legal_deadline": self.deadlines["legal"],
            "status": self.case["clock_status"],
            "provisional": self.case["provisional"],
        }


def _rest_days(db: Database, first: date, last: date) -> set[date] | None:
    if not db.table_exists("calendar"):
        return None
    rows = db.query(
        "SELECT on_date, is_workday FROM calendar WHERE on_date BETWEEN ? AND ?", [first, last]
    )
    if not rows:
        return None
    return {r[0] for r in rows if not r[1]}


def read_case(db: Database, caller: Principal, case_id: str, at: datetime, route: str) -> CaseView:
    """``case_id`` as ``caller`` may see it at ``at``; an unmasked view is logged under ``route``.

    Personal data is masked, and found for the log, by meaning and at any depth
    (:mod:`govwatch.auth.masking`): nested keys of ``extra``, any spelling of a field, the
    values of a ``correction`` of a personal field, and alert evidence. Every face passes its
    own ``route`` (the page, its JSON twin, the API), so the log says where it was seen.

    Raises :class:`NotFoundError` for an unknown case and :class:`ForbiddenError` for a case
    outside the caller's scope.
    """
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
    if caller.pii_entitled:
        # what this answer carries unmasked, at any depth (events, their JSON text, evidence)
        seen: set[str] = set()
        for record in (*events, *({"evidence": a.get("evidence")} for a in alerts)):
            seen.update(pii_present(record))
        if seen:
            log_view(db, caller, case_id, seen, route, at)
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
        rest = _rest_days(db, first, first + timedelta(days=TIMELINE_DAYS))
    return CaseView(case, events, deadlines, item, alerts, rest, not caller.pii_entitled)
