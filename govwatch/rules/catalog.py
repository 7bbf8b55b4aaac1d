"""The rule catalog as a versioned document: settings and custom rules, who changed what, when.

The document (also the format of ``govwatch audit --rules FILE``, YAML or JSON)::

    settings:
      - {rule: near_deadline, scope: all, params: {warn_days: 3}}
      - {rule: near_deadline, scope: "region:330100", enabled: false}
      - {rule: missing_materials, scope: "item:330100-0001", level: red}
    custom:
      - {id: long_wait, class: timeliness, type: 临近时限预警, level: warning,
         description: 受理前等待超过三天, expression: "status = 'applied' AND event_count > 3"}

Every saved change is a new row of ``rule_catalog_versions`` holding the whole document, so
any past version can be shown and replayed; version 0 is the built-in defaults.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from govwatch.auth.errors import ConflictError, NotFoundError
from govwatch.auth.users import get_user
from govwatch.errors import InputError, ValidationError
from govwatch.ledger import append_one
from govwatch.rules.custom import CustomRuleDef, check_definition, compile_rule
from govwatch.rules.describe import Change
from govwatch.rules.item_rules import PARAM_RANGES as ITEM_PARAM_RANGES
from govwatch.rules.item_rules import RULES as ITEM_RULES
from govwatch.rules.model import ParamValue, Rule
from govwatch.rules.registry import DEFAULT_RULES
from govwatch.rules.settings import (
    Range,
    Scope,
    Setting,
    rule_title,
    setting_subject,
    validate_setting,
)
from govwatch.storage import Database

log = logging.getLogger("govwatch.rules.catalog")

# The allowed range (inclusive) of each built-in rule's numeric parameter, by rule and name:
# a value outside it, or one that is not a finite number (``nan``, ``inf``, ``1e400``), is
# refused from every face before it is saved. A numeric parameter missing here takes
# settings.DEFAULT_RANGE (a test keeps this table complete).
PARAM_RANGES: Mapping[str, Mapping[str, Range]] = {
    "near_deadline": {"warn_days": (0, 365)},  # days before the deadline
    "repeated_supplement": {"max_requests": (0, 100)},  # supplement notices
    "long_suspension": {"max_days": (0, 3650)},  # days suspended
    "repeated_return": {"max_returns": (0, 100)},  # returns
    "fee_mismatch": {"tolerance": (0, 1_000_000)},  # yuan
    **ITEM_PARAM_RANGES,  # the item-information rules' (rules/item_rules.py)
}


@dataclass(frozen=True)
class Catalog:
    version: int = 0
    settings: tuple[Setting, ...] = ()
    custom: tuple[CustomRuleDef, ...] = ()

    def rules(self) -> tuple[Rule, ...]:
        """The rules the engine runs over cases: the built-in ones and the custom ones."""
        return DEFAULT_RULES + tuple(compile_rule(c) for c in self.custom)

    def listed(self) -> tuple[Rule, ...]:
        """Every rule of the catalog, as listed and set: those over cases, then the item
        information rules (事项公开信息异常), which run after a guide check run instead."""
        return self.rules() + ITEM_RULES

    def rule(self, rule_id: str) -> Rule:
        for rule in self.listed():
            if rule.id == rule_id:
                return rule
        raise InputError(f"没有编号为“{rule_id}”的规则；用 govwatch rules list 查看全部规则编号")

    def with_setting(self, setting: Setting) -> Catalog:
        """Merge a setting into the one of the same rule and scope (later values win)."""
        checked = validate_setting(self.rule(setting.rule), setting, PARAM_RANGES.get(setting.rule))
        kept = []
        merged = checked
        for old in self.settings:
            if old.rule == checked.rule and old.scope == checked.scope:
                params = dict(old.params) | dict(checked.params)
                merged = Setting(
                    checked.rule,
                    checked.scope,
                    checked.enabled if checked.enabled is not None else old.enabled,
                    checked.level if checked.level is not None else old.level,
                    tuple(sorted(params.items())),
                )
            else:
                kept.append(old)
        return replace(self, settings=(*kept, merged))

    def _salvage(self, raw: Any, index: int, problem: Exception) -> Catalog:
        """A stored setting that fails its checks, kept without the values that fail them."""
        log.warning("catalog version %s: setting %s: %s", self.version, raw, problem)
        try:
            setting = _setting(raw, index)
            self.rule(setting.rule)
        except InputError:
            return self  # nothing of it can be read: left out
        kept = self
        for part in (
            replace(setting, level=None, params=()),
            replace(setting, enabled=None, params=()),
            *(replace(setting, enabled=None, level=None, params=(p,)) for p in setting.params),
        ):
            if part.enabled is None and part.level is None and not part.params:
                continue
            try:
                kept = kept.with_setting(part)
            except InputError:
                continue  # this value is left out; the rule's default (or a wider setting) holds
        return kept

    def setting(self, rule_id: str, scope: Scope) -> Setting | None:
        """The setting of this rule at exactly this scope, if there is one."""
        return next((s for s in self.settings if s.rule == rule_id and s.scope == scope), None)

    def without_setting(self, rule_id: str, scope: Scope) -> Catalog:
        """The catalog without the rule's setting at this scope: what it set falls back to a
        wider setting or the rule's default."""
        if self.setting(rule_id, scope) is None:
            raise NotFoundError(
                f"规则“{self.title(rule_id)}”在{scope.title()}没有单独的调整，无需删除"
            )
        kept = tuple(s for s in self.settings if not (s.rule == rule_id and s.scope == scope))
        return replace(self, settings=kept)

    def title(self, rule_id: str) -> str:
        """The rule's Chinese name (a custom rule's description; an unknown id as it is)."""
        try:
            return rule_title(self.rule(rule_id))
        except InputError:
            return rule_id

    def with_custom(self, definition: CustomRuleDef) -> Catalog:
        check_definition(definition, {r.id for r in self.listed()})
        return replace(self, custom=(*self.custom, definition))

    def as_doc(self) -> dict[str, Any]:
        return {
            "settings": [s.as_doc() for s in self.settings],
            "custom": [c.as_doc() for c in self.custom],
        }

    @staticmethod
    def from_doc(doc: Any, version: int = 0, *, stored: bool = False) -> Catalog:
        """A catalog from its document; every setting and custom rule checked.

        ``stored``: the document is a saved version (:func:`current`). A setting or custom
        rule that no longer passes the checks (saved before a check existed, or by hand) is
        then left out with a warning in the log instead of failing every evaluation: a
        catalog in force must not stop supervision. Documents given by a user (a file, a
        face) are refused whole with the first problem.
        """
        if doc is None:
            return Catalog(version)
        if not isinstance(doc, dict):
            raise ValidationError("规则目录文件应为一个对象，含 settings 与 custom 两个列表")
        unknown = set(doc) - {"settings", "custom", "version"}
        if unknown:
            raise ValidationError(
                f"规则目录文件含未知字段 {', '.join(sorted(unknown))}：只能有 settings 与 custom"
            )
        catalog = Catalog(version)
        for i, raw in enumerate(doc.get("settings") or []):
            try:
                catalog = catalog.with_setting(_setting(raw, i))
            except InputError as exc:
                if not stored:
                    raise
                catalog = catalog._salvage(raw, i, exc)
        for i, raw in enumerate(doc.get("custom") or []):
            try:
                catalog = catalog.with_custom(_custom(raw, i))
            except InputError as exc:
                if not stored:
                    raise
                log.warning("catalog version %s: custom rule %s left out: %s", version, raw, exc)
        return catalog


def _setting(raw: Any, index: int) -> Setting:
    if not isinstance(raw, dict) or "rule" not in raw:
        raise ValidationError(f"settings 第 {index + 1} 项应为含 rule 字段的对象", field="settings")
    enabled = raw.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ValidationError(f"settings 第 {index + 1} 项的 enabled 应为 true 或 false")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise ValidationError(f"settings 第 {index + 1} 项的 params 应为对象（参数名: 值）")
    return Setting(
        rule=str(raw["rule"]),
        scope=Scope.parse(raw.get("scope")),
        enabled=enabled,
        level=raw.get("level"),
        params=tuple(sorted(params.items())),
    )


def _custom(raw: Any, index: int) -> CustomRuleDef:
    if not isinstance(raw, dict):
        raise ValidationError(f"custom 第 {index + 1} 项应为对象", field="custom")
    missing = [
        k for k in ("id", "class", "type", "level", "description", "expression") if not raw.get(k)
    ]
    if missing:
        raise ValidationError(f"custom 第 {index + 1} 项缺少字段 {', '.join(missing)}")
    return CustomRuleDef(
        id=str(raw["id"]),
        rule_class=str(raw["class"]),
        rule_type=str(raw["type"]),
        level=raw["level"],
        description=str(raw["description"]),
        expression=str(raw["expression"]),
        legal_basis=str(raw.get("legal_basis") or ""),
    )


def load_file(path: str | Path) -> Catalog:
    """A catalog document from a YAML or JSON file (``audit --rules``)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"无法读取规则目录文件 {file}：{exc.strerror}") from exc
    try:
        doc = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InputError(f"规则目录文件 {file} 不是合法的 YAML/JSON：{exc}") from exc
    return Catalog.from_doc(doc)


# -- versions in the database -------------------------------------------------------------


def current(db: Database) -> Catalog:
    row = db.query("SELECT version, doc FROM rule_catalog_versions ORDER BY version DESC LIMIT 1")
    if not row:
        return Catalog()
    return Catalog.from_doc(json.loads(row[0][1]), version=int(row[0][0]), stored=True)


def at_version(db: Database, version: int) -> Catalog:
    if version == 0:
        return Catalog()
    row = db.query("SELECT doc FROM rule_catalog_versions WHERE version = ?", [version])
    if not row:
        raise InputError(f"规则目录没有版本 {version}；用 govwatch rules history 查看")
    return Catalog.from_doc(json.loads(row[0][0]), version=version, stored=True)


def save(
    db: Database,
    catalog: Catalog,
    who: str,
    summary: str,
    at: datetime,
    *,
    reason: str = "",
    base: int | None = None,
) -> Catalog:
    """Store the catalog as the next version; return it with its version number.

    ``reason``: why (the 理由 the page and the API require). ``base``: the version the change
    was made on; refused when another was saved since, whose change this one would undo."""
    with db.transaction():
        latest = int(db.scalar("SELECT MAX(version) FROM rule_catalog_versions") or 0)
        if base is not None and latest != base:
            raise ConflictError(
                f"规则目录刚被他人修改（已是版本 {latest}）：请刷新页面，确认后重新保存"
            )
        version = latest + 1
        doc = json.dumps(catalog.as_doc(), ensure_ascii=False, sort_keys=True)
        db.execute(
            "INSERT INTO rule_catalog_versions "
            "(version, changed_at, changed_by, summary, doc, reason) VALUES (?, ?, ?, ?, ?, ?)",
            [version, at, who, summary, doc, reason or None],
        )
    return replace(catalog, version=version)


def history(db: Database) -> list[dict[str, Any]]:
    rows = db.query_dicts(
        "SELECT version, changed_at, changed_by, summary FROM rule_catalog_versions "
        "ORDER BY version"
    )
    return [
        {
            "version": int(r["version"]),
            "changed_at": r["changed_at"].isoformat(sep=" "),
            "changed_by": r["changed_by"],
            "summary": r["summary"],
        }
        for r in rows
    ]


# -- changing one setting, with its reason, ledgered ------------------------------------------------

REASON_MAX = 400


def check_reason(reason: str) -> str:
    """The 理由 of a change: required, at most :data:`REASON_MAX` characters."""
    text = " ".join(reason.split())
    if not text:
        raise ValidationError("请填写理由：为什么这样调整（会记入变更记录）", field="reason")
    if len(text) > REASON_MAX:
        raise ValidationError(f"理由最多 {REASON_MAX} 字，现有 {len(text)} 字", field="reason")
    return text


def _ledgered(
    db: Database, catalog: Catalog, who: str, summary: str, reason: str, at: datetime,
    payload: Mapping[str, Any],
) -> Catalog:  # fmt: skip
    saved = save(db, catalog, who, summary, at, reason=reason, base=catalog.version)
    append_one(
        db,
        "catalog.change",
        who,
        f"rules:v{saved.version}",
        at,
        {"version": saved.version, **payload, "summary": summary, "reason": reason},
    )
    return saved


def set_setting(
    db: Database, setting: Setting, who: str, reason: str, at: datetime, scope_name: str = ""
) -> Catalog:
    """Save a setting (merged into the one of its rule and scope) as a new version, with who,
    why and a Chinese summary, and append it to the ledger (``catalog.change``), in one
    transaction. Refused, with nothing saved, when it changes nothing."""
    if setting.enabled is None and setting.level is None and not setting.params:
        raise ValidationError(
            "没有要修改的内容：请设置启用状态、级别或至少一个参数", field="params"
        )
    with db.transaction():
        catalog = current(db)
        changed = catalog.with_setting(setting)  # (the values are checked first)
        why = check_reason(reason)
        if changed.setting(setting.rule, setting.scope) == catalog.setting(
            setting.rule, setting.scope
        ):
            raise ValidationError("所填的值与现有设置相同，没有保存新版本", field="params")
        title = catalog.title(setting.rule)
        subject = setting_subject(setting.rule, setting.scope, scope_name=scope_name, title=title)
        return _ledgered(db, changed, who, f"调整{subject}", why, at, {"setting": setting.as_doc()})


def delete_setting(
    db: Database, rule_id: str, scope: Scope, who: str, reason: str, at: datetime,
    scope_name: str = "",
) -> Catalog:  # fmt: skip
    """Delete the rule's setting at this scope as a new version (what it set falls back to a
    wider setting or the default), with who and why, ledgered like a save."""
    why = check_reason(reason)
    with db.transaction():
        catalog = current(db)
        old = catalog.setting(rule_id, scope)
        changed = catalog.without_setting(rule_id, scope)
        title = catalog.title(rule_id)
        subject = setting_subject(rule_id, scope, scope_name=scope_name, title=title)
        deleted = old.as_doc() if old is not None else {}
        return _ledgered(db, changed, who, f"删除{subject}的调整", why, at, {"deleted": deleted})


# -- the history as changes --------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One saved version: who (username and display name), when, why, and what changed."""

    version: int
    changed_at: datetime
    changed_by: str
    person: str
    summary: str
    reason: str
    changes: tuple[Change, ...]


def _fields(doc: Any) -> dict[tuple[str, str, str], ParamValue | bool]:
    """(rule, scope, field) -> value of a stored document's settings; custom rules as
    (id, 'all', 'custom') -> description. A malformed entry is skipped."""
    out: dict[tuple[str, str, str], ParamValue | bool] = {}
    if not isinstance(doc, dict):
        return out
    for raw in doc.get("settings") or []:
        if not isinstance(raw, dict) or "rule" not in raw:
            continue
        key = (str(raw["rule"]), str(raw.get("scope") or "all"))
        for name in ("enabled", "level"):
            if raw.get(name) is not None:
                out[(*key, name)] = raw[name]
        params = raw.get("params") or {}
        if isinstance(params, dict):
            for name, value in params.items():
                out[(*key, f"params.{name}")] = value
    for raw in doc.get("custom") or []:
        if isinstance(raw, dict) and raw.get("id"):
            out[(str(raw["id"]), "all", "custom")] = str(raw.get("description") or raw["id"])
    return out


def _scope(text: str) -> Scope:
    try:
        return Scope.parse(text)
    except InputError:
        return Scope()


def diff(old_doc: Any, new_doc: Any) -> tuple[Change, ...]:
    """What changed between two catalog documents, attribute by attribute, in catalog order."""
    before, after = _fields(old_doc), _fields(new_doc)
    keys = list(after) + [k for k in before if k not in after]
    return tuple(
        Change(rule, _scope(scope), field, before.get((rule, scope, field)), after.get(key))
        for key in keys
        for rule, scope, field in [key]
        if before.get(key) != after.get(key)
    )


def versions(db: Database, limit: int = 200, rule: str | None = None) -> list[Version]:
    """The most recent saved versions, newest first, each with what it changed; with
    ``rule``, only those that changed that rule (their changes of other rules left out)."""
    rows = db.query_dicts(
        "SELECT version, changed_at, changed_by, summary, reason, doc FROM rule_catalog_versions "
        "ORDER BY version DESC LIMIT ?",
        [limit + 1],
    )
    docs = [json.loads(r["doc"]) for r in rows]
    people: dict[str, str] = {}
    out: list[Version] = []
    for i, row in enumerate(rows[:limit]):
        previous = docs[i + 1] if i + 1 < len(rows) else _previous_doc(db, int(row["version"]))
        changes = diff(previous, docs[i])
        if rule is not None:
            changes = tuple(c for c in changes if c.rule == rule)
            if not changes:
                continue
        who = str(row["changed_by"])
        if who not in people:
            user = get_user(db, who) if db.table_exists("users") else None
            people[who] = user.display_name if user is not None else who
        out.append(
            Version(
                int(row["version"]),
                row["changed_at"],
                who,
                people[who],
                str(row["summary"]),
                str(row["reason"] or ""),
                changes,
            )
        )
    return out


def _previous_doc(db: Database, version: int) -> Any:
    if version <= 1:
        return {}
    row = db.query("SELECT doc FROM rule_catalog_versions WHERE version = ?", [version - 1])
    return json.loads(row[0][0]) if row else {}
