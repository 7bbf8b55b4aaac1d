"""The rule catalog (read, change settings, history) and evaluation rounds' results.

Catalog changes go through ``govwatch.rules.catalog`` and are appended to the ledger
(``catalog.change``) with who, when and the setting.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from govwatch.evaluation.rounds.views import RoundViewer, round_summary
from govwatch.ledger import append_one
from govwatch.rules import catalog as rule_catalog
from govwatch.rules.settings import Scope, setting_subject
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, NOT_FOUND
from govwatch.web.api.jobs import JOB_HEADER, WAIT_SECONDS, runner_of
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
def rules_setting(
    body: RuleSettingIn,
    request: Request,
    response: Response,
    db: DB,
    caller: Caller,
    at: Clock,
    wait: Annotated[bool, Query()] = False,
) -> RulesOut:
    """Enable/disable a rule, change its level or parameters, for all or a region/department/item.

    Answers once the setting is saved; every case is then re-evaluated under the new catalog
    as a background job, named in the ``X-Govwatch-Job`` header (``GET /api/v1/jobs/{id}``).
    ``wait=true`` answers only once that job has finished (at most 60 s)."""
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
    # alerts follow the new catalog, as from the page and CLI: in the background
    runner = runner_of(request)
    subject = setting_subject(body.rule, Scope.parse(body.scope))
    job = runner.reevaluate(caller.name, subject, at, saved.version)
    response.headers[JOB_HEADER] = job.job_id
    if wait:
        runner.wait(job.job_id, WAIT_SECONDS)
    return _rules(db)


@router.get(
    "/evaluations/{round_id}", response_model=dict[str, Any], responses={**AUTH, **NOT_FOUND}
)
def evaluation_round(
    round_id: Annotated[str, Path(min_length=1, max_length=64)], db: DB, caller: Caller
) -> dict[str, Any]:
    """A round and the results the caller may see (docs/security.md, "Evaluation rounds").

    The same dict as the round page's JSON twin (``/evaluations/{round}?format=json``).
    """
    if caller.role != "public":
        caller.require("evaluations.read")
    return round_summary(db, round_id, RoundViewer.of_principal(caller))
