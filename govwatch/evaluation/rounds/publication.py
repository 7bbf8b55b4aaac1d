"""Publication of a round and the rectification loop (整改).

``publish_round`` freezes the round's inputs and results with a SHA-256 digest
(:mod:`round_digest`) and raises, for each unit, rectification demands for the indicators
where it lost most; ``follow_up`` records in those demands what a later round's units earn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.evaluation.rounds.digest import canonical, digest_of, snapshot
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
        _raise_rectifications(db, round_id, round_system(row), data["results"])
    return digest


def _raise_rectifications(
    db: Database, round_id: str, system: IndicatorSystem, results: list[dict[str, Any]]
) -> None:
    weights = {leaf.id: leaf.points for leaf in system.leaves}
    names = {leaf.id: leaf.name for leaf in system.leaves}
    rows = []
    for r in results:
        lost = sorted(((weights[i] - p, i) for i, p in r["points"].items()), reverse=True)
        for points_lost, indicator in lost[:RECTIFY_TOP]:
            if points_lost > 1e-9:
                rows.append(
                    [
                        round_id,
                        r["unit"],
                        indicator,
                        points_lost,
                        f"“{names[indicator]}”失分 {points_lost:.2f}，请分析原因并限期整改",
                        "open",
                    ]
                )
    db.executemany(
        "INSERT INTO eval_rectifications (round_id, unit, indicator, points_lost, demand, status) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


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
            status = "improved" if now_points[key] > before + 1e-9 else "not_improved"
            db.execute(
                "UPDATE eval_rectifications SET followed_in_round = ?, followed_points = ?, "
                "status = ? WHERE round_id = ? AND unit = ? AND indicator = ?",
                [round_id, now_points[key], status, previous, key[0], key[1]],
            )
            done += 1
    return done
