"""评估: rounds, results with stars, ranks and group ranks, rank intervals, points per indicator.

Both pages read through :mod:`govwatch.evaluation.rounds.views`, the one reader of rounds and
the one rule of who sees what; the round page's JSON twin is the API resource
``GET /api/v1/evaluations/{round}``, byte for byte the same dict.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.auth.errors import NotFoundError
from govwatch.evaluation.rounds.views import RoundViewer, list_rounds, round_summary
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


def with_status_name(rnd: dict[str, Any]) -> dict[str, Any]:
    return {**rnd, "status_name": ROUND_STATUS_NAMES.get(str(rnd["status"]), str(rnd["status"]))}


def results_context(summary: dict[str, Any]) -> dict[str, Any]:
    """What round.html and public.html (through _results.html) draw from one round summary."""
    return {
        "round": with_status_name(summary),
        "leaves": summary["leaves"],
        "results": summary["results"],
        "units": summary["units"],
    }


@router.get("/evaluations", response_model=None)
def evaluations_page(request: Request, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("evaluations.read"):
        return error_page(request, db, caller, 403, "本角色无权查看评估")
    rounds = [with_status_name(r) for r in list_rounds(db, RoundViewer.of_principal(caller))]
    if wants_json(request):
        return json_response({"rounds": rounds})
    return render(request, db, caller, "evaluations.html", {"rounds": rounds})


@router.get("/evaluations/{round_id}", response_model=None)
def round_page(request: Request, round_id: RoundId, db: DB, caller: Caller) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("evaluations.read"):
        return error_page(request, db, caller, 403, "本角色无权查看评估")
    try:
        summary = round_summary(db, round_id, RoundViewer.of_principal(caller))
    except NotFoundError as exc:
        return error_page(request, db, caller, 404, str(exc))
    if wants_json(request):
        return json_response(summary)
    return render(request, db, caller, "round.html", results_context(summary))
