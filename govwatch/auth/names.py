"""Names for codes: departments (from the item catalog), regions (from the organisation tree,
falling back to the codes items carry), organisations, and people (users' display names).
Pages, charts and lists read them here, one reader each, and show the name with the code on
hover."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from govwatch.storage import Database

TTL_SECONDS = 60.0
_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
_lock = threading.Lock()


def _cached(db: Database, kind: str, load: Callable[[Database], dict[str, str]]) -> dict[str, str]:
    """Names change rarely (catalog imports, org edits): keep them a minute per database."""
    key = (f"{db.url}|{db.schema}", kind)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return hit[1]
    names = load(db)
    with _lock:
        _cache[key] = (now, names)
    return names


def department_names(db: Database) -> dict[str, str]:
    return _cached(db, "departments", _department_names)


def region_names(db: Database) -> dict[str, str]:
    return _cached(db, "regions", _region_names)


def unit_names(db: Database) -> dict[str, str]:
    """Every unit code the database names: departments, organisations, regions (code → name).

    A code that is only known as itself (a region no organisation names) is left out, so that
    ``code in unit_names(db)`` says whether a name exists.
    """
    return _cached(db, "units", _unit_names)


def people_names(db: Database, usernames: Iterable[str | None]) -> dict[str, str]:
    """The display names of these users (username → name); unknown usernames are left out."""
    wanted = sorted({u for u in usernames if u})
    if not wanted or not db.table_exists("users"):
        return {}
    rows = db.query("SELECT username, display_name FROM users WHERE username = ANY(?)", [wanted])
    return {str(u): str(n) for u, n in rows if n}


def _unit_names(db: Database) -> dict[str, str]:
    names = {c: n for c, n in _region_names(db).items() if n != c}
    names.update({c: n for c, n in _department_names(db).items() if n != c})
    if db.table_exists("orgs"):
        names.update({str(c): str(n) for c, n in db.query("SELECT org_code, name FROM orgs")})
    return names


def _department_names(db: Database) -> dict[str, str]:
    if not db.table_exists("items"):
        return {}
    rows = db.query(
        "SELECT department_code, MAX(department_name) FROM items GROUP BY department_code "
        "ORDER BY department_code"
    )
    return {str(c): str(n or c) for c, n in rows}


def _region_names(db: Database) -> dict[str, str]:
    names: dict[str, str] = {}
    if db.table_exists("items"):
        for (code,) in db.query("SELECT DISTINCT region_code FROM items ORDER BY region_code"):
            names[str(code)] = str(code)
    if db.table_exists("orgs"):
        for code, name in db.query(
            "SELECT region_code, name FROM orgs WHERE region_code IS NOT NULL "
            "AND kind IN ('province', 'city', 'county')"
        ):
            names[str(code)] = str(name)
    return dict(sorted(names.items()))
