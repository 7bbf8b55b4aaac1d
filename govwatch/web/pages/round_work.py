"""Rounds worked by departments and evaluators, and their commissioning (issue 13 items 2, 3).

- ``GET /evaluations/todo``: 评估填报 (a department: the values it still has to fill, per round
  and unit, with the fill deadline as a working-day countdown) or 评估核查 (an evaluator: the
  rounds it is commissioned for, with its progress and the values waiting for its check);
  ``?format=json`` its twin, ``xlsx``/``csv`` its export.
- ``/evaluations/{round}/fill``: a department fills its units' ``filled`` indicators with
  evidence files until the fill deadline.
- ``/evaluations/{round}/check``: a commissioned evaluator enters its indicators with evidence
  (link, file or screenshot, note), verifies or disputes departments' values, imports a sheet
  (XLSX or CSV) and sees its progress.
- ``/evaluations/{round}/appeal``: a department's result in review, the points it lost per
  indicator, and its appeals (with files) within the window.
- ``/evaluations/{round}/commission``: the administrator names the round's evaluators and the
  indicators each may enter.
- ``GET /evaluations/{round}/files/{id}``: an evidence or appeal file, as a download, for a
  reader who may see that unit's values in the round.

Every change goes through :mod:`govwatch.evaluation.rounds` (values, review, commission), which
checks who may do it and appends it to the ledger under the signed-in user. The JSON API twin
is :mod:`govwatch.web.api.rounds_work`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Path, Request, UploadFile
from fastapi.responses import Response

from govwatch.alerts.attachments import (
    ACCEPT,
    MAX_ATTACHMENT_BYTES,
    MAX_FILES,
    size_text,
)
from govwatch.auth.errors import ForbiddenError
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.rounds.commission import (
    KIND_NAMES,
    Evaluator,
    commission,
    commissions,
    revoke,
)
from govwatch.evaluation.rounds.review import submit_appeal
from govwatch.evaluation.rounds.values import (
    EvidenceFile,
    add_evidence_files,
    round_system,
    submit_value,
    verify_value,
)
from govwatch.evaluation.rounds.work import (
    IMPORT_COLUMNS,
    appeal_sheet,
    check_sheet,
    fill_sheet,
    import_values,
    read_sheet,
)
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock, clock
from govwatch.web.api.rounds_work import (
    actor_of,
    checked_files,
    due_of,
    named_round,
    owed,
    round_file,
    todo_context,
    visible_round,
)
from govwatch.web.api.rounds_work import router as api_router
from govwatch.web.pages.base import (
    NAV_EXTRAS,
    NavItem,
    back,
    cached,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.files import read_uploads
from govwatch.web.pages.forms import context_page, served_file
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter(include_in_schema=False)
RoundId = Annotated[str, Path(min_length=1, max_length=64)]
UPLOAD = {"accept": ACCEPT, "max_files": MAX_FILES, "max_text": size_text(MAX_ATTACHMENT_BYTES)}
WORK_ROLES = ("department", "evaluator")
TODO_TITLES = {"department": "评估填报", "evaluator": "评估核查"}
FILL_COLUMNS = ("期限", "剩余/超期", "评估批次", "单位编码", "单位", "待填指标", "已填/应填")
CHECK_COLUMNS = ("评估批次", "状态", "已录入", "受托应录入", "待核验的部门填报")


def _todo_rows(context: dict[str, Any]) -> Iterator[Sequence[object]]:
    if context["role"] == "department":
        for r in context["fill"]:
            yield (
                r["countdown"]["due_on"],
                r["countdown"]["text"],
                r["round_name"],
                r["unit"],
                r["unit_name"],
                "、".join(p["name"] for p in r["pending"]),
                f"{r['filled']}/{r['total']}",
            )
    else:
        for r in context["rounds"]:
            yield (
                r["round"]["name"],
                r["round"]["status_name"],
                r["entered"],
                r["commissioned"],
                r["unchecked"],
            )


@router.get("/evaluations/todo", response_model=None)
def todo_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        context = todo_context(db, caller, at)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    if wants_json(request):
        return json_response(context)
    fmt = export_format(request.query_params.get("format", ""))
    title = TODO_TITLES[context["role"]]
    if fmt is not None:
        return sheet_response(
            title=title,
            filters=(),
            columns=FILL_COLUMNS if context["role"] == "department" else CHECK_COLUMNS,
            rows=_todo_rows(context),
            fmt=fmt,
            filename=f"{title}-{at.date().isoformat()}",
            exported_at=at,
        )
    return render(request, db, caller, "round_todo.html", context | {"title": title})


def back_to(url: str, anchor: str, message: str) -> Response:
    """After a form: back to the page with the notice, scrolled to the row it changed."""
    answer = back(url, message)
    answer.headers["location"] += f"#{anchor}"
    return answer


def _without_upload(context: dict[str, Any]) -> dict[str, Any]:
    """A work page's JSON twin: its context without the upload form's limits."""
    return {k: v for k, v in context.items() if k != "upload"}


def evidence_files(files: Sequence[UploadFile | str]) -> list[EvidenceFile]:
    """Uploaded files through the attachment allow-list, size limit and content check."""
    return checked_files(read_uploads(files))


# --- department: fill ----------------------------------------------------------------------


def _fill_context(db: Database, caller: Principal, round_id: str, at: datetime) -> dict[str, Any]:
    if caller.role != "department":
        raise ForbiddenError("评估填报供部门用户使用（第三方评估人员请用“评估核查”）")
    row = visible_round(db, caller, round_id)
    sheet = fill_sheet(db, round_id, actor_of(caller), at)
    return sheet | {
        "round": named_round(sheet["round"]),
        "countdown": due_of(db, row["fill_deadline_at"], at.date()),
        "upload": UPLOAD,
    }


@router.get("/evaluations/{round_id}/fill", response_model=None)
def fill_page(request: Request, round_id: RoundId, db: DB, caller: Caller, at: Clock) -> Response:
    return context_page(
        request,
        db,
        caller,
        lambda: _fill_context(db, caller, round_id, at),
        "round_fill.html",
        _without_upload,
    )


@router.post("/evaluations/{round_id}/fill", response_model=None)
def fill(
    request: Request,
    round_id: RoundId,
    db: DB,
    caller: Caller,
    at: Clock,
    unit: Annotated[str, Form(max_length=64)],
    indicator: Annotated[str, Form(max_length=128)],
    value: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    files: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 - per request
) -> Response:
    def change() -> None:
        if caller.role != "department":
            raise ForbiddenError("评估填报供部门用户使用")
        entry = _Entry(round_id, unit, indicator, value, note, files)
        _save_value(db, caller, entry, at, "请填写指标值，或上传证明材料")

    here = _Here(request, db, caller, round_id, at, "fill")
    return _saved(here, change, f"v-{unit}-{indicator}", "已保存填报")


@dataclass(frozen=True)
class _Entry:
    """One value form as sent: a department's 填报 or an evaluator's 核查."""

    round_id: str
    unit: str
    indicator: str
    value: str
    note: str
    files: Sequence[UploadFile | str]
    evidence_url: str | None = None  # an evaluator's link (the fill form has none)


def _save_value(db: Database, caller: Principal, entry: _Entry, at: datetime, missing: str) -> None:
    """The value (when given) and the evidence files in one unit of work; neither: ``missing``."""
    visible_round(db, caller, entry.round_id)
    actor = actor_of(caller)
    checked = evidence_files(entry.files)
    where = (db, entry.round_id, entry.unit, entry.indicator)
    with db.transaction():
        if entry.value.strip():
            note = entry.note.strip() or None
            submit_value(*where, entry.value, actor, at, note, evidence_url=entry.evidence_url)
        elif not checked:
            raise InputError(missing)
        add_evidence_files(*where, checked, actor, at)


@dataclass(frozen=True)
class _Here:
    """The round work page a form was sent from (``fill``, ``check`` or ``appeal``)."""

    request: Request
    db: Database
    caller: Principal
    round_id: str
    at: datetime
    page: str


def _saved(
    here: _Here,
    change: Callable[[], None],
    anchor: str,
    message: str,
    extra: dict[str, Any] | None = None,
) -> Response:
    """A form on a work page: ``change()``, then back to the page at ``#anchor`` with
    ``message``; an expected error shows the page again with it (and ``extra``)."""
    if here.caller.role == "public":
        return login_redirect(here.request)
    try:
        change()
    except GovwatchError as exc:
        return _again(
            here.request, here.db, here.caller, here.round_id, here.at, exc, here.page, extra
        )
    return back_to(f"/evaluations/{here.round_id}/{here.page}", anchor, message)


def _again(
    request: Request,
    db: Database,
    caller: Principal,
    round_id: str,
    at: datetime,
    exc: GovwatchError,
    page: str,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The page again with the error (or an error page when it cannot be shown)."""
    build = {"fill": _fill_context, "check": _check_context, "appeal": _appeal_context}[page]
    try:
        context = build(db, caller, round_id, at)
    except GovwatchError:
        return error_page(request, db, caller, status_of(exc), str(exc))
    context |= {"error": str(exc)} | (extra or {})
    return render(request, db, caller, f"round_{page}.html", context, status_of(exc))


# --- evaluator: check ----------------------------------------------------------------------


def _check_context(db: Database, caller: Principal, round_id: str, at: datetime) -> dict[str, Any]:
    if caller.role not in ("evaluator", "admin"):
        raise ForbiddenError("评估核查供受托的第三方评估人员使用")
    visible_round(db, caller, round_id)
    sheet = check_sheet(db, round_id, actor_of(caller))
    return sheet | {
        "round": named_round(sheet["round"]),
        "upload": UPLOAD,
        "import_columns": IMPORT_COLUMNS,
        "me": f"{caller.role}:{caller.name}",
    }


@router.get("/evaluations/{round_id}/check", response_model=None)
def check_page(request: Request, round_id: RoundId, db: DB, caller: Caller, at: Clock) -> Response:
    return context_page(
        request,
        db,
        caller,
        lambda: _check_context(db, caller, round_id, at),
        "round_check.html",
        _without_upload,
    )


@router.post("/evaluations/{round_id}/check/value", response_model=None)
def check_value(
    request: Request,
    round_id: RoundId,
    db: DB,
    caller: Caller,
    at: Clock,
    unit: Annotated[str, Form(max_length=64)],
    indicator: Annotated[str, Form(max_length=128)],
    value: Annotated[str, Form(max_length=64)] = "",
    evidence_url: Annotated[str, Form(max_length=2000)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    files: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 - per request
) -> Response:
    def change() -> None:
        entry = _Entry(round_id, unit, indicator, value, note, files, evidence_url)
        _save_value(db, caller, entry, at, "请填写核查结果（指标值），或上传证据")

    here = _Here(request, db, caller, round_id, at, "check")
    return _saved(here, change, f"c-{unit}-{indicator}", "已保存核查结果")


@router.post("/evaluations/{round_id}/check/verify", response_model=None)
def check_verify(
    request: Request,
    round_id: RoundId,
    db: DB,
    caller: Caller,
    at: Clock,
    unit: Annotated[str, Form(max_length=64)],
    indicator: Annotated[str, Form(max_length=128)],
    verdict: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def change() -> None:
        visible_round(db, caller, round_id)
        if verdict not in ("verified", "disputed"):
            raise InputError("核验结论应为“核验通过”或“有异议”")
        disputed = verdict == "disputed"
        verify_value(
            db, round_id, unit, indicator, actor_of(caller), at, disputed=disputed, note=note
        )

    done = "已标记为有异议" if verdict == "disputed" else "已核验通过"
    here = _Here(request, db, caller, round_id, at, "check")
    return _saved(here, change, f"v-{unit}-{indicator}", done)


@router.post("/evaluations/{round_id}/check/import", response_model=None)
def check_import(
    request: Request,
    round_id: RoundId,
    db: DB,
    caller: Caller,
    at: Clock,
    sheet: Annotated[UploadFile | str, File()] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        visible_round(db, caller, round_id)
        actor = actor_of(caller)
        if isinstance(sheet, str) or not sheet.filename:
            raise InputError("请选择要导入的 Excel 表格（.xlsx）或 CSV 文件")
        rows = read_sheet(sheet.filename, sheet.file.read(5 * 2**20 + 1))
        result = import_values(db, round_id, rows, actor, at)
    except GovwatchError as exc:
        return _again(request, db, caller, round_id, at, exc, "check")
    context = _check_context(db, caller, round_id, at) | {"imported": result.as_dict()}
    return render(request, db, caller, "round_check.html", context)


# --- department: result and appeal -----------------------------------------------------------


def _appeal_context(db: Database, caller: Principal, round_id: str, at: datetime) -> dict[str, Any]:
    if caller.role != "department":
        raise ForbiddenError("申诉由被评估单位（部门用户）提出")
    row = visible_round(db, caller, round_id)
    sheet = appeal_sheet(db, round_id, actor_of(caller), at)
    until = row.get("review_until_at")
    return sheet | {
        "round": named_round(sheet["round"]),
        "countdown": due_of(db, until, at.date()),
        "upload": UPLOAD,
    }


@router.get("/evaluations/{round_id}/appeal", response_model=None)
def appeal_page(request: Request, round_id: RoundId, db: DB, caller: Caller, at: Clock) -> Response:
    return context_page(
        request,
        db,
        caller,
        lambda: _appeal_context(db, caller, round_id, at),
        "round_appeal.html",
        _without_upload,
    )


@router.post("/evaluations/{round_id}/appeal", response_model=None)
def appeal(
    request: Request,
    round_id: RoundId,
    db: DB,
    caller: Caller,
    at: Clock,
    unit: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=4000)] = "",
    indicator: Annotated[str, Form(max_length=128)] = "",
    files: Annotated[list[UploadFile | str], File()] = [],  # noqa: B006 - per request
) -> Response:
    def change() -> None:
        if caller.role != "department":
            raise ForbiddenError("申诉由被评估单位（部门用户）提出")
        visible_round(db, caller, round_id)
        actor = actor_of(caller)
        checked = evidence_files(files)
        submit_appeal(db, round_id, unit, reason, actor, at, indicator or None, checked)

    here = _Here(request, db, caller, round_id, at, "appeal")
    typed = {"typed": {"unit": unit, "reason": reason, "indicator": indicator}}
    return _saved(here, change, "appeals", "已提交申诉", typed)


# --- administrator: commissioning -------------------------------------------------------------


def _commission_context(db: Database, caller: Principal, round_id: str) -> dict[str, Any]:
    if caller.role != "admin":
        raise ForbiddenError("委托第三方评估需要管理员角色")
    row = visible_round(db, caller, round_id)
    system = round_system(row)
    evaluators = db.query_dicts(
        "SELECT username, display_name, org_code FROM users WHERE role = 'evaluator' "
        "AND active ORDER BY username"
    )
    orgs = sorted({str(e["org_code"]) for e in evaluators if e["org_code"]})
    return {
        "round": named_round({k: row[k] for k in ("round_id", "name", "status")}),
        "leaves": [
            {"id": lf.id, "name": lf.name, "points": lf.points, "source": lf.source}
            for lf in system.leaves
            if lf.source in ("check", "survey", "rating")
        ],
        "names": {lf.id: lf.name for lf in system.leaves},
        "commissions": commissions(db, round_id),
        "evaluators": evaluators,
        "orgs": orgs,
        "kind_names": KIND_NAMES,
    }


@router.get("/evaluations/{round_id}/commission", response_model=None)
def commission_page(request: Request, round_id: RoundId, db: DB, caller: Caller) -> Response:
    return context_page(
        request,
        db,
        caller,
        lambda: _commission_context(db, caller, round_id),
        "round_commission.html",
        lambda context: {k: context[k] for k in ("round", "leaves", "commissions")},
    )


@router.post("/evaluations/{round_id}/commission", response_model=None)
def commission_save(
    request: Request,
    round_id: RoundId,
    db: DB,
    caller: Caller,
    at: Clock,
    kind: Annotated[str, Form(max_length=8)],
    evaluator: Annotated[str, Form(max_length=64)],
    leaves: Annotated[list[str], Form()] = [],  # noqa: B006 - per request
    action: Annotated[str, Form(max_length=16)] = "commission",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        if caller.role != "admin":
            raise ForbiddenError("委托第三方评估需要管理员角色")
        visible_round(db, caller, round_id)
        who = Evaluator(kind, evaluator)
        if action == "revoke":
            revoke(db, round_id, who, actor_of(caller), at)
            done = f"已撤销对“{evaluator}”的委托"
        else:
            commission(db, round_id, who, leaves, actor_of(caller), at)
            done = f"已委托“{evaluator}”录入 {len(leaves)} 项指标"
    except GovwatchError as exc:
        try:
            context = _commission_context(db, caller, round_id)
        except GovwatchError:
            return error_page(request, db, caller, status_of(exc), str(exc))
        context |= {"error": str(exc), "typed": {"kind": kind, "evaluator": evaluator}}
        return render(request, db, caller, "round_commission.html", context, status_of(exc))
    return back(f"/evaluations/{round_id}/commission", done)


# --- files --------------------------------------------------------------------------------


@router.get("/evaluations/{round_id}/files/{file_id}", response_model=None)
def round_file_download(
    request: Request,
    round_id: RoundId,
    file_id: Annotated[str, Path(max_length=32)],
    db: DB,
    caller: Caller,
) -> Response:
    return served_file(request, db, caller, lambda: round_file(db, caller, round_id, file_id))


def menu_item(request: Request, db: Database, principal: Principal) -> NavItem | None:
    """评估填报 (a department) or 评估核查 (an evaluator) with what the user owes, kept a few
    seconds per user in the page cache (emptied by any write through the app)."""
    if principal.role not in TODO_TITLES:
        return None
    at: datetime = request.app.dependency_overrides.get(clock, clock)()
    key = ("round-owed", principal.role, principal.name, principal.scope, at.date())
    count = cached(request, key, lambda: owed(db, principal, at))
    return NavItem("/evaluations/todo", TODO_TITLES[principal.role], count)


def register(app: FastAPI) -> None:
    """The pages, their JSON API twin under /api/v1 and the menu entry; registered before the
    round page (govwatch.web.app.PAGE_MODULES) so that /evaluations/todo is not read as a
    round."""
    app.include_router(router)
    app.include_router(api_router, prefix="/api/v1")
    if menu_item not in NAV_EXTRAS:
        NAV_EXTRAS.append(menu_item)


__all__ = ["register", "router"]
