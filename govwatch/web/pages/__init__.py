"""The pages of the web app, in Chinese: server-rendered Jinja2 over the same functions as the API.

``register(app)`` (called by :func:`govwatch.web.app.create_app`) includes the page routers and serves ``/static`` (styles, scripts and the
ECharts file copied from the npm package at install time): nothing is loaded from elsewhere.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from govwatch.web.api.jobs import install as install_jobs
from govwatch.web.pages import (
    alerts,
    calendar,
    case_list,
    cases,
    dashboard,
    desk,
    evaluations,
    files,
    guides,
    health,
    inbox,
    items,
    login,
    public,
    rules,
    workspace,
)
from govwatch.web.pages.base import STATIC

router = APIRouter(include_in_schema=False)
for module in (
    login,
    dashboard,
    alerts,
    case_list,  # 办件列表 and case search (issue 14 item 5)
    cases,
    rules,
    items,
    evaluations,
    workspace,
    public,
    calendar,
    health,
    desk,  # 督办台 and the order page (issue 14 item 3)
    inbox,  # 消息
    files,  # attachments as downloads
    guides,  # 办事指南核查: runs, coverage, findings, evidence (issue 16)
):
    router.include_router(module.router)


def register(app: FastAPI) -> None:
    """Mount the pages and their static files onto the app, and give it its job runner
    (long administrator operations run in the background: :mod:`govwatch.web.api.jobs`)."""
    install_jobs(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")


__all__ = ["register", "router"]
