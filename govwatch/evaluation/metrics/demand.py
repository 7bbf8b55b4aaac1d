"""Demand-side metrics (需求侧): ratings (好差评), questionnaires, call-backs.

Formulas and decisions: docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from govwatch.evaluation.metrics.definitions import Counts, Period, item_scope, put_count, unit_expr
from govwatch.storage import Database

GOOD_LEVELS = "('1', '2', '3')"
NEGATIVE_LEVELS = "('4', '5')"


def rating_counts(db: Database, kind: str, period: Period, scope: Sequence[str] = ()) -> Counts:
    u = unit_expr(kind, "r")
    at = period.moment
    valid_negative = f"r.level IN {NEGATIVE_LEVELS} AND COALESCE(f.status, 'open') <> 'invalid'"
    rows = db.query_dicts(
        f"""SELECT {u} AS unit, COUNT(*) AS n,
    SUM(CASE WHEN r.level IN {GOOD_LEVELS} THEN 1 ELSE 0 END) AS good,
    SUM(CASE WHEN {valid_negative} THEN 1 ELSE 0 END) AS negative,
    SUM(CASE WHEN {valid_negative} AND f.called_back_at IS NOT NULL AND f.called_back_at <= ?
        THEN 1 ELSE 0 END) AS called,
    SUM(CASE WHEN {valid_negative} AND f.rectified_at IS NOT NULL AND f.rectified_at <= ?
        AND CAST(f.rectified_at AS DATE) <= f.deadline_on THEN 1 ELSE 0 END) AS rectified_on_time,
    SUM(CASE WHEN {valid_negative} AND ((f.rectified_at IS NOT NULL AND f.rectified_at <= ?)
        OR f.deadline_on < ?) THEN 1 ELSE 0 END) AS due
FROM ratings r LEFT JOIN rating_followups f ON f.rating_id = r.rating_id
WHERE r.rated_at >= ? AND r.rated_at < ? AND r.rated_at <= ? AND {u} IS NOT NULL
    {item_scope(scope, "r.item_code")}
GROUP BY {u}""",
        [at, at, at, at.date(), period.start_at, period.end_before, at],
    )
    out: Counts = {}
    for r in rows:
        unit = r["unit"]
        put_count(out, unit, "ratings.count", r["n"], 1)
        put_count(out, unit, "ratings.good_rate", r["good"], r["n"])
        put_count(out, unit, "ratings.negative_count", r["negative"], 1)
        put_count(out, unit, "ratings.callback_rate", r["called"], r["negative"])
        due = int(r["due"] or 0)
        # nothing due: nothing failed to be rectified (value 1, see docs/metrics.md)
        put_count(
            out,
            unit,
            "ratings.rectified_on_time_rate",
            r["rectified_on_time"] if due else 1,
            due or 1,
        )
    uc = unit_expr(kind, "c")
    for unit, finished, rated in db.query(
        f"""SELECT {uc} AS unit, COUNT(*) AS finished,
    SUM(CASE WHEN rc.case_id IS NOT NULL THEN 1 ELSE 0 END) AS rated
FROM cases c
LEFT JOIN (SELECT DISTINCT case_id FROM ratings WHERE case_id IS NOT NULL AND rated_at <= ?) rc
    ON rc.case_id = c.case_id
WHERE c.finished_at >= ? AND c.finished_at < ? AND c.finished_at <= ? AND {uc} IS NOT NULL
    {item_scope(scope, "c.item_code")}
GROUP BY {uc}""",
        [at, period.start_at, period.end_before, at],
    ):
        put_count(out, unit, "ratings.rating_rate", rated, finished)
    return out


def survey_counts(db: Database, period: Period) -> Counts:
    out: Counts = {}
    for unit, n, total in db.query(
        """SELECT unit, COUNT(*), SUM(score) FROM survey_responses
WHERE answered_at >= ? AND answered_at < ? AND answered_at <= ? GROUP BY unit""",
        [period.start_at, period.end_before, period.moment],
    ):
        put_count(out, unit, "survey.count", n, 1)
        put_count(out, unit, "survey.score", total, n)
    return out


def callback_counts(db: Database, kind: str, period: Period) -> Counts:
    uc = unit_expr(kind, "c")
    out: Counts = {}
    for unit, n, reached, answered, satisfied in db.query(
        f"""SELECT COALESCE(b.unit, {uc}) AS unit, COUNT(*),
    SUM(CASE WHEN b.reached THEN 1 ELSE 0 END),
    SUM(CASE WHEN b.reached AND b.satisfied IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN b.reached AND b.satisfied THEN 1 ELSE 0 END)
FROM callbacks b
LEFT JOIN ratings r ON r.rating_id = b.rating_id
LEFT JOIN cases c ON c.case_id = COALESCE(b.case_id, r.case_id)
WHERE b.called_at >= ? AND b.called_at < ? AND b.called_at <= ?
  AND COALESCE(b.unit, {uc}) IS NOT NULL
GROUP BY COALESCE(b.unit, {uc})""",
        [period.start_at, period.end_before, period.moment],
    ):
        put_count(out, unit, "callbacks.reach_rate", reached, n)
        put_count(out, unit, "callbacks.satisfaction_rate", satisfied, answered)
    return out


def demand_counts(
    db: Database, kind: str, period: Period, families: Collection[str], scope: Sequence[str] = ()
) -> Counts:
    out: Counts = {}
    if "ratings" in families:
        out.update(rating_counts(db, kind, period, scope))
    if "survey" in families:
        out.update(survey_counts(db, period))
    if "callbacks" in families:
        out.update(callback_counts(db, kind, period))
    return out
