"""The rule catalog (read, change and delete settings, history) and evaluation rounds' results.

Catalog changes go through ``govwatch.rules.catalog`` (:func:`~govwatch.rules.catalog.set_setting`,
:func:`~govwatch.rules.catalog.delete_setting`), which version them with who and why (the
``reason``, required) and append them to the ledger (``catalog.change``). A scope naming a region,
department or item that neither the organisation tree nor the item catalog knows is refused
(400, in Chinese), as on the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from govwatch.errors import ValidationError
from govwatch.evaluation.rounds.views import RoundViewer, round_summary
from govwatch.rules import catalog as rule_catalog
from govwatch.rules.forms import history as change_history
from govwatch.rules.scopes import ITEM_MATCHES, check_scope, find_items
from govwatch.rules.settings import Scope, Setting, setting_subject
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, CONFLICT, NOT_FOUND
from govwatch.web.api.jobs import JOB_HEADER, WAIT_SECONDS, runner_of
from govwatch.web.api.schemas import RuleOut, RuleSettingIn, RulesOut

router = APIRouter(tags=["catalog"])


class RuleSettingChange(RuleSettingIn):
    reason: str | None = Field(
        default=None,
        max_length=400,
        description="理由：为什么这样调整（必填，记入变更记录；未给时取 summary）",
    )


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
    """Every saved version: version, changed_at, changed_by, summary."""
    caller.require("rules.read")
    return rule_catalog.history(db)


@router.get("/rules/changes", response_model=list[dict[str, Any]], responses={**AUTH})
def rules_changes(
    db: DB,
    caller: Caller,
    rule: Annotated[str | None, Query(max_length=64, description="只看这条规则的变更")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """The most recent versions as changes, newest first: who (``person``, the display name;
    ``changed_by``, the account), when, why (``reason``) and what changed, attribute by
    attribute in Chinese (``changes``: rule, scope, field, old, new)."""
    caller.require("rules.read")
    found = change_history(db, limit, rule=rule)
    return [v | {"changed_at": v["changed_at"].isoformat(sep=" ")} for v in found]


@router.get("/rules/scopes/items", response_model=list[dict[str, str]], responses={**AUTH})
def rules_scope_items(
    db: DB,
    caller: Caller,
    q: Annotated[str, Query(max_length=80, description="事项编码前缀或名称中的文字")] = "",
) -> list[dict[str, str]]:
    """Items a rule setting may apply to, matching ``q`` (the rules page searches as one types):
    code, name and ``label`` (名称（编码）)."""
    caller.require("rules.read")
    return [
        {"code": i.code, "name": i.name, "label": i.label} for i in find_items(db, q, ITEM_MATCHES)
    ]


def _reevaluate(
    request: Request, response: Response, db: DB, who: str, subject: str, at: datetime, version: int,
    wait: bool,
) -> None:  # fmt: skip
    # alerts follow the new catalog, as from the page and CLI: in the background
    runner = runner_of(request)
    job = runner.reevaluate(who, subject, at, version)
    response.headers[JOB_HEADER] = job.job_id
    if wait:
        runner.wait(job.job_id, WAIT_SECONDS)


@router.put("/rules/settings", response_model=RulesOut, responses={**AUTH, **BAD_INPUT, **CONFLICT})
def rules_setting(
    body: RuleSettingChange,
    request: Request,
    response: Response,
    db: DB,
    caller: Caller,
    at: Clock,
    wait: Annotated[bool, Query()] = False,
) -> RulesOut:
    """Enable/disable a rule, change its level or parameters, for all or a region/department/item.

    The region, department or item must exist (the organisation tree or the item catalog);
    ``reason`` says why (required; ``summary`` is taken when it is missing). Answers once the
    setting is saved; every case is then re-evaluated under the new catalog as a background job,
    named in the ``X-Govwatch-Job`` header (``GET /api/v1/jobs/{id}``). ``wait=true`` answers
    only once that job has finished (at most 60 s)."""
    caller.require("rules.manage")
    scope = Scope.parse(body.scope)
    setting = Setting(
        body.rule, scope, body.enabled, body.level, tuple(sorted(body.params.items()))
    )
    target = check_scope(db, scope)
    reason = body.reason or body.summary or ""
    saved = rule_catalog.set_setting(db, setting, caller.name, reason, at, scope_name=target.name)
    title = rule_catalog.current(db).title(body.rule)
    subject = setting_subject(body.rule, scope, scope_name=target.name, title=title)
    _reevaluate(request, response, db, caller.name, subject, at, saved.version, wait)
    return _rules(db)


@router.delete(
    "/rules/settings",
    response_model=RulesOut,
    responses={**AUTH, **BAD_INPUT, **NOT_FOUND, **CONFLICT},
)
def rules_setting_delete(
    request: Request,
    response: Response,
    db: DB,
    caller: Caller,
    at: Clock,
    rule: Annotated[str, Query(min_length=1, max_length=64, description="规则编号")],
    reason: Annotated[str, Query(max_length=400, description="理由（必填，记入变更记录）")] = "",
    scope: Annotated[
        str, Query(max_length=80, description="all、region:…、department:…、item:…")
    ] = "all",
    wait: Annotated[bool, Query()] = False,
) -> RulesOut:
    """Delete a rule's setting at one scope: what it set falls back to a wider setting or the
    default. Versioned with who and why, ledgered, and followed by a re-evaluation job as a save
    (``X-Govwatch-Job``; ``wait=true`` waits for it). 404 when there is no such setting."""
    caller.require("rules.manage")
    parsed = Scope.parse(scope)
    names = rule_catalog.current(db)
    title = names.title(rule)
    names.rule(rule)  # an unknown rule: 400 naming it
    try:
        name = check_scope(db, parsed).name
    except ValidationError:  # a setting saved before scopes were checked may still be deleted
        name = ""
    saved = rule_catalog.delete_setting(db, rule, parsed, caller.name, reason, at, scope_name=name)
    subject = setting_subject(rule, parsed, scope_name=name, title=title)
    _reevaluate(request, response, db, caller.name, subject, at, saved.version, wait)
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
