"""系统检查: the lines of ``govwatch doctor`` and the recent background jobs, for administrators.

``govwatch doctor`` cannot open a DuckDB file while ``govwatch serve`` holds it; this page runs
the same checks (:func:`govwatch.live.health.check_database`) on the app's pooled connection and
shows them the same way: ✓, ! or ✗, what was found and what to do. Below, 最近任务: the jobs
long administrator operations run as (:mod:`govwatch.live.jobs`), those still queued or running
with a progress bar that polls ``GET /api/v1/jobs/{id}``, a failed or interrupted one with a
button to run it again. ``?format=json`` is the JSON twin. Others get a 403 page in Chinese.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.live.health import HealthReport, check_database
from govwatch.live.jobs import recent_jobs
from govwatch.storage import Database
from govwatch.vocabulary import HEALTH_STATUS_NAMES
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.jobs import runner_of
from govwatch.web.pages.base import (
    JOBS_ROLE,
    back,
    error_page,
    json_response,
    login_redirect,
    render,
    status_of,
    wants_json,
)

router = APIRouter()

REFUSAL = "只有管理员可以查看系统检查与后台任务"


def health_data(db: Database, report: HealthReport) -> dict[str, Any]:
    """The page's facts (and its JSON twin): the checks as doctor prints them, recent jobs."""
    return {
        **report.to_dict(),
        "lines": [c.line() for c in report.checks],
        "jobs": [j.to_dict() for j in recent_jobs(db)],
    }


def _refused(request: Request, db: Database, caller: Principal) -> Response | None:
    if caller.role == "public":
        return login_redirect(request)
    if caller.role == JOBS_ROLE:
        return None
    if wants_json(request):
        body = json.dumps({"detail": REFUSAL}, ensure_ascii=False)
        return Response(body, 403, media_type="application/json; charset=utf-8")
    return error_page(request, db, caller, 403, REFUSAL)


@router.get("/health", response_model=None)
def health_page(request: Request, db: DB, caller: Caller, at: Clock) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    report = check_database(db, at)
    data = health_data(db, report)
    if wants_json(request):
        return json_response(data)
    counts = {s: sum(1 for c in report.checks if c.status == s) for s in HEALTH_STATUS_NAMES}
    shown = request.query_params.get("job", "")  # already drawn above the page by the layout
    return render(
        request,
        db,
        caller,
        "health.html",
        {
            "report": report,
            "counts": counts,
            "status_names": HEALTH_STATUS_NAMES,
            "jobs": data["jobs"],
            "active": [
                j
                for j in data["jobs"]
                if j["status"] in ("queued", "running") and j["job_id"] != shown
            ],
        },
    )


@router.post("/health/jobs/{job_id}/rerun", response_model=None)
def job_rerun(
    job_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    db: DB,
    caller: Caller,
    at: Clock,
) -> Response:
    refused = _refused(request, db, caller)
    if refused is not None:
        return refused
    try:
        job = runner_of(request).rerun(db, job_id, caller.name, at)
    except GovwatchError as exc:
        return error_page(request, db, caller, status_of(exc), str(exc))
    return back(f"/health?job={job.job_id}", f"已重新运行：{job.subject}")
