"""Publication of a round and the rectification loop (整改).

``publish_round`` freezes the round's inputs and results with a SHA-256 digest
(:mod:`round_digest`) and raises, for each unit, rectification demands for the indicators
where it lost most on a value it has, with an owner and a due date
(:mod:`govwatch.evaluation.rounds.rectification`); indicators that lost points only for a
missing value are flagged as data gaps instead. Units and administrators are notified
(:func:`govwatch.evaluation.rounds.round_notices.on_round_published`). ``follow_up`` records in
those demands what a later round's units earn (``follow_result``: improved / not improved; the
demand's own status is left as it is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.evaluation.rounds.digest import canonical, digest_of, snapshot
from govwatch.evaluation.rounds.rectification import Demand, raise_demands
from govwatch.evaluation.rounds.round_notices import on_round_published
from govwatch.evaluation.rounds.values import (
    Actor,
    RoundStateError,
    require_status,
    round_row,
    round_system,
)
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.storage import Database

RECTIFY_TOP = 3


def publish_round(db: Database, round_id: str, actor: Actor, at: datetime) -> str:
    """Freeze the round's inputs and results; returns the digest."""
    if actor.role != "admin":
        raise RoundStateError("只有政务服务管理机构（admin）可以发布评估结果")
    row = round_row(db, round_id)
    require_status(row, ("review",), "发布（须先计算结果并经复核）")
    if int(row["review_days"]) > 0 and at <= row["review_until_at"]:
        raise RoundStateError(f"复核申诉期至 {row['review_until_at']}，期满后才能发布")
    if db.scalar(
        "SELECT COUNT(*) FROM eval_appeals WHERE round_id = ? AND status = 'open'", [round_id]
    ):
        raise RoundStateError("尚有未处理的申诉，请先处理后再发布")
    changed = db.scalar("SELECT MAX(acted_at) FROM eval_value_log WHERE round_id = ?", [round_id])
    if changed is not None and row["computed_at"] is not None and changed > row["computed_at"]:
        raise RoundStateError("指标值在上次计算后有变更（如申诉更正），请先重新计算再发布")
    with db.transaction():
        data = snapshot(db, round_id)
        frozen = canonical(data).decode()
        digest = digest_of(data)
        db.execute(
            "UPDATE eval_rounds SET status = 'published', published_at = ?, published_by = ?, "
            "digest = ?, frozen = ? WHERE round_id = ?",
            [at, f"{actor.role}:{actor.name}", digest, frozen, round_id],
        )
        _raise_rectifications(
            db,
            round_id,
            round_system(row),
            data["results"],
            at,
            row.get("rectify_days"),
            f"{actor.role}:{actor.name}",
        )
    on_round_published(db, round_id, at)
    return digest


def _raise_rectifications(
    db: Database,
    round_id: str,
    system: IndicatorSystem,
    results: list[dict[str, Any]],
    at: datetime,
    days: int | None,
    actor: str,
) -> int:
    """For each unit, a demand for each of the :data:`RECTIFY_TOP` indicators where it lost
    most points on a value it has; an indicator that lost points only because its value is
    missing gets a data-gap flag instead (缺数据: supply the data, nothing to rectify)."""
    weights = {leaf.id: leaf.points for leaf in system.leaves}
    names = {leaf.id: leaf.name for leaf in system.leaves}
    demands: list[Demand] = []
    gaps: list[Demand] = []
    for r in results:
        missing = set(r.get("missing") or ())
        # most points lost first; a tie goes to the later indicator id (as before migration 072)
        lost = sorted(((weights[i] - p, i) for i, p in r["points"].items()), reverse=True)
        for points_lost, indicator in lost:
            if points_lost > 1e-9 and indicator in missing:
                gaps.append(Demand(r["unit"], indicator, names[indicator], points_lost))
        real = [(p, i) for p, i in lost if p > 1e-9 and i not in missing]
        for points_lost, indicator in real[:RECTIFY_TOP]:
            demands.append(Demand(r["unit"], indicator, names[indicator], points_lost))
    return raise_demands(db, round_id, demands, gaps, at, days, actor)


def follow_up(db: Database, round_id: str) -> int:
    """Record, in the previous round's demands, what this (computed) round's units now earn."""
    row = round_row(db, round_id)
    previous = row["previous_round_id"]
    if previous is None:
        raise InputError(f"评估批次“{round_id}”未指定上一批次（previous_round_id）")
    now_points: dict[tuple[str, str], float] = {}
    for unit, points in db.query(
        "SELECT unit, points FROM eval_results WHERE round_id = ?", [round_id]
    ):
        for indicator, p in orjson.loads(points).items():
            now_points[(str(unit), indicator)] = float(p)
    demands = db.query_dicts(
        "SELECT unit, indicator, points_lost FROM eval_rectifications WHERE round_id = ?",
        [previous],
    )
    prev_system = round_system(round_row(db, str(previous)))
    weights = {leaf.id: leaf.points for leaf in prev_system.leaves}
    done = 0
    with db.transaction():
        for d in demands:
            key = (str(d["unit"]), str(d["indicator"]))
            if key not in now_points:
                continue
            before = weights.get(key[1], 0.0) - float(d["points_lost"])
            result = "improved" if now_points[key] > before + 1e-9 else "not_improved"
            db.execute(
                "UPDATE eval_rectifications SET followed_in_round = ?, followed_points = ?, "
                "follow_result = ? WHERE round_id = ? AND unit = ? AND indicator = ?",
                [round_id, now_points[key], result, previous, key[0], key[1]],
            )
            done += 1
    return done
