"""年度绩效考核: one table per year of every unit's supervision and evaluation results, weighted.

Per department (``orgs.kind = 'department'``, and any department with cases in the year):

- **按时办结率** (on-time rate): cases finished in the year on time ÷ finished, as the dashboard
  counts them (:func:`govwatch.alerts.dashboard.dashboard_data`, ``rates_by_department``);
  component score = rate × 100;
- **每千件红黄牌** (cards per 1,000 cases): red and yellow alerts whose anomaly arose in the
  year ÷ cases accepted in the year × 1000 (as the supervision notice counts them); component
  score = max(0, 100 − ``CARD_PENALTY`` × cards per 1,000);
- **逾期督办** (overdue orders): orders issued to the unit in the year and not answered by
  their reply date (replied after it, or still unanswered past it at the moment of reading);
  component score = max(0, 100 − ``ORDER_PENALTY`` × overdue orders);
- **评估得分** (evaluation): the mean score of the unit in the rounds published in the year
  (``eval_results`` of ``eval_rounds`` with ``published_at`` in the year); component score =
  that mean.

Total = Σ weightᵢ × scoreᵢ ÷ Σ weightᵢ over the components the unit has (a unit without
finished cases, or not evaluated, is scored on the others), rounded to 2 decimals; rank by
total (ties share a rank). Weights are the administrator's (``appraisal_weights``, per year,
ledgered), by default :data:`DEFAULT_WEIGHTS` (40 / 20 / 10 / 30).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from govwatch.alerts.dashboard import PROVINCE, DashFilter, dashboard_data
from govwatch.auth.errors import ForbiddenError
from govwatch.auth.names import department_names
from govwatch.auth.principal import Principal
from govwatch.errors import InputError
from govwatch.ledger import append_one
from govwatch.storage import Database

COMPONENTS = ("ontime", "cards", "orders", "evaluation")
COMPONENT_NAMES = {
    "ontime": "按时办结率",
    "cards": "每千件红黄牌",
    "orders": "逾期督办",
    "evaluation": "评估得分",
}
DEFAULT_WEIGHTS: dict[str, float] = {
    "ontime": 40.0,
    "cards": 20.0,
    "orders": 10.0,
    "evaluation": 30.0,
}
CARD_PENALTY = 10.0  # points per red/yellow card per 1,000 cases
ORDER_PENALTY = 10.0  # points per overdue order


def check_year(text: str | int) -> int:
    try:
        year = int(str(text).strip())
    except ValueError as exc:
        raise InputError(f"考核年度“{text}”无效：应为四位年份，如 2026") from exc
    if not 2000 <= year <= 2100:
        raise InputError(f"考核年度“{text}”无效：应在 2000 至 2100 年之间")
    return year


def weights_of(db: Database, year: int) -> dict[str, float]:
    """The year's weights as the administrator set them, else the defaults."""
    found = db.query("SELECT weights FROM appraisal_weights WHERE year = ?", [year])
    if not found:
        return dict(DEFAULT_WEIGHTS)
    stored = orjson.loads(str(found[0][0]))
    return {k: float(stored.get(k, DEFAULT_WEIGHTS[k])) for k in COMPONENTS}


def set_weights(
    db: Database, principal: Principal, year: int, weights: Mapping[str, Any], at: datetime
) -> dict[str, float]:
    """Store the year's weights (administrators); each 0–100, not all zero; ledgered."""
    if principal.role != "admin":
        raise ForbiddenError("只有管理员可以设置年度绩效考核权重")
    clean: dict[str, float] = {}
    for key in COMPONENTS:
        raw = weights.get(key, DEFAULT_WEIGHTS[key])
        try:
            value = float(str(raw).strip())
        except ValueError as exc:
            raise InputError(
                f"{year}年考核权重“{COMPONENT_NAMES[key]}”应为 0 到 100 之间的数，收到“{raw}”"
            ) from exc
        if not 0 <= value <= 100:
            raise InputError(
                f"{year}年考核权重“{COMPONENT_NAMES[key]}”应为 0 到 100 之间的数，收到“{raw}”"
            )
        clean[key] = value
    if sum(clean.values()) <= 0:
        raise InputError(f"{year}年考核权重不能全部为 0")
    body = orjson.dumps(clean, option=orjson.OPT_SORT_KEYS).decode()
    actor = f"{principal.role}:{principal.name}"
    with db.transaction():
        db.execute("DELETE FROM appraisal_weights WHERE year = ?", [year])
        db.execute(
            "INSERT INTO appraisal_weights (year, weights, set_by, set_at) VALUES (?, ?, ?, ?)",
            [year, body, actor, at],
        )
        append_one(db, "appraisal.weights", actor, f"appraisal:{year}", at, clean)
    return clean


@dataclass(frozen=True)
class AppraisalRow:
    unit: str
    name: str
    cases: int  # accepted in the year
    finished: int
    ontime: int
    ontime_rate: float | None  # 0–1
    red: int
    yellow: int
    cards_per_1000: float | None
    orders: int  # issued in the year
    overdue_orders: int
    rounds: tuple[tuple[str, float], ...]  # (round id, score) published in the year
    evaluation: float | None  # mean score
    scores: Mapping[str, float | None]  # component scores, 0–100
    total: float | None
    rank: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "name": self.name,
            "cases": self.cases,
            "finished": self.finished,
            "ontime": self.ontime,
            "ontime_rate": self.ontime_rate,
            "red": self.red,
            "yellow": self.yellow,
            "cards_per_1000": self.cards_per_1000,
            "orders": self.orders,
            "overdue_orders": self.overdue_orders,
            "rounds": [{"round_id": r, "score": s} for r, s in self.rounds],
            "evaluation": self.evaluation,
            "scores": dict(self.scores),
            "total": self.total,
            "rank": self.rank,
        }


def weighted_total(
    scores: Mapping[str, float | None], weights: Mapping[str, float]
) -> float | None:
    """Σ wᵢ·sᵢ ÷ Σ wᵢ over the components present (None: no component present)."""
    present = [(weights[k], s) for k, s in scores.items() if s is not None and weights[k] > 0]
    if not present:
        return None
    return round(sum(w * s for w, s in present) / sum(w for w, _ in present), 2)


def appraisal(db: Database, year: int, at: datetime) -> tuple[dict[str, float], list[AppraisalRow]]:
    """(weights, rows ranked by total) for the year, read at ``at`` (orders overdue by then)."""
    weights = weights_of(db, year)
    start, end = date(year, 1, 1), date(year, 12, 31)
    first, after = datetime(year, 1, 1), datetime(year + 1, 1, 1)
    dash = dashboard_data(db, PROVINCE, DashFilter("", "", start, end), at)
    rates = {str(r["code"]): r for r in dash.get("rates_by_department", [])}
    names = department_names(db)
    units = set(rates) | {
        str(r[0]) for r in db.query("SELECT org_code FROM orgs WHERE kind = 'department'")
    }
    cards: dict[str, dict[str, int]] = {}
    for dept, level, n in db.query(
        "SELECT department_code, level, COUNT(*) FROM alerts WHERE occurred_at >= ? "
        "AND occurred_at < ? AND level IN ('red', 'yellow') GROUP BY department_code, level",
        [first, after],
    ):
        cards.setdefault(str(dept or ""), {"red": 0, "yellow": 0})[str(level)] = int(n)
    today = at.date()
    orders = {
        str(org): (int(n or 0), int(late or 0))
        for org, n, late in db.query(
            "SELECT org_code, COUNT(*), SUM(CASE WHEN (replied_at IS NOT NULL AND "
            "CAST(replied_at AS DATE) > reply_due_on) OR (replied_at IS NULL AND "
            "reply_due_on < ?) THEN 1 ELSE 0 END) FROM orders WHERE issued_at >= ? "
            "AND issued_at < ? GROUP BY org_code",
            [today, first, after],
        )
    }
    evaluated: dict[str, list[tuple[str, float]]] = {}
    for round_id, unit, score in db.query(
        "SELECT r.round_id, r.unit, r.score FROM eval_results r JOIN eval_rounds e "
        "ON e.round_id = r.round_id WHERE e.status IN ('published', 'closed') "
        "AND e.published_at >= ? AND e.published_at < ? ORDER BY e.published_at, r.round_id",
        [first, after],
    ):
        evaluated.setdefault(str(unit), []).append((str(round_id), float(score)))
    units |= {u for u in evaluated if u in names}
    rows: list[AppraisalRow] = []
    for unit in sorted(units):
        rate = rates.get(unit, {})
        n_cases, finished = int(rate.get("cases", 0)), int(rate.get("finished", 0))
        ontime = int(rate.get("ontime", 0))
        ontime_rate = ontime / finished if finished else None
        c = cards.get(unit, {"red": 0, "yellow": 0})
        per_k = round((c["red"] + c["yellow"]) * 1000 / n_cases, 2) if n_cases else None
        issued, late = orders.get(unit, (0, 0))
        rounds = tuple(evaluated.get(unit, []))
        mean = round(sum(s for _, s in rounds) / len(rounds), 2) if rounds else None
        scores: dict[str, float | None] = {
            "ontime": round(ontime_rate * 100, 2) if ontime_rate is not None else None,
            "cards": round(max(0.0, 100 - CARD_PENALTY * per_k), 2) if per_k is not None else None,
            "orders": round(max(0.0, 100 - ORDER_PENALTY * late), 2),
            "evaluation": mean,
        }
        rows.append(
            AppraisalRow(
                unit, names.get(unit, unit), n_cases, finished, ontime, ontime_rate,
                c["red"], c["yellow"], per_k, issued, late, rounds, mean, scores,
                weighted_total(scores, weights), None,
            )
        )  # fmt: skip
    rows.sort(key=lambda r: (r.total is None, -(r.total or 0.0), r.unit))
    ranked: list[AppraisalRow] = []
    for i, r in enumerate(rows):
        if r.total is None:
            ranked.append(r)
            continue
        same = ranked[-1] if ranked and ranked[-1].total == r.total else None
        rank = same.rank if same is not None else i + 1
        ranked.append(AppraisalRow(**{**r.__dict__, "rank": rank}))
    return weights, ranked
