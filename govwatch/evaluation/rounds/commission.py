"""Commissioning (委托) of third-party evaluators: who may enter which indicators of a round.

A round names its evaluators, each a user account (``user``: an evaluator's username) or an
evaluator organisation (``org``: its org_code; every evaluator account of that organisation),
and the leaf indicators each may enter. The administrator sets them (:func:`commission`,
replacing that evaluator's list) or withdraws them (:func:`revoke`); both are in the ledger
(``round.commission``, ``round.commission_revoke``) under the named user.

An evaluator enters values only for the leaves it is commissioned for
(:func:`commissioned_leaves`, checked by :mod:`values`) and sees only the rounds it is
commissioned for (:func:`commissioned_rounds`, read by :mod:`views`).

This module reads rounds with its own SQL (it is imported by :mod:`values`, so it must not
import it back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from govwatch.errors import GovwatchError, InputError
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.ledger import append_one
from govwatch.storage import Database

KINDS = ("user", "org")
KIND_NAMES = {"user": "评估人员账号", "org": "评估机构"}
# What an evaluator may enter (values.py): check, survey and rating indicators.
EVALUATOR_SOURCES = ("check", "survey", "rating")
CLOSED_STAGES = ("published", "closed")


class Who(Protocol):
    """Anyone acting or reading: an :class:`~values.Actor` or a web :class:`Principal`."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


class CommissionError(GovwatchError):
    """A commissioning the caller or the round's stage does not allow."""


@dataclass(frozen=True)
class Evaluator:
    """A commissioned party: an evaluator's account (``user``) or organisation (``org``)."""

    kind: str
    code: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"受托方类型“{self.kind}”无效：应为 user（账号）或 org（评估机构）")
        if not self.code.strip():
            raise InputError("受托方不能为空：请填写评估人员的用户名或评估机构的机构编码")


def org_of(who: object) -> str | None:
    """The organisation of an Actor (``org``) or a Principal (``org_code``)."""
    org = getattr(who, "org_code", None) or getattr(who, "org", None)
    return str(org) if org else None


def label_of(who: Who) -> str:
    return f"{who.role}:{who.name}"


def _round(db: Database, round_id: str) -> dict[str, Any]:
    rows = db.query_dicts(
        "SELECT round_id, status, system_yaml FROM eval_rounds WHERE round_id = ?", [round_id]
    )
    if not rows:
        raise InputError(f"评估批次“{round_id}”不存在")
    return rows[0]


def _system(row: dict[str, Any]) -> IndicatorSystem:
    return parse_system(str(row["system_yaml"]), origin=f"评估批次 {row['round_id']} 的指标体系")


def _check_evaluator(db: Database, evaluator: Evaluator) -> None:
    if evaluator.kind == "user":
        rows = db.query(
            "SELECT role, active FROM users WHERE username = ?", [evaluator.code.strip()]
        )
        if not rows:
            raise InputError(f"用户“{evaluator.code}”不存在：请填写第三方评估人员的用户名")
        if str(rows[0][0]) != "evaluator":
            raise InputError(f"用户“{evaluator.code}”不是第三方评估人员，不能受托评估")
        if not rows[0][1]:
            raise InputError(f"用户“{evaluator.code}”已停用，不能受托评估")
    elif not db.scalar("SELECT COUNT(*) FROM orgs WHERE org_code = ?", [evaluator.code.strip()]):
        raise InputError(f"评估机构“{evaluator.code}”不在机构列表中：请填写机构编码")


def commission(
    db: Database,
    round_id: str,
    evaluator: Evaluator,
    leaves: Sequence[str],
    actor: Who,
    at: datetime,
) -> list[str]:
    """Commission ``evaluator`` for exactly these leaves of the round (its earlier list is
    replaced); returns the leaf ids, in the system's order."""
    if actor.role != "admin":
        raise CommissionError("只有管理员可以委托第三方评估机构（需要管理员角色）")
    with db.transaction():
        row = _round(db, round_id)
        if row["status"] in CLOSED_STAGES:
            raise CommissionError(f"评估批次“{round_id}”已发布，不能再变更委托")
        system = _system(row)
        by_id = {leaf.id: leaf for leaf in system.leaves}
        wanted = {x.strip() for x in leaves if x.strip()}
        if not wanted:
            raise InputError("请至少选择一个委托的指标（撤销委托请用“撤销”）")
        for leaf_id in sorted(wanted):
            leaf = by_id.get(leaf_id)
            if leaf is None:
                raise InputError(f"指标“{leaf_id}”不是评估批次“{round_id}”指标体系的叶子指标")
            if leaf.source not in EVALUATOR_SOURCES:
                raise InputError(
                    f"指标“{leaf.name}”由{'部门填报' if leaf.source == 'filled' else '监测数据计算'}"
                    "，不能委托第三方录入（只能委托核查、问卷和评价类指标）"
                )
        _check_evaluator(db, evaluator)
        code = evaluator.code.strip()
        ordered = [leaf.id for leaf in system.leaves if leaf.id in wanted]
        db.execute(
            "DELETE FROM eval_commissions WHERE round_id = ? AND evaluator_kind = ? "
            "AND evaluator = ?",
            [round_id, evaluator.kind, code],
        )
        db.executemany(
            "INSERT INTO eval_commissions (round_id, evaluator_kind, evaluator, indicator, "
            "commissioned_by, commissioned_at) VALUES (?, ?, ?, ?, ?, ?)",
            [[round_id, evaluator.kind, code, leaf_id, label_of(actor), at] for leaf_id in ordered],
        )
        append_one(
            db,
            "round.commission",
            label_of(actor),
            f"round:{round_id}",
            at,
            {"round_id": round_id, "kind": evaluator.kind, "evaluator": code, "leaves": ordered},
        )
    return ordered


def revoke(db: Database, round_id: str, evaluator: Evaluator, actor: Who, at: datetime) -> int:
    """Withdraw an evaluator's commission for the round; returns how many leaves it had."""
    if actor.role != "admin":
        raise CommissionError("只有管理员可以撤销委托（需要管理员角色）")
    with db.transaction():
        row = _round(db, round_id)
        if row["status"] in CLOSED_STAGES:
            raise CommissionError(f"评估批次“{round_id}”已发布，不能再变更委托")
        code = evaluator.code.strip()
        had = int(
            db.scalar(
                "SELECT COUNT(*) FROM eval_commissions WHERE round_id = ? AND evaluator_kind = ? "
                "AND evaluator = ?",
                [round_id, evaluator.kind, code],
            )
            or 0
        )
        if not had:
            raise InputError(
                f"{KIND_NAMES[evaluator.kind]}“{code}”未受托评估批次“{round_id}”，无从撤销"
            )
        db.execute(
            "DELETE FROM eval_commissions WHERE round_id = ? AND evaluator_kind = ? "
            "AND evaluator = ?",
            [round_id, evaluator.kind, code],
        )
        append_one(
            db,
            "round.commission_revoke",
            label_of(actor),
            f"round:{round_id}",
            at,
            {"round_id": round_id, "kind": evaluator.kind, "evaluator": code, "leaves": had},
        )
    return had


_MINE = (
    "((evaluator_kind = 'user' AND evaluator = ?) OR (evaluator_kind = 'org' AND evaluator = ?))"
)


def _mine_params(who: Who) -> list[object]:
    # an account without an organisation matches no 'org' row ('' is never an org_code)
    return [who.name, org_of(who) or ""]


def commissioned_leaves(db: Database, round_id: str, who: Who) -> frozenset[str]:
    """The leaves ``who`` (an evaluator's account) may enter in the round: those commissioned
    to its account and to its organisation. Empty for other roles."""
    if who.role != "evaluator" or not db.table_exists("eval_commissions"):
        return frozenset()
    return frozenset(
        str(r[0])
        for r in db.query(
            f"SELECT DISTINCT indicator FROM eval_commissions WHERE round_id = ? AND {_MINE}",
            [round_id, *_mine_params(who)],
        )
    )


def commissioned_rounds(db: Database, who: Who) -> frozenset[str]:
    """The rounds ``who`` (an evaluator's account) is commissioned for."""
    if who.role != "evaluator" or not db.table_exists("eval_commissions"):
        return frozenset()
    return frozenset(
        str(r[0])
        for r in db.query(
            f"SELECT DISTINCT round_id FROM eval_commissions WHERE {_MINE}", _mine_params(who)
        )
    )


def commissions(db: Database, round_id: str) -> list[dict[str, Any]]:
    """The round's commissions, one per evaluator with its leaves (for the administrator)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, code, leaf, by, at in db.query(
        "SELECT evaluator_kind, evaluator, indicator, commissioned_by, commissioned_at "
        "FROM eval_commissions WHERE round_id = ? ORDER BY evaluator_kind, evaluator, indicator",
        [round_id],
    ):
        item = out.setdefault(
            (str(kind), str(code)),
            {"kind": str(kind), "evaluator": str(code), "leaves": [], "by": by, "at": at},
        )
        item["leaves"].append(str(leaf))
    return list(out.values())
