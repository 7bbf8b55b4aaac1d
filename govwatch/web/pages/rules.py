"""规则目录: every rule with its parameters and overrides, editing, custom rules, history.

Reads and writes through :mod:`govwatch.rules.catalog` (versions in ``rule_catalog_versions``),
the functions behind ``GET /api/v1/rules``. A custom rule is checked as it is typed
(``POST /rules/check`` answers JSON for the form's script) and again on save, with a dry run
over the stored cases. A save answers at once; the live engine then re-evaluates every case as
a background job (:mod:`govwatch.live.jobs`) whose progress bar the page shows (``?job=``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError, ValidationError
from govwatch.rules.catalog import PARAM_RANGES, current, history
from govwatch.rules.catalog import save as save_catalog
from govwatch.rules.custom import CustomRuleDef, check_definition
from govwatch.rules.engine import dry_run
from govwatch.rules.failures import list_failures
from govwatch.rules.model import LEVELS, TYPE_CLASSES
from govwatch.rules.settings import Scope, Setting, setting_subject
from govwatch.rules.views import CASE_VIEW_COLUMNS
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.jobs import runner_of
from govwatch.web.pages.base import (
    back,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)

router = APIRouter()


def rules_data(db: Database) -> dict[str, Any]:
    catalog = current(db)
    failures = list_failures(db)
    overrides: dict[str, list[dict[str, Any]]] = {}
    for s in catalog.settings:
        overrides.setdefault(s.rule, []).append(s.as_doc())
    rules = [
        {
            "id": r.id,
            "class": r.rule_class,
            "type": r.rule_type,
            "level": r.level,
            "description": r.description,
            "legal_basis": r.legal_basis,
            "key": r.key,
            "custom": r.custom,
            "graded": r.graded,
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "kind": p.kind,
                    "description": p.description,
                    # the allowed range of a numeric parameter (refused outside it)
                    "range": list(PARAM_RANGES.get(r.id, {}).get(p.name, ()))
                    if p.kind in ("int", "float")
                    else None,
                }
                for p in r.params
            ],
            "overrides": overrides.get(r.id, []),
            "expression": next((c.expression for c in catalog.custom if c.id == r.id), ""),
            # the rule failed during live evaluation and was skipped (rules/failures.py)
            "failure": failures.get(r.id),
        }
        for r in catalog.rules()
    ]
    return {"version": catalog.version, "rules": rules, "history": history(db)}


def _page(
    request: Request, db: Database, caller: Principal, status: int = 200, **extra: Any
) -> Response:
    return render(
        request,
        db,
        caller,
        "rules.html",
        rules_data(db)
        | {
            "types": TYPE_CLASSES,
            "levels": LEVELS,
            "columns": sorted(CASE_VIEW_COLUMNS),
            "can_manage": caller.can("rules.manage"),
            "form": {},
            **extra,
        },
        status,
    )


@router.get("/rules", response_model=None)
def rules_page(request: Request, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("rules.read"):
        return error_page(request, db, caller, 403, "本角色无权查看监察规则")
    if wants_json(request):
        return json_response(rules_data(db))
    return _page(request, db, caller)


def _definition(form: dict[str, str]) -> CustomRuleDef:
    rule_type = form.get("type", "").strip()
    return CustomRuleDef(
        id=form.get("id", "").strip(),
        rule_class=TYPE_CLASSES.get(rule_type, ""),
        rule_type=rule_type,
        level=form.get("level", "yellow"),  # type: ignore[arg-type]
        description=form.get("description", "").strip(),
        expression=form.get("expression", "").strip(),
        legal_basis=form.get("legal_basis", "").strip(),
    )


@router.post("/rules/check", response_model=None)
async def rules_check(request: Request, db: DB, caller: Caller) -> Response:
    """Immediate validation of a custom rule being typed: ``{"ok", "field", "message"}``."""
    if not caller.can("rules.manage"):
        return json_response({"ok": False, "field": "", "message": "只有管理员可以添加规则"})
    form = {k: str(v) for k, v in (await request.form()).items()}
    catalog = current(db)
    try:
        check_definition(_definition(form), {r.id for r in catalog.rules()})
    except ValidationError as exc:
        return json_response({"ok": False, "field": exc.field, "message": str(exc)})
    except GovwatchError as exc:
        return json_response({"ok": False, "field": "", "message": str(exc)})
    return json_response({"ok": True, "field": "", "message": "检查通过：可以保存"})


@router.post("/rules/custom", response_model=None)
async def rules_custom(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        caller.require("rules.manage")
        definition = _definition(form)
        catalog = current(db).with_custom(definition)
        matches = len(dry_run(db, catalog, definition.id, at))
        saved = save_catalog(db, catalog, caller.name, f"新增自定义规则 {definition.id}", at)
        # every case is re-evaluated in the background: the page shows the job's progress
        job = runner_of(request).reevaluate(
            caller.name, setting_subject(definition.id), at, saved.version
        )
    except GovwatchError as exc:
        field = exc.field if isinstance(exc, ValidationError) else ""
        return _page(
            request, db, caller, status_of(exc), error=str(exc), error_field=field, form=form
        )
    return back(
        f"/rules?job={job.job_id}",
        f"已添加规则 {definition.id}：当前数据中命中 {matches} 件；正在按新规则重新评估全部办件",
    )


@router.post("/rules/setting", response_model=None)
def rules_setting(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    rule: Annotated[str, Form(max_length=64)],
    scope: Annotated[str, Form(max_length=80)] = "all",
    enabled: Annotated[str, Form(max_length=8)] = "",
    level: Annotated[str, Form(max_length=8)] = "",
    params: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    try:
        caller.require("rules.manage")
        values: list[tuple[str, int | float | str]] = []
        for part in params.replace("，", ",").split(","):
            if part.strip():
                name, sep, value = part.partition("=")
                if not sep:
                    raise ValidationError(
                        f"参数“{part.strip()}”应写成 名称=值，多个用逗号分隔", field="params"
                    )
                values.append((name.strip(), value.strip()))
        setting = Setting(
            rule,
            Scope.parse(scope.strip() or "all"),
            {"on": True, "off": False}.get(enabled),
            level or None,
            tuple(sorted(values)),
        )
        catalog = current(db).with_setting(setting)
        subject = setting_subject(rule, setting.scope)
        saved = save_catalog(db, catalog, caller.name, f"调整{subject}", at)
        # every case is re-evaluated in the background: the page shows the job's progress
        job = runner_of(request).reevaluate(caller.name, subject, at, saved.version)
    except GovwatchError as exc:
        return _page(request, db, caller, status_of(exc), error=str(exc))
    except (KeyError, ValueError) as exc:
        return _page(request, db, caller, 400, error=str(exc).strip("'\""))
    return back(
        f"/rules?job={job.job_id}",
        f"已保存规则 {rule} 的设置；正在按新规则重新评估全部办件",
    )
