"""今日待办: what a department must answer and by when, and where it answers (with files).

- ``GET /workspace``: the to-do list (:func:`govwatch.alerts.workspace.department_workspace`),
  overdue first, each with its working-day countdown; replies to orders are written in place.
  Supervisors and administrators are sent to their 督办台 (``/desk``). ``?format=json`` is the
  twin, ``?format=xlsx`` / ``csv`` the export of the whole list.
- ``GET /workspace/alerts/{id}``: the answer page of one alert (情况说明, 申诉, 整改报告 with
  attachments); ``POST`` it, as ``multipart/form-data``, to act
  (:func:`govwatch.alerts.workflow.act`, as ``POST /api/v1/alerts/{id}/actions``).
- ``POST /orders/{id}/act``: reply to an order (with attachments), or, for supervisors, accept
  or return a reply (:func:`govwatch.alerts.orders.act_on_order`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from govwatch.alerts.alert_view import read_alert
from govwatch.alerts.attachments import (
    ACCEPT,
    MAX_ATTACHMENT_BYTES,
    MAX_FILES,
    owner_files,
    size_text,
)
from govwatch.alerts.desk import actors_of
from govwatch.alerts.orders import ORDER_MOVES, ORDER_STATE_NAMES, act_on_order
from govwatch.alerts.states import DEPARTMENT, MOVES, allowed_actions
from govwatch.alerts.workflow import act, done_message
from govwatch.alerts.workspace import (
    TodoEntries,
    alert_due,
    department_workspace,
    submitted_list,
    todo_list,
)
from govwatch.auth.names import department_names, people_names, unit_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.storage import Database
from govwatch.vocabulary import TODO_KIND_NAMES, rule_name
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    back,
    cached,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    todo_of,
    wants_json,
)
from govwatch.web.pages.files import read_uploads
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter()
AlertId = Annotated[str, Path(min_length=1, max_length=64)]
UPLOAD = {"accept": ACCEPT, "max_files": MAX_FILES, "max_text": size_text(MAX_ATTACHMENT_BYTES)}
EXPORT_COLUMNS = ("期限", "剩余/超期", "待办事项", "督办单或办件", "级别", "告警类型", "内容")


def _export_rows(
    db: Database, caller: Principal, today: date, entries: TodoEntries
) -> Iterator[Sequence[object]]:
    page = 1
    while True:
        chunk = todo_list(db, caller, today, page, 500, entries)
        for row in chunk.rows:
            item = row.get("order") or row.get("alert") or {}
            yield (
                row["due_on"],
                row["countdown"]["text"],
                TODO_KIND_NAMES.get(row["kind"], ""),
                item.get("order_id") or item.get("case_id"),
                "" if row["kind"] == "order" else item.get("level_name", ""),
                "" if row["kind"] == "order" else item.get("rule_type", ""),
                item.get("content") if row["kind"] == "order" else item.get("message"),
            )
        if page >= chunk.pages:
            return
        page += 1


@router.get("/workspace", response_model=None)
def workspace(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if caller.can("alerts.supervise"):
        return RedirectResponse("/desk", status_code=303)
    if caller.role != "department":
        return error_page(request, db, caller, 403, "今日待办供部门用户使用")
    today = at.date()
    fmt = export_format(format)
    if fmt is not None:
        unit = caller.org_code or ""
        return sheet_response(
            title="今日待办",
            filters=[("部门", department_names(db).get(unit, unit))],
            columns=EXPORT_COLUMNS,
            rows=_export_rows(db, caller, today, todo_of(request, db, caller)),
            fmt=fmt,
            filename=f"今日待办-{today.isoformat()}",
            exported_at=at,
        )
    try:
        # (what waits for review is the same on every page of the list: kept with it)
        submitted = cached(
            request,
            ("todo-submitted", caller.scope, caller.regions, today),
            lambda: submitted_list(db, caller, today),
        )
        data = department_workspace(
            db, caller, today, page, todo_of(request, db, caller), submitted
        )
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response(data)
    return render(
        request,
        db,
        caller,
        "workspace.html",
        data
        | {
            "order_states": ORDER_STATE_NAMES,
            "kind_names": TODO_KIND_NAMES,
            "names": unit_names(db),
            "people": people_names(db, actors_of(data)),
            "can_reply": caller.can("orders.reply"),
            "upload": UPLOAD,
        },
    )


def _answer_context(db: Database, caller: Principal, alert_id: str, today: date) -> dict[str, Any]:
    resource = read_alert(db, caller, alert_id)
    current = resource["workflow"]["state"]
    files = owner_files(db, "alert", [alert_id]).get(alert_id, [])
    return resource | {
        "version": resource["workflow"]["version"],
        "state_name": resource["workflow"]["state_name"],
        "actions": [(a, MOVES[a]) for a in allowed_actions(current, DEPARTMENT)],
        "due": alert_due(db, caller, alert_id, today),
        "files": [f.as_dict() for f in files],
        "rule_name": rule_name(str(resource["alert"]["rule"])),
        "names": unit_names(db),
        "people": people_names(db, actors_of(resource["transitions"])),
        "upload": UPLOAD,
    }


@router.get("/workspace/alerts/{alert_id}", response_model=None)
def answer_page(request: Request, alert_id: AlertId, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if caller.role != "department":  # supervisors decide on the alert page
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
    try:
        context = _answer_context(db, caller, alert_id, at.date())
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    return render(request, db, caller, "answer.html", context)


@router.post("/workspace/alerts/{alert_id}/act", response_model=None)
def answer(
    request: Request,
    alert_id: AlertId,
    db: DB,
    caller: Caller,
    at: Clock,
    action: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
    files: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 - per request
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        act(
            db,
            caller,
            alert_id,
            action,
            at,
            reason=reason or None,
            attachments=read_uploads(files),
            expected_version=expected_version or None,
        )
    except GovwatchError as exc:
        try:
            context = _answer_context(db, caller, alert_id, at.date())
        except GovwatchError:
            return error_page(request, db, caller, status_of(exc), str(exc))
        context |= {"error": str(exc), "typed": {"action": action, "reason": reason}}
        return render(request, db, caller, "answer.html", context, status_of(exc))
    return back(f"/workspace/alerts/{alert_id}", done_message(action))


def _safe_next(target: str, default: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else default


@router.post("/orders/{order_id}/act", response_model=None)
def order_act(
    request: Request,
    order_id: Annotated[str, Path(max_length=64)],
    db: DB,
    caller: Caller,
    at: Clock,
    action: Annotated[str, Form(max_length=16)],
    text: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
    next: Annotated[str, Form(max_length=200)] = "/workspace",
    files: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 - per request
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    target = _safe_next(next, "/workspace")
    try:
        act_on_order(
            db,
            caller,
            order_id,
            action,
            at,
            text=text or None,
            expected_version=expected_version or None,
            attachments=read_uploads(files),
        )
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    name = ORDER_MOVES[action][3]
    return back(target, f"督办单 {order_id}：已{name}")
