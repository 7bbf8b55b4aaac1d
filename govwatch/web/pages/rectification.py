"""整改: rectification demands of published rounds, worked on the web.

- ``GET /rectifications``: the demands the reader may see (a department its own units' only),
  overdue first, filtered by round, unit and status; the counts per status are links to their
  lists; ``?format=json`` is the twin, ``?format=xlsx`` / ``csv`` the export of the whole list.
  Below it, the data gaps (缺数据): indicators that lost points only for a missing value, which
  got no demand.
- ``GET /evaluations/{round}/rectification``: the same for one round, with the follow-up by the
  next round (improved / not improved per demand).
- ``GET /rectifications/{id}``: one demand, its history and files; the department replies with
  files (``POST …/reply``, multipart), the administrator confirms (``…/confirm``), returns with a
  reason (``…/return``) or moves the due date (``…/due``). A demand of another unit is 404.
- ``GET /rectifications/{id}/files/{attachment}``: a reply's file, as a download.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response

from govwatch.alerts.attachments import (
    ACCEPT,
    MAX_ATTACHMENT_BYTES,
    MAX_FILES,
    Attachment,
    check_attachments,
    size_text,
    store_attachments,
)
from govwatch.auth.names import people_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.rectification import (
    DEFAULT_DAYS,
    FOLLOW_NAMES,
    OVERDUE_NAME,
    OWNER_KIND,
    READ_ROLES,
    STATUS_NAMES,
    DemandFilter,
    FileStore,
    confirm,
    count_demands,
    demand_file,
    get_demand,
    iter_demands,
    list_demands,
    list_gaps,
    move_due,
    owed_count,
    reply,
    return_demand,
    set_round_days,
    status_counts,
)
from govwatch.evaluation.rounds.views import RoundViewer, round_summary
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.rectifications import router as api_router
from govwatch.web.pages.base import (
    NAV_EXTRAS,
    NavItem,
    back,
    cached,
    error_page,
    json_response,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.files import read_uploads
from govwatch.web.pages.forms import acted, refusal, served_file
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter()
DemandId = Annotated[str, Path(min_length=1, max_length=32)]
PAGE_SIZE = 30
UPLOAD = {"accept": ACCEPT, "max_files": MAX_FILES, "max_text": size_text(MAX_ATTACHMENT_BYTES)}
EXPORT_COLUMNS = (
    "评估批次",
    "单位",
    "单位代码",
    "指标",
    "失分",
    "整改要求",
    "状态",
    "整改期限",
    "剩余/超期",
    "回复",
    "回复时间",
    "审核意见",
    "跟踪结果",
)


def file_store(
    demand_id: str, files: Sequence[Attachment], caller: Principal, at: datetime
) -> FileStore | None:
    """The reply's files checked now (type, size, content) and stored in its unit of work."""
    if not files:
        return None
    checked = check_attachments(files)
    return lambda tx: store_attachments(tx, OWNER_KIND, demand_id, checked, caller.name, at)


def _refused(request: Request, db: Database, caller: Principal) -> Response | None:
    return refusal(request, db, caller, READ_ROLES, "整改要求供管理员、监察人员和被评估单位查看")


def _export_rows(
    db: Database, caller: Principal, today: date, f: DemandFilter
) -> Iterator[Sequence[object]]:
    for d in iter_demands(db, caller, today, f):
        yield (
            d["round_name"],
            d["unit_name"],
            d["unit"],
            d["indicator_name"],
            round(float(d["points_lost"]), 2),
            d["demand"],
            d["shown_status"],
            d["due_on"],
            d["countdown"],
            d["reply"] or "",
            d["replied_at"] or "",
            d["decision_reason"] or "",
            d["follow_name"],
        )


def _list_page(
    request: Request,
    db: Database,
    caller: Principal,
    at: datetime,
    f: DemandFilter,
    page: int,
    fmt_text: str,
    path: str,
    round_info: dict[str, Any] | None = None,
) -> Response:
    today = at.date()
    fmt = export_format(fmt_text)
    if fmt is not None:
        filters = [("评估批次", f.round_id or "全部"), ("单位", f.unit or "全部")]
        filters.append(("状态", _status_name(f.status) if f.status else "全部"))
        return sheet_response(
            title="整改要求",
            filters=filters,
            columns=EXPORT_COLUMNS,
            rows=_export_rows(db, caller, today, f),
            fmt=fmt,
            filename=f"整改要求-{today.isoformat()}",
            exported_at=at,
        )
    total = count_demands(db, caller, today, f)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = list_demands(db, caller, today, f, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    counts = status_counts(db, caller, today, f)
    gaps = list_gaps(db, caller, f.round_id, f.unit)
    data: dict[str, Any] = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "counts": counts,
        "gaps": gaps,
        "filter": {"round": f.round_id, "unit": f.unit, "status": f.status},
    }
    if wants_json(request):
        return json_response(data)
    query = {k: v for k, v in (("round", f.round_id), ("unit", f.unit), ("status", f.status)) if v}
    base_filter = {k: v for k, v in query.items() if k != "status"}
    return render(
        request,
        db,
        caller,
        "rectifications.html",
        data
        | {
            "query": urlencode(query),
            "base_query": urlencode(base_filter),
            "status_names": STATUS_NAMES,
            "overdue_name": OVERDUE_NAME,
            "follow_names": FOLLOW_NAMES,
            "round_info": round_info,
            "list_path": path,
        },
    )


def _status_name(code: str | None) -> str:
    return OVERDUE_NAME if code == "overdue" else STATUS_NAMES.get(code or "", code or "")


@router.get("/rectifications", response_model=None)
def rectifications(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    round: Annotated[str, Query(max_length=64)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    owed: Annotated[int, Query(ge=0, le=1)] = 0,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    try:
        f = DemandFilter(round or None, unit or None, status or None, bool(owed))
        return _list_page(request, db, caller, at, f, page, format, "/rectifications")
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))


@router.get("/evaluations/{round_id}/rectification", response_model=None)
def round_rectification(
    request: Request,
    round_id: Annotated[str, Path(max_length=64)],
    db: DB,
    caller: Caller,
    at: Clock,
    unit: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    try:
        summary = round_summary(db, round_id, RoundViewer.of_principal(caller))
        f = DemandFilter(round_id, unit or None, status or None)
        info = {k: summary[k] for k in ("round_id", "name", "status", "published_at")}
        days = db.scalar("SELECT rectify_days FROM eval_rounds WHERE round_id = ?", [round_id])
        info["rectify_days"] = int(days) if days is not None else DEFAULT_DAYS
        return _list_page(
            request, db, caller, at, f, page, format,
            f"/evaluations/{round_id}/rectification", info,
        )  # fmt: skip
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))


def _demand_context(db: Database, caller: Principal, demand_id: str, today: date) -> dict[str, Any]:
    d = get_demand(db, caller, demand_id, today)
    who = [d["replied_by"], d["decided_by"], *(h["actor_name"] for h in d["history"])]
    return {"d": d, "upload": UPLOAD, "people": people_names(db, who)}


@router.get("/rectifications/{demand_id}", response_model=None)
def demand_page(
    request: Request, demand_id: DemandId, db: DB, caller: Caller, at: Clock
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    try:
        context = _demand_context(db, caller, demand_id, at.date())
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response(context["d"])
    return render(request, db, caller, "rectification.html", context)


def _acted(
    request: Request,
    db: Database,
    caller: Principal,
    demand_id: str,
    today: date,
    exc: GovwatchError,
    typed: dict[str, str],
) -> Response:
    try:
        context = _demand_context(db, caller, demand_id, today)
    except GovwatchError:
        return error_page(request, db, caller, status_of(exc), str(exc))
    context |= {"error": str(exc), "typed": typed}
    return render(request, db, caller, "rectification.html", context, status_of(exc))


def _changed(
    request: Request,
    db: Database,
    caller: Principal,
    demand_id: str,
    at: datetime,
    change: Callable[[], str | None],
    typed: dict[str, str],
    done: str = "",
) -> Response:
    """A form on a demand's page: ``change()``, then back to the page with ``done`` (or the
    notice the change answers); an expected error shows the page again with what was typed."""
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    try:
        message = change() or done
    except GovwatchError as exc:
        return _acted(request, db, caller, demand_id, at.date(), exc, typed)
    return back(f"/rectifications/{demand_id}", message)


@router.post("/evaluations/{round_id}/rectification/days", response_model=None)
def round_days_form(
    request: Request,
    round_id: Annotated[str, Path(max_length=64)],
    db: DB,
    caller: Caller,
    at: Clock,
    days: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """The administrator sets the round's rectification period before publishing."""
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused

    def change() -> None:
        if not days.strip().isdigit():
            raise InputError(
                f"评估批次“{round_id}”的整改期限“{days}”无效：应为 1 至 250 的工作日数"
            )
        set_round_days(db, caller, round_id, int(days), at)

    url = f"/evaluations/{round_id}/rectification"
    return acted(request, db, caller, change, url, lambda _: f"整改期限已设为 {int(days)} 个工作日")


@router.post("/rectifications/{demand_id}/reply", response_model=None)
def reply_form(
    request: Request,
    demand_id: DemandId,
    db: DB,
    caller: Caller,
    at: Clock,
    text: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
    files: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 - per request
) -> Response:
    def change() -> None:
        store = file_store(demand_id, read_uploads(files), caller, at)
        reply(db, caller, demand_id, text, at, store, expected_version)

    typed = {"text": text}
    return _changed(
        request, db, caller, demand_id, at, change, typed, "整改情况已回复，等待管理员确认"
    )


@router.post("/rectifications/{demand_id}/confirm", response_model=None)
def confirm_form(
    request: Request,
    demand_id: DemandId,
    db: DB,
    caller: Caller,
    at: Clock,
    note: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> Response:
    def change() -> None:
        confirm(db, caller, demand_id, at, note, expected_version)

    return _changed(request, db, caller, demand_id, at, change, {"note": note}, "已确认整改")


@router.post("/rectifications/{demand_id}/return", response_model=None)
def return_form(
    request: Request,
    demand_id: DemandId,
    db: DB,
    caller: Caller,
    at: Clock,
    reason: Annotated[str, Form(max_length=4000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> Response:
    def change() -> None:
        return_demand(db, caller, demand_id, reason, at, expected_version)

    typed = {"reason": reason}
    return _changed(
        request, db, caller, demand_id, at, change, typed, "已退回整改，等待单位重新回复"
    )


@router.post("/rectifications/{demand_id}/due", response_model=None)
def due_form(
    request: Request,
    demand_id: DemandId,
    db: DB,
    caller: Caller,
    at: Clock,
    due_on: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    def change() -> str:
        try:
            new_due = date.fromisoformat(due_on)
        except ValueError as exc:
            raise InputError(
                f"整改要求“{demand_id}”的新期限“{due_on}”无效：应为日期，如 2026-12-31"
            ) from exc
        move_due(db, caller, demand_id, new_due, reason, at)
        return f"整改期限已调整为 {new_due.isoformat()}"

    typed = {"due_on": due_on, "due_reason": reason}
    return _changed(request, db, caller, demand_id, at, change, typed)


@router.get("/rectifications/{demand_id}/files/{attachment_id}", response_model=None)
def demand_file_download(
    request: Request,
    demand_id: DemandId,
    attachment_id: Annotated[str, Path(max_length=32)],
    db: DB,
    caller: Caller,
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    return served_file(
        request, db, caller, lambda: demand_file(db, caller, demand_id, attachment_id)
    )


def nav_item(request: Request, db: Database, principal: Principal) -> NavItem | None:
    """整改 in the menu, with what the user owes: a department its units' demands to answer
    (待整改, 已退回), an administrator the replies to confirm or return (kept a few seconds)."""
    if principal.role not in READ_ROLES:
        return None
    key = ("rectification-owed", principal.role, principal.org_code, principal.scope)
    return NavItem(
        "/rectifications", "整改", cached(request, key, lambda: owed_count(db, principal))
    )


def register(app: FastAPI) -> None:
    """Mount the 整改 pages, their JSON API (``/api/v1/rectifications``) and the menu's 整改."""
    app.include_router(router, include_in_schema=False)
    app.include_router(api_router, prefix="/api/v1")
    if nav_item not in NAV_EXTRAS:
        NAV_EXTRAS.append(nav_item)
