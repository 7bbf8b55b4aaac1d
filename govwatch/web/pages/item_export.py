"""事项目录 as a download: ``/items.xlsx`` and ``/items.csv`` with the list's search (``q``).

The same reader as the page (:func:`govwatch.items.queries.search_items`, the same search and
order), read page by page so that a large catalog is never held in memory, and the same rule of
who may read it. Codes are written with their Chinese names (department, division, limit unit,
online depth). Registered by :data:`govwatch.web.app.PAGE_MODULES`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request
from fastapi.responses import Response

from govwatch.auth.names import region_names
from govwatch.items.queries import search_items
from govwatch.storage import Database
from govwatch.vocabulary import ONLINE_DEPTH_NAMES, label, unit_name
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import error_page, login_redirect
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter(include_in_schema=False)
BATCH = 500
COLUMNS = (
    "事项编码",
    "事项名称",
    "实施部门",
    "部门编码",
    "区划",
    "法定时限",
    "法定时限单位",
    "承诺时限",
    "承诺时限单位",
    "收费",
    "网上办理深度",
)


def item_rows(db: Database, q: str) -> Iterator[tuple[object, ...]]:
    """Every item the search finds, in the page's order, a batch at a time."""
    regions = region_names(db)
    page = 1
    while True:
        rows, total = search_items(db, q, page, BATCH)
        for i in rows:
            yield _row(i, regions)
        if not rows or page * BATCH >= total:
            return
        page += 1


def _row(i: dict[str, Any], regions: dict[str, str]) -> tuple[object, ...]:
    region = str(i["region_code"] or "")
    depth = i["online_depth"]
    return (
        i["item_code"],
        i["name"],
        i["department_name"] or i["department_code"],
        i["department_code"],
        regions.get(region, region),
        i["legal_limit"],
        unit_name(i["legal_limit_unit"]),
        i["promised_limit"],
        unit_name(i["promised_limit_unit"]),
        "收费" if i["has_fee"] else "不收费",
        "" if depth is None else label(ONLINE_DEPTH_NAMES, depth),
    )


@router.get("/items.{fmt}", response_model=None)
def items_export(
    request: Request,
    fmt: Annotated[str, Path(max_length=8)],
    db: DB,
    caller: Caller,
    at: Clock,
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("cases.read"):
        return error_page(request, db, caller, 403, "本角色无权查看事项目录")
    sheet = export_format(fmt)
    if sheet is None:
        return error_page(request, db, caller, 404, "事项目录只能导出为 Excel（.xlsx）或 CSV")
    return sheet_response(
        title="事项目录",
        filters=(("搜索", q.strip()),),
        columns=COLUMNS,
        rows=item_rows(db, q),
        fmt=sheet,
        filename="事项目录",
        exported_at=at,
    )


def register(app: FastAPI) -> None:
    app.include_router(router)
