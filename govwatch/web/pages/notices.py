"""通报: the notices' list, one notice's page, its files, and the workflow's buttons.

- ``GET /notices``: the notices the caller may read (:func:`govwatch.reports.workflow.
  visible_condition`), filtered by stage, kind and period, newest first, with each notice's
  acknowledgements (签收 n/m, a link to the list of who); ``?format=xlsx|csv`` exports the list,
  ``?format=json`` is its twin. An administrator drafts a notice from here.
- ``GET /notices/{id}``: the text and tables as the document says them, the downloads (DOCX laid
  out per GB/T 9704-2012, PDF, XLSX: r15doc's writers, into a temporary directory), and by
  stage: the edit form (draft), approve and issue (each confirmed on a page of its own), the
  acknowledgement list (administrators, supervisors), 签收 (a department).
- ``POST /notices/{id}/edit|confirm|approve|issue|ack`` and ``POST /notices/draft``.

Each action is the workflow's function (ledgered there); a refusal shows its Chinese message.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, FastAPI, Form, Path, Query, Request
from fastapi.responses import Response

from govwatch.auth.names import department_names, people_names, unit_names
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.exports import content_disposition
from govwatch.reports.document import write_docx, write_pdf, write_xlsx
from govwatch.reports.fields import legend, to_chinese
from govwatch.reports.model import Notice
from govwatch.reports.period import parse_period
from govwatch.reports.supervision import resolve_scope
from govwatch.reports.workflow import (
    KIND_NAMES,
    SPECS,
    STATUS_NAMES,
    NoticeFilter,
    NoticeInputs,
    acknowledge,
    acknowledgements,
    approve_notice,
    count_notices,
    draft_notice,
    edit_notice,
    get_notice,
    issue_notice,
    list_notices,
    notice_of,
    recipients,
    unacknowledged_count,
    verify_notice,
)
from govwatch.storage import Database
from govwatch.vocabulary import RULE_NAMES, WORKFLOW_STATE_NAMES
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.notices import router as api_router
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
from govwatch.web.pages.forms import acted, refusal
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter(include_in_schema=False)
NoticeId = Annotated[str, Path(max_length=32)]
PAGE_SIZE = 30
READ_ROLES = frozenset({"admin", "supervisor", "department", "evaluator"})
FILE_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LIST_COLUMNS = (
    "发文字号",
    "标题",
    "类型",
    "期间或批次",
    "状态",
    "起草时间",
    "下发时间",
    "应签收",
    "已签收",
)


def _filter(status: str, kind: str, period: str) -> NoticeFilter:
    return NoticeFilter(
        status=status if status in STATUS_NAMES else None,
        kind=kind if kind in KIND_NAMES else None,
        period=period.strip() or None,
    )


def _query(f: NoticeFilter) -> str:
    params = {"status": f.status or "", "kind": f.kind or "", "period": f.period or ""}
    return "/notices?" + urlencode({k: v for k, v in params.items() if v})


def _export_rows(db: Database, caller: Principal, f: NoticeFilter) -> Iterator[Sequence[object]]:
    offset = 0
    while True:
        rows = list_notices(db, caller, f, 500, offset)
        for r in rows:
            yield (
                r["doc_number"], r["title"], KIND_NAMES[r["kind"]], r["period"] or r["round_id"],
                STATUS_NAMES[r["status"]], r["drafted_at"], r["issued_at"], r["addressed"],
                r["acked"],
            )  # fmt: skip
        if len(rows) < 500:
            return
        offset += 500


def _rounds(db: Database) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT round_id, name FROM eval_rounds WHERE status IN ('published', 'closed') "
        "ORDER BY period_end DESC, round_id"
    )


@router.get("/notices", response_model=None)
def notices(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    status: Annotated[str, Query(max_length=16)] = "",
    kind: Annotated[str, Query(max_length=16)] = "",
    period: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    refused = refusal(request, db, caller, READ_ROLES, "本角色没有通报")
    if refused is not None:
        return refused
    f = _filter(status, kind, period)
    fmt = export_format(format)
    if fmt is not None:
        return sheet_response(
            title="通报列表",
            filters=[
                ("状态", STATUS_NAMES.get(f.status or "", "")),
                ("类型", KIND_NAMES.get(f.kind or "", "")),
                ("期间", f.period or ""),
            ],
            columns=LIST_COLUMNS,
            rows=_export_rows(db, caller, f),
            fmt=fmt,
            filename=f"通报列表-{at.date().isoformat()}",
            exported_at=at,
        )
    rows = list_notices(db, caller, f, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    total = count_notices(db, caller, f)
    data = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
    }
    if wants_json(request):
        return json_response(data)
    from_day = at.date().replace(day=1) - timedelta(days=1)
    return render(
        request,
        db,
        caller,
        "notices.html",
        data
        | {
            "f": f,
            "base": _query(f),
            "status_names": STATUS_NAMES,
            "kind_names": KIND_NAMES,
            "can_draft": caller.role == "admin",
            "rounds": _rounds(db) if caller.role == "admin" else [],
            "default_period": f"{from_day:%Y-%m}",
        },
    )


@router.post("/notices/draft", response_model=None)
def draft(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    kind: Annotated[str, Form(max_length=16)] = "",
    period: Annotated[str, Form(max_length=32)] = "",
    scope: Annotated[str, Form(max_length=64)] = "",
    round_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    inputs = NoticeInputs(
        kind,
        period.strip() or None if kind == "supervision" else None,
        scope.strip() or None if kind == "supervision" else None,
        round_id.strip() or None if kind == "evaluation" else None,
    )
    try:
        notice_id = draft_notice(db, caller, inputs, at)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    return back(f"/notices/{notice_id}", "已起草通报，请核对内容后审核")


def _read(db: Database, caller: Principal, notice_id: str) -> dict[str, Any]:
    row = get_notice(db, caller, notice_id)
    row["notice"] = notice_of(row)
    row["templates"] = orjson.loads(str(row["templates"]))
    row["settings"] = orjson.loads(str(row["settings"]))
    return row


def _form_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The edit form: each template with its name, current value and the legend of the fields
    it may use (Chinese name, what it holds); each setting with its name and value."""
    kind = str(row["kind"])
    spec = SPECS[kind]
    defaults = spec.templates()
    templates = [
        {
            "key": k,
            "name": spec.template_names.get(k, "段落"),
            "value": to_chinese(kind, str(row["templates"].get(k, text))),
            "changed": k in row["templates"],
            "legend": legend(kind, text),
        }
        for k, text in defaults.items()
    ]
    notice = row["notice"]
    current = {
        "doc_number": notice.doc_number,
        "addressees": notice.addressees,
        "issuer": notice.issuer,
    }
    settings = []
    for key, default in spec.settings().items():
        if key not in spec.setting_names:
            continue
        value = row["settings"].get(key, current.get(key, default))
        settings.append(
            {"key": key, "name": spec.setting_names[key], "value": "" if value is None else value}
        )
    return {"template_fields": templates, "setting_fields": settings}


def _cell(si: int, ti: int, ri: int, ci: int) -> str:
    return f"{si}.{ti}.{ri}.{ci}"


def table_links(db: Database, row: Mapping[str, Any], doc: Notice) -> dict[str, str]:
    """The lists the supervision notice's table numbers count, by cell (``section.table.row.
    column``): a unit's red and yellow cards and an alert class's cards → /alerts with the
    level, rule or unit and the days of the period (by when the anomaly arose); a handling
    state → /alerts?state=…; a unit's cases applied, overdue, finished, on time → /cases with
    the same days. A number with no list of its own (totals over several levels, rates, ranks)
    is left unlinked, as is a row whose unit name several units share."""
    if row["kind"] != "supervision" or not row.get("period"):
        return {}
    try:
        p = parse_period(str(row["period"]))
        where = resolve_scope(db, row.get("scope"))
    except GovwatchError:
        return {}
    days = {"date_from": p.start.isoformat(), "date_to": p.end.isoformat()}
    place = {"region": where.region, "department": where.department}
    unit_codes: dict[str, str] = {}
    for code, name in department_names(db).items():
        unit_codes[name] = "" if name in unit_codes else code  # a shared name: no link

    def unit_of(shown: object) -> str:
        """The unit's code: the table shows its name, or its code when it has none."""
        return unit_codes.get(str(shown), str(shown))

    rule_ids = {name: rule for rule, name in RULE_NAMES.items()}
    state_ids = {name: state for state, name in WORKFLOW_STATE_NAMES.items()}

    def alerts(**params: str) -> str:
        query = {"status": "all", **place, "date_by": "occurred", **days, **params}
        return "/alerts?" + urlencode({k: v for k, v in query.items() if v})

    def cases(unit: str, when: str, timing: str = "") -> str:
        query = {
            "region": where.region,
            "department": unit,
            f"{when}_from": p.start.isoformat(),
            f"{when}_to": p.end.isoformat(),
            "timing": timing,
        }
        return "/cases?" + urlencode({k: v for k, v in query.items() if v})

    links: dict[str, str] = {}
    for si, section in enumerate(doc.sections):
        for ti, table in enumerate(section.tables):
            for ri, r in enumerate(table.rows):
                out: dict[int, str] = {}
                if table.title == "监察告警分类统计":
                    rule = rule_ids.get(str(r[1]), str(r[1]))
                    out = {
                        2: alerts(rule=rule, level="red"),
                        3: alerts(rule=rule, level="yellow"),
                        4: alerts(rule=rule, level="warning"),
                        5: alerts(rule=rule),
                    }
                elif table.title == "各单位红黄牌情况" and unit_of(r[1]):
                    unit = unit_of(r[1])
                    out = {
                        2: alerts(department=unit, level="red"),
                        3: alerts(department=unit, level="yellow"),
                        5: cases(unit, "applied"),
                    }
                elif table.title == "监察告警处置情况" and str(r[0]) in state_ids:
                    out = {1: alerts(state=state_ids[str(r[0])])}
                elif table.title == "各单位办件时效情况" and unit_of(r[0]):
                    unit = unit_of(r[0])
                    out = {
                        1: cases(unit, "applied"),
                        2: cases(unit, "applied", "overdue"),
                        4: cases(unit, "finished"),
                        5: cases(unit, "finished", "ontime"),
                    }
                for ci, url in out.items():
                    if isinstance(r[ci], int) and r[ci]:
                        links[_cell(si, ti, ri, ci)] = url
    return links


@router.get("/notices/{notice_id}", response_model=None)
def notice_page(
    request: Request,
    notice_id: NoticeId,
    db: DB,
    caller: Caller,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        row = _read(db, caller, notice_id)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    manage = caller.role in ("admin", "supervisor")
    acks = acknowledgements(db, notice_id) if manage else []
    mine = None
    if caller.role == "department" and caller.org_code:
        found = [a for a in acknowledgements(db, notice_id) if a["unit"] == caller.org_code]
        mine = found[0] if found and found[0]["acked_at"] is not None else None
    check = verify_notice(db, notice_id).to_json() if row["status"] == "issued" else None
    if wants_json(request):
        out = {k: v for k, v in row.items() if k != "notice"}
        out["body"] = row["notice"].to_dict()
        out["acknowledgements"] = acks
        out["verification"] = check
        return json_response(out)
    return render(
        request,
        db,
        caller,
        "notice.html",
        {
            "row": row,
            "doc": row["notice"],
            "status_names": STATUS_NAMES,
            "kind_names": KIND_NAMES,
            "acks": acks,
            "acked_count": sum(1 for a in acks if a["acked_at"] is not None and a["addressed"]),
            "addressed_count": sum(1 for a in acks if a["addressed"]),
            "names": unit_names(db),
            "people": people_names(db, [a["acked_by"] for a in acks]),
            "mine": mine,
            "can_edit": caller.role == "admin" and row["status"] != "issued",
            "can_approve": caller.role == "admin" and row["status"] == "draft",
            "can_issue": caller.role == "admin" and row["status"] == "approved",
            "can_ack": caller.role == "department" and mine is None,
            "check": check,
            "links": table_links(db, row, row["notice"]),
            **(_form_fields(row) if caller.role == "admin" and row["status"] != "issued" else {}),
        },
    )


@router.get("/notices/{notice_id}/file.{ext}", response_model=None)
def notice_file(
    request: Request,
    notice_id: NoticeId,
    ext: Annotated[str, Path(max_length=8)],
    db: DB,
    caller: Caller,
) -> Response:
    """The notice as DOCX, PDF or XLSX, written now from its stored body."""
    if caller.role == "public":
        return login_redirect(request)
    if ext not in FILE_TYPES:
        return error_page(
            request, db, caller, 404, f"没有“{ext}”格式的通报文件：可下载 docx、pdf、xlsx"
        )
    try:
        row = get_notice(db, caller, notice_id)
        notice = notice_of(row)
        with tempfile.TemporaryDirectory(prefix="govwatch-notice-") as tmp:
            folder = FilePath(tmp)
            if ext == "xlsx":
                path = write_xlsx(notice, folder / "notice.xlsx")
            else:
                path = write_docx(notice, folder / "notice.docx")
                if ext == "pdf":
                    path = write_pdf(path, folder / "notice.pdf")
            content = path.read_bytes()
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    name = f"{row['doc_number']}{row['title']}.{ext}"
    return Response(
        content,
        media_type=FILE_TYPES[ext],
        headers={"Content-Disposition": content_disposition(name)},
    )


async def _edit_values(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    form = await request.form()
    templates: dict[str, str] = {}
    settings: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            continue
        if key.startswith("t."):
            templates[key[2:]] = value.replace("\r\n", "\n")
        elif key.startswith("s."):
            settings[key[2:]] = value.strip()
    return templates, settings


@router.post("/notices/{notice_id}/edit", response_model=None)
async def edit(
    request: Request,
    notice_id: NoticeId,
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    templates, settings = await _edit_values(request)
    return acted(
        request,
        db,
        caller,
        lambda: edit_notice(db, caller, notice_id, templates, settings, at),
        f"/notices/{notice_id}",
        "已保存修改并重新生成通报（须重新审核）",
    )


ACTIONS = {"approve": "审核通过", "issue": "下发"}


@router.post("/notices/{notice_id}/confirm", response_model=None)
def confirm(
    request: Request,
    notice_id: NoticeId,
    db: DB,
    caller: Caller,
    action: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if action not in ACTIONS:
        return error_page(request, db, caller, 400, "操作无效：应为审核通过或下发")
    try:
        row = _read(db, caller, notice_id)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    general, units = recipients(db, notice_id) if action == "issue" else (False, [])
    return render(
        request,
        db,
        caller,
        "notice_confirm.html",
        {
            "row": row,
            "action": action,
            "action_name": ACTIONS[action],
            "general": general,
            "units": units,
            "names": unit_names(db),
        },
    )


@router.post("/notices/{notice_id}/approve", response_model=None)
def approve(
    request: Request,
    notice_id: NoticeId,
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    return acted(
        request,
        db,
        caller,
        lambda: approve_notice(db, caller, notice_id, at),
        f"/notices/{notice_id}",
        "通报已审核通过，可以下发",
    )


@router.post("/notices/{notice_id}/issue", response_model=None)
def issue(
    request: Request,
    notice_id: NoticeId,
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    return acted(
        request,
        db,
        caller,
        lambda: issue_notice(db, caller, notice_id, at),
        f"/notices/{notice_id}",
        lambda digest: f"通报已下发，内容已冻结（摘要 {digest[:16]}…）",
    )


@router.post("/notices/{notice_id}/ack", response_model=None)
def ack(
    request: Request,
    notice_id: NoticeId,
    db: DB,
    caller: Caller,
    at: Clock,
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return acted(
        request,
        db,
        caller,
        lambda: acknowledge(db, caller, notice_id, at),
        next if next.startswith("/notices") else f"/notices/{notice_id}",
        lambda first: "已签收" if first else "本单位此前已签收",
    )


def nav_item(request: Request, db: Database, principal: Principal) -> NavItem | None:
    """通报 in the menu, with what waits: a department's notices not yet acknowledged, an
    administrator's issued notices some unit has not acknowledged (kept a few seconds)."""
    if principal.role not in READ_ROLES:
        return None
    key = ("notices-unacked", principal.role, principal.org_code, principal.scope)
    return NavItem(
        "/notices", "通报", cached(request, key, lambda: unacknowledged_count(db, principal))
    )


def register(app: FastAPI) -> None:
    """The pages, the JSON API (``/api/v1/notices``) and the menu's 通报."""
    app.include_router(router)
    app.include_router(api_router)
    if nav_item not in NAV_EXTRAS:
        NAV_EXTRAS.append(nav_item)
