"""The JSON API under ``/api/v1``: one router per concern, gathered here."""

from __future__ import annotations

from fastapi import APIRouter

from govwatch.web.api import (
    admin,
    alerts,
    cases,
    catalog,
    events,
    jobs,
    orders,
    rounds_admin,
    session,
)

PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX)
    for module in (session, events, alerts, cases, orders, catalog, jobs, admin, rounds_admin):
        router.include_router(module.router)
    return router
