"""评估批次管理: the administrator creates and works a round on the web (issue 13 item 3).

``/evaluations/new`` creates a round from a preset or an uploaded indicator-system file (a file
that does not parse is shown with its failing line marked), with its period, unit kind, units
and groups (every unit of the kind by default), star thresholds, fill deadline and review
window. ``/evaluations/{id}/admin`` is the round's action panel: open collection, compute (a
background job), open review, decide appeals, publish (refused with publish_round's reasons;
before the period ends only with an explicit confirmation, recorded on the round) and close.
Administrators only (others 403); every form carries the session's CSRF token (checked by
the caller dependency) and every action is ledgered under the signed-in account
(:mod:`govwatch.evaluation.rounds.lifecycle`). The JSON API twin is
:mod:`govwatch.web.api.rounds_admin`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.evaluation.metrics.definitions import UNIT_KINDS
from govwatch.evaluation.presets import load_preset, preset_names
from govwatch.evaluation.rounds.lifecycle import (
    ADMIN_NEEDED,
    close_round,
    collect,
    publish,
    published_before_period_end,
    settle_appeal,
    start_review,
)
from govwatch.evaluation.rounds.setup import (
    UNIT_KIND_NAMES,
    SystemFileError,
    create_from_setup,
    default_units,
    parse_units,
    read_setup,
    system_choice,
    units_text,
)
from govwatch.evaluation.rounds.values import Actor, RoundStateError, round_row
from govwatch.storage import Database
from govwatch.vocabulary import (
    ROUND_ADMIN_STAGE_NAMES,
    ROUND_APPEAL_STATUS_NAMES,
    ROUND_LEDGER_ACTION_NAMES,
    label,
)
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.jobs import runner_of
from govwatch.web.pages.base import back, error_page, render, status_of
from govwatch.web.pages.forms import refusal

router = APIRouter(include_in_schema=False)
RoundId = Annotated[str, Path(min_length=1, max_length=64)]
AppealId = Annotated[str, Path(min_length=1, max_length=64)]

ADMIN_ROLE = "admin"
REFUSED = f"只有管理员可以创建和管理评估批次（{ADMIN_NEEDED}）"
STAGE_NAMES = ROUND_ADMIN_STAGE_NAMES
APPEAL_STATUS_NAMES = ROUND_APPEAL_STATUS_NAMES
LEDGER_ACTION_NAMES = ROUND_LEDGER_ACTION_NAMES
LEDGER_SHOWN = 50


def actor_of(caller: Principal) -> Actor:
    """The signed-in account as the evaluation functions' actor."""
    return Actor(caller.name, caller.role, caller.org_code)


def _refusal(request: Request, db: Database, caller: Principal) -> Response | None:
    return refusal(request, db, caller, (ADMIN_ROLE,), REFUSED)


def _status(exc: GovwatchError) -> int:
    return 409 if isinstance(exc, RoundStateError) else status_of(exc)


# -- creating a round ------------------------------------------------------------------------


def _presets() -> list[dict[str, Any]]:
    out = []
    for name in preset_names():
        system = load_preset(name)
        out.append(
            {
                "name": name,
                "title": system.name,
                "unit_kind": system.unit_kind or "",
                "leaves": len(system.leaves),
                "thresholds": dict(sorted(system.thresholds.items())),
            }
        )
    return out


def _new_page(
    request: Request,
    db: Database,
    caller: Principal,
    form: dict[str, str],
    *,
    error: str = "",
    file_error: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    presets = _presets()
    chosen = next((p for p in presets if p["name"] == form.get("preset")), presets[0])
    kind = form.get("unit_kind") or chosen["unit_kind"] or "city"
    if "units" not in form:
        form = {**form, "units": units_text(default_units(db, kind))}
    return render(
        request,
        db,
        caller,
        "round_admin_new.html",
        {
            "presets": presets,
            "chosen": chosen,
            "kind": kind,
            "kinds": [(k, UNIT_KIND_NAMES.get(k, k)) for k in UNIT_KINDS],
            "form": form,
            "error": error,
            "file_error": file_error,
        },
        status,
    )


@router.get("/evaluations/new", response_model=None)
def new_round_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    refused = _refusal(request, db, caller)
    if refused is not None:
        return refused
    q = request.query_params
    form = {k: q[k] for k in ("preset", "unit_kind") if q.get(k)}
    return _new_page(request, db, caller, form)


@router.post("/evaluations/new", response_model=None)
async def new_round(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    refused = _refusal(request, db, caller)
    if refused is not None:
        return refused
    data = await request.form()
    upload = data.get("system_file")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    try:
        system = system_choice(form.get("preset", ""), content or None)
        units_raw = form.get("units", "")
        units = (
            parse_units(units_raw)
            if units_raw.strip()
            else default_units(db, form.get("unit_kind") or system.unit_kind or "")
        )
        setup = read_setup(form, system, units)
        create_from_setup(db, setup, actor_of(caller), at)
    except SystemFileError as exc:
        text = content.decode("utf-8", "replace")
        lines = [{"no": i, "text": t} for i, t in enumerate(text.splitlines(), start=1)]
        file_error = {"line": exc.line, "lines": lines, "name": getattr(upload, "filename", "")}
        return _new_page(
            request, db, caller, form, error=str(exc), file_error=file_error, status=400
        )
    except GovwatchError as exc:
        return _new_page(request, db, caller, form, error=str(exc), status=_status(exc))
    return back(
        f"/evaluations/{setup.round_id}/admin",
        f"已创建评估批次 {setup.round_id}：{len(setup.units)} 个评估对象，指标体系“{setup.system.name}”",
    )


# -- the action panel ------------------------------------------------------------------------


def _panel(
    request: Request,
    db: Database,
    caller: Principal,
    round_id: str,
    at: datetime,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    try:
        row = round_row(db, round_id)
    except GovwatchError as exc:
        return error_page(request, db, caller, 404, str(exc))
    stage = str(row["status"])
    appeals = db.query_dicts(
        "SELECT appeal_id, unit, indicator, reason, submitted_by, submitted_at, status, "
        "decided_by, decided_at, decision FROM eval_appeals WHERE round_id = ? "
        "ORDER BY submitted_at, appeal_id",
        [round_id],
    )
    unit_names = {
        str(u): str(n or u)
        for u, n in db.query(
            "SELECT unit, unit_name FROM eval_units WHERE round_id = ?", [round_id]
        )
    }
    counts = {
        "units": len(unit_names),
        "entered": int(
            db.scalar("SELECT COUNT(*) FROM eval_values WHERE round_id = ?", [round_id]) or 0
        ),
        "results": int(
            db.scalar("SELECT COUNT(*) FROM eval_results WHERE round_id = ?", [round_id]) or 0
        ),
        "open_appeals": sum(1 for a in appeals if a["status"] == "open"),
    }
    history = db.query_dicts(
        "SELECT seq, logged_at, kind, actor, payload FROM ledger WHERE ref = ? "
        "ORDER BY seq DESC LIMIT ?",
        [f"round:{round_id}", LEDGER_SHOWN],
    )
    return render(
        request,
        db,
        caller,
        "round_admin_panel.html",
        {
            "round": row,
            "stage": stage,
            "stage_name": label(STAGE_NAMES, stage),
            "counts": counts,
            "appeals": appeals,
            "unit_names": unit_names,
            "appeal_status": APPEAL_STATUS_NAMES,
            "early": published_before_period_end(row, at),
            "history": [{**h, "actor": str(h["actor"]).rpartition(":")[2]} for h in history],
            "action_names": LEDGER_ACTION_NAMES,
            "error": error,
            "can_collect": stage in ("configured", "collecting", "computed"),
            "can_compute": stage in ("configured", "collecting", "computed", "review"),
        },
        status,
    )


@router.get("/evaluations/{round_id}/admin", response_model=None)
def round_admin_page(
    request: Request, round_id: RoundId, db: DB, caller: Caller, at: Clock
) -> Response:
    refused = _refusal(request, db, caller)
    if refused is not None:
        return refused
    return _panel(request, db, caller, round_id, at)


async def _form(request: Request) -> dict[str, str]:
    data = await request.form()
    return {k: v for k, v in data.items() if isinstance(v, str)}


NOT_CONFIRMED = "这一步不可撤销：请勾选确认后再提交"


def _require_confirmed(form: dict[str, str]) -> None:
    """A step that cannot be undone goes on only with its box ticked."""
    if form.get("confirm") != "1":
        raise RoundStateError(NOT_CONFIRMED)


@router.post("/evaluations/{round_id}/admin/{action}", response_model=None)
async def round_admin_action(
    request: Request, round_id: RoundId, action: str, db: DB, caller: Caller, at: Clock
) -> Response:
    refused = _refusal(request, db, caller)
    if refused is not None:
        return refused
    form = await _form(request)
    actor = actor_of(caller)
    here = f"/evaluations/{round_id}/admin"
    try:
        if action == "collect":
            n = collect(db, round_id, actor, at)
            return back(here, f"已开始采集：由监测数据计算了 {n} 个指标值")
        if action == "compute":
            job = runner_of(request).compute(db, caller.name, round_id, 0, at)
            return back(f"{here}?job={job.job_id}", "已开始计算评估结果，完成后本页显示结果")
        if action == "review":
            _require_confirmed(form)
            until = start_review(db, round_id, actor, at)
            return back(here, f"已进入复核：各单位可查看结果并在 {until:%Y-%m-%d %H:%M} 前申诉")
        if action == "publish":
            _require_confirmed(form)
            digest = publish(db, round_id, actor, at, early=form.get("early") == "1")
            return back(here, f"已发布评估结果（摘要 {digest[:12]}…）")
        if action == "close":
            _require_confirmed(form)
            close_round(db, round_id, actor, at)
            return back(here, "已关闭评估批次：结果保持公开，不再变更")
    except GovwatchError as exc:
        return _panel(request, db, caller, round_id, at, error=str(exc), status=_status(exc))
    return error_page(request, db, caller, 404, f"没有“{action}”这一操作")


@router.post("/evaluations/{round_id}/appeals/{appeal_id}/decide", response_model=None)
async def round_appeal_decide(
    request: Request,
    round_id: RoundId,
    appeal_id: AppealId,
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    refused = _refusal(request, db, caller)
    if refused is not None:
        return refused
    form = await _form(request)
    outcome = form.get("outcome", "")
    value_text = form.get("corrected_value", "").strip()
    try:
        if outcome not in ("accept", "reject"):
            raise RoundStateError("请选择采纳或不采纳")
        corrected: float | None = None
        if value_text and outcome == "accept":
            try:
                corrected = float(value_text)
            except ValueError as exc:
                raise RoundStateError(
                    f"更正值“{value_text}”不是数字：应为该指标的数值，如 0.85"
                ) from exc
        owner = db.scalar("SELECT round_id FROM eval_appeals WHERE appeal_id = ?", [appeal_id])
        if owner != round_id:
            raise RoundStateError(f"申诉“{appeal_id}”不属于评估批次“{round_id}”")
        settle_appeal(
            db,
            appeal_id,
            outcome == "accept",
            form.get("decision", ""),
            actor_of(caller),
            at,
            corrected_value=corrected,
        )
    except GovwatchError as exc:
        return _panel(request, db, caller, round_id, at, error=str(exc), status=_status(exc))
    done = "已采纳" if outcome == "accept" else "未采纳"
    more = "；数值已更正，请重新计算结果" if corrected is not None else ""
    return back(f"/evaluations/{round_id}/admin", f"申诉 {appeal_id} {done}{more}")


def register(app: FastAPI) -> None:
    """Mount before the round pages, so that ``/evaluations/new`` is not read as a round."""
    app.include_router(router)
