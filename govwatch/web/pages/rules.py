"""规则目录: every rule by its Chinese name, its settings as forms, custom rules, the history.

``/rules`` lists the rules (name first, class and type by name, parameters as they hold
everywhere, each rule's settings in Chinese), the custom-rule form and the history of changes
(who, when, what changed, why). ``/rules/{id}`` is one rule: its settings with 删除, and the
form that changes it — the scope picked from the organisation tree (全局, a region, a
department) or the item list, each parameter a typed field with its unit and allowed range,
and a required 理由. ``GET /rules/{id}/effective?scope=`` answers what holds at a scope (the
form's script shows it as the scope changes). Every view is built by
:mod:`govwatch.rules.forms`; saving and deleting go through :mod:`govwatch.rules.catalog`
(versioned with who and why, ledgered). A save answers at once; every case is then
re-evaluated as a background job (:mod:`govwatch.live.jobs`) whose progress bar and summary
(alerts raised and cleared) the page shows (``?job=``). ``?format=xlsx|csv`` exports the
catalog, with ``&export=history`` the history.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.auth.errors import NotFoundError
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError, InputError, ValidationError
from govwatch.rules.catalog import current, delete_setting, set_setting
from govwatch.rules.catalog import save as save_catalog
from govwatch.rules.custom import CustomRuleDef, check_definition
from govwatch.rules.describe import expression_text, view_columns
from govwatch.rules.engine import dry_run
from govwatch.rules.forms import (
    HISTORY_SHOWN,
    choices,
    history,
    overview,
    read_form,
    read_scope,
    refusal,
    rule_view,
    scope_view,
)
from govwatch.rules.model import LEVELS, TYPE_CLASSES
from govwatch.rules.scopes import Target, check_scope
from govwatch.rules.settings import Scope, rule_title, setting_subject
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
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter()

RuleId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$")
CATALOG_COLUMNS = (
    "规则",
    "类别",
    "类型",
    "级别",
    "启用",
    "参数（全局）",
    "按范围的调整",
    "说明",
    "依据",
    "规则编号",
)
HISTORY_COLUMNS = ("版本", "时间", "人员", "账号", "规则", "范围", "调整项", "原值", "新值", "理由")


def _page(
    request: Request, db: Database, caller: Principal, status: int = 200, **extra: Any
) -> Response:
    data = overview(db)
    return render(
        request,
        db,
        caller,
        "rules.html",
        data
        | {
            "history": history(db),
            "types": TYPE_CLASSES,
            "levels": LEVELS,
            "columns": [c.as_dict() for c in view_columns()],
            "expressions": {
                r["id"]: expression_text(r["expression"])
                for r in data["rules"]
                if r.get("expression")
            },
            "can_manage": caller.can("rules.manage"),
            "form": {},
            **extra,
        },
        status,
    )


def _catalog_rows(data: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for r in data["rules"]:
        params = "；".join(f"{p['label']} {p['now']['shown']}" for p in r["params"])
        settings = "\n".join(f"{s['title']}：{'；'.join(s['parts'])}" for s in r["settings"])
        rows.append(
            [
                r["name"],
                r["class_name"],
                r["type"],
                r["level_now"]["shown"],
                r["enabled"]["shown"],
                params or "—",
                settings or "—",
                r["description"],
                r["legal_basis"],
                r["id"],
            ]
        )
    return rows


def _history_rows(versions: list[dict[str, Any]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for v in versions:
        for c in v["changes"] or [{"rule": "", "scope": "", "field": "", "old": "", "new": ""}]:
            rows.append(
                [v["version"], v["changed_at"], v["person"], v["changed_by"], c["rule"],
                 c["scope"], c["field"], c["old"], c["new"], v["reason"] or v["summary"]]
            )  # fmt: skip
    return rows


@router.get("/rules", response_model=None)
def rules_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("rules.read"):
        return error_page(request, db, caller, 403, "本角色无权查看监察规则")
    if wants_json(request):
        return json_response(overview(db) | {"history": history(db)})
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None and request.query_params.get("export") == "history":
        return sheet_response(
            title="规则变更记录",
            filters=(("范围", f"最近 {HISTORY_SHOWN} 个版本"),),
            columns=HISTORY_COLUMNS,
            rows=_history_rows(history(db)),
            fmt=fmt,
            filename="规则变更记录",
            exported_at=at,
        )
    if fmt is not None:
        data = overview(db)
        return sheet_response(
            title="监察规则目录",
            filters=(("规则目录版本", str(data["version"])),),
            columns=CATALOG_COLUMNS,
            rows=_catalog_rows(data),
            fmt=fmt,
            filename="监察规则目录",
            exported_at=at,
        )
    return _page(request, db, caller)


def _rule_page(
    request: Request,
    db: Database,
    caller: Principal,
    rule_id: str,
    scope: Scope | None,
    status: int = 200,
    **extra: Any,
) -> Response:
    try:
        data = rule_view(db, rule_id, scope)
    except InputError as exc:
        return error_page(request, db, caller, 404, str(exc))
    data |= {"choices": choices(db), "can_manage": caller.can("rules.manage"), "form": {},
             "errors": {}} | extra  # fmt: skip
    if data["rule"].get("expression"):
        data["rule"]["expression_text"] = expression_text(data["rule"]["expression"])
    if wants_json(request):
        return json_response(data)
    return render(request, db, caller, "rule.html", data, status)


@router.get("/rules/{rule_id}", response_model=None)
def rule_page(request: Request, db: DB, caller: Caller, rule_id: str = RuleId) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("rules.read"):
        return error_page(request, db, caller, 403, "本角色无权查看监察规则")
    text = request.query_params.get("scope", "")
    try:
        scope = Scope.parse(text[:200]) if text else None
    except ValidationError as exc:
        return _rule_page(request, db, caller, rule_id, None, 400, error=str(exc))
    return _rule_page(request, db, caller, rule_id, scope)


@router.get("/rules/{rule_id}/effective", response_model=None)
def rule_effective(request: Request, db: DB, caller: Caller, rule_id: str = RuleId) -> Response:
    """What holds for one rule at the scope the query names (the form's script asks)."""
    if not caller.can("rules.read"):
        return json_response({"ok": False, "message": "本角色无权查看监察规则"})
    form = {k: str(v)[:200] for k, v in request.query_params.items()}
    try:
        catalog = current(db)
        rule = catalog.rule(rule_id)
        target = read_scope(db, form)
    except GovwatchError as exc:
        answer = json_response({"ok": False, "message": str(exc)})
        answer.status_code = status_of(exc) if not isinstance(exc, InputError) else 400
        return answer
    return json_response({"ok": True, **scope_view(db, rule, catalog, target)})


def _form(request_form: Any) -> dict[str, str]:
    return {str(k): str(v)[:2000] for k, v in request_form.items()}


def _refused(
    request: Request, db: Database, caller: Principal, rule_id: str, form: dict[str, str],
    errors: dict[str, str], target: Target | None, status: int = 400,
) -> Response:  # fmt: skip
    first = next(iter(errors.values()))
    message = "未保存：" + (
        errors.get("form") or first if len(errors) == 1 else "请按提示修改标出的项"
    )
    return _rule_page(
        request, db, caller, rule_id, target.scope if target else None, status,
        error=message, errors=errors, form=form,
    )  # fmt: skip


@router.post("/rules/setting", response_model=None)
async def rules_setting(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    """Save a rule's setting from its form (typed fields, scope picked, 理由 required)."""
    if caller.role == "public":
        return login_redirect(request)
    form = _form(await request.form())
    rule_id = form.get("rule", "")[:64]
    try:
        caller.require("rules.manage")
        rule = current(db).rule(rule_id)
    except GovwatchError as exc:
        return error_page(
            request,
            db,
            caller,
            status_of(exc) if not isinstance(exc, InputError) else 404,
            str(exc),
        )
    read = read_form(db, rule, form)
    if read.errors or read.setting is None or read.target is None:
        return _refused(request, db, caller, rule_id, form, read.errors, read.target)
    target = read.target
    try:
        saved = set_setting(db, read.setting, caller.name, read.reason, at, scope_name=target.name)
    except GovwatchError as exc:
        where, message = refusal(exc)
        return _refused(
            request, db, caller, rule_id, form, {where: message}, target, status_of(exc)
        )
    subject = setting_subject(rule.id, target.scope, scope_name=target.name, title=rule_title(rule))
    # every case is re-evaluated in the background: the page shows the job's progress
    job = runner_of(request).reevaluate(caller.name, subject, at, saved.version)
    return back(
        f"/rules/{rule.id}?job={job.job_id}&scope={target.scope}",
        f"已保存{subject}的设置（版本 {saved.version}）；正在按新规则重新评估全部办件",
    )


@router.post("/rules/setting/delete", response_model=None)
async def rules_setting_delete(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    """Delete a rule's setting at one scope (after the form's confirmation, with a 理由)."""
    if caller.role == "public":
        return login_redirect(request)
    form = _form(await request.form())
    rule_id = form.get("rule", "")[:64]
    try:
        caller.require("rules.manage")
        rule = current(db).rule(rule_id)
        scope = Scope.parse(form.get("scope", "").strip() or "all")
    except GovwatchError as exc:
        return error_page(
            request,
            db,
            caller,
            status_of(exc) if not isinstance(exc, InputError) else 404,
            str(exc),
        )
    try:
        target = check_scope(db, scope)
        name = target.name
    except ValidationError:
        name = ""  # a setting saved before scopes were checked may still be deleted
    try:
        saved = delete_setting(
            db, rule.id, scope, caller.name, form.get("reason", ""), at, scope_name=name
        )
    except NotFoundError as exc:
        return _rule_page(request, db, caller, rule.id, None, 404, error=str(exc))
    except GovwatchError as exc:
        field = refusal(exc)[0]
        errors = {f"delete:{scope}" if field == "reason" else "form": str(exc)}
        return _rule_page(request, db, caller, rule.id, None, status_of(exc),
                          error=f"未删除：{exc}", errors=errors, form=form)  # fmt: skip
    subject = setting_subject(rule.id, scope, scope_name=name, title=rule_title(rule))
    job = runner_of(request).reevaluate(caller.name, subject, at, saved.version)
    return back(
        f"/rules/{rule.id}?job={job.job_id}",
        f"已删除{subject}的调整（版本 {saved.version}），恢复为上级设置或默认值；正在按新规则重新评估全部办件",
    )


# -- custom rules ------------------------------------------------------------------------------


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
        check_definition(_definition(form), {r.id for r in catalog.listed()})
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
        title = definition.description or definition.id
        saved = save_catalog(db, catalog, caller.name, f"新增自定义规则“{title}”", at)
        # every case is re-evaluated in the background: the page shows the job's progress
        job = runner_of(request).reevaluate(
            caller.name, setting_subject(definition.id, title=title), at, saved.version
        )
    except GovwatchError as exc:
        field = exc.field if isinstance(exc, ValidationError) else ""
        return _page(
            request, db, caller, status_of(exc), error=str(exc), error_field=field, form=form
        )
    return back(
        f"/rules?job={job.job_id}",
        # (the id it was given: a custom rule is known by it in expressions and the CLI)
        f"已添加规则 {definition.id}（{title}）：当前数据中命中 {matches} 件；"
        "正在按新规则重新评估全部办件",
    )
