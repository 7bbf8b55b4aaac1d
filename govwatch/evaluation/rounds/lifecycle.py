"""Evaluation rounds (评估批次): configure → collect → compute → review → publish → follow-up.

Plain functions over a :class:`Database`, for the command line and the JSON API alike. Every
function takes the moment it acts at (``at``) and who acts (:class:`Actor`), so that tests pin
time and every change is attributed.

- ``create_round``: a period, an indicator system (frozen into the round as YAML text), the
  unit kind and the units with their groups, a fill deadline and a review window.
- ``collect``: computes every metric-backed leaf (docs/metrics.md) for every unit.
  Departments and evaluators enter the others (:mod:`round_values`).
- ``compute_round``: scores, stars, ranks (and robustness) from the round's values.
- ``open_review``: units see their result and may appeal until ``review_until_at``
  (``review_days`` working days after opening); ``decide_appeal`` settles appeals, an
  accepted one may correct a value (the round must then be computed again).
- ``publish_round``: refuses while appeals are open, the window is running or values changed
  after the last computation; freezes inputs and results with a SHA-256 digest
  (:mod:`round_digest`) and raises rectification demands for the points each unit lost.
- ``follow_up``: a later round records, for each demand of the round before, the points the
  unit now earns on that indicator.
- ``close_round``: a published round is closed (stage ``closed``); nothing of it changes any
  more, and it reads as published.

Every administrator action is appended to the ledger under the named user (``round.create``,
``round.collect``, ``round.compute``, ``round.review``, ``round.appeal_decision``,
``round.publish``, ``round.close``, ``round.guide_run``); ``start_review``, ``settle_appeal`` and ``publish`` are
the ledgered entry points for the review and publication functions, and ``publish`` asks for
an explicit confirmation (``early=True``) before the round's period has ended, which the round
then records (``published_early``).

The review stage lives in :mod:`round_review`, publication and follow-up in
:mod:`publication`; this module re-exports them so that callers have one entry point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.metrics.guides import guide_run_for
from govwatch.evaluation.metrics.supply import compute_metrics
from govwatch.evaluation.rounds.publication import follow_up, publish_round
from govwatch.evaluation.rounds.review import decide_appeal, open_review, submit_appeal
from govwatch.evaluation.rounds.round_notices import on_collection_opened
from govwatch.evaluation.rounds.values import (
    EDITABLE,
    Actor,
    RoundStateError,
    require_status,
    round_row,
    round_system,
    write_value,
)
from govwatch.evaluation.systems.results import Evaluation, evaluate
from govwatch.evaluation.systems.scoring import ValueMatrix
from govwatch.evaluation.systems.system import IndicatorSystem, system_to_dict
from govwatch.evaluation.systems.values import build_matrix
from govwatch.ledger import append_one
from govwatch.storage import Database
from govwatch.vocabulary import ROLE_NAMES, ROUND_STAGE_NAMES, label

__all__ = [
    "ADMIN_NEEDED",
    "UnitSpec",
    "close_round",
    "collect",
    "compute_round",
    "create_round",
    "decide_appeal",
    "follow_up",
    "open_review",
    "publish",
    "publish_round",
    "published_before_period_end",
    "round_matrix",
    "set_guide_run",
    "settle_appeal",
    "start_review",
    "submit_appeal",
]

ADMIN_NEEDED = "需要管理员角色"

COMPUTED_SOURCES = ("metric", "rating", "survey")


def require_admin(actor: Actor, what: str) -> None:
    """Refuse anyone but an administrator, naming the role the action needs."""
    if actor.role != "admin":
        raise RoundStateError(
            f"{label(ROLE_NAMES, actor.role)}“{actor.name}”不能{what}：{ADMIN_NEEDED}"
        )


def ledger_round(
    db: Database,
    action: str,
    actor: Actor,
    round_id: str,
    at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append one administrator action on a round to the ledger, under the named user."""
    append_one(
        db,
        f"round.{action}",
        actor.name,
        f"round:{round_id}",
        at,
        {"round_id": round_id, "role": actor.role, **(payload or {})},
    )


@dataclass(frozen=True)
class UnitSpec:
    unit: str
    name: str | None = None
    group: str | None = None


def create_round(
    db: Database,
    round_id: str,
    name: str,
    system: IndicatorSystem,
    period: Period,
    unit_kind: str,
    units: Sequence[UnitSpec],
    actor: Actor,
    at: datetime,
    *,
    fill_deadline_at: datetime | None = None,
    review_days: int = 5,
    previous_round_id: str | None = None,
) -> None:
    require_admin(actor, "创建评估批次")
    if not units:
        raise InputError("评估批次至少要有一个评估对象")
    if review_days < 0:
        raise InputError("复核申诉期（review_days）应为不小于 0 的工作日数")
    if db.scalar("SELECT COUNT(*) FROM eval_rounds WHERE round_id = ?", [round_id]):
        raise InputError(f"评估批次“{round_id}”已存在：请换一个批次编号")
    if previous_round_id is not None:
        round_row(db, previous_round_id)
    with db.transaction():
        db.execute(
            "INSERT INTO eval_rounds (round_id, name, period_start, period_end, unit_kind, "
            "system_name, system_yaml, system_digest, status, fill_deadline_at, review_days, "
            "previous_round_id, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'configured', ?, ?, ?, ?, ?)",
            [
                round_id,
                name,
                period.start,
                period.end,
                unit_kind,
                system.name,
                system.source_text or orjson.dumps(_system_doc(system)).decode(),
                system.digest(),
                fill_deadline_at,
                review_days,
                previous_round_id,
                f"{actor.role}:{actor.name}",
                at,
            ],
        )
        db.executemany(
            "INSERT INTO eval_units (round_id, unit, unit_name, group_name) VALUES (?, ?, ?, ?)",
            [[round_id, u.unit, u.name, u.group] for u in units],
        )
        ledger_round(
            db,
            "create",
            actor,
            round_id,
            at,
            {
                "name": name,
                "system": system.name,
                "system_digest": system.digest(),
                "period": [period.start.isoformat(), period.end.isoformat()],
                "unit_kind": unit_kind,
                "units": len(units),
                "review_days": review_days,
            },
        )


def _system_doc(system: IndicatorSystem) -> dict[str, Any]:
    return system_to_dict(system)


def _period(row: dict[str, Any], at: datetime | None = None) -> Period:
    end = row["period_end"]
    moment = at if at is not None and at.date() <= end else None
    return Period(row["period_start"], end, moment)


def collect(db: Database, round_id: str, actor: Actor, at: datetime) -> int:
    """Compute the metric-backed leaves of every unit; returns how many values were written.

    Values already entered by hand for such a leaf (an administrator's correction) are kept.
    Guide and coverage leaves (``guides.*``) count the round's guide check run: the first
    collection takes the latest run and records it (``eval_rounds.guide_run_id``); later ones
    count the same run (with the findings an evaluator has set aside since), until
    :func:`set_guide_run` names another.
    """
    require_admin(actor, "采集监测数据")
    row = round_row(db, round_id)
    require_status(row, EDITABLE, "采集监测数据")
    system = round_system(row)
    leaves = [lf for lf in system.leaves if lf.metric and lf.source in COMPUTED_SOURCES]
    guide_run = None
    if any(str(lf.metric).startswith("guides.") for lf in leaves):
        guide_run = guide_run_for(db, row.get("guide_run_id"))
    units = [
        str(u[0]) for u in db.query("SELECT unit FROM eval_units WHERE round_id = ?", [round_id])
    ]
    # one computation per item category (事项分类) the leaves use
    by_key: dict[tuple[str, str, tuple[str, ...]], float | None] = {}
    for scope in sorted({lf.item_types for lf in leaves}):
        metric_ids = sorted({str(lf.metric) for lf in leaves if lf.item_types == scope})
        for v in compute_metrics(
            db,
            str(row["unit_kind"]),
            _period(row),
            metrics=metric_ids,
            units=units,
            item_types=scope,
            guide_run=guide_run,
        ):
            by_key[(v.unit, v.metric, scope)] = v.value
    manual = {
        (str(u), str(i))
        for u, i in db.query(
            "SELECT unit, indicator FROM eval_values WHERE round_id = ? AND status <> 'computed'",
            [round_id],
        )
    }
    written = 0
    with db.transaction():
        for unit in units:
            for leaf in leaves:
                if (unit, leaf.id) in manual:
                    continue
                write_value(
                    db,
                    round_id,
                    unit,
                    leaf.id,
                    by_key.get((unit, str(leaf.metric), leaf.item_types)),
                    leaf.source,
                    "computed",
                    actor,
                    at,
                    f"metric {leaf.metric}",
                )
                written += 1
        db.execute(
            "UPDATE eval_rounds SET status = 'collecting', guide_run_id = ? WHERE round_id = ?",
            [guide_run if guide_run is not None else row.get("guide_run_id"), round_id],
        )
        ledger_round(db, "collect", actor, round_id, at, {"values": written})
    on_collection_opened(db, round_id, at)  # once per round: the units are told to fill
    return written


def set_guide_run(db: Database, round_id: str, run_id: str, actor: Actor, at: datetime) -> None:
    """Count the round's guide and coverage leaves on another check run (a newer one) from its
    next collection; the change is in the ledger (``round.guide_run``)."""
    require_admin(actor, "更换评估所用的办事指南核查")
    with db.transaction():
        row = round_row(db, round_id)
        require_status(row, EDITABLE, "更换办事指南核查")
        if not db.scalar("SELECT COUNT(*) FROM guide_runs WHERE run_id = ?", [run_id]):
            raise InputError(f"办事指南核查“{run_id}”不存在：请用 govwatch guides runs 查看")
        db.execute("UPDATE eval_rounds SET guide_run_id = ? WHERE round_id = ?", [run_id, round_id])
        ledger_round(
            db, "guide_run", actor, round_id, at, {"from": row.get("guide_run_id"), "to": run_id}
        )


def round_matrix(db: Database, round_id: str, system: IndicatorSystem) -> ValueMatrix:
    units = db.query(
        "SELECT unit, group_name FROM eval_units WHERE round_id = ? ORDER BY unit", [round_id]
    )
    groups = {str(u): (str(g) if g is not None else None) for u, g in units}
    records = [
        {"unit": u, "indicator": i, "value": v}
        for u, i, v in db.query(
            "SELECT unit, indicator, value FROM eval_values WHERE round_id = ? ORDER BY unit, "
            "indicator",
            [round_id],
        )
    ]
    base = build_matrix(system, records, {u: g or "" for u, g in groups.items()})
    return ValueMatrix(
        base.units, base.leaf_ids, base.values, tuple(groups.get(u) for u in base.units)
    )


def compute_round(
    db: Database, round_id: str, actor: Actor, at: datetime, *, uncertainty: int = 0
) -> Evaluation:
    require_admin(actor, "计算评估结果")
    row = round_row(db, round_id)
    require_status(row, (*EDITABLE, "review"), "计算结果")
    system = round_system(row)
    result = evaluate(system, round_matrix(db, round_id, system), uncertainty=uncertainty)
    with db.transaction():
        db.execute("DELETE FROM eval_results WHERE round_id = ?", [round_id])
        db.executemany(
            "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, group_rank,"
            " coverage, poorly_covered, points, missing, rank_low, rank_high, star_stability) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    round_id,
                    r.unit,
                    r.group,
                    r.score,
                    r.stars,
                    r.rank,
                    r.group_rank,
                    r.coverage,
                    r.poorly_covered,
                    orjson.dumps(dict(r.points)).decode(),
                    orjson.dumps(list(r.missing)).decode(),
                    r.rank_interval[0] if r.rank_interval else None,
                    r.rank_interval[1] if r.rank_interval else None,
                    r.star_stability,
                ]
                for r in result.results
            ],
        )
        status = "review" if row["status"] == "review" else "computed"
        db.execute(
            "UPDATE eval_rounds SET status = ?, computed_at = ? WHERE round_id = ?",
            [status, at, round_id],
        )
        ledger_round(
            db, "compute", actor, round_id, at, {"units": len(result.results), "stage": status}
        )
    return result


def start_review(db: Database, round_id: str, actor: Actor, at: datetime) -> datetime:
    """Open the review stage (:func:`open_review`), ledgered; returns the window's end."""
    require_admin(actor, "进入复核")
    with db.transaction():
        until = open_review(db, round_id, actor, at)
        ledger_round(db, "review", actor, round_id, at, {"review_until_at": until.isoformat()})
    return until


def settle_appeal(
    db: Database,
    appeal_id: str,
    accepted: bool,
    decision: str,
    actor: Actor,
    at: datetime,
    *,
    corrected_value: float | None = None,
) -> None:
    """Decide an appeal (:func:`decide_appeal`) with a reason, ledgered."""
    require_admin(actor, "处理申诉")
    if not decision.strip():
        raise InputError("处理申诉须写明理由")
    with db.transaction():
        decide_appeal(db, appeal_id, accepted, decision, actor, at, corrected_value=corrected_value)
        round_id = str(
            db.scalar("SELECT round_id FROM eval_appeals WHERE appeal_id = ?", [appeal_id])
        )
        ledger_round(
            db,
            "appeal_decision",
            actor,
            round_id,
            at,
            {
                "appeal_id": appeal_id,
                "accepted": accepted,
                "decision": decision,
                "corrected_value": corrected_value,
            },
        )


def published_before_period_end(row: dict[str, Any], at: datetime) -> bool:
    """Whether publishing at ``at`` comes before the round's period has ended (its last day
    included)."""
    end = row["period_end"]
    return bool(at.date() <= end)


def publish(db: Database, round_id: str, actor: Actor, at: datetime, *, early: bool = False) -> str:
    """Publish the round (:func:`publish_round`), ledgered; returns the digest.

    Before the round's period has ended it is refused unless ``early`` confirms it; the round
    then records that it was published early (``published_early``), and the pages say so.
    """
    require_admin(actor, "发布评估结果")
    row = round_row(db, round_id)
    before_end = published_before_period_end(row, at)
    if before_end and not early:
        raise RoundStateError(
            f"评估批次“{round_id}”的评估期至 {row['period_end']} 才结束：提前发布须明确确认"
            "（网页上勾选“确认提前发布”，命令行加 --early）"
        )
    with db.transaction():
        digest = publish_round(db, round_id, actor, at)
        db.execute(
            "UPDATE eval_rounds SET published_early = ? WHERE round_id = ?",
            [before_end, round_id],
        )
        ledger_round(db, "publish", actor, round_id, at, {"digest": digest, "early": before_end})
    return digest


def close_round(db: Database, round_id: str, actor: Actor, at: datetime) -> None:
    """Close a published round (stage ``closed``): its results stay public and frozen."""
    require_admin(actor, "关闭评估批次")
    with db.transaction():
        row = round_row(db, round_id)
        if row["status"] != "published":
            raise RoundStateError(
                f"评估批次“{round_id}”处于{label(ROUND_STAGE_NAMES, row['status'])}阶段，"
                "只有已发布的批次可以关闭"
            )
        db.execute(
            "UPDATE eval_rounds SET status = 'closed', closed_at = ?, closed_by = ? "
            "WHERE round_id = ?",
            [at, actor.name, round_id],
        )
        ledger_round(db, "close", actor, round_id, at)
