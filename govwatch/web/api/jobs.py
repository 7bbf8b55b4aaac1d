"""Background jobs over the API: their progress, running one again, computing a round.

Long administrator operations answer at once and run as jobs (:mod:`govwatch.live.jobs`):
the re-evaluation after a rule setting or custom rule is saved (the page and
``PUT /api/v1/rules/settings``, whose answer names the job in ``X-Govwatch-Job``) and a
round's computation (``POST /api/v1/evaluations/{round}/compute``). The pages poll
``GET /api/v1/jobs/{id}`` for their progress bars. Administrators only.

:func:`install` gives the app its :class:`JobRunner` (``app.state.jobs``): jobs left unfinished
by a stopped server are marked interrupted as it starts, and a stopping server lets the
queued jobs finish (up to a minute) before its connections close.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from govwatch.auth.errors import AuthenticationError, ForbiddenError
from govwatch.auth.principal import Principal
from govwatch.live.jobs import Job, JobRunner, get_job, recent_jobs
from govwatch.web.api.deps import DB, Caller, Clock, Pool
from govwatch.web.api.errors import AUTH, BAD_INPUT, NOT_FOUND
from govwatch.web.api.schemas import Moment

router = APIRouter(tags=["jobs"])

MANAGE_ROLE = "admin"
JOB_HEADER = "X-Govwatch-Job"
# How long ``?wait=true`` waits for a job before answering anyway.
WAIT_SECONDS = 60.0
JobId = Annotated[str, Path(min_length=1, max_length=64, description="任务编号")]


class JobOut(BaseModel):
    job_id: str
    kind: Literal["rule_reevaluation", "round_compute"]
    kind_name: str = Field(description="任务类型的中文名")
    subject: str = Field(description="任务针对什么（规则、评估批次）")
    requested_by: str
    requested_by_name: str = Field(description="发起人的姓名（无对应用户时为账号）")
    status: Literal["queued", "running", "done", "failed", "interrupted"]
    status_name: str = Field(description="排队中、进行中、已完成、失败、中断")
    stage: str
    stage_name: str = Field(description="当前阶段的中文名")
    done: int | None = Field(description="已完成的步骤数；未知时为 null")
    total: int | None = Field(description="总步骤数；未知时为 null")
    percent: int | None = Field(description="进度百分比 0–100；未知时为 null")
    summary: dict[str, Any] = Field(
        description="完成后的结果：重新评估为 raised、cleared、level、reopened（预警条数）"
        "与 catalog_version；计算评估结果为 round_id、units、uncertainty"
    )
    summary_text: str = Field(description="结果的中文说明（完成前为空）")
    error: str = Field(description="失败或中断的中文原因（否则为空）")
    created_at: Moment
    started_at: Moment | None
    finished_at: Moment | None
    updated_at: Moment


class ComputeIn(BaseModel):
    uncertainty: int = Field(
        0, ge=0, le=10_000, description="稳健性分析的重抽样次数（0 为不做），同 --uncertainty"
    )


def job_out(job: Job) -> JobOut:
    data = job.to_dict()
    for name in ("created_at", "started_at", "finished_at", "updated_at"):
        data[name] = getattr(job, name)
    return JobOut(**data)


def runner_of(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


def require_admin(caller: Principal) -> None:
    if caller.role == "public":
        raise AuthenticationError("查看后台任务需要先登录")
    if caller.role != MANAGE_ROLE:
        raise ForbiddenError("只有管理员可以查看和运行后台任务")


def install(app: FastAPI) -> JobRunner:
    """Give the app its job runner; mark the jobs a stopped server left interrupted."""
    pool: Pool = app.state.pool

    def evaluating() -> AbstractContextManager[object]:
        return pool.runtime.evaluator.evaluating()

    runner = JobRunner(pool.url, pool.get, pool.put, evaluating, changed=pool.invalidate)
    runner.recover()
    app.state.jobs = runner
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            try:
                yield state
            finally:  # before the pool closes (the lifespan inside)
                await run_in_threadpool(runner.stop)

    app.router.lifespan_context = lifespan
    return runner


@router.get("/jobs", response_model=list[JobOut], responses={**AUTH})
def jobs_index(
    db: DB, caller: Caller, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> list[JobOut]:
    """The most recent jobs, newest first."""
    require_admin(caller)
    return [job_out(j) for j in recent_jobs(db, limit)]


@router.get("/jobs/{job_id}", response_model=JobOut, responses={**AUTH, **NOT_FOUND})
def job_show(job_id: JobId, db: DB, caller: Caller) -> JobOut:
    """One job: status, stage, progress, and its summary or error once finished."""
    require_admin(caller)
    return job_out(get_job(db, job_id))


@router.post(
    "/jobs/{job_id}/rerun",
    response_model=JobOut,
    status_code=202,
    responses={**AUTH, **NOT_FOUND, **BAD_INPUT},
)
def job_rerun(
    job_id: JobId, request: Request, response: Response, db: DB, caller: Caller, at: Clock
) -> JobOut:
    """Run a failed or interrupted job again (a new job, as of now)."""
    require_admin(caller)
    job = runner_of(request).rerun(db, job_id, caller.name, at)
    response.headers["Location"] = f"/api/v1/jobs/{job.job_id}"
    return job_out(job)


@router.post(
    "/evaluations/{round_id}/compute",
    response_model=JobOut,
    status_code=202,
    responses={**AUTH, **BAD_INPUT},
)
def round_compute(
    round_id: Annotated[str, Path(min_length=1, max_length=64)],
    request: Request,
    response: Response,
    db: DB,
    caller: Caller,
    at: Clock,
    body: ComputeIn | None = None,
) -> JobOut:
    """Compute a round's scores, stars and ranks (as ``govwatch evaluation compute``) as a job:
    refused at once when the round cannot be computed now, else answered 202 with the job."""
    require_admin(caller)
    uncertainty = body.uncertainty if body is not None else 0
    job = runner_of(request).compute(db, caller.name, round_id, uncertainty, at)
    response.headers["Location"] = f"/api/v1/jobs/{job.job_id}"
    return job_out(job)
