"""Rounds: configure → collect → fill and check → compute → review and appeal → publish, on
DuckDB and PostgreSQL; a published round cannot change and its digest verifies."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from govwatch.auth.users import add_user
from govwatch.errors import GovwatchError
from govwatch.evaluation.demand.ratings import open_followups, sync_ratings_from_events
from govwatch.evaluation.rounds.commission import Evaluator, commission
from govwatch.evaluation.rounds.digest import verify_round
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    collect,
    compute_round,
    create_round,
    decide_appeal,
    follow_up,
    open_review,
    publish_round,
    submit_appeal,
)
from govwatch.evaluation.rounds.values import (
    Actor,
    RoundStateError,
    add_evidence,
    submit_value,
    value_history,
    verify_value,
)
from govwatch.evaluation.rounds.views import round_summary
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.storage import Database

from . import small_province as sp

SYSTEM = """
name: 小型测试体系
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
indicators:
  - {id: online, name: 网上办件占比, points: 30, source: metric, metric: cases.online_share,
     scale: ratio}
  - {id: on_time, name: 按时办结率, points: 30, source: metric, metric: cases.on_time_rate,
     scale: ratio}
  - {id: good, name: 好评率, points: 10, source: rating, metric: ratings.good_rate, scale: ratio}
  - {id: channels, name: 多渠道服务, points: 20, source: filled, scale: ratio}
  - {id: guide, name: 指南公布, points: 10, source: check, scale: boolean}
"""

ADMIN = Actor("管理员", "admin")
EVAL = Actor("第三方", "evaluator")
D102 = Actor("330102 填报员", "department", "330102")
D203 = Actor("330203 填报员", "department", "330203")
T0 = datetime(2025, 11, 3, 9)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 11, day, hour)


@pytest.fixture
def configured(db: Database, tmp_path: Path) -> Database:
    sp.load(db, tmp_path)
    sync_ratings_from_events(db)
    open_followups(db, at=T0)
    create_round(
        db,
        "2025-10",
        "2025年10月评估",
        parse_system(SYSTEM),
        sp.PERIOD,
        "region",
        [UnitSpec("330102", "上城区", "城区"), UnitSpec("330203", "海曙区", "城区")],
        ADMIN,
        T0,
        fill_deadline_at=at(10, 18),
        review_days=3,
    )
    # the third party enters the check indicator it is commissioned for
    add_user(db, EVAL.name, "pw-third-party-2025", "evaluator", None, T0)
    commission(db, "2025-10", Evaluator("user", EVAL.name), ["guide"], ADMIN, T0)
    return db


def fill_all(db: Database) -> None:
    assert collect(db, "2025-10", ADMIN, at(4)) == 6
    submit_value(db, "2025-10", "330102", "channels", "75%", D102, at(5))
    submit_value(db, "2025-10", "330203", "channels", 0.5, D203, at(5))
    add_evidence(db, "2025-10", "330102", "channels", "截图.png", b"\x89PNG...", D102, at(5))
    verify_value(db, "2025-10", "330102", "channels", EVAL, at(6))
    submit_value(db, "2025-10", "330102", "guide", "是", EVAL, at(6))
    submit_value(db, "2025-10", "330203", "guide", "否", EVAL, at(6))


def test_collect_writes_metric_values_with_their_provenance(configured: Database) -> None:
    collect(configured, "2025-10", ADMIN, at(4))
    rows = {
        (r["unit"], r["indicator"]): r
        for r in configured.query_dicts("SELECT * FROM eval_values WHERE round_id = '2025-10'")
    }
    assert rows[("330102", "online")]["value"] == 1.0
    assert rows[("330203", "on_time")]["value"] == 0.5
    assert rows[("330102", "good")]["value"] == pytest.approx(1 / 3)
    assert rows[("330102", "good")]["source"] == "rating"
    assert rows[("330102", "online")]["status"] == "computed"
    assert rows[("330102", "online")]["entered_by"] == "admin:管理员"


def test_round_scores_match_hand_computation(configured: Database) -> None:
    fill_all(configured)
    result = compute_round(configured, "2025-10", ADMIN, at(7)).by_unit()
    # 330102: 30·1 + 30·0.5 + 10/3 + 20·0.75 + 10 = 73.33; 330203: 15 + 15 + 10 + 10 + 0 = 50
    assert result["330102"].score == pytest.approx(30 + 15 + 10 / 3 + 15 + 10)
    assert result["330203"].score == pytest.approx(50)
    assert (result["330102"].stars, result["330203"].stars) == (3, 0)
    assert (result["330102"].rank, result["330203"].rank) == (1, 2)


def test_department_fills_only_its_own_filled_indicators_before_the_deadline(
    configured: Database,
) -> None:
    with pytest.raises(RoundStateError, match="本单位"):
        submit_value(configured, "2025-10", "330203", "channels", 1, D102, at(5))
    with pytest.raises(RoundStateError, match="来源"):
        submit_value(configured, "2025-10", "330102", "guide", 1, D102, at(5))
    with pytest.raises(RoundStateError, match="截止"):
        submit_value(configured, "2025-10", "330102", "channels", 1, D102, at(10, 19))
    with pytest.raises(RoundStateError, match="截止"):
        add_evidence(
            configured, "2025-10", "330102", "channels", "迟交.pdf", b"x", D102, at(10, 19)
        )


def test_evaluator_cannot_change_monitoring_data_or_departments_submissions(
    configured: Database,
) -> None:
    fill_all(configured)
    with pytest.raises(RoundStateError):
        submit_value(configured, "2025-10", "330102", "online", 0.1, EVAL, at(6))
    with pytest.raises(RoundStateError):
        submit_value(configured, "2025-10", "330102", "channels", 0.1, EVAL, at(6))
    with pytest.raises(RoundStateError):
        verify_value(configured, "2025-10", "330102", "channels", D102, at(6))


def test_every_value_keeps_its_history(configured: Database) -> None:
    fill_all(configured)
    submit_value(configured, "2025-10", "330102", "channels", 1.0, D102, at(7))
    history = value_history(configured, "2025-10", "330102", "channels")
    assert [(h["action"], h["value"], h["actor"]) for h in history] == [
        ("set", 0.75, "department:330102 填报员"),
        ("verify", 0.75, "evaluator:第三方"),
        ("set", 1.0, "department:330102 填报员"),
    ]


def test_appeal_window_correction_and_publication(configured: Database) -> None:
    db = configured
    fill_all(db)
    compute_round(db, "2025-10", ADMIN, at(7))
    until = open_review(db, "2025-10", ADMIN, at(7))
    assert until == datetime(2025, 11, 12, 23, 59, 59)  # 3 working days after Friday 7 Nov
    # units see their own result only
    seen = round_summary(db, "2025-10", D203)
    assert [r["unit"] for r in seen["results"]] == ["330203"]
    appeal = submit_appeal(
        db, "2025-10", "330203", "指南已于10月公布", D203, at(8), indicator="guide"
    )
    with pytest.raises(RoundStateError, match="未处理"):
        publish_round(db, "2025-10", ADMIN, at(13))
    decide_appeal(db, appeal, True, "核实属实", ADMIN, at(9), corrected_value=1.0)
    with pytest.raises(RoundStateError, match="期满"):
        publish_round(db, "2025-10", ADMIN, at(12))
    with pytest.raises(RoundStateError, match="重新计算"):
        publish_round(db, "2025-10", ADMIN, at(13))
    with pytest.raises(RoundStateError, match="结束"):
        submit_appeal(db, "2025-10", "330102", "迟到的申诉", D102, at(13))
    result = compute_round(db, "2025-10", ADMIN, at(13)).by_unit()
    assert result["330203"].score == pytest.approx(60) and result["330203"].stars == 2
    digest = publish_round(db, "2025-10", ADMIN, at(14))
    assert len(digest) == 64
    check = verify_round(db, "2025-10")
    assert check.ok and check.stored == digest
    public = round_summary(db, "2025-10", None)
    assert public["digest"] == digest
    assert set(public["results"][0]) == {
        "unit",
        "unit_name",
        "group",
        "score",
        "stars",
        "rank",
        "group_rank",
    }


@pytest.fixture
def published(configured: Database) -> Database:
    db = configured
    fill_all(db)
    compute_round(db, "2025-10", ADMIN, at(7))
    open_review(db, "2025-10", ADMIN, at(7))
    publish_round(db, "2025-10", ADMIN, at(13))
    return db


def test_published_round_refuses_every_change(published: Database) -> None:
    db = published
    attempts = [
        lambda: submit_value(db, "2025-10", "330102", "channels", 1, ADMIN, at(14), "改"),
        lambda: verify_value(db, "2025-10", "330102", "guide", EVAL, at(14)),
        lambda: add_evidence(db, "2025-10", "330102", "channels", "x.pdf", b"x", ADMIN, at(14)),
        lambda: collect(db, "2025-10", ADMIN, at(14)),
        lambda: compute_round(db, "2025-10", ADMIN, at(14)),
        lambda: open_review(db, "2025-10", ADMIN, at(14)),
        lambda: submit_appeal(db, "2025-10", "330102", "再议", D102, at(14)),
        lambda: publish_round(db, "2025-10", ADMIN, at(14)),
    ]
    for attempt in attempts:
        with pytest.raises(GovwatchError, match="已发布"):
            attempt()
    assert verify_round(db, "2025-10").ok


def test_edit_behind_the_applications_back_breaks_the_digest(published: Database) -> None:
    published.execute("UPDATE eval_results SET score = 99 WHERE round_id = '2025-10'")
    assert not verify_round(published, "2025-10").ok


def test_publication_raises_rectification_demands_followed_up_next_round(
    published: Database,
) -> None:
    db = published
    demands = db.query_dicts(
        "SELECT unit, indicator, points_lost FROM eval_rectifications WHERE round_id = '2025-10' "
        "ORDER BY unit, points_lost DESC"
    )
    # 330203 lost 15 (online), 15 (on_time), 10 (guide); 330102 lost 15 (on_time), 6.67 (good)
    assert {d["indicator"]: d["points_lost"] for d in demands if d["unit"] == "330203"} == {
        "online": 15.0,
        "on_time": 15.0,
        "guide": 10.0,
    }
    create_round(
        db,
        "2025-11",
        "2025年11月评估",
        parse_system(SYSTEM),
        sp.PERIOD,
        "region",
        [UnitSpec("330102"), UnitSpec("330203")],
        ADMIN,
        at(14),
        previous_round_id="2025-10",
    )
    collect(db, "2025-11", ADMIN, at(14))
    commission(db, "2025-11", Evaluator("user", EVAL.name), ["guide"], ADMIN, at(14))
    submit_value(db, "2025-11", "330203", "guide", 1, EVAL, at(14))
    compute_round(db, "2025-11", ADMIN, at(15))
    assert follow_up(db, "2025-11") > 0
    guide = db.query_dicts(
        "SELECT follow_result, followed_points FROM eval_rectifications "
        "WHERE round_id = '2025-10' AND unit = '330203' AND indicator = 'guide'"
    )[0]
    assert guide == {"follow_result": "improved", "followed_points": 10.0}
    assert verify_round(db, "2025-10").ok


def test_collect_restricts_a_leaf_to_its_item_category(configured: Database) -> None:
    system = parse_system(
        "name: 分类\nindicators:\n"
        "  - {id: all, name: 全部, points: 50, source: metric, metric: items.count, scale: ratio}\n"
        "  - {id: public, name: 公共服务, points: 50, source: metric, metric: items.count,\n"
        "     scale: ratio, category: '20'}\n"
    )
    create_round(
        configured,
        "cat",
        "分类",
        system,
        sp.PERIOD,
        "region",
        [UnitSpec("330102"), UnitSpec("330203")],
        ADMIN,
        T0,
    )
    collect(configured, "cat", ADMIN, at(4))
    got = dict(
        ((u, i), v)
        for u, i, v in configured.query(
            "SELECT unit, indicator, value FROM eval_values WHERE round_id = 'cat'"
        )
    )
    assert got == {
        ("330102", "all"): 2.0,
        ("330102", "public"): None,
        ("330203", "all"): 1.0,
        ("330203", "public"): 1.0,
    }
