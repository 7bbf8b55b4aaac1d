"""Where a rule setting may apply, as the organisation knows it: regions, departments, items.

A setting's scope (:class:`~govwatch.rules.settings.Scope`) names a region, a department or an
item by its code. The rules page offers them by name from the tables that know them — the
organisation tree (``orgs``: province → city → county → department) and the item catalog
(``items``, whose region and department codes count too, for a store whose tree has not been
synced) — and :func:`check_scope` refuses, on every face that saves, a code neither knows: a
setting for a region that does not exist would silently apply to no case (one did).

The tree of regions: a region node of ``orgs`` hangs under its parent; a region code only items
carry hangs under the code its shape names (``330106`` under ``330100`` under ``330000``), which
joins the tree as an unnamed node when nothing names it.

:func:`effective` answers "what holds here": for a scope, each attribute of a rule (enabled,
level, every parameter) with the most specific setting that covers it, as the engine's SQL
resolves it per case (:func:`govwatch.rules.settings.resolve`): item, department, region (the
longest prefix first), everything, then the default. A department's and an item's own region
decide which region settings cover them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from govwatch.errors import ValidationError
from govwatch.rules.model import ParamValue, Rule
from govwatch.rules.settings import Scope, Setting
from govwatch.storage import Database
from govwatch.vocabulary import ORG_KIND_NAMES, SCOPE_NAMES, label

REGION_KINDS = ("province", "city", "county")
# How many items a search answers at most (the page's list of matches while typing).
ITEM_MATCHES = 50


@dataclass(frozen=True)
class Region:
    code: str
    name: str  # '' when nothing names it (a code only items carry)
    kind: str  # province, city or county
    parent: str | None
    depth: int

    @property
    def label(self) -> str:
        """杭州市（330100）; an unnamed node by its kind: 县（区） 330106."""
        if self.name and self.name != self.code:
            return f"{self.name}（{self.code}）"
        return f"{label(ORG_KIND_NAMES, self.kind)} {self.code}"


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region: str | None

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）" if self.name and self.name != self.code else self.code


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    department: str
    region: str

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）" if self.name and self.name != self.code else self.code


def _kind_of(code: str) -> str:
    """A division code's level by its shape: ``330000`` province, ``330100`` city, else county."""
    if len(code) >= 6 and code[2:6] == "0000":
        return "province"
    if len(code) >= 6 and code[4:6] == "00":
        return "city"
    return "county"


def _parent_of(code: str) -> str | None:
    """The division a code's shape puts it under (``330106`` → ``330100`` → ``330000``)."""
    if len(code) > 6:
        return code[:6]
    kind = _kind_of(code)
    if kind == "county" and len(code) == 6:
        return code[:4] + "00"
    if kind == "city":
        return code[:2] + "0000"
    return None


def regions(db: Database) -> tuple[Region, ...]:
    """Every region, in tree order (each after its parent, siblings by code)."""
    named: dict[str, tuple[str, str, str | None]] = {}  # code -> (name, kind, parent)
    if db.table_exists("orgs"):
        rows = db.query(
            "SELECT COALESCE(region_code, org_code), name, kind, parent_code FROM orgs "
            "WHERE kind IN ('province', 'city', 'county')"
        )
        for code, name, kind, parent in rows:
            named[str(code)] = (str(name or ""), str(kind), str(parent) if parent else None)
    codes = set(named)
    if db.table_exists("items"):
        codes |= {str(c) for (c,) in db.query("SELECT DISTINCT region_code FROM items") if c}
    parents: dict[str, str | None] = {}
    pending = sorted(codes)
    while pending:
        code = pending.pop()
        if code in parents:
            continue
        parent = named[code][2] if code in named else None
        if parent is None or parent not in codes:
            parent = _parent_of(code)
        if parent is not None and parent not in codes:
            codes.add(parent)
            pending.append(parent)
        parents[code] = parent
    children: dict[str | None, list[str]] = {}
    for code, parent in parents.items():
        children.setdefault(parent if parent in parents else None, []).append(code)
    out: list[Region] = []

    def walk(parent: str | None, depth: int) -> None:
        for code in sorted(children.get(parent, [])):
            name, kind, _ = named.get(code, ("", _kind_of(code), None))
            out.append(Region(code, name, kind, parents[code], depth))
            walk(code, depth + 1)

    walk(None, 0)
    return tuple(out)


def departments(db: Database) -> tuple[Department, ...]:
    """Every department, by name: the tree's department nodes and those items name."""
    found: dict[str, Department] = {}
    if db.table_exists("items"):
        rows = db.query(
            "SELECT department_code, MAX(department_name), MIN(region_code) FROM items "
            "GROUP BY department_code"
        )
        for code, name, region in rows:
            found[str(code)] = Department(str(code), str(name or ""), str(region or "") or None)
    if db.table_exists("orgs"):
        rows = db.query(
            "SELECT o.org_code, o.name, COALESCE(o.region_code, p.region_code) FROM orgs o "
            "LEFT JOIN orgs p ON p.org_code = o.parent_code WHERE o.kind = 'department'"
        )
        for code, name, region in rows:
            known = found.get(str(code))
            found[str(code)] = Department(
                str(code),
                str(name or "") or (known.name if known else ""),
                (known.region if known and known.region else None)
                or (str(region) if region else None),
            )
    return tuple(sorted(found.values(), key=lambda d: (d.name or d.code, d.code)))


def find_items(db: Database, text: str = "", limit: int = ITEM_MATCHES) -> list[Item]:
    """Items whose code starts with ``text`` or whose name contains it (all without text),
    the exact code first, then by code."""
    if not db.table_exists("items"):
        return []
    needle = text.strip()[:80]
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.query(
        "SELECT item_code, name, department_code, region_code FROM items "
        "WHERE item_code LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' "
        "ORDER BY CASE WHEN item_code = ? THEN 0 ELSE 1 END, item_code LIMIT ?",
        [escaped + "%", "%" + escaped + "%", needle, limit],
    )
    return [Item(str(c), str(n or ""), str(d or ""), str(r or "")) for c, n, d, r in rows]


def _item(db: Database, code: str) -> Item | None:
    if not db.table_exists("items"):
        return None
    rows = db.query(
        "SELECT item_code, name, department_code, region_code FROM items WHERE item_code = ?",
        [code],
    )
    return Item(*(str(v or "") for v in rows[0])) if rows else None


@dataclass(frozen=True)
class Target:
    """A checked scope with what it stands in: its name, and the department and region whose
    settings cover it."""

    scope: Scope
    name: str = ""
    department: str | None = None
    region: str | None = None

    @property
    def title(self) -> str:
        return self.scope.title(self.name)


def check_scope(db: Database, scope: Scope) -> Target:
    """The scope, once its region, department or item is known; refused in Chinese otherwise."""
    if scope.kind == "all":
        return Target(scope)
    if scope.kind == "region":
        region = next((r for r in regions(db) if r.code == scope.code), None)
        if region is None:
            raise ValidationError(
                f"行政区划“{scope.code[:40]}”不存在：组织机构树和事项目录中都没有这个区划代码，"
                "请从区划列表中选择",
                field="scope",
            )
        return Target(scope, region.name, None, region.code)
    if scope.kind == "department":
        department = next((d for d in departments(db) if d.code == scope.code), None)
        if department is None:
            raise ValidationError(
                f"部门“{scope.code[:40]}”不存在：组织机构树和事项目录中都没有这个部门编码，"
                "请从部门列表中选择",
                field="scope",
            )
        return Target(scope, department.name, department.code, department.region)
    item = _item(db, scope.code)
    if item is None:
        raise ValidationError(
            f"事项“{scope.code[:40]}”不在事项目录中：请从事项清单中选择", field="scope"
        )
    return Target(scope, item.name, item.department, item.region)


def scope_names(db: Database, scopes: Iterable[Scope]) -> dict[Scope, str]:
    """The names of the regions, departments and items these scopes name ('' when none)."""
    wanted = set(scopes)
    names: dict[Scope, str] = {}
    if any(s.kind == "region" for s in wanted):
        by_code = {r.code: r.name for r in regions(db)}
        names |= {s: by_code.get(s.code, "") for s in wanted if s.kind == "region"}
    if any(s.kind == "department" for s in wanted):
        by_dept = {d.code: d.name for d in departments(db)}
        names |= {s: by_dept.get(s.code, "") for s in wanted if s.kind == "department"}
    for s in wanted:
        if s.kind == "item":
            item = _item(db, s.code)
            names[s] = item.name if item else ""
    return names


def parse_choice(kind: str, text: str) -> Scope:
    """A scope from a form: the kind chosen and what was picked or typed for it — a code, or
    a list entry ``名称（代码）`` whose code is in the last parentheses."""
    if kind == "all":
        return Scope()
    if kind not in ("region", "department", "item"):
        raise ValidationError("请选择适用范围：全局、行政区划、部门或事项", field="scope")
    value = text.strip()
    if value.endswith(("）", ")")):
        opening = max(value.rfind("（"), value.rfind("("))
        if opening >= 0:
            value = value[opening + 1 : -1].strip()
    if not value:
        raise ValidationError(f"请选择要调整的{label(SCOPE_NAMES, kind)}", field="scope")
    return Scope(kind, value)  # type: ignore[arg-type]


# -- what holds where ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Holding:
    """One attribute's value for a scope, and where it comes from (None: the rule's default)."""

    value: ParamValue | bool
    source: Scope | None


def _covers(setting: Scope, target: Target) -> bool:
    if setting.kind == "all":
        return True
    if setting.kind == "region":
        return target.region is not None and target.region.startswith(setting.region_prefix())
    if setting.kind == "department":
        return target.department == setting.code
    return target.scope == setting


def effective(rule: Rule, settings: Sequence[Setting], target: Target) -> Mapping[str, Holding]:
    """Each attribute of ``rule`` (``enabled``, ``level``, every parameter by name) as it holds
    for ``target``: the most specific setting covering it that sets the attribute."""
    mine = sorted(
        (s for s in settings if s.rule == rule.id and _covers(s.scope, target)),
        key=lambda s: s.scope.rank(),
        reverse=True,
    )
    out: dict[str, Holding] = {}
    enabled = next((s for s in mine if s.enabled is not None), None)
    out["enabled"] = (
        Holding(True, None) if enabled is None else Holding(bool(enabled.enabled), enabled.scope)
    )
    level = next((s for s in mine if s.level is not None), None)
    out["level"] = (
        Holding(rule.level, None) if level is None else Holding(str(level.level), level.scope)
    )
    for param in rule.params:
        found = next(((s, v) for s in mine for n, v in s.params if n == param.name), None)
        out[param.name] = (
            Holding(param.default, None) if found is None else Holding(found[1], found[0].scope)
        )
    return out
