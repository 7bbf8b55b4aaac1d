"""办件列表 (``/cases``): find cases by number (its beginning), item (code or part of its name),
region, department, status, applied dates and timeliness; the total and page numbers; exports.

Reads through :mod:`govwatch.alerts.case_list`; the JSON twin (``?format=json``) is the API
resource ``GET /api/v1/cases``; ``?format=xlsx`` / ``csv`` exports the whole filtered list
(:mod:`govwatch.web.pages.sheets`). One case's page is ``/cases/{case_id}``
(:mod:`govwatch.web.pages.cases`). A date that is not a date or a start after the end is
answered with a Chinese message (status 422), never ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from govwatch.alerts.case_list import STATUSES, TIMINGS, CaseFilter, iter_cases
from govwatch.alerts.date_range import DateRangeError
from govwatch.auth.names import department_names, region_names
from govwatch.auth.principal import Principal
from govwatch.storage import Database
from govwatch.vocabulary import CASE_STATUS_NAMES, CASE_TIMING_NAMES, LEVEL_NAMES, label
from govwatch.web.api.cases import case_filter, case_page_resource
from govwatch.web.api.deps import DB, Caller
from govwatch.web.pages.base import (
    error_page,
    json_response,
    login_redirect,
    render,
    wants_json,
)
from govwatch.web.pages.paging import Paging, filter_query, refused_json
from govwatch.web.pages.sheets import FORMATS, sheet_response

router = APIRouter()
PAGE_SIZE = 50
EXPORT_COLUMNS = (
    "办件编号",
    "事项",
    "事项编码",
    "部门",
    "部门编码",
    "区域",
    "申请时间",
    "受理时间",
    "办结时间",
    "状态",
    "超期",
    "有效告警",
    "最高级别",
)


def filter_words(
    f: CaseFilter, departments: dict[str, str], regions: dict[str, str]
) -> list[tuple[str, str]]:
    """The filter in Chinese (name, value), for the export's first lines and the page."""
    region = ""
    if f.region_code:
        name = regions.get(f.region_code, f.region_code)
        region = f"{name}（仅本级）" if f.region_only else f"{name}（含下级）"
    applied = _days(f.applied_from, f.applied_to)
    finished = _days(f.finished_from, f.finished_to)
    pairs = (
        ("办件编号开头", f.case_prefix or ""),
        ("事项", f.item or ""),
        (
            "部门",
            departments.get(f.department_code, f.department_code) if f.department_code else "",
        ),
        ("区域", region),
        ("状态", label(CASE_STATUS_NAMES, f.status) if f.status else ""),
        ("申请日期", applied),
        ("办结日期", finished),
        ("时效", label(CASE_TIMING_NAMES, f.timing) if f.timing else ""),
    )
    return [(name, value) for name, value in pairs if value]


def _days(first: date | None, last: date | None) -> str:
    if first is None and last is None:
        return ""
    return f"{first.isoformat() if first else '不限'} 至 {last.isoformat() if last else '不限'}"


def _export_rows(
    db: Database,
    caller: Principal,
    f: CaseFilter,
    departments: dict[str, str],
    regions: dict[str, str],
) -> Iterator[list[object]]:
    for c in iter_cases(db, caller, f):
        dept = c["department_code"]
        yield [
            c["case_id"],
            c["item_name"] or "",
            c["item_code"] or "",
            departments.get(dept, dept) if dept else "",
            dept or "",
            regions.get(c["region_code"], c["region_code"]) if c["region_code"] else "",
            c["applied_at"],
            c["accepted_at"],
            c["finished_at"],
            label(CASE_STATUS_NAMES, c["status"]),
            c["overdue"],
            c["active_alerts"],
            label(LEVEL_NAMES, c["top_level"]) if c["top_level"] else "",
        ]


@router.get("/cases", response_model=None)
def case_list(
    request: Request,
    db: DB,
    caller: Caller,
    case_prefix: Annotated[str, Query(max_length=50)] = "",
    item: Annotated[str, Query(max_length=100)] = "",
    department: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str, Query(max_length=12)] = "",
    region_only: Annotated[str, Query(max_length=5)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    applied_from: Annotated[str, Query(max_length=32)] = "",
    applied_to: Annotated[str, Query(max_length=32)] = "",
    timing: Annotated[str, Query(max_length=16)] = "",
    finished_from: Annotated[str, Query(max_length=32)] = "",
    finished_to: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=200_000)] = 1,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("cases.read"):
        return error_page(request, db, caller, 403, "本角色无权查看办件")
    only = region_only in ("1", "true", "on")
    departments, regions = department_names(db), region_names(db)
    context: dict[str, Any] = {
        "f": {
            "case_prefix": case_prefix,
            "item": item,
            "department": department,
            "region": region,
            "region_only": only,
            "status": status,
            "applied_from": applied_from,
            "applied_to": applied_to,
            "timing": timing,
            "finished_from": finished_from,
            "finished_to": finished_to,
        },
        "statuses": {s: CASE_STATUS_NAMES[s] for s in STATUSES},
        "timings": {t: CASE_TIMING_NAMES[t] for t in TIMINGS},
        "departments": departments,
        "regions": regions,
    }
    fmt = request.query_params.get("format", "")
    try:
        f = case_filter(
            case_prefix=case_prefix,
            item=item,
            department=department,
            region=region,
            region_only=only,
            status=status if status in STATUSES else None,
            applied_from=applied_from,
            applied_to=applied_to,
            timing=timing if timing in TIMINGS else None,
            finished_from=finished_from,
            finished_to=finished_to,
        )
    except DateRangeError as exc:
        if fmt:
            return refused_json(str(exc))
        return render(request, db, caller, "cases.html", context | {"error": str(exc)}, 422)
    if fmt in FORMATS:
        return sheet_response(
            title="办件列表",
            filters=filter_words(f, departments, regions),
            columns=EXPORT_COLUMNS,
            rows=_export_rows(db, caller, f, departments, regions),
            fmt="xlsx" if fmt == "xlsx" else "csv",
            filename=f"办件列表.{fmt}",
        )
    paging = Paging(0, page, PAGE_SIZE, filter_query(request))
    resource = case_page_resource(request, db, caller, f, PAGE_SIZE, paging.offset)
    if wants_json(request):
        return json_response(resource.model_dump(mode="json"))
    paging = Paging(resource.total, page, PAGE_SIZE, paging.query)
    return render(
        request,
        db,
        caller,
        "cases.html",
        context
        | {
            "rows": [c.model_dump() for c in resource.items],
            "paging": paging,
            "words": filter_words(f, departments, regions),
        },
    )
