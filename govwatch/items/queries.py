"""Reading the service-item list (事项目录): listings and the units the items name.

The units (departments, divisions) come from the items themselves: the implementation list is
where a province's departments and divisions are first named.
"""

from __future__ import annotations

from typing import Any

from govwatch.storage import Database

_LIMIT_COLUMNS = (
    "item_code, name, item_type, department_code, region_code, case_kind, "
    "legal_limit, legal_limit_unit, promised_limit, promised_limit_unit"
)


def list_items(db: Database) -> list[dict[str, Any]]:
    """Every item with its legal and promised limits, by item code."""
    return db.query_dicts(f"SELECT {_LIMIT_COLUMNS} FROM items ORDER BY item_code")


def department_name_by_region(db: Database) -> dict[str, str]:
    """One department name per division (the first by name), to read the division's name off."""
    rows = db.query("SELECT region_code, MIN(department_name) FROM items GROUP BY region_code")
    return {str(code): str(name or "") for code, name in rows}


def city_codes(db: Database) -> list[str]:
    """The prefecture-level divisions (``xxxx00``, not the province) items belong to."""
    rows = db.query(
        "SELECT DISTINCT substr(region_code, 1, 4) || '00' AS unit FROM items ORDER BY 1"
    )
    return [str(r[0]) for r in rows if not str(r[0]).endswith("0000")]


def departments(db: Database) -> list[tuple[str, str | None, str]]:
    """(department code, name, item level) for every department, by code."""
    rows = db.query(
        "SELECT department_code, MIN(department_name), MIN(level) FROM items "
        "GROUP BY department_code ORDER BY 1"
    )
    return [(str(r[0]), None if r[1] is None else str(r[1]), str(r[2])) for r in rows]


ITEM_COLUMNS = (
    "item_code, name, item_type, department_code, department_name, region_code, level, "
    "case_kind, legal_limit, legal_limit_unit, promised_limit, promised_limit_unit, has_fee, "
    "fee_basis, fee_amount, fee_unit_price, fee_unit, online_depth, unified_identity, "
    "e_license, online_payment, delivery, max_visits"
)


def item_detail(db: Database, item_code: str) -> dict[str, Any] | None:
    """One item with its steps, materials, fee tiers and risk points; None when not listed."""
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


def search_items(
    db: Database, q: str, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the items whose code, name or department name contain ``q``, and the total."""
    where, params = "1 = 1", []
    if q.strip():
        where = "(item_code LIKE ? OR name LIKE ? OR department_name LIKE ?)"
        params = [f"%{q.strip()}%"] * 3
    total = int(db.scalar(f"SELECT COUNT(*) FROM items WHERE {where}", params) or 0)
    rows = db.query_dicts(
        f"SELECT {ITEM_COLUMNS} FROM items WHERE {where} ORDER BY item_code "
        f"LIMIT {int(page_size)} OFFSET {(int(page) - 1) * int(page_size)}",
        params,
    )
    return rows, total
