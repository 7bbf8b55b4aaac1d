"""The rule catalog as the rules page shows and edits it: rows, typed fields, what holds, history.

One function per thing the page (and its JSON twin, and its exports) needs, so that the page
only renders: :func:`overview` (every rule with its parameters in force and its settings in
Chinese), :func:`rule_view` (one rule: fields with units and ranges, its settings, what holds
at a scope, its history), :func:`read_form` (a form's typed fields as a setting, each problem
in Chinese beside its field), :func:`history_view` (versions as who, when, what changed, why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govwatch.errors import GovwatchError, InputError, ValidationError
from govwatch.rules.catalog import PARAM_RANGES, Catalog, Version, check_reason, current, versions
from govwatch.rules.describe import (
    ENABLED_TEXT,
    change_text,
    plain_description,
    setting_parts,
    unit_hint,
    value_text,
)
from govwatch.rules.failures import list_failures
from govwatch.rules.model import LEVELS, Param, ParamValue, Rule
from govwatch.rules.scopes import (
    Holding,
    Target,
    check_scope,
    departments,
    effective,
    find_items,
    parse_choice,
    regions,
    scope_names,
)
from govwatch.rules.settings import (
    DEFAULT_RANGE,
    LEVEL_CHOICES,
    UNIT_CHOICES,
    ParamValueError,
    Scope,
    Setting,
    check_number,
    param_label,
    rule_title,
    shown_number,
)
from govwatch.storage import Database
from govwatch.vocabulary import ALERT_CLASS_NAMES, LEVEL_NAMES, SCOPE_NAMES, label

# How many items the page lists before one types (the rest are found by searching).
ITEMS_LISTED = 200
HISTORY_SHOWN = 100


def _bounds(rule: Rule, param: Param) -> tuple[float, float]:
    return PARAM_RANGES.get(rule.id, {}).get(param.name, DEFAULT_RANGE)


def param_fields(rule: Rule) -> list[dict[str, Any]]:
    """Each parameter as a form field: label, unit, allowed range (numbers) or choices."""
    out = []
    for p in rule.params:
        name, unit = param_label(rule.id, p)
        spec: dict[str, Any] = {
            "name": p.name,
            "field": f"p.{p.name}",
            "label": name,
            "kind": p.kind,
            "description": p.description,
            "hint": unit_hint(rule, p),
            "default_text": value_text(rule, p, p.default),
        }
        if p.kind in ("int", "float"):
            low, high = _bounds(rule, p)
            spec |= {
                "unit": unit,
                "min": shown_number(low),
                "max": shown_number(high),
                "step": "1" if p.kind == "int" else "any",
                "range_text": f"{shown_number(low)}–{shown_number(high)}",
            }
        else:
            choices = LEVEL_CHOICES if p.kind == "level" else UNIT_CHOICES
            spec["choices"] = [{"value": c, "label": n} for c, n in choices.items()]
        out.append(spec)
    return out


def _holding_view(
    rule: Rule, key: str, holding: Holding, names: Mapping[Scope, str]
) -> dict[str, Any]:
    if key == "enabled":
        text = ENABLED_TEXT[bool(holding.value)]
    elif key == "level":
        text = label(LEVEL_NAMES, holding.value)
    else:
        text = value_text(rule, rule.param(key), holding.value)
    if holding.source is None:
        return {"text": text, "default": True, "source": "默认", "shown": f"默认 {text}"}
    source = holding.source.title(names.get(holding.source, ""))
    return {"text": text, "default": False, "source": source, "shown": text}


def _scope_titles(db: Database, catalog: Catalog) -> dict[Scope, str]:
    return scope_names(db, {s.scope for s in catalog.settings})


def _setting_view(rule: Rule, setting: Setting, names: Mapping[Scope, str]) -> dict[str, Any]:
    return {
        "scope": str(setting.scope),
        "scope_kind": setting.scope.kind,
        "title": setting.scope.title(names.get(setting.scope, "")),
        "parts": setting_parts(rule, setting),
    }


def _rank(setting: Setting) -> tuple[int, int, str]:
    order, length = setting.scope.rank()
    return (order, length, setting.scope.code)


def overview(db: Database) -> dict[str, Any]:
    """Every rule: Chinese name, class and type, level, parameters as they hold everywhere
    (``默认 …`` only when no setting for everything changes them), its settings in Chinese."""
    catalog = current(db)
    failures = list_failures(db)
    names = _scope_titles(db, catalog)
    everywhere = Target(Scope())
    rows = []
    for rule in catalog.listed():
        held = effective(rule, catalog.settings, everywhere)
        mine = sorted((s for s in catalog.settings if s.rule == rule.id), key=_rank)
        params = []
        for spec in param_fields(rule):
            holding = _holding_view(rule, spec["name"], held[spec["name"]], names)
            params.append(spec | {"now": holding})
        rows.append(
            {
                "id": rule.id,
                "name": rule_title(rule),
                "class": rule.rule_class,
                "class_name": label(ALERT_CLASS_NAMES, rule.rule_class),
                "type": rule.rule_type,
                "level": rule.level,
                "level_name": label(LEVEL_NAMES, rule.level),
                "graded": rule.graded,
                "custom": rule.custom,
                "description": plain_description(rule),
                "legal_basis": rule.legal_basis,
                "expression": next((c.expression for c in catalog.custom if c.id == rule.id), ""),
                "failure": failures.get(rule.id),
                "enabled": _holding_view(rule, "enabled", held["enabled"], names),
                "level_now": _holding_view(rule, "level", held["level"], names),
                "params": params,
                "settings": [_setting_view(rule, s, names) for s in mine],
            }
        )
    return {"version": catalog.version, "rules": rows}


# -- one rule ----------------------------------------------------------------------------------


def choices(db: Database) -> dict[str, Any]:
    """What a scope may be: the tree of regions (indented), departments, the first items."""
    items = find_items(db, "", ITEMS_LISTED + 1)
    return {
        "regions": [
            {"code": r.code, "label": r.label, "depth": r.depth, "kind": r.kind}
            for r in regions(db)
        ],
        "departments": [{"code": d.code, "label": d.label} for d in departments(db)],
        "items": [{"code": i.code, "label": i.label} for i in items[:ITEMS_LISTED]],
        "items_more": len(items) > ITEMS_LISTED,
    }


def scope_view(db: Database, rule: Rule, catalog: Catalog, target: Target) -> dict[str, Any]:
    """What holds for ``target``, attribute by attribute, and what is set at exactly it (the
    form's values)."""
    names = _scope_titles(db, catalog) | {target.scope: target.name}
    held = effective(rule, catalog.settings, target)
    own = catalog.setting(rule.id, target.scope)
    own_params = dict(own.params) if own is not None else {}
    fields: dict[str, Any] = {}
    for key, holding in held.items():
        view = _holding_view(rule, key, holding, names)
        if key == "enabled":
            view["own"] = (
                "" if own is None or own.enabled is None else ("on" if own.enabled else "off")
            )
        elif key == "level":
            view["own"] = "" if own is None or own.level is None else own.level
        else:
            value = own_params.get(key)
            view["own"] = (
                ""
                if value is None
                else (shown_number(value) if isinstance(value, int | float) else str(value))
            )
        fields[key] = view
    return {
        "scope": str(target.scope),
        "kind": target.scope.kind,
        "code": target.scope.code,
        "title": target.title,
        # what the scope's picker shows: 名称（代码）, as the item list offers it
        "pick": f"{target.name}（{target.scope.code}）" if target.name else target.scope.code,
        "has_setting": own is not None,
        "fields": fields,
    }


def rule_view(db: Database, rule_id: str, scope: Scope | None = None) -> dict[str, Any]:
    """One rule for its page: fields, its settings, what holds at ``scope`` (everything by
    default), its history. An unknown rule is refused (404); an unknown scope shows
    everything's values and says why (``scope_error``)."""
    catalog = current(db)
    rule = catalog.rule(rule_id)
    names = _scope_titles(db, catalog)
    scope_error = ""
    try:
        target = check_scope(db, scope or Scope())
    except ValidationError as exc:
        scope_error, target = str(exc), Target(Scope())
    mine = sorted((s for s in catalog.settings if s.rule == rule.id), key=_rank)
    return {
        "version": catalog.version,
        "rule": {
            "id": rule.id,
            "name": rule_title(rule),
            "class_name": label(ALERT_CLASS_NAMES, rule.rule_class),
            "type": rule.rule_type,
            "level": rule.level,
            "level_name": label(LEVEL_NAMES, rule.level),
            "graded": rule.graded,
            "custom": rule.custom,
            "description": plain_description(rule),
            "legal_basis": rule.legal_basis,
            "expression": next((c.expression for c in catalog.custom if c.id == rule.id), ""),
        },
        "levels": [{"value": lv, "label": label(LEVEL_NAMES, lv)} for lv in LEVELS],
        "scope_kinds": [{"value": k, "label": label(SCOPE_NAMES, k)} for k in SCOPE_NAMES],
        "params": param_fields(rule),
        "settings": [_setting_view(rule, s, names) for s in mine],
        "at": scope_view(db, rule, catalog, target),
        "scope_error": scope_error,
        "history": history_view(db, versions(db, HISTORY_SHOWN, rule=rule.id), catalog),
    }


# -- reading a form ------------------------------------------------------------------------------


@dataclass
class FormResult:
    """A form read: the setting it asks for (None when a field is wrong), its scope's target,
    its reason, and the problems by field (``scope``, ``enabled``, ``level``, ``p.<name>``,
    ``reason``; ``form`` for the form as a whole)."""

    setting: Setting | None = None
    target: Target | None = None
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def read_scope(db: Database, form: Mapping[str, str]) -> Target:
    """The scope a form names, checked: ``scope_kind`` with ``region``/``department``/``item``
    (the page's pickers), or ``scope`` written as the API takes it (``region:330100``)."""
    kind = form.get("scope_kind", "").strip()
    if kind:
        scope = parse_choice(kind, form.get(kind, "") if kind != "all" else "")
    else:
        scope = Scope.parse(form.get("scope", "").strip() or "all")
    return check_scope(db, scope)


def _field_value(rule: Rule, param: Param, text: str) -> ParamValue:
    if param.kind in ("int", "float"):
        return check_number(rule, param, text, _bounds(rule, param))
    choices = LEVEL_CHOICES if param.kind == "level" else UNIT_CHOICES
    if text not in choices:
        raise ValidationError("请从列表中选择", field=f"params.{param.name}")
    return text


def read_form(db: Database, rule: Rule, form: Mapping[str, str]) -> FormResult:
    """The setting a rule's form asks for: every field checked, every problem kept beside its
    field in Chinese. A blank parameter leaves it as it is."""
    result = FormResult()
    try:
        result.target = read_scope(db, form)
    except InputError as exc:
        result.errors["scope"] = str(exc)
    enabled = {"on": True, "off": False}.get(form.get("enabled", ""))
    if form.get("enabled", "") not in ("", "on", "off"):
        result.errors["enabled"] = "请从列表中选择：不变、启用或停用"
    level = form.get("level", "") or None
    if level is not None and (rule.graded or level not in LEVELS):
        result.errors["level"] = (
            "本规则的级别由参数决定，不能直接设置" if rule.graded else "请从列表中选择级别"
        )
    params: list[tuple[str, ParamValue]] = []
    for p in rule.params:
        text = form.get(f"p.{p.name}", "").strip()
        if not text:
            continue
        try:
            params.append((p.name, _field_value(rule, p, text)))
        except ParamValueError as exc:
            result.errors[f"p.{p.name}"] = exc.beside_field
        except ValidationError as exc:
            result.errors[f"p.{p.name}"] = str(exc)
    if enabled is None and level is None and not params and not result.errors:
        result.errors["form"] = "没有要修改的内容：请设置启用状态、级别或至少一个参数"
    try:
        result.reason = check_reason(form.get("reason", ""))
    except ValidationError as exc:
        result.errors["reason"] = str(exc)
    if not result.errors and result.target is not None:
        result.setting = Setting(rule.id, result.target.scope, enabled, level, tuple(params))
    return result


# -- history -----------------------------------------------------------------------------------


def history_view(
    db: Database, found: Sequence[Version], catalog: Catalog | None = None
) -> list[dict[str, Any]]:
    """Versions as the page and the export show them: who (name), when, what changed (field:
    old → new, in Chinese), why."""
    catalog = catalog or current(db)
    rules = {r.id: r for r in catalog.listed()}
    names = scope_names(db, {c.scope for v in found for c in v.changes})
    out = []
    for v in found:
        lines = []
        for change in v.changes:
            rule = rules.get(change.rule)
            subject = rule_title(rule) if rule is not None else change.rule
            default: object = None
            if rule is not None and change.field == "enabled":
                default = True
            elif rule is not None and change.field == "level":
                default = rule.level
            elif rule is not None and change.field.startswith("params."):
                name = change.field.removeprefix("params.")
                default = next((p.default for p in rule.params if p.name == name), None)
            if change.field == "custom":
                text = str(change.new if change.new is not None else change.old)
                lines.append(
                    {
                        "rule": text,
                        "rule_id": change.rule,
                        "scope": "",
                        "field": "自定义规则",
                        "old": "—" if change.old is None else text,
                        "new": "已删除" if change.new is None else "新增",
                    }
                )
                continue
            name, old, new = change_text(rule, change, default)
            lines.append(
                {
                    "rule": subject,
                    "rule_id": change.rule,
                    "scope": change.scope.title(names.get(change.scope, "")),
                    "field": name,
                    "old": old,
                    "new": new,
                }
            )
        out.append(
            {
                "version": v.version,
                "changed_at": v.changed_at,
                "changed_by": v.changed_by,
                "person": v.person,
                "summary": v.summary,
                "reason": v.reason,
                "changes": lines,
            }
        )
    return out


def history(
    db: Database, limit: int = HISTORY_SHOWN, rule: str | None = None
) -> list[dict[str, Any]]:
    return history_view(db, versions(db, limit, rule=rule))


def refusal(exc: GovwatchError) -> tuple[str, str]:
    """(field, message) of a refusal from saving, for the form: the field it belongs to."""
    if isinstance(exc, ParamValueError):
        return f"p.{exc.field.removeprefix('params.')}", exc.beside_field
    if isinstance(exc, ValidationError) and exc.field:
        return exc.field.replace("params.", "p."), str(exc)
    return "form", str(exc)
