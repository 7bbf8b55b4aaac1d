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

from govwatch.errors import InputError, ValidationError
from govwatch.rules.custom import CustomRuleDef, check_definition, compile_rule
from govwatch.rules.model import Rule
from govwatch.rules.registry import DEFAULT_RULES
from govwatch.rules.settings import Range, Scope, Setting, validate_setting
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
}


@dataclass(frozen=True)
class Catalog:
    version: int = 0
    settings: tuple[Setting, ...] = ()
    custom: tuple[CustomRuleDef, ...] = ()

    def rules(self) -> tuple[Rule, ...]:
        return DEFAULT_RULES + tuple(compile_rule(c) for c in self.custom)

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules():
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

    def with_custom(self, definition: CustomRuleDef) -> Catalog:
        check_definition(definition, {r.id for r in self.rules()})
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


def save(db: Database, catalog: Catalog, who: str, summary: str, at: datetime) -> Catalog:
    """Store the catalog as the next version; return it with its version number."""
    with db.transaction():
        latest = db.scalar("SELECT MAX(version) FROM rule_catalog_versions") or 0
        version = int(latest) + 1
        doc = json.dumps(catalog.as_doc(), ensure_ascii=False, sort_keys=True)
        db.execute(
            "INSERT INTO rule_catalog_versions (version, changed_at, changed_by, summary, doc) "
            "VALUES (?, ?, ?, ?, ?)",
            [version, at, who, summary, doc],
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
