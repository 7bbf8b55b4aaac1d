"""The rule catalog (read, change settings, history) and evaluation rounds' results.

Catalog changes go through ``govwatch.rules.catalog`` and are appended to the ledger
(``catalog.change``) with who, when and the setting.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path

from govwatch.auth.errors import NotFoundError
from govwatch.ledger import append_one
from govwatch.live.pipeline import rule_catalog_changed
from govwatch.rules import catalog as rule_catalog
from govwatch.web.api.cases import plain
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, NOT_FOUND
from govwatch.web.api.schemas import RuleOut, RuleSettingIn, RulesOut

router = APIRouter(tags=["catalog"])


def _rules(db: DB) -> RulesOut:
    current = rule_catalog.current(db)
    rules = [
        RuleOut(
            id=r.id,
            rule_class=r.rule_class,
            rule_type=r.rule_type,
            level=r.level,
            description=r.description,
            legal_basis=r.legal_basis,
            key=r.key,
            params=[
                {"name": p.name, "default": p.default, "kind": p.kind, "description": p.description}
                for p in r.params
            ],
            custom=r.custom,
        )
        for r in current.rules()
    ]
    doc = current.as_doc()
    return RulesOut(
        version=current.version, rules=rules, settings=doc["settings"], custom=doc["custom"]
    )


@router.get("/rules", response_model=RulesOut, responses={**AUTH})
def rules_index(db: DB, caller: Caller) -> RulesOut:
    """The supervision rule catalog in force: every rule, the settings and custom rules."""
    caller.require("rules.read")
    return _rules(db)


@router.get("/rules/history", response_model=list[dict[str, Any]], responses={**AUTH})
def rules_history(db: DB, caller: Caller) -> list[dict[str, Any]]:
    caller.require("rules.read")
    return rule_catalog.history(db)


@router.put("/rules/settings", response_model=RulesOut, responses={**AUTH, **BAD_INPUT})
def rules_setting(body: RuleSettingIn, db: DB, caller: Caller, at: Clock) -> RulesOut:
    """Enable/disable a rule, change its level or parameters, for all or a region/department/item."""
    caller.require("rules.manage")
    setting: dict[str, Any] = {"rule": body.rule, "scope": body.scope}
    if body.enabled is not None:
        setting["enabled"] = body.enabled
    if body.level is not None:
        setting["level"] = body.level
    if body.params:
        setting["params"] = body.params
    with db.transaction():
        current = rule_catalog.current(db)
        doc = current.as_doc()
        doc["settings"].append(setting)
        changed = rule_catalog.Catalog.from_doc(doc)
        summary = body.summary or f"{body.rule} @ {body.scope}"
        saved = rule_catalog.save(db, changed, caller.name, summary, at)
        append_one(
            db,
            "catalog.change",
            caller.name,
            f"rules:v{saved.version}",
            at,
            {"version": saved.version, "setting": setting, "summary": summary},
        )
    rule_catalog_changed(db, at)  # alerts follow the new catalog, as from the page and CLI
    return _rules(db)


@router.get(
    "/evaluations/{round_id}", response_model=dict[str, Any], responses={**AUTH, **NOT_FOUND}
)
def evaluation_round(
    round_id: Annotated[str, Path(min_length=1, max_length=64)], db: DB, caller: Caller
) -> dict[str, Any]:
    """A round and its results; the public sees published rounds only."""
    if caller.role != "public":
        caller.require("evaluations.read")
    if not db.table_exists("eval_rounds"):
        raise NotFoundError(f"评估批次“{round_id}”不存在")
    rows = db.query_dicts(
        "SELECT round_id, name, period_start, period_end, unit_kind, system_name, status, "
        "published_at, digest FROM eval_rounds WHERE round_id = ?",
        [round_id],
    )
    if not rows or (caller.role in ("public", "source") and rows[0]["status"] != "published"):
        raise NotFoundError(f"评估批次“{round_id}”不存在或尚未公布")
    results = db.query_dicts(
        "SELECT unit, group_name, score, stars, rank, group_rank, points, missing, rank_low, "
        "rank_high, star_stability FROM eval_results WHERE round_id = ? ORDER BY rank, unit",
        [round_id],
    )
    units = []
    for r in results:
        unit: dict[str, Any] = {
            "unit": r["unit"],
            "group": r["group_name"],
            "score": r["score"],
            "stars": r["stars"],
            "rank": r["rank"],
            "group_rank": r["group_rank"],
            "points": orjson.loads(r["points"]),
            "missing": orjson.loads(r["missing"]),
        }
        if r["rank_low"] is not None:
            unit["rank_interval"] = [r["rank_low"], r["rank_high"]]
            unit["star_stability"] = r["star_stability"]
        units.append(unit)
    return {**{k: plain(v) for k, v in rows[0].items()}, "results": units}
