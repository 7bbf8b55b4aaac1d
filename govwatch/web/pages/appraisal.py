"""年度绩效考核: ``GET /appraisal?year=YYYY`` (administrators and supervisors).

One row per unit: on-time rate, red and yellow cards per 1,000 cases, overdue orders, the
scores of the rounds published in the year, each component's score, the weighted total and the
rank (:mod:`govwatch.reports.appraisal`). Every number links to what it counts (the cases, the
alerts, the orders, the round). ``?format=xlsx|csv`` exports the table, ``?format=json`` is its
twin; an administrator sets the year's weights (``POST /appraisal/weights``, ledgered).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import Response

from govwatch.errors import GovwatchError
from govwatch.reports.appraisal import (
    CARD_PENALTY,
    COMPONENT_NAMES,
    COMPONENTS,
    DEFAULT_WEIGHTS,
    ORDER_PENALTY,
    AppraisalRow,
    appraisal,
    check_year,
    set_weights,
)
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.pages.base import (
    error_page,
    json_response,
    render,
    status_of,
    wants_json,
)
from govwatch.web.pages.forms import acted, refusal
from govwatch.web.pages.sheets import export_format, sheet_response

router = APIRouter(include_in_schema=False)
READ_ROLES = frozenset({"admin", "supervisor"})
COLUMNS = (
    "排名", "单位", "受理办件", "办结", "按时办结", "按时办结率（%）", "红牌", "黄牌",
    "每千件红黄牌", "督办", "逾期督办", "评估得分", "按时办结得分", "红黄牌得分", "督办得分",
    "评估得分（折算）", "总分",
)  # fmt: skip


def _pct(value: float | None) -> float | None:
    return round(value * 100, 2) if value is not None else None


def _sheet_row(r: AppraisalRow) -> Sequence[object]:
    return (
        r.rank, r.name, r.cases, r.finished, r.ontime, _pct(r.ontime_rate), r.red, r.yellow,
        r.cards_per_1000, r.orders, r.overdue_orders, r.evaluation,
        *(r.scores[k] for k in COMPONENTS), r.total,
    )  # fmt: skip


@router.get("/appraisal", response_model=None)
def appraisal_page(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    year: Annotated[str, Query(max_length=8)] = "",
    format: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    refused = refusal(request, db, caller, READ_ROLES, "年度绩效考核供管理员和监察人员查看")
    if refused is not None:
        return refused
    try:
        chosen = check_year(year or at.year)
        weights, rows = appraisal(db, chosen, at)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    fmt = export_format(format)
    if fmt is not None:
        return sheet_response(
            title=f"{chosen}年度绩效考核",
            filters=[
                ("年度", str(chosen)),
                ("权重", "；".join(f"{COMPONENT_NAMES[k]} {weights[k]:g}" for k in COMPONENTS)),
            ],
            columns=COLUMNS,
            rows=(_sheet_row(r) for r in rows),
            fmt=fmt,
            filename=f"{chosen}年度绩效考核",
            exported_at=at,
        )
    if wants_json(request):
        return json_response(
            {"year": chosen, "weights": weights, "rows": [r.as_dict() for r in rows]}
        )
    context: dict[str, Any] = {
        "year": chosen,
        "years": list(range(at.year, at.year - 5, -1)),
        "weights": weights,
        "defaults": DEFAULT_WEIGHTS,
        "components": [(k, COMPONENT_NAMES[k]) for k in COMPONENTS],
        "rows": rows,
        "card_penalty": CARD_PENALTY,
        "order_penalty": ORDER_PENALTY,
        "can_set": caller.role == "admin",
        "pct": _pct,
    }
    return render(request, db, caller, "appraisal.html", context)


@router.post("/appraisal/weights", response_model=None)
def appraisal_weights(
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
    year: Annotated[str, Form(max_length=8)] = "",
    ontime: Annotated[str, Form(max_length=16)] = "",
    cards: Annotated[str, Form(max_length=16)] = "",
    orders: Annotated[str, Form(max_length=16)] = "",
    evaluation: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    def change() -> int:
        chosen = check_year(year)
        given = {"ontime": ontime, "cards": cards, "orders": orders, "evaluation": evaluation}
        set_weights(db, caller, chosen, given, at)
        return chosen

    return acted(
        request,
        db,
        caller,
        change,
        lambda chosen: f"/appraisal?year={chosen}",
        lambda chosen: f"已保存{chosen}年度考核权重",
    )


def register(app: FastAPI) -> None:
    app.include_router(router)
