"""Reading rounds: the list, one round's results (the JSON the API and pages show), who sees what.

Units see their own results from the review stage on; the administration and evaluators see
every result of every stage; the public sees published rounds only.
"""

from __future__ import annotations

from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.evaluation.rounds.digest import plain
from govwatch.evaluation.rounds.values import Actor, round_row
from govwatch.storage.db import Database

PUBLIC_FIELDS = ("unit", "unit_name", "group", "score", "stars", "rank", "group_rank")


def list_rounds(db: Database, *, published_only: bool = False) -> list[dict[str, Any]]:
    where = " WHERE status = 'published'" if published_only else ""
    return [
        {k: plain(v) for k, v in r.items()}
        for r in db.query_dicts(
            "SELECT round_id, name, period_start, period_end, unit_kind, system_name, status, "
            f"fill_deadline_at, review_until_at, published_at, digest FROM eval_rounds{where} "
            "ORDER BY period_end DESC, round_id"
        )
    ]


def round_results(db: Database, round_id: str) -> list[dict[str, Any]]:
    """Results as ``govwatch evaluate`` prints them, by rank, with unit names."""
    out = []
    for r in db.query_dicts(
        "SELECT r.*, u.unit_name FROM eval_results r JOIN eval_units u "
        "ON u.round_id = r.round_id AND u.unit = r.unit WHERE r.round_id = ? "
        "ORDER BY r.rank, r.unit",
        [round_id],
    ):
        item: dict[str, Any] = {
            "unit": r["unit"],
            "unit_name": r["unit_name"],
            "group": r["group_name"],
            "score": float(r["score"]),
            "stars": int(r["stars"]),
            "rank": int(r["rank"]),
            "group_rank": int(r["group_rank"]),
            "points": orjson.loads(r["points"]),
            "missing": orjson.loads(r["missing"]),
            "coverage": float(r["coverage"]),
            "poorly_covered": bool(r["poorly_covered"]),
        }
        if r["rank_low"] is not None:
            item["rank_interval"] = [int(r["rank_low"]), int(r["rank_high"])]
            item["star_stability"] = float(r["star_stability"])
        out.append(item)
    return out


def round_summary(db: Database, round_id: str, viewer: Actor | None = None) -> dict[str, Any]:
    """One round for a viewer (``None``: the public)."""
    row = round_row(db, round_id)
    status = str(row["status"])
    if viewer is None and status != "published":
        raise InputError(f"评估批次“{round_id}”尚未发布")
    meta = {
        k: plain(row[k])
        for k in (
            "round_id",
            "name",
            "period_start",
            "period_end",
            "unit_kind",
            "system_name",
            "status",
            "fill_deadline_at",
            "review_until_at",
            "published_at",
            "digest",
        )
    }
    results = round_results(db, round_id)
    if viewer is None:
        results = [{k: r[k] for k in PUBLIC_FIELDS} for r in results]
    elif viewer.role == "department":
        visible = status in ("review", "published")
        results = [r for r in results if visible and r["unit"] == viewer.org]
    appeals = (
        []
        if viewer is None
        else [
            {k: plain(v) for k, v in a.items()}
            for a in db.query_dicts(
                "SELECT appeal_id, unit, indicator, reason, status, decision, submitted_at, "
                "decided_at FROM eval_appeals WHERE round_id = ? ORDER BY submitted_at, appeal_id",
                [round_id],
            )
            if viewer.role != "department" or a["unit"] == viewer.org
        ]
    )
    rectifications = (
        []
        if viewer is None
        else [
            {k: plain(v) for k, v in d.items()}
            for d in db.query_dicts(
                "SELECT unit, indicator, points_lost, demand, status, followed_in_round, "
                "followed_points FROM eval_rectifications WHERE round_id = ? ORDER BY unit, "
                "points_lost DESC",
                [round_id],
            )
            if viewer.role != "department" or d["unit"] == viewer.org
        ]
    )
    return {**meta, "results": results, "appeals": appeals, "rectifications": rectifications}
