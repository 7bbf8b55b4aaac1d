"""Demand-side inputs: rating files with aliases, invalid negatives, questionnaires, call-backs."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from govwatch.errors import InputError
from govwatch.evaluation.demand.ratings import import_ratings, mark_invalid, open_followups
from govwatch.evaluation.demand.surveys import (
    import_callbacks,
    import_responses,
    load_questionnaire,
)
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.metrics.supply import compute_metrics
from govwatch.storage import Database

from . import small_province as sp

PERIOD = Period(date(2025, 10, 1), date(2025, 10, 31), datetime(2025, 12, 31))


def metrics(db: Database, *names: str) -> dict[tuple[str, str], float | None]:
    return {
        (v.unit, v.metric): v.value
        for v in compute_metrics(db, "region", PERIOD, metrics=list(names))
    }


def test_rating_file_with_gbt_names_loads_and_takes_the_unit_of_its_case(
    db: Database, tmp_path: Path
) -> None:
    sp.load(db, tmp_path)
    f = tmp_path / "ratings.csv"
    f.write_text(
        "办件编号,满意度,评价渠道,评价时间,文字评价\n"
        "c1,2,PC端,20251011090000,好\n"
        "c4,5,短信,2025-10-20 10:00:00,太慢\n"
        ",3,大厅平板,2025-10-21T10:00:00,\n",
        encoding="utf-8",
    )
    assert import_ratings(db, [f]) == 3
    assert import_ratings(db, [f]) == 0  # same records, same ids: nothing new
    rows = dict(db.query("SELECT case_id, region_code FROM ratings WHERE case_id IS NOT NULL"))
    assert rows == {"c1": "330102", "c4": "330203"}
    assert open_followups(db, at=datetime(2025, 11, 1)) == 1
    got = metrics(db, "ratings.count", "ratings.good_rate", "ratings.negative_count")
    assert got[("330203", "ratings.good_rate")] == 0.0
    assert got[("330102", "ratings.count")] == 1


def test_bad_rating_level_is_refused(db: Database, tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text(
        '{"case_id": "c1", "level": "9", "rated_at": "2025-10-11T09:00:00"}\n', encoding="utf-8"
    )
    with pytest.raises(InputError, match="满意度"):
        import_ratings(db, [f])


def test_invalid_negative_rating_leaves_the_negative_metrics(db: Database, tmp_path: Path) -> None:
    sp.load(db, tmp_path)
    f = tmp_path / "r.jsonl"
    f.write_text(
        '{"rating_id": "n1", "case_id": "c4", "level": "5", "rated_at": "2025-10-20T10:00:00"}\n'
        '{"rating_id": "n2", "case_id": "c5", "level": "4", "rated_at": "2025-10-21T10:00:00"}\n',
        encoding="utf-8",
    )
    import_ratings(db, [f])
    open_followups(db, at=datetime(2025, 11, 1))
    before = metrics(db, "ratings.negative_count", "ratings.rectified_on_time_rate")
    assert before[("330203", "ratings.negative_count")] == 2
    assert before[("330203", "ratings.rectified_on_time_rate")] == 0.0
    mark_invalid(db, "n1", datetime(2025, 11, 2), "复核员", "误评：申请人选错事项")
    after = metrics(db, "ratings.negative_count")
    assert after[("330203", "ratings.negative_count")] == 1


QUESTIONNAIRE = """
id: sat-2025
name: 政务服务满意度问卷
questions:
  - {id: q1, text: 指南是否清楚, type: scale, min: 1, max: 5, weight: 2}
  - {id: q2, text: 是否一次办成, type: boolean}
  - {id: q3, text: 等候时间（1 最短）, type: scale, min: 1, max: 5, best: low}
"""


def test_questionnaire_scores_are_weighted_normalised_means(db: Database, tmp_path: Path) -> None:
    qfile = tmp_path / "q.yaml"
    qfile.write_text(QUESTIONNAIRE, encoding="utf-8")
    load_questionnaire(db, qfile, datetime(2025, 10, 1))
    answers = tmp_path / "answers.csv"
    answers.write_text(
        "response_id,unit,answered_at,q1,q2,q3\n"
        "r1,330102,2025-10-05 10:00:00,5,是,1\n"  # (2·1 + 1 + 1) / 4 = 1
        "r2,330102,2025-10-06 10:00:00,3,否,5\n"  # (2·0.5 + 0 + 0) / 4 = 0.25
        "r3,330102,2025-10-07 10:00:00,1,,\n"  # only q1 answered: 0
        "r4,330203,2025-11-07 10:00:00,5,是,1\n",  # outside the period
        encoding="utf-8",
    )
    assert import_responses(db, "sat-2025", [answers]) == 4
    got = metrics(db, "survey.score", "survey.count")
    assert got[("330102", "survey.score")] == pytest.approx((1 + 0.25 + 0) / 3)
    assert got[("330102", "survey.count")] == 3
    assert ("330203", "survey.score") not in got


def test_answer_out_of_range_is_refused(db: Database, tmp_path: Path) -> None:
    qfile = tmp_path / "q.yaml"
    qfile.write_text(QUESTIONNAIRE, encoding="utf-8")
    load_questionnaire(db, qfile, datetime(2025, 10, 1))
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,answered_at,q1\n330102,2025-10-05,7\n", encoding="utf-8")
    with pytest.raises(InputError, match="超出"):
        import_responses(db, "sat-2025", [bad])


def test_callbacks_give_reach_and_satisfaction_and_mark_ratings_called_back(
    db: Database, tmp_path: Path
) -> None:
    sp.load(db, tmp_path)
    r = tmp_path / "r.jsonl"
    r.write_text(
        '{"rating_id": "n1", "case_id": "c4", "level": "5", "rated_at": "2025-10-20T10:00:00"}\n',
        encoding="utf-8",
    )
    import_ratings(db, [r])
    open_followups(db, at=datetime(2025, 11, 1))
    cb = tmp_path / "callbacks.csv"
    cb.write_text(
        "callback_id,case_id,rating_id,called_at,reached,satisfied\n"
        "b1,c4,n1,2025-10-21 10:00:00,是,否\n"
        "b2,c5,,2025-10-22 10:00:00,否,\n"
        "b3,c5,,2025-10-23 10:00:00,是,是\n",
        encoding="utf-8",
    )
    assert import_callbacks(db, [cb]) == 3
    got = metrics(
        db, "callbacks.reach_rate", "callbacks.satisfaction_rate", "ratings.callback_rate"
    )
    assert got[("330203", "callbacks.reach_rate")] == pytest.approx(2 / 3)
    assert got[("330203", "callbacks.satisfaction_rate")] == pytest.approx(1 / 2)
    assert got[("330203", "ratings.callback_rate")] == 1.0
