"""事项: the catalog with each item's limits, steps, materials, fees, risk points, online profile."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller
from govwatch.web.pages.base import error_page, json_response, login_redirect, render, wants_json

router = APIRouter()
PAGE_SIZE = 50
ITEM_COLUMNS = (
    "item_code, name, item_type, department_code, department_name, region_code, case_kind, "
    "legal_limit, legal_limit_unit, promised_limit, promised_limit_unit, has_fee, fee_basis, "
    "fee_amount, fee_unit_price, fee_unit, online_depth, unified_identity, e_license, "
    "online_payment, delivery, max_visits"
)


def item_detail(db: Database, item_code: str) -> dict[str, Any] | None:
    rows = db.query_dicts(f"SELECT {ITEM_COLUMNS} FROM items WHERE item_code = ?", [item_code])
    if not rows:
        return None
    one: dict[str, Any] = {"item": rows[0]}
    for key, table, order in (
        ("steps", "item_steps", "seq"),
        ("materials", "item_materials", "seq"),
        ("tiers", "item_tiers", "tier"),
        ("risks", "item_risk_points", "seq"),
    ):
        one[key] = db.query_dicts(
            f"SELECT * FROM {table} WHERE item_code = ? ORDER BY {order}", [item_code]
        )
    return one


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
    where, params = "1 = 1", []
    if q.strip():
        where = "(item_code LIKE ? OR name LIKE ? OR department_name LIKE ?)"
        params = [f"%{q.strip()}%"] * 3
    total = int(db.scalar(f"SELECT COUNT(*) FROM items WHERE {where}", params) or 0)
    rows = db.query_dicts(
        f"SELECT {ITEM_COLUMNS} FROM items WHERE {where} ORDER BY item_code "
        f"LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}",
        params,
    )
    if wants_json(request):
        return json_response({"items": rows, "total": total, "page": page})
    return render(
        request,
        db,
        caller,
        "items.html",
        {"rows": rows, "total": total, "page": page, "q": q, "more": page * PAGE_SIZE < total},
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
    if wants_json(request):
        return json_response(one)
    return render(request, db, caller, "item.html", one)
