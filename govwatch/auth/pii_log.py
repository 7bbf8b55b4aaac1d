"""The log of every answer that carried unmasked personal data (who, when, what, where)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from govwatch.auth.passwords import new_id
from govwatch.auth.principal import Principal
from govwatch.storage import Database


def log_view(
    db: Database,
    principal: Principal,
    subject: str,
    fields: Iterable[str],
    route: str,
    at: datetime,
) -> None:
    names = sorted(set(fields))
    if not names:
        return
    db.execute(
        "INSERT INTO pii_views (view_id, viewer, role, viewed_at, subject, fields, route) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [new_id(), principal.name, principal.role, at, subject, ",".join(names), route],
    )


def list_views(db: Database, viewer: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    where, params = "", []
    if viewer:
        where, params = " WHERE viewer = ?", [viewer]
    return db.query_dicts(
        "SELECT viewer, role, viewed_at, subject, fields, route FROM pii_views"
        f"{where} ORDER BY viewed_at DESC, view_id LIMIT {int(limit)}",
        params,
    )
