"""The organisation tree: province → city → county → department.

Region nodes (province, city, county) use their administrative division code as ``org_code``;
department nodes use the department code that items and cases carry (``department_code``).
A principal bound to an organisation sees that node and everything below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govwatch.errors import InputError
from govwatch.storage import Database
from govwatch.vocabulary import ORG_KIND_NAMES

KINDS = ("province", "city", "county", "department")
REGION_KINDS = frozenset({"province", "city", "county"})


@dataclass(frozen=True)
class Org:
    org_code: str
    name: str
    kind: str
    parent_code: str | None
    region_code: str | None


def add_org(
    db: Database,
    org_code: str,
    name: str,
    kind: str,
    parent_code: str | None,
    region_code: str | None,
    at: datetime,
) -> Org:
    if kind not in KINDS:
        raise InputError(f"机构类型“{kind}”无效：应为 {' / '.join(KINDS)} 之一")
    if not org_code.strip():
        raise InputError("机构编码不能为空")
    if parent_code is not None and get_org(db, parent_code) is None:
        raise InputError(f"上级机构“{parent_code}”不存在：请先添加上级机构")
    if get_org(db, org_code) is not None:
        raise InputError(f"机构“{org_code}”已存在")
    if kind in REGION_KINDS and region_code is None:
        region_code = org_code
    db.execute(
        "INSERT INTO orgs (org_code, name, kind, parent_code, region_code, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [org_code, name, kind, parent_code, region_code, at],
    )
    return Org(org_code, name, kind, parent_code, region_code)


def get_org(db: Database, org_code: str) -> Org | None:
    rows = db.query(
        "SELECT org_code, name, kind, parent_code, region_code FROM orgs WHERE org_code = ?",
        [org_code],
    )
    return Org(*rows[0]) if rows else None


def list_orgs(db: Database) -> list[Org]:
    rows = db.query(
        "SELECT org_code, name, kind, parent_code, region_code FROM orgs ORDER BY org_code"
    )
    return [Org(*r) for r in rows]


def rename_org(db: Database, org_code: str, name: str) -> None:
    """Give an organisation its proper name (a synced one is named after its code)."""
    db.execute("UPDATE orgs SET name = ? WHERE org_code = ?", [name, org_code])


def subtree(db: Database, org_codes: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(org codes, region codes of region nodes) of the given organisations and all below them.

    An organisation not in the tree still covers itself, so a token issued for a department
    that has not been registered yet acts for exactly that department.
    """
    codes: set[str] = set(org_codes)
    regions: set[str] = set()
    for code in org_codes:
        rows = db.query(
            "WITH RECURSIVE sub(org_code, kind, region_code) AS ("
            " SELECT org_code, kind, region_code FROM orgs WHERE org_code = ?"
            " UNION ALL"
            " SELECT o.org_code, o.kind, o.region_code FROM orgs o"
            " JOIN sub s ON o.parent_code = s.org_code)"
            " SELECT org_code, kind, region_code FROM sub",
            [code],
        )
        for org_code, kind, region_code in rows:
            codes.add(str(org_code))
            if kind in REGION_KINDS and region_code:
                regions.add(str(region_code))
    return frozenset(codes), frozenset(regions)


def _region_chain(region_code: str) -> list[tuple[str, str]]:
    """(code, kind) from province down to the region itself, for a 6–9 digit division code."""
    code6 = region_code[:6]
    chain = [(code6[:2] + "0000", "province")]
    if code6[2:4] != "00":
        chain.append((code6[:4] + "00", "city"))
    if code6[4:6] != "00":
        chain.append((code6, "county"))
    return chain


def sync_from_catalog(db: Database, at: datetime) -> int:
    """Add the region and department nodes the item catalog names; return how many were added."""
    existing = {o.org_code for o in list_orgs(db)}
    added = 0
    rows = db.query(
        "SELECT department_code, min(department_name), min(region_code) FROM items "
        "GROUP BY department_code ORDER BY department_code"
    )
    with db.transaction():
        for department_code, department_name, region_code in rows:
            parent: str | None = None
            for code, kind in _region_chain(str(region_code)) if region_code else []:
                if code not in existing:
                    name = f"{ORG_KIND_NAMES[kind]} {code}"
                    add_org(db, code, name, kind, parent, code, at)
                    existing.add(code)
                    added += 1
                parent = code
            if department_code not in existing:
                add_org(
                    db,
                    str(department_code),
                    str(department_name or department_code),
                    "department",
                    parent,
                    str(region_code) if region_code else None,
                    at,
                )
                existing.add(str(department_code))
                added += 1
    return added
