"""Notifications of a round's events: in-app inbox entries and webhook events, each once.

Event-triggered (the lifecycle calls them right after the step, outside its transaction):

- :func:`on_collection_opened` — collection opened (the units are told to fill by the deadline);
- :func:`on_review_opened` — review opened (the units see their result, may appeal until …);
- :func:`on_appeal_decided` — an appeal was decided (its unit is told the decision);
- :func:`on_round_published` — a round was published (every unit, with its demands' count).

Time-triggered (:func:`due_round_notices`, run by the live sweeper's tick and by
``govwatch evaluation remind``):

- a fill deadline nears (:data:`DUE_SOON_WORKDAYS` working days before, on the calendar) or has
  passed — told to the units that still have a ``filled`` indicator without a value, and the
  passing also to administrators and supervisors with the count;
- a rectification demand nears its due date or is past it unconfirmed — told to the unit (one
  notice per unit, round and due date, naming the indicators), the passing also to
  administrators and supervisors.

Units are told through ``recipient_role = 'department'`` and ``recipient_org = <unit>`` (a
department reads the notices of the organisations and regions in its scope); administrators
and supervisors through ``recipient_role = 'supervisor'`` (administrators read those too).
Each notice has a dedupe key naming the event (``round.published:<round>:<unit>``): a second
call writes nothing (the keys are looked up first, and the tables' unique keys ignore a key
they have, so a tick with nothing new only reads).

They are written by :func:`govwatch.notifications.notify` (``notifications``;
``webhook_deliveries`` for the active webhooks whose kinds match, the payload masked by meaning),
the one writer that alerts use too; the sweeper's ``deliver_due`` sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from govwatch.evaluation.rounds.rectification import (
    DUE_SOON_WORKDAYS,
    workdays_until,
)
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.notifications import Notice, notify
from govwatch.storage import Database

OVERSEERS = "supervisor"  # administrators read the supervisors' notices too


def _moment(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value or "")


def _round(db: Database, round_id: str) -> dict[str, Any] | None:
    rows = db.query_dicts(
        "SELECT round_id, name, status, fill_deadline_at, review_until_at, system_yaml "
        "FROM eval_rounds WHERE round_id = ?",
        [round_id],
    )
    return rows[0] if rows else None


def _units(db: Database, round_id: str) -> list[str]:
    return [
        str(u[0])
        for u in db.query(
            "SELECT unit FROM eval_units WHERE round_id = ? ORDER BY unit", [round_id]
        )
    ]


def _to_unit(key: str, kind: str, ref: str, unit: str, message: str, **data: Any) -> Notice:
    return Notice(key, kind, ref, message, "department", unit, {"unit": unit, **data})


def _to_overseers(key: str, kind: str, ref: str, message: str, **data: Any) -> Notice:
    return Notice(key, kind, ref, message, OVERSEERS, None, data)


def _fresh(db: Database, notices: Sequence[Notice]) -> list[Notice]:
    """The notices whose dedupe key is not recorded yet."""
    if not notices:
        return []
    known = {
        str(r[0])
        for r in db.query(
            "SELECT dedupe_key FROM notifications WHERE dedupe_key = ANY(?)",
            [[n.dedupe_key for n in notices]],
        )
    }
    return [n for n in notices if n.dedupe_key not in known]


def _send(db: Database, notices: Sequence[Notice], at: datetime) -> list[str]:
    fresh = _fresh(db, notices)
    notify(db, fresh, at)
    return [n.dedupe_key for n in fresh]


# -- event-triggered ---------------------------------------------------------------------------


def on_collection_opened(db: Database, round_id: str, at: datetime) -> list[str]:
    """Collection opened: each unit is told to fill by the deadline (once per round)."""
    row = _round(db, round_id)
    if row is None:
        return []
    kind, ref, name = "round.collection_opened", f"/evaluations/{round_id}", row["name"]
    deadline = row["fill_deadline_at"]
    until = (
        f"，请于 {_moment(deadline)} 前完成本单位指标填报" if deadline else "，请及时填报本单位指标"
    )
    notices = [
        _to_unit(
            f"{kind}:{round_id}:{unit}", kind, f"/evaluations/{round_id}/fill", unit,
            f"评估批次“{name}”已开始采集数据{until}", round_id=round_id, deadline=deadline,
        )
        for unit in _units(db, round_id)
    ]  # fmt: skip
    notices.append(
        _to_overseers(
            f"{kind}:{round_id}", kind, ref, f"评估批次“{name}”已开始采集数据",
            round_id=round_id, deadline=deadline,
        )
    )  # fmt: skip
    return _send(db, notices, at)


def on_review_opened(db: Database, round_id: str, at: datetime) -> list[str]:
    """Review opened: each unit may read its result and appeal until the window closes."""
    row = _round(db, round_id)
    if row is None:
        return []
    kind, ref, name = "round.review_opened", f"/evaluations/{round_id}", row["name"]
    until = row["review_until_at"]
    notices = [
        _to_unit(
            f"{kind}:{round_id}:{unit}", kind, ref, unit,
            f"评估批次“{name}”已进入复核：请查看本单位得分和失分，如有异议请于 "
            f"{_moment(until)} 前提出申诉", round_id=round_id, review_until=until,
        )
        for unit in _units(db, round_id)
    ]  # fmt: skip
    notices.append(
        _to_overseers(
            f"{kind}:{round_id}", kind, ref,
            f"评估批次“{name}”已进入复核，申诉期至 {_moment(until)}",
            round_id=round_id, review_until=until,
        )
    )  # fmt: skip
    return _send(db, notices, at)


def on_appeal_decided(db: Database, appeal_id: str, at: datetime) -> list[str]:
    """An appeal was decided: its unit is told the decision (once per appeal)."""
    rows = db.query_dicts(
        "SELECT a.appeal_id, a.round_id, a.unit, a.indicator, a.status, a.decision, r.name, "
        "r.system_yaml FROM eval_appeals a JOIN eval_rounds r ON r.round_id = a.round_id "
        "WHERE a.appeal_id = ?",
        [appeal_id],
    )
    if not rows or rows[0]["status"] not in ("accepted", "rejected"):
        return []
    a = rows[0]
    kind = "round.appeal_decided"
    what = "已采纳" if a["status"] == "accepted" else "未采纳"
    about = ""
    if a["indicator"]:
        names = _leaf_names(str(a["system_yaml"]), str(a["round_id"]))
        about = f"关于“{names.get(str(a['indicator']), str(a['indicator']))}”"
    message = f"评估批次“{a['name']}”中本单位{about}的申诉{what}：{a['decision'] or '（无说明）'}"
    notice = _to_unit(
        f"{kind}:{appeal_id}", kind, f"/evaluations/{a['round_id']}", str(a["unit"]), message,
        round_id=a["round_id"], appeal_id=appeal_id, decision=a["status"],
    )  # fmt: skip
    return _send(db, [notice], at)


def on_round_published(db: Database, round_id: str, at: datetime) -> list[str]:
    """Published: each unit is told, with how many rectification demands it has and by when."""
    row = _round(db, round_id)
    if row is None:
        return []
    kind, ref, name = "round.published", f"/evaluations/{round_id}", row["name"]
    demands: dict[str, tuple[int, object]] = {}
    for unit, n, due in db.query(
        "SELECT unit, COUNT(*), MIN(due_on) FROM eval_rectifications WHERE round_id = ? "
        "GROUP BY unit",
        [round_id],
    ):
        demands[str(unit)] = (int(n), due)
    notices = []
    for unit in _units(db, round_id):
        n, due = demands.get(unit, (0, None))
        tail = (
            f"；本单位有 {n} 项整改要求，请于 {_moment(due)} 前回复整改情况"
            if n
            else "；本单位无整改要求"
        )
        notices.append(
            _to_unit(
                f"{kind}:{round_id}:{unit}", kind,
                f"/rectifications?round={round_id}" if n else ref, unit,
                f"评估批次“{name}”结果已发布{tail}", round_id=round_id, demands=n,
            )
        )  # fmt: skip
    total = sum(n for n, _ in demands.values())
    notices.append(
        _to_overseers(
            f"{kind}:{round_id}", kind, ref,
            f"评估批次“{name}”结果已发布，下达整改要求 {total} 项",
            round_id=round_id, demands=total,
        )
    )  # fmt: skip
    return _send(db, notices, at)


def _leaf_names(system_yaml: str, round_id: str) -> dict[str, str]:
    try:
        system = parse_system(system_yaml, origin=f"评估批次 {round_id} 的指标体系")
    except Exception:  # a round's frozen system parsed before: names are a nicety here
        return {}
    return {leaf.id: leaf.name for leaf in system.leaves}


# -- time-triggered ----------------------------------------------------------------------------


def _fill_notices(db: Database, at: datetime) -> list[Notice]:
    today = at.date()
    notices: list[Notice] = []
    for row in db.query_dicts(
        "SELECT round_id, name, status, fill_deadline_at, system_yaml FROM eval_rounds "
        "WHERE fill_deadline_at IS NOT NULL AND status IN ('configured', 'collecting', "
        "'computed') ORDER BY round_id"
    ):
        deadline: datetime = row["fill_deadline_at"]
        round_id, name = str(row["round_id"]), row["name"]
        passed = at > deadline
        if not passed and workdays_until(db, today, deadline.date()) > DUE_SOON_WORKDAYS:
            continue
        names = _leaf_names(str(row["system_yaml"]), round_id)
        try:
            system = parse_system(str(row["system_yaml"]), origin=f"评估批次 {round_id}")
        except Exception:  # an unreadable system has nothing to fill
            continue
        filled = [leaf.id for leaf in system.leaves if leaf.source == "filled"]
        if not filled:
            continue
        have: dict[str, set[str]] = {}
        for unit, indicator in db.query(
            "SELECT unit, indicator FROM eval_values WHERE round_id = ? AND value IS NOT NULL "
            "AND indicator = ANY(?)",
            [round_id, filled],
        ):
            have.setdefault(str(unit), set()).add(str(indicator))
        owing = {
            unit: [names.get(i, i) for i in filled if i not in have.get(unit, set())]
            for unit in _units(db, round_id)
        }
        owing = {u: left for u, left in owing.items() if left}
        kind = "round.fill_overdue" if passed else "round.fill_due_soon"
        fill = f"/evaluations/{round_id}/fill"
        for unit, left in owing.items():
            shown = "、".join(left[:5]) + (f"等 {len(left)} 项" if len(left) > 5 else "")
            message = (
                f"评估批次“{name}”填报已于 {_moment(deadline)} 截止，本单位尚未填报：{shown}"
                if passed
                else f"评估批次“{name}”填报将于 {_moment(deadline)} 截止，本单位尚未填报：{shown}"
            )
            notices.append(
                _to_unit(f"{kind}:{round_id}:{unit}", kind, fill, unit, message,
                         round_id=round_id, deadline=deadline, missing=len(left))
            )  # fmt: skip
        if passed and owing:
            notices.append(
                _to_overseers(
                    f"{kind}:{round_id}", kind, f"/evaluations/{round_id}",
                    f"评估批次“{name}”填报已于 {_moment(deadline)} 截止，"
                    f"{len(owing)} 个单位尚有指标未填报",
                    round_id=round_id, deadline=deadline, units=len(owing),
                )
            )  # fmt: skip
    return notices


def _rectification_notices(db: Database, at: datetime) -> list[Notice]:
    today = at.date()
    groups: dict[tuple[str, str, date], list[dict[str, Any]]] = {}
    for d in db.query_dicts(
        "SELECT d.demand_id, d.round_id, r.name AS round_name, d.unit, d.indicator, "
        "d.indicator_name, d.status, d.due_on FROM eval_rectifications d "
        "JOIN eval_rounds r ON r.round_id = d.round_id "
        "WHERE d.due_on IS NOT NULL AND d.status <> 'confirmed' "
        "ORDER BY d.round_id, d.unit, d.due_on, d.indicator"
    ):
        due_on = d["due_on"] if isinstance(d["due_on"], date) else date.fromisoformat(d["due_on"])
        groups.setdefault((str(d["round_id"]), str(d["unit"]), due_on), []).append(d)
    notices: list[Notice] = []
    overdue_per_round: dict[str, list[dict[str, Any]]] = {}
    for (round_id, unit, due_on), items in groups.items():
        passed = due_on < today
        if not passed and workdays_until(db, today, due_on) > DUE_SOON_WORKDAYS:
            continue
        owed = [d for d in items if d["status"] in ("open", "returned")]
        if passed:
            overdue_per_round.setdefault(round_id, []).extend(items)
        if not owed:  # replied: the department has answered, the administrator decides
            continue
        kind = "rectification.overdue" if passed else "rectification.due_soon"
        names = "、".join(str(d["indicator_name"] or d["indicator"]) for d in owed)
        round_name = items[0]["round_name"]
        message = (
            f"评估批次“{round_name}”的整改要求已于 {due_on.isoformat()} 到期，"
            f"本单位尚未回复：{names}"
            if passed
            else f"评估批次“{round_name}”的整改要求将于 {due_on.isoformat()} 到期，"
            f"请及时回复：{names}"
        )
        ref = (
            f"/rectifications/{owed[0]['demand_id']}"
            if len(owed) == 1
            else f"/rectifications?round={round_id}&unit={unit}"
        )
        notices.append(
            _to_unit(f"{kind}:{round_id}:{unit}:{due_on.isoformat()}", kind, ref, unit, message,
                     round_id=round_id, due_on=due_on,
                     demands=[str(d["demand_id"]) for d in owed])
        )  # fmt: skip
    kind = "rectification.overdue"
    for round_id, items in overdue_per_round.items():
        latest = max(
            d["due_on"] if isinstance(d["due_on"], date) else date.fromisoformat(d["due_on"])
            for d in items
        )
        units = len({d["unit"] for d in items})
        notices.append(
            _to_overseers(
                f"{kind}:{round_id}:{latest.isoformat()}", kind,
                f"/rectifications?round={round_id}&status=overdue",
                f"评估批次“{items[0]['round_name']}”有 {len(items)} 项整改要求已超期未确认"
                f"（{units} 个单位）",
                round_id=round_id, overdue=len(items), units=units,
            )
        )  # fmt: skip
    return notices


def due_round_notices(db: Database, at: datetime) -> list[str]:
    """The time-triggered notices due at ``at`` that were not sent before; their dedupe keys.

    Idempotent: each notice is written once (a second call at the same or a later moment
    writes only what became due since)."""
    if not db.table_exists("eval_data_gaps"):  # (a database before migration 072)
        return []
    return _send(db, [*_fill_notices(db, at), *_rectification_notices(db, at)], at)
