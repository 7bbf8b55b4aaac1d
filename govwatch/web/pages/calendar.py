"""工作日历: which years have their holiday notice, a year's month grids, loading a notice.

An administrator pastes (or uploads) the text of the State Council's notice as published; the
preview shows the year as it would be (twelve month grids, rest days and make-up working days
marked, festival names, the days that would change) and the text goes back with the confirm
button, parsed again on saving: nothing is kept between the two requests. Saving goes through
:func:`govwatch.live.pipeline.load_calendar`, as ``govwatch calendar load --notice`` does, so
the open cases the changed days reach are re-clocked and their alerts raised or cleared; the
flash message says how many. Everyone signed in may look; ``?format=json`` is the JSON twin.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from govwatch.auth.principal import Principal
from govwatch.calendar.build import FIRST_DAY, LAST_DAY
from govwatch.calendar.coverage import calendar_coverage, source_label
from govwatch.calendar.grid import notice_kinds, year_grid
from govwatch.calendar.notice import Notice, decode_notice, parse_notice
from govwatch.calendar.store import show, status
from govwatch.errors import GovwatchError, InputError
from govwatch.live.pipeline import load_calendar
from govwatch.storage import Database
from govwatch.vocabulary import DAY_KIND_NAMES
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    back,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)

router = APIRouter()

MANAGE_ROLE = "admin"  # loading a notice changes every open case's clock
MAX_NOTICE_CHARS = 20_000  # a notice is about 1 000 characters; a whole saved page fits
MAX_UPLOAD_BYTES = 200_000
PASTED = "网页粘贴"


def _year_of(request: Request, default: int) -> int:
    raw = request.query_params.get("year", "")
    if raw.isdigit() and FIRST_DAY.year <= int(raw) <= LAST_DAY.year:
        return int(raw)
    return default


def _stored_kinds(db: Database, year: int) -> dict[date, tuple[str, str | None]]:
    return {date.fromisoformat(d["date"]): (d["kind"], d["name"]) for d in show(db, year)}


def calendar_data(db: Database, year: int, at: datetime) -> dict[str, Any]:
    """The page's facts (and its JSON twin): coverage, the years, one year's days."""
    coverage = calendar_coverage(db, at.date())
    days = show(db, year)
    return {
        "coverage": coverage.to_dict(),
        "years": [y.to_dict() for y in status(db)],
        "year": year,
        "days": days,
    }


def _page(
    request: Request,
    db: Database,
    caller: Principal,
    at: datetime,
    *,
    year: int | None = None,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    coverage = calendar_coverage(db, at.date())
    default = coverage.missing_years[0] if coverage.missing_years else at.year
    shown = year or _year_of(request, default)
    years = {y.year: y for y in status(db)}
    nearby = [years[y] for y in range(at.year - 2, at.year + 3) if y in years]
    return render(
        request,
        db,
        caller,
        "calendar.html",
        {
            "coverage": coverage,
            "nearby": nearby,
            "shown": shown,
            "shown_status": years.get(shown),
            "months": year_grid(shown, _stored_kinds(db, shown)),
            "kind_names": DAY_KIND_NAMES,
            "source_label": source_label,
            "can_manage": caller.role == MANAGE_ROLE,
            "text": "",
            "preview": None,
            **extra,
        },
        status_code,
    )


@router.get("/calendar", response_model=None)
def calendar_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if wants_json(request):
        return json_response(calendar_data(db, _year_of(request, at.year), at))
    return _page(request, db, caller, at)


async def _notice_text(request: Request) -> tuple[str, str]:
    """The notice from the form: an uploaded file (preferred) or the pasted text."""
    form = await request.form()
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InputError(f"上传的文件“{upload.filename}”过大：通知全文应小于 200 KB")
        return decode_notice(data, f"上传的文件“{upload.filename}”"), upload.filename
    text = form.get("text")
    text = text if isinstance(text, str) else ""
    label = form.get("label")
    label = label if isinstance(label, str) and label else PASTED
    if not text.strip():
        raise InputError("请粘贴通知全文或选择通知文件")
    if len(text) > MAX_NOTICE_CHARS:
        raise InputError(f"粘贴的内容过长（{len(text)} 字）：通知全文应少于 {MAX_NOTICE_CHARS} 字")
    return text, label


def _parse(text: str, label: str) -> Notice:
    where = "粘贴的通知" if label == PASTED else f"文件“{label}”"
    return parse_notice(text, where=where, label=label)


def _preview(db: Database, notice: Notice) -> dict[str, Any]:
    kinds = notice_kinds(notice.days)
    years = list(notice.annual_years or notice.years)
    grids = []
    for year in years:
        stored = _stored_kinds(db, year)
        # an annual notice replaces the year; a supplement changes the dates it names
        after = kinds if year in notice.annual_years else {**stored, **kinds}
        months = year_grid(year, after, stored)
        changed = sum(1 for m in months for w in m.weeks for d in w if d and d.changed)
        grids.append({"year": year, "months": months, "changed": changed})
    return {
        "notice": notice,
        "grids": grids,
        "others": [d for d in notice.days if d.on_date.year not in years],
    }


@router.post("/calendar/preview", response_model=None)
async def calendar_preview(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if caller.role != MANAGE_ROLE:
        return error_page(request, db, caller, 403, "只有管理员可以导入节假日安排")
    text, label = "", PASTED
    try:
        text, label = await _notice_text(request)
        notice = _parse(text, label)
    except GovwatchError as exc:
        return _page(request, db, caller, at, status_code=status_of(exc), error=str(exc), text=text)
    preview = _preview(db, notice)
    return _page(
        request,
        db,
        caller,
        at,
        year=preview["grids"][0]["year"] if preview["grids"] else None,
        preview=preview,
        text=text,
        label=label,
    )


@router.post("/calendar/load", response_model=None)
async def calendar_load(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if caller.role != MANAGE_ROLE:
        return error_page(request, db, caller, 403, "只有管理员可以导入节假日安排")
    text = ""
    try:
        text, label = await _notice_text(request)
        report = load_calendar(db, _parse(text, label), at=at)
    except GovwatchError as exc:
        return _page(request, db, caller, at, status_code=status_of(exc), error=str(exc), text=text)
    years = "、".join(str(y) for y in report.years)
    return back(
        f"/calendar?year={report.years[0]}" if report.years else "/calendar",
        f"已导入 {years} 年节假日安排：{report.dates} 个日期，"
        f"{len(report.workday_changed)} 天的工作日属性改变；重新计算 {report.cases_recomputed} "
        f"件在办办件的期限，其中 {len(report.cases_changed)} 件期限改变",
    )
