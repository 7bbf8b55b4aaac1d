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
from decimal import Decimal
from typing import Any

import orjson

from govwatch.alerts.evidence_text import duration, key_text, moment_text, sentence
from govwatch.alerts.queries import alert_history, case_alerts
from govwatch.auth.errors import ForbiddenError, NotFoundError
from govwatch.auth.masking import mask_record, pii_present
from govwatch.auth.pii_log import log_view
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.vocabulary import (
    APPLICANT_TYPE_NAMES,
    CASE_KIND_NAMES,
    CHANNEL_NAMES,
    EVENT_FIELD_NAMES,
    EVENT_KIND_NAMES,
    FINISH_RESULT_NAMES,
    PROCEDURE_KIND_NAMES,
    SATISFACTION_NAMES,
    STEP_ACTION_NAMES,
    label,
    rule_name,
)

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


# --- What the case page reads, by name ------------------------------------------------------


def _materials(value: object) -> list[tuple[str, bool | None]]:
    """(name, provided) of an event's materials (JSON text of names or of objects)."""
    try:
        items = orjson.loads(value) if isinstance(value, str | bytes) else value
    except orjson.JSONDecodeError:
        return [(str(value), None)]
    if not isinstance(items, list):
        return []
    out: list[tuple[str, bool | None]] = []
    for item in items:
        if isinstance(item, dict):
            given = item.get("provided")
            out.append((str(item.get("name") or ""), None if given is None else bool(given)))
        else:
            out.append((str(item), None))
    return out


def _number(value: object) -> str:
    if isinstance(value, float | Decimal) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _event_content(e: dict[str, Any]) -> tuple[str, str]:
    """(what an event says, the codes behind it for a title) in Chinese."""
    kind = str(e.get("kind"))
    parts: list[str] = []
    codes: list[str] = []
    if kind == "apply":
        if e.get("channel"):
            parts.append(f"办理形式 {label(CHANNEL_NAMES, e['channel'])}")
            codes.append(f"办理形式代码 {e['channel']}")
        if e.get("applicant_type"):
            parts.append(f"申请者 {label(APPLICANT_TYPE_NAMES, e['applicant_type'])}")
            codes.append(f"申请者类型代码 {e['applicant_type']}")
        given = _materials(e.get("materials"))
        missing = [name for name, provided in given if provided is False]
        if given:
            parts.append(
                f"材料 {len(given)} 件" + (f"（未提交：{'、'.join(missing)}）" if missing else "")
            )
    elif kind == "accept":
        if e.get("case_kind"):
            parts.append(label(CASE_KIND_NAMES, e["case_kind"]))
        if e.get("promised_finish_at"):
            parts.append(f"承诺办结 {moment_text(e['promised_finish_at'])}")
    elif kind in ("supplement_request", "supplement_received"):
        names = "、".join(name for name, _ in _materials(e.get("materials")))
        if names:
            parts.append(("需补正：" if kind == "supplement_request" else "收讫：") + names)
    elif kind in ("step_start", "step_end"):
        if e.get("step"):
            parts.append(str(e["step"]))
        if e.get("action"):
            parts.append(label(STEP_ACTION_NAMES, e["action"]))
            codes.append(f"业务动作 {e['action']}")
    elif kind == "special_start":
        if e.get("procedure_kind"):
            parts.append(label(PROCEDURE_KIND_NAMES, e["procedure_kind"]))
        if e.get("procedure_type"):
            parts.append(str(e["procedure_type"]))
        if e.get("limit_days") is not None:
            parts.append(f"时限 {duration(e['limit_days'], e.get('limit_unit'))}")
    elif kind == "special_end" and e.get("result"):
        parts.append(str(e["result"]))
    elif kind == "finish":
        if e.get("result") is not None:
            parts.append(label(FINISH_RESULT_NAMES, e["result"]))
            codes.append(f"办结结果代码 {e['result']}")
        if e.get("license_no"):
            parts.append(f"证照编号 {e['license_no']}")
        if e.get("tier"):
            value = e.get("decided_value")
            parts.append(
                f"裁量档次 {e['tier']}" + ("" if value is None else f"，决定值 {_number(value)}")
            )
    elif kind == "payment":
        if e.get("fee_item"):
            parts.append(str(e["fee_item"]))
        if e.get("amount") is not None:
            parts.append(f"{float(e['amount']):.2f} 元")
        if e.get("quantity") is not None:
            parts.append(f"数量 {_number(e['quantity'])}")
    elif kind == "rating":
        if e.get("level"):
            parts.append(label(SATISFACTION_NAMES, e["level"]))
            codes.append(f"满意度代码 {e['level']}")
        if e.get("channel"):
            parts.append(str(e["channel"]))
    elif kind == "correction":
        field = label(EVENT_FIELD_NAMES, e.get("field"))
        parts.append(
            f"{field}：{e.get('old_value') or '（空）'} → {e.get('new_value') or '（空）'}"
        )
    elif kind == "relation":
        parts.append(f"经办人 {e.get('handler') or '—'} 与申请人：{e.get('relation') or '关联'}")
    return "，".join(parts), "；".join(codes)


def event_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The case's events as the page's table reads them: kind and content by name."""
    rows = []
    for e in events:
        content, codes = _event_content(e)
        note = "；".join(
            str(e[k]) for k in ("reason", "legal_basis", "opinion", "text") if e.get(k)
        )
        if e.get("kind") == "rating":
            note = str(e.get("text") or "")
        rows.append(
            {
                "at": e.get("occurred_at"),
                "kind": e.get("kind"),
                "kind_name": label(EVENT_KIND_NAMES, e.get("kind")),
                "content": content,
                "codes": codes,
                "person": e.get("actor") or e.get("applicant_name") or "",
                "note": note,
            }
        )
    return rows


def alert_rows(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The case's alerts with their rule by name and their evidence in one sentence."""
    return [
        a
        | {
            "rule_name": rule_name(str(a["rule"])),
            "key_text": key_text(str(a["rule"]), a.get("key")),
            "sentence": sentence(
                str(a["rule"]), a.get("evidence") or {}, str(a.get("message") or "")
            ),
        }
        for a in alerts
    ]
