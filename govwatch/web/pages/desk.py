"""督办台 (supervisors and administrators) and the page of one supervision order.

- ``GET /desk?list=follow|replies|decide|issue``: one of the four lists of
  :mod:`govwatch.alerts.desk` with every list's total in its tab, page numbers, a filter by
  department (and level for 待督办, state for 待裁决). ``?format=json`` is the twin;
  ``?format=xlsx`` / ``csv`` exports the whole list with its filter.
- Bulk actions, each confirmed on a page of its own before anything is done
  (:mod:`govwatch.alerts.desk_actions`): ``POST /desk/orders/confirm`` → ``/desk/orders/issue``
  (orders for the selected alerts, one per department), ``POST /desk/replies/confirm`` →
  ``/desk/replies/accept`` (accept the selected replies).
- ``GET /orders/{id}``: one order, its alerts, its history and the files its replies carried;
  the department replies there (with files), the supervisor accepts or returns the reply
  (both post to ``/orders/{id}/act``, :mod:`govwatch.web.pages.workspace`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from govwatch.alerts.attachments import ACCEPT, MAX_ATTACHMENT_BYTES, MAX_FILES, size_text
from govwatch.alerts.desk import LISTS, DeskFilter, DeskPage, actors_of, desk_counts, desk_list
from govwatch.alerts.desk_actions import (
    accept_replies,
    issue_orders,
    plan_accepts,
    plan_orders,
)
from govwatch.alerts.order_views import read_order
from govwatch.alerts.orders import ORDER_STATE_NAMES
from govwatch.alerts.states import STATE_NAMES
from govwatch.auth.names import department_names, people_names, unit_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.storage import Database
from govwatch.vocabulary import DESK_LIST_NAMES, LEVEL_NAMES, label, rule_name
from govwatch.web.api.deps import DB, Caller, Clock, pool_of
from govwatch.web.pages.base import (
    back,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter()
UPLOAD = {"accept": ACCEPT, "max_files": MAX_FILES, "max_text": size_text(MAX_ATTACHMENT_BYTES)}
DECIDE_STATE_CHOICES = ("explained", "appealed", "rectified")
LEVEL_CHOICES = ("red", "yellow", "warning")


def _filter(org: str, level: str, state: str, name: str) -> DeskFilter:
    return DeskFilter(
        org_code=org or None,
        level=level if name == "issue" and level in LEVEL_CHOICES else None,
        state=state if name == "decide" and state in DECIDE_STATE_CHOICES else None,
    )


def _counts(request: Request, db: Database, caller: Principal) -> dict[str, int]:
    key = ("desk-counts", caller.role, caller.scope)
    counts: dict[str, int] = pool_of(request).pages.get_or_compute(
        key, lambda: desk_counts(db, caller)
    )
    return counts


def _query(name: str, f: DeskFilter) -> str:
    params = {"list": name, "org": f.org_code or "", "level": f.level or "", "state": f.state or ""}
    return "/desk?" + urlencode({k: v for k, v in params.items() if v})


# -- export ---------------------------------------------------------------------------------

_COLUMNS = {
    "follow": (
        "督办单",
        "被督办部门",
        "状态",
        "发出时间",
        "回复期限",
        "剩余/超期",
        "告警数",
        "督办内容",
    ),
    "replies": ("督办单", "被督办部门", "回复期限", "回复人", "回复时间", "回复内容", "附件数"),
    "decide": ("办件", "级别", "告警类型", "责任部门", "状态", "提交时间", "理由", "附件数"),
    "issue": ("办件", "级别", "告警类型", "规则", "责任部门", "处理状态", "异常发生", "发现时间"),
}


def _row(
    name: str, r: dict[str, Any], names: dict[str, str], people: dict[str, str]
) -> Sequence[object]:
    if name in ("follow", "replies"):
        org = names.get(str(r["org_code"]), str(r["org_code"]))
        if name == "follow":
            return (
                r["order_id"], org, r["state_name"], r["issued_at"], r["reply_due_on"],
                r["countdown"]["text"], r["alert_count"], r["content"],
            )  # fmt: skip
        return (
            r["order_id"], org, r["reply_due_on"],
            people.get(r["replied_by"] or "", r["replied_by"]), r["replied_at"],
            r["reply_text"], len(r["attachments"]),
        )  # fmt: skip
    dept = str(r.get("department_code") or r.get("org_code") or "")
    if name == "decide":
        answer = r.get("answer") or {}
        return (
            r["case_id"], label(LEVEL_NAMES, r["level"]), r["rule_type"], names.get(dept, dept),
            r["state_name"], answer.get("acted_at"), answer.get("reason"),
            len(answer.get("attachments") or []),
        )  # fmt: skip
    return (
        r["case_id"], label(LEVEL_NAMES, r["level"]), r["rule_type"], rule_name(str(r["rule"])),
        names.get(dept, dept), r["state_name"], r.get("occurred_at"), r["first_seen_at"],
    )  # fmt: skip


def _export_rows(
    db: Database, caller: Principal, name: str, today: date, f: DeskFilter
) -> Iterator[Sequence[object]]:
    names = unit_names(db)
    page = 1
    while True:
        chunk = desk_list(db, caller, name, today, f, page, 500)
        people = people_names(db, actors_of(chunk.rows))
        for r in chunk.rows:
            yield _row(name, r, names, people)
        if page >= chunk.pages:
            return
        page += 1


def _filters_text(db: Database, f: DeskFilter) -> list[tuple[str, str]]:
    names = department_names(db)
    return [
        ("部门", names.get(f.org_code, f.org_code) if f.org_code else ""),
        ("级别", label(LEVEL_NAMES, f.level) if f.level else ""),
        ("状态", label(STATE_NAMES, f.state) if f.state else ""),
    ]


# -- the desk -------------------------------------------------------------------------------


@router.get("/desk", response_model=None)
def desk(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    list: Annotated[str, Query(max_length=16)] = "follow",
    org: Annotated[str, Query(max_length=64)] = "",
    level: Annotated[str, Query(max_length=16)] = "",
    state: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("alerts.supervise"):
        return error_page(request, db, caller, 403, "督办台供监察人员和管理员使用")
    name = list if list in LISTS else "follow"
    f = _filter(org, level, state, name)
    today = at.date()
    fmt = export_format(format)
    if fmt is not None:
        return sheet_response(
            title=f"督办台·{DESK_LIST_NAMES[name]}",
            filters=_filters_text(db, f),
            columns=_COLUMNS[name],
            rows=_export_rows(db, caller, name, today, f),
            fmt=fmt,
            filename=f"督办台-{DESK_LIST_NAMES[name]}-{today.isoformat()}",
            exported_at=at,
        )
    try:
        current: DeskPage = desk_list(db, caller, name, today, f, page)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    counts = _counts(request, db, caller)
    if wants_json(request):
        return json_response({"counts": counts, **current.as_dict()})
    return render(
        request,
        db,
        caller,
        "desk.html",
        {
            "today": today,
            "name": name,
            "lists": [(n, DESK_LIST_NAMES[n], counts[n]) for n in LISTS],
            "current": current,
            "f": f,
            "base": _query(name, f),
            "tab_query": {n: _query(n, DeskFilter(org_code=f.org_code)) for n in LISTS},
            "names": unit_names(db),
            "departments": department_names(db),
            "people": people_names(db, actors_of(current.rows)),
            "order_states": ORDER_STATE_NAMES,
            "decide_states": [(s, STATE_NAMES[s]) for s in DECIDE_STATE_CHOICES],
            "levels": [(lv, LEVEL_NAMES[lv]) for lv in LEVEL_CHOICES],
            "rule_name": rule_name,
        },
    )


# -- bulk actions, confirmed ------------------------------------------------------------------


def _refuse(
    request: Request, db: Database, caller: Principal, exc: GovwatchError, back_to: str
) -> Response:
    return render(
        request,
        db,
        caller,
        "desk_confirm.html",
        {"kind": "refused", "message": str(exc), "back_to": back_to},
        status_of(exc),
    )


@router.post("/desk/orders/confirm", response_model=None)
def confirm_orders(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    alert_id: Annotated[list[str], Form(max_length=500)] = [],  # noqa: B006 - per request
    content: Annotated[str, Form(max_length=4000)] = "",
    reply_days: Annotated[int | None, Form(ge=1, le=60)] = None,
    back_to: Annotated[str, Form(max_length=300)] = "/desk?list=issue",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    target = back_to if back_to.startswith("/desk") else "/desk?list=issue"
    try:
        plans = plan_orders(db, caller, alert_id, at, reply_days)
    except GovwatchError as exc:
        return _refuse(request, db, caller, exc, target)
    return render(
        request,
        db,
        caller,
        "desk_confirm.html",
        {
            "kind": "orders",
            "plans": plans,
            "alert_ids": [a.alert_id for p in plans for a in p.alerts],
            "content": content,
            "reply_days": reply_days,
            "names": unit_names(db),
            "back_to": target,
            "rule_name": rule_name,
        },
    )


@router.post("/desk/orders/issue", response_model=None)
def issue(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    alert_id: Annotated[list[str], Form(max_length=500)] = [],  # noqa: B006 - per request
    content: Annotated[str, Form(max_length=4000)] = "",
    reply_days: Annotated[int | None, Form(ge=1, le=60)] = None,
    back_to: Annotated[str, Form(max_length=300)] = "/desk?list=issue",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    target = back_to if back_to.startswith("/desk") else "/desk?list=issue"
    try:
        orders = issue_orders(db, caller, alert_id, at, content=content, reply_days=reply_days)
    except GovwatchError as exc:
        return _refuse(request, db, caller, exc, target)
    count = len({a.strip() for a in alert_id if a.strip()})  # all were issued, or none
    return back(
        "/desk?list=follow",
        f"已发出 {len(orders)} 张督办单（涉及 {count} 条告警）：{'、'.join(o.order_id for o in orders)}",
    )


@router.post("/desk/replies/confirm", response_model=None)
def confirm_replies(
    request: Request,
    db: DB,
    caller: Caller,
    order: Annotated[list[str], Form(max_length=500)] = [],  # noqa: B006 - per request
    text: Annotated[str, Form(max_length=4000)] = "",
    back_to: Annotated[str, Form(max_length=300)] = "/desk?list=replies",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    target = back_to if back_to.startswith("/desk") else "/desk?list=replies"
    try:
        plans = plan_accepts(db, caller, order)
    except GovwatchError as exc:
        return _refuse(request, db, caller, exc, target)
    return render(
        request,
        db,
        caller,
        "desk_confirm.html",
        {
            "kind": "replies",
            "replies": plans,
            "text": text,
            "names": unit_names(db),
            "people": people_names(db, {p.order.replied_by or "" for p in plans}),
            "back_to": target,
        },
    )


@router.post("/desk/replies/accept", response_model=None)
def accept(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    order: Annotated[list[str], Form(max_length=500)] = [],  # noqa: B006 - per request
    text: Annotated[str, Form(max_length=4000)] = "",
    back_to: Annotated[str, Form(max_length=300)] = "/desk?list=replies",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    target = back_to if back_to.startswith("/desk") else "/desk?list=replies"
    try:
        result = accept_replies(db, caller, order, at, text)
    except GovwatchError as exc:
        return _refuse(request, db, caller, exc, target)
    message = f"已采纳 {len(result.done)} 份督办回复"
    if result.refused:
        message += f"；{len(result.refused)} 份未采纳：" + "；".join(
            f"{order_id}（{why}）" for order_id, why in result.refused
        )
    return back(target, message)


# -- one order ------------------------------------------------------------------------------


@router.get("/orders/{order_id}", response_model=None)
def order_page(
    request: Request,
    order_id: Annotated[str, Path(max_length=64)],
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        data = read_order(db, caller, order_id, at.date())
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response(data)
    state = data["order"]["state"]
    return render(
        request,
        db,
        caller,
        "order.html",
        data
        | {
            "names": unit_names(db),
            "people": people_names(db, actors_of(data)),
            "order_states": ORDER_STATE_NAMES,
            "can_reply": caller.can("orders.reply") and state in ("issued", "overdue"),
            "can_decide": caller.can("orders.issue") and state == "replied",
            "upload": UPLOAD,
        },
    )
