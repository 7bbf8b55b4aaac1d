"""Reading rounds: the one reader of rounds and results, and the one rule of who sees what.

Every face reads rounds here: the round pages and their JSON twins, ``GET
/api/v1/evaluations/{round}``, the public page and its downloads, and ``govwatch evaluation
show|list``. :func:`round_access` is the visibility rule (docs/security.md, "Evaluation
rounds"), a pure function of (who, stage, whether an evaluator is commissioned for the round;
:func:`access_of` looks that up):

- administrator and supervisor: every round, every unit's values and result, at every stage;
- evaluator: only the rounds it is commissioned for (its account or its organisation,
  :mod:`commission`), each whole, at every stage; other rounds are hidden;
- department: the round itself at every stage (it fills values while collecting), its own
  units' result from review on, other units' results only once published (or closed);
- the public (anonymous): published (or closed) rounds only, the public fields of each result;
- a source token (and any other role): nothing.

A round a caller may not see is reported exactly as a round that does not exist
(:class:`NotFoundError`), so that its existence does not leak either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from govwatch.auth.errors import NotFoundError
from govwatch.auth.principal import Principal
from govwatch.errors import GovwatchError
from govwatch.evaluation.rounds.commission import commissioned_rounds
from govwatch.evaluation.rounds.digest import plain
from govwatch.evaluation.rounds.values import Actor
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.storage import Database

# Stage codes, in order (lifecycle.py). "closed" is not written yet; it reads as published.
STAGES = ("configured", "collecting", "computed", "review", "published", "closed")
OWN_RESULT_STAGES = frozenset({"review", "published", "closed"})
PUBLISHED_STAGES = frozenset({"published", "closed"})
WHOLE_ROUND_ROLES = frozenset({"admin", "supervisor"})

PUBLIC_FIELDS = ("unit", "unit_name", "group", "score", "stars", "rank", "group_rank")
ROUND_FIELDS = (
    "round_id",
    "name",
    "period_start",
    "period_end",
    "unit_kind",
    "system_name",
    "status",
    "fill_deadline_at",
    "review_until_at",
    "created_at",
    "computed_at",
    "published_at",
    "digest",
    "guide_run_id",
)
_ROUND_COLUMNS = ", ".join(ROUND_FIELDS)


@dataclass(frozen=True)
class RoundViewer:
    """Who reads a round: a role and, for a department, the units that are its own; for an
    evaluator, its account name and organisation (what it is commissioned under)."""

    role: str
    units: frozenset[str] = frozenset()
    name: str = ""
    org: str | None = None

    @classmethod
    def of_principal(cls, principal: Principal) -> RoundViewer:
        """A signed-in user or token of the web app; a department's own units are its subtree."""
        units: frozenset[str] = frozenset()
        if principal.scope is not None:
            units = principal.scope | principal.regions
        if principal.org_code:
            units |= {principal.org_code}
        return cls(principal.role, units, principal.name, principal.org_code)

    @classmethod
    def of_actor(cls, actor: Actor | None) -> RoundViewer:
        """An actor of the command line; ``None`` is the public."""
        if actor is None:
            return PUBLIC_VIEWER
        return cls(actor.role, actor.own_units, actor.name, actor.org)


PUBLIC_VIEWER = RoundViewer("public")
# The command line's operator is the administration until commands act as named users (issue 13).
OPERATOR = RoundViewer("admin")


@dataclass(frozen=True)
class RoundAccess:
    """What a viewer may see of one round at its current stage."""

    visible: bool  # the round at all (its name, period, stage)
    own: bool  # the viewer's own units' values and results
    others: bool  # other units' results
    detail: bool  # points per indicator, missing values, coverage, appeals, rectifications
    units: frozenset[str] = frozenset()

    def sees(self, unit: str) -> bool:
        return self.own if unit in self.units else self.others


NOTHING = RoundAccess(visible=False, own=False, others=False, detail=False)


def round_access(viewer: RoundViewer, status: str, commissioned: bool = False) -> RoundAccess:
    """The visibility rule: a pure function of the viewer, the round's stage and, for an
    evaluator, whether it is commissioned for the round."""
    if viewer.role in WHOLE_ROUND_ROLES or (viewer.role == "evaluator" and commissioned):
        return RoundAccess(visible=True, own=True, others=True, detail=True)
    if viewer.role == "department":
        return RoundAccess(
            visible=True,
            own=status in OWN_RESULT_STAGES,
            others=status in PUBLISHED_STAGES,
            detail=True,
            units=viewer.units,
        )
    if viewer.role == "public" and status in PUBLISHED_STAGES:
        return RoundAccess(visible=True, own=True, others=True, detail=False)
    return NOTHING


def _commissioned(db: Database, viewer: RoundViewer) -> frozenset[str]:
    return commissioned_rounds(db, viewer) if viewer.role == "evaluator" else frozenset()


def access_of(db: Database, viewer: RoundViewer, round_id: str, status: str) -> RoundAccess:
    """:func:`round_access` for one round, looking up an evaluator's commissioning."""
    return round_access(viewer, status, round_id in _commissioned(db, viewer))


def _hidden(round_id: str) -> NotFoundError:
    return NotFoundError(f"评估批次“{round_id}”不存在，或尚未发布")


def list_rounds(db: Database, viewer: RoundViewer) -> list[dict[str, Any]]:
    """The rounds the viewer may see, latest period first."""
    mine = _commissioned(db, viewer)
    return [
        {k: plain(v) for k, v in r.items()}
        for r in db.query_dicts(
            f"SELECT {_ROUND_COLUMNS} FROM eval_rounds ORDER BY period_end DESC, round_id"
        )
        if round_access(viewer, str(r["status"]), str(r["round_id"]) in mine).visible
    ]


def _leaves(round_id: str, system_yaml: str, guide_run: object = None) -> list[dict[str, Any]]:
    """The leaf indicators with their points; ``evidence`` is true for a guide or coverage
    leaf counted on a guide check run, whose value has a page of findings behind it
    (/guides/evidence)."""
    try:
        system = parse_system(system_yaml, origin=f"批次 {round_id} 的指标体系")
    except GovwatchError:
        return []
    return [
        {
            "id": leaf.id,
            "name": leaf.name,
            "points": leaf.points,
            "evidence": guide_run is not None and str(leaf.metric or "").startswith("guides."),
        }
        for leaf in system.leaves
    ]


def _result(r: dict[str, Any], leaves: list[dict[str, Any]]) -> dict[str, Any]:
    earned: dict[str, Any] = orjson.loads(r["points"]) if r["points"] else {}
    item: dict[str, Any] = {
        "unit": r["unit"],
        "unit_name": r["unit_name"] or r["unit"],
        "group": r["group_name"],
        "score": float(r["score"]),
        "stars": int(r["stars"]),
        "rank": int(r["rank"]),
        "group_rank": int(r["group_rank"]),
        "points": earned,
        "missing": orjson.loads(r["missing"]) if r["missing"] else [],
        "coverage": float(r["coverage"]),
        "poorly_covered": bool(r["poorly_covered"]),
        "per_indicator": [
            {
                **leaf,
                "earned": float(earned.get(leaf["id"], 0.0)),
                "lost": round(float(leaf["points"]) - float(earned.get(leaf["id"], 0.0)), 4),
            }
            for leaf in leaves
        ],
    }
    if r["rank_low"] is not None:
        item["rank_interval"] = [int(r["rank_low"]), int(r["rank_high"])]
        item["star_stability"] = float(r["star_stability"])
    return item


def round_results(
    db: Database, round_id: str, access: RoundAccess, leaves: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The results the access allows, by rank, with unit names (``govwatch evaluate``'s rows)."""
    if not (access.own or access.others):
        return []
    out = []
    for r in db.query_dicts(
        "SELECT r.*, u.unit_name FROM eval_results r LEFT JOIN eval_units u "
        "ON u.round_id = r.round_id AND u.unit = r.unit WHERE r.round_id = ? "
        "ORDER BY r.rank, r.unit",
        [round_id],
    ):
        if not access.sees(str(r["unit"])):
            continue
        item = _result(r, leaves)
        out.append(item if access.detail else {k: item[k] for k in PUBLIC_FIELDS})
    return out


def round_head(
    db: Database, round_id: str, viewer: RoundViewer | Actor | None
) -> tuple[dict[str, Any], RoundAccess]:
    """The round's row (its fields, the frozen system's text, the digest) and what ``viewer``
    may see of it; 404 when it may see nothing. ``viewer`` ``None`` is the public."""
    if not isinstance(viewer, RoundViewer):
        viewer = RoundViewer.of_actor(viewer)
    rows = db.query_dicts(
        f"SELECT {_ROUND_COLUMNS}, system_yaml FROM eval_rounds WHERE round_id = ?", [round_id]
    )
    if not rows:
        raise _hidden(round_id)
    row = rows[0]
    access = access_of(db, viewer, round_id, str(row["status"]))
    if not access.visible:
        raise _hidden(round_id)
    return row, access


def round_body(
    db: Database, round_id: str, row: dict[str, Any], access: RoundAccess
) -> dict[str, Any]:
    """``leaves`` and ``results`` of a round as ``access`` allows (a pure function of the
    round's system and results, and of ``access``: what a published round's digest freezes)."""
    leaves = _leaves(round_id, str(row["system_yaml"] or ""), row.get("guide_run_id"))
    return {"leaves": leaves, "results": round_results(db, round_id, access, leaves)}


def round_live(
    db: Database, round_id: str, viewer: RoundViewer, access: RoundAccess
) -> dict[str, list[dict[str, Any]]]:
    """``appeals`` and ``rectifications`` of a round as the viewer may see them (a department:
    its own units' only; the public: none). These change after publishing (a demand's reply,
    its follow-up), so they are never kept with the frozen results."""
    appeals: list[dict[str, Any]] = []
    rectifications: list[dict[str, Any]] = []
    if access.detail:
        appeals = [
            {k: plain(v) for k, v in a.items()}
            for a in db.query_dicts(
                "SELECT appeal_id, unit, indicator, reason, status, decision, submitted_at, "
                "decided_at FROM eval_appeals WHERE round_id = ? ORDER BY submitted_at, appeal_id",
                [round_id],
            )
            if viewer.role != "department" or str(a["unit"]) in access.units
        ]
        rectifications = [
            {k: plain(v) for k, v in d.items()}
            for d in db.query_dicts(
                "SELECT unit, indicator, points_lost, demand, status, followed_in_round, "
                "followed_points FROM eval_rectifications WHERE round_id = ? ORDER BY unit, "
                "points_lost DESC",
                [round_id],
            )
            if viewer.role != "department" or str(d["unit"]) in access.units
        ]
    return {"appeals": appeals, "rectifications": rectifications}


def compose_summary(
    row: dict[str, Any], body: dict[str, Any], live: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """The summary's shape (see :func:`round_summary`) from its three parts."""
    return {
        **{k: plain(row[k]) for k in ROUND_FIELDS},
        "leaves": body["leaves"],
        "results": body["results"],
        "units": len(body["results"]),
        "appeals": live["appeals"],
        "rectifications": live["rectifications"],
    }


def round_summary(
    db: Database, round_id: str, viewer: RoundViewer | Actor | None
) -> dict[str, Any]:
    """One round as ``viewer`` may see it (``None``: the public); 404 when it may not see it.

    The shape every face returns: the round's fields, ``leaves`` (the frozen system's leaf
    indicators with their points), ``results`` (one row per unit the viewer may see), ``units``
    (how many rows), ``appeals`` and ``rectifications`` (the viewer's units' only, for a
    department; none for the public). Read in three parts (:func:`round_head`,
    :func:`round_body`, :func:`round_live`) so that the web app can keep a published round's
    body by its digest.
    """
    if not isinstance(viewer, RoundViewer):
        viewer = RoundViewer.of_actor(viewer)
    row, access = round_head(db, round_id, viewer)
    return compose_summary(
        row, round_body(db, round_id, row, access), round_live(db, round_id, viewer, access)
    )
