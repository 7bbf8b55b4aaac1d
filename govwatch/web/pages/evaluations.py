"""评估: rounds, results with stars, ranks and group ranks, rank intervals, points per indicator.

Both pages read through :mod:`govwatch.evaluation.rounds.views`, the one reader of rounds and
the one rule of who sees what; the round page's JSON twin is the API resource
``GET /api/v1/evaluations/{round}``, byte for byte the same dict.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.auth.errors import NotFoundError
from govwatch.evaluation.rounds.views import RoundViewer, list_rounds, round_summary
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    ROUND_STATUS_NAMES,
    error_page,
    json_response,
    login_redirect,
    render,
    wants_json,
)
from govwatch.web.pages.sheets import export_format, sheet_response

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


def _moment(value: object) -> object:
    """A round's time as the reader gave it (ISO text) back to a date or a time, for a sheet."""
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


ROUND_COLUMNS = ("批次", "名称", "评估期起", "评估期止", "指标体系", "状态", "发布时间")


def round_rows(rounds: Sequence[dict[str, Any]]) -> Iterator[tuple[object, ...]]:
    for r in rounds:
        yield (
            r["round_id"],
            r["name"],
            _moment(r["period_start"]),
            _moment(r["period_end"]),
            r["system_name"],
            r["status_name"],
            _moment(r.get("published_at")),
        )


def result_columns(summary: dict[str, Any], detail: bool) -> list[str]:
    columns = ["排名", "单位编码", "单位", "分组", "组内排名", "得分", "星级"]
    if detail:
        columns.append("排名区间")
        columns += [f"{leaf['name']}（满分 {leaf['points']:g}）" for leaf in summary["leaves"]]
    return columns


def result_rows(summary: dict[str, Any], detail: bool) -> Iterator[list[object]]:
    """The results table as round.html draws it (and, in detail, the points per indicator)."""
    for r in summary["results"]:
        row: list[object] = [
            r["rank"],
            r["unit"],
            r["unit_name"],
            r["group"] or "",
            r["group_rank"],
            round(float(r["score"]), 2),
            r["stars"],
        ]
        if detail:
            interval = r.get("rank_interval")
            row.append(f"{interval[0]}–{interval[1]}" if interval else "")
            row += [round(float(p["earned"]), 2) for p in r.get("per_indicator", [])]
        yield row


@router.get("/evaluations", response_model=None)
def evaluations_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    if caller.role == "public":
        return login_redirect(request)
    if not caller.can("evaluations.read"):
        return error_page(request, db, caller, 403, "本角色无权查看评估")
    rounds = [with_status_name(r) for r in list_rounds(db, RoundViewer.of_principal(caller))]
    if wants_json(request):
        return json_response({"rounds": rounds})
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None:
        return sheet_response(
            title="评估批次",
            filters=(),
            columns=ROUND_COLUMNS,
            rows=round_rows(rounds),
            fmt=fmt,
            filename="评估批次",
            exported_at=at,
        )
    return render(request, db, caller, "evaluations.html", {"rounds": rounds})


@router.get("/evaluations/{round_id}", response_model=None)
def round_page(request: Request, round_id: RoundId, db: DB, caller: Caller, at: Clock) -> Response:
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
    fmt = export_format(request.query_params.get("format", ""))
    if fmt is not None:
        context = results_context(summary)
        detail = any("per_indicator" in r for r in summary["results"])
        rnd = context["round"]
        return sheet_response(
            title=f"{rnd['name']} 评估结果",
            filters=(
                ("评估批次", f"{rnd['name']}（{rnd['round_id']}）"),
                ("评估期", f"{rnd['period_start']} 至 {rnd['period_end']}"),
                ("状态", rnd["status_name"]),
            ),
            columns=result_columns(summary, detail),
            rows=result_rows(summary, detail),
            fmt=fmt,
            filename=f"{rnd['name']}-评估结果",
            exported_at=at,
        )
    return render(request, db, caller, "round.html", results_context(summary))
