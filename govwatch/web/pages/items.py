"""事项: the catalog with each item's limits, steps, materials, fees, risk points, online profile,
and what the latest guide check run found in its guide (办事指南核查, issue 16).

Codes are shown by name with the code on hover: the department and the division (from the
organisation tree, :mod:`govwatch.auth.names`), the item type, level and case kind, limit
units, online depth and risk-prevention measures (:mod:`govwatch.vocabulary`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from govwatch.auth.names import unit_names
from govwatch.guides.runs import item_findings, latest_run
from govwatch.items.queries import item_detail, search_items
from govwatch.web.api.deps import DB, Caller
from govwatch.web.pages.base import error_page, json_response, login_redirect, render, wants_json

router = APIRouter()
PAGE_SIZE = 50


@router.get("/items", response_model=None)
def item_list(
    request: Request,
    db: DB,
    caller: Caller,
    q: Annotated[str, Query(max_length=60)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("cases.read"):
        return error_page(request, db, caller, 403, "本角色无权查看事项目录")
    rows, total = search_items(db, q, page, PAGE_SIZE)
    if wants_json(request):
        return json_response({"items": rows, "total": total, "page": page})
    return render(
        request,
        db,
        caller,
        "items.html",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "q": q,
            "more": page * PAGE_SIZE < total,
            "units": unit_names(db),
        },
    )


@router.get("/items/{item_code}", response_model=None)
def item_page(
    request: Request, item_code: Annotated[str, Path(max_length=24)], db: DB, caller: Caller
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("cases.read"):
        return error_page(request, db, caller, 403, "本角色无权查看事项目录")
    one = item_detail(db, item_code)
    if one is None:
        return error_page(request, db, caller, 404, f"事项“{item_code}”不在目录中")
    run = latest_run(db)
    guide = {
        "guide_run": run.as_dict() if run else None,
        "guide_findings": item_findings(db, run.run_id, item_code) if run else [],
    }
    if wants_json(request):
        return json_response(one | guide)
    return render(request, db, caller, "item.html", one | guide | {"units": unit_names(db)})
