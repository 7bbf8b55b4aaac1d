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
