"""评估: rounds, results with stars, ranks and group ranks, rank intervals, points per indicator."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.errors import GovwatchError
from govwatch.evaluation.systems.system import parse_system
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller
from govwatch.web.pages.base import (
    ROUND_STATUS_NAMES,
    error_page,
    json_response,
    login_redirect,
    render,
    wants_json,
)

router = APIRouter()
RoundId = Annotated[str, Path(min_length=1, max_length=64)]


def list_rounds(db: Database, published_only: bool = False) -> list[dict[str, Any]]:
    if not db.table_exists("eval_rounds"):
        return []
    where = " WHERE status = 'published'" if published_only else ""
    rows = db.query_dicts(
        "SELECT round_id, name, period_start, period_end, unit_kind, system_name, status, "
        f"created_at, computed_at, published_at, digest FROM eval_rounds{where} "
        "ORDER BY period_end DESC, round_id"
    )
    for r in rows:
        r["status_name"] = ROUND_STATUS_NAMES.get(str(r["status"]), str(r["status"]))
    return rows


def round_results(
    db: Database, round_id: str, *, published_only: bool = False
) -> dict[str, Any] | None:
    """A round with its units' results; points earned and lost per leaf indicator."""
    rounds = [r for r in list_rounds(db, published_only) if r["round_id"] == round_id]
    if not rounds:
        return None
    info = rounds[0]
    yaml_text = db.scalar("SELECT system_yaml FROM eval_rounds WHERE round_id = ?", [round_id])
    leaves: list[dict[str, Any]] = []
    try:
        system = parse_system(str(yaml_text or ""), origin=f"批次 {round_id} 的指标体系")
        leaves = [
            {"id": leaf.id, "name": leaf.name, "points": leaf.points} for leaf in system.leaves
        ]
    except GovwatchError:
        pass
    rows = db.query_dicts(
        "SELECT r.unit, u.unit_name, r.group_name, r.score, r.stars, r.rank, r.group_rank, "
        "r.coverage, r.poorly_covered, r.points, r.missing, r.rank_low, r.rank_high, "
        "r.star_stability FROM eval_results r LEFT JOIN eval_units u "
        "ON u.round_id = r.round_id AND u.unit = r.unit WHERE r.round_id = ? "
        "ORDER BY r.rank, r.unit",
        [round_id],
    )
    for r in rows:
        earned = orjson.loads(r["points"]) if r["points"] else {}
        r["points"] = earned
        r["missing"] = orjson.loads(r["missing"]) if r["missing"] else []
        r["unit_name"] = r["unit_name"] or r["unit"]
        r["per_indicator"] = [
            {
                **leaf,
                "earned": float(earned.get(leaf["id"], 0.0)),
                "lost": round(float(leaf["points"]) - float(earned.get(leaf["id"], 0.0)), 4),
            }
            for leaf in leaves
        ]
    return {"round": info, "leaves": leaves, "results": rows, "units": len(rows)}


@router.get("/evaluations", response_model=None)
def evaluations_page(request: Request, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("evaluations.read"):
        return error_page(request, db, caller, 403, "本角色无权查看评估")
    rounds = list_rounds(db)
    if wants_json(request):
        return json_response({"rounds": rounds})
    return render(request, db, caller, "evaluations.html", {"rounds": rounds})


@router.get("/evaluations/{round_id}", response_model=None)
def round_page(request: Request, round_id: RoundId, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("evaluations.read"):
        return error_page(request, db, caller, 403, "本角色无权查看评估")
    data = round_results(db, round_id)
    if data is None:
        return error_page(request, db, caller, 404, f"评估批次“{round_id}”不存在")
    if wants_json(request):
        return json_response(data)
    return render(request, db, caller, "round.html", data)
