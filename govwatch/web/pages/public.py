"""公开: published evaluation results, no login; downloads as CSV and JSON.

Only rounds the public may see appear (the rule of ``govwatch.evaluation.rounds.views``:
published ones); what is shown is the frozen result (unit, group, score, stars, rank, group
rank), never case or personal data.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from govwatch.auth.errors import NotFoundError
from govwatch.evaluation.rounds.views import (
    PUBLIC_FIELDS,
    PUBLIC_VIEWER,
    list_rounds,
    round_summary,
)
from govwatch.exports import SafeCsvWriter
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller
from govwatch.web.pages.base import error_page, json_response, render
from govwatch.web.pages.evaluations import results_context

router = APIRouter()
CSV_HEADER = ("单位编码", "单位名称", "分组", "得分", "星级", "排名", "组内排名")


def public_round(db: Database, round_id: str) -> dict[str, Any] | None:
    """A round as the public sees it (the one reader's rule), or None when it may not."""
    try:
        return round_summary(db, round_id, PUBLIC_VIEWER)
    except NotFoundError:
        return None


def public_rows(db: Database, round_id: str) -> list[dict[str, Any]] | None:
    data = public_round(db, round_id)
    return None if data is None else list(data["results"])


@router.get("/public", response_model=None)
def public_page(
    request: Request, db: DB, caller: Caller, round: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    rounds = list_rounds(db, PUBLIC_VIEWER)
    chosen = round or (rounds[0]["round_id"] if rounds else "")
    summary = public_round(db, chosen) if chosen else None
    if round and summary is None:
        return error_page(request, db, caller, 404, f"没有已发布的评估批次“{round}”")
    data = None if summary is None else results_context(summary)
    return render(request, db, caller, "public.html", {"rounds": rounds, "data": data})


@router.get("/public/rounds/{name}", response_model=None)
def public_download(
    request: Request, name: Annotated[str, Path(max_length=70)], db: DB, caller: Caller
) -> Response:
    round_id, _, ext = name.rpartition(".")
    rows = public_rows(db, round_id) if ext in ("csv", "json") else None
    if rows is None:
        return error_page(request, db, caller, 404, f"没有已发布的评估结果“{name}”")
    disposition = {"Content-Disposition": f'attachment; filename="{round_id}.{ext}"'}
    if ext == "json":
        response = json_response({"round_id": round_id, "results": rows})
        response.headers.update(disposition)
        return response
    out = io.StringIO()
    # unit names come from the catalog and the organisation tree: a name a spreadsheet would run
    # (=…, +…, -…, @…) is written as text
    writer = SafeCsvWriter(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([r[k] if r[k] is not None else "" for k in PUBLIC_FIELDS])
    # BOM so that spreadsheet programs read the Chinese header as UTF-8.
    return Response(
        "\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8", headers=disposition
    )
