"""Metrics from monitoring data, on DuckDB and PostgreSQL, against hand-computed values."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from govwatch.evaluation.demand.ratings import (
    open_followups,
    record_callback,
    record_rectification,
    sync_ratings_from_events,
)
from govwatch.evaluation.metrics.definitions import METRICS
from govwatch.evaluation.metrics.supply import compute_metrics
from govwatch.storage import Database

from . import small_province as sp

NONE = None


@pytest.fixture
def loaded(db: Database, tmp_path: Path) -> Database:
    sp.load(db, tmp_path)
    assert sync_ratings_from_events(db) == 4
    assert open_followups(db, at=datetime(2025, 11, 1)) == 2
    record_callback(db, "c3r", datetime(2025, 10, 14, 9), "回访员")
    record_rectification(db, "c2r", datetime(2025, 11, 5, 16), "D1")
    return db


def values(db: Database, kind: str) -> dict[tuple[str, str], float | None]:
    return {(v.unit, v.metric): v.value for v in compute_metrics(db, kind, sp.PERIOD)}


EXPECTED_330102 = {
    "items.count": 2,
    "items.depth_share.5": 0.5,
    "items.depth_share.3": 0.5,
    "items.depth_share.4": 0.0,
    "items.depth_ge4_share": 0.5,
    "items.unified_identity_share": 1.0,
    "items.e_license_share": 0.5,
    "items.online_payment_share": 1.0,
    "items.avg_visits": 0.5,
    "items.zero_visit_share": 0.5,
    "items.promise_reduction": (40 - 25) / 40,
    "items.instant_share": 0.0,
    # cases applied in October: c1 (PC, A1 depth 5), c3 (mobile, A2)
    "cases.count": 2,
    "cases.online_share": 1.0,
    "cases.mobile_share": 0.5,
    "cases.full_online_share": 0.5,
    "cases.instant_share": 0.0,
    "cases.avg_visits": 0.5,
    # finished in October: c1 on time, c2 late (promised 10 W from 1 September)
    "cases.finished_count": 2,
    "cases.on_time_rate": 0.5,
    # alerts on c1, c3: al6 (timeliness warning), al3 and al4 (content yellow on c3)
    "alerts.count": 3,
    "alerts.rate": 1.0,
    "alerts.count.timeliness": 1,
    "alerts.rate.timeliness": 0.5,
    "alerts.count.content": 2,
    "alerts.rate.content": 0.5,
    "alerts.count.process": 0,
    "alerts.rate.process": 0.0,
    "alerts.count.red": 0,
    "alerts.rate.yellow": 0.5,
    "alerts.count.warning": 1,
    "alerts.red_per_1000": 0.0,
    # ratings in October: c1 level 1, c2 level 5, c3 level 4
    "ratings.count": 3,
    "ratings.good_rate": 1 / 3,
    "ratings.negative_count": 2,
    "ratings.callback_rate": 0.5,
    # c2 rectified 5 Nov, deadline 11 Nov; c3 deadline 3 Nov passed unrectified
    "ratings.rectified_on_time_rate": 0.5,
    "ratings.rating_rate": 1.0,
}

EXPECTED_330203 = {
    "items.count": 1,
    "items.depth_share.4": 1.0,
    "items.depth_ge4_share": 1.0,
    "items.unified_identity_share": 0.0,
    "items.online_payment_share": 0.0,
    "items.avg_visits": 2.0,
    "items.promise_reduction": NONE,
    "items.instant_share": 1.0,
    "cases.count": 2,
    "cases.online_share": 0.5,
    "cases.mobile_share": 0.0,
    "cases.full_online_share": 0.0,
    "cases.instant_share": 1.0,
    "cases.avg_visits": 2.0,
    "cases.on_time_rate": 0.5,
    "alerts.count": 1,
    "alerts.rate": 0.5,
    "alerts.rate.timeliness": 0.5,
    "alerts.rate.yellow": 0.5,
    "alerts.count.red": 0,
    "alerts.red_per_1000": 0.0,
    "ratings.count": 1,
    "ratings.good_rate": 1.0,
    "ratings.negative_count": 0,
    "ratings.callback_rate": NONE,
    "ratings.rectified_on_time_rate": 1.0,
    "ratings.rating_rate": 0.5,
}


def check(got: dict[tuple[str, str], float | None], unit: str, expected: dict[str, object]) -> None:
    for metric, value in expected.items():
        actual = got.get((unit, metric))
        if value is None:
            assert actual is None, metric
        else:
            assert actual == pytest.approx(value), metric


def test_region_metrics_match_hand_computation(loaded: Database) -> None:
    got = values(loaded, "region")
    check(got, "330102", EXPECTED_330102)
    check(got, "330203", EXPECTED_330203)


def test_city_units_aggregate_their_counties(loaded: Database) -> None:
    got = values(loaded, "city")
    check(got, "330100", EXPECTED_330102)
    check(got, "330200", EXPECTED_330203)


def test_department_units_use_the_implementing_body(loaded: Database) -> None:
    got = values(loaded, "department")
    check(got, "D1", EXPECTED_330102)
    check(got, "D2", EXPECTED_330203)


def test_negative_rating_deadline_is_15_working_days_after_the_rating(loaded: Database) -> None:
    rows = dict(loaded.query("SELECT rating_id, deadline_on FROM rating_followups"))
    assert rows == {"c2r": date(2025, 11, 11), "c3r": date(2025, 11, 3)}


def test_followup_deadline_is_configurable(db: Database, tmp_path: Path) -> None:
    sp.load(db, tmp_path)
    sync_ratings_from_events(db)
    open_followups(db, deadline_days=5, at=datetime(2025, 11, 1))
    rows = dict(db.query("SELECT rating_id, deadline_on FROM rating_followups"))
    # 21 Oct + 5 W = 28 Oct; 13 Oct + 5 W = 20 Oct
    assert rows == {"c2r": date(2025, 10, 28), "c3r": date(2025, 10, 20)}


def test_metrics_at_an_earlier_moment_see_less(loaded: Database) -> None:
    from govwatch.evaluation.metrics.supply import Period

    early = Period(date(2025, 10, 1), date(2025, 10, 31))  # measured 31 Oct 23:59:59
    got = {(v.unit, v.metric): v.value for v in compute_metrics(loaded, "region", early)}
    # no negative rating is due yet on 31 October: nothing failed
    assert got[("330102", "ratings.rectified_on_time_rate")] == 1.0


def test_every_catalog_metric_is_computed(loaded: Database) -> None:
    got = compute_metrics(loaded, "region", sp.PERIOD)
    assert {v.metric for v in got} == {m.id for m in METRICS}


def test_metrics_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    missing = [m.id for m in METRICS if f"`{m.id}`" not in doc]
    assert not missing


def test_item_category_restricts_item_and_case_metrics(loaded: Database) -> None:
    public = {
        (v.unit, v.metric): v.value
        for v in compute_metrics(loaded, "region", sp.PERIOD, item_types=("20",))
    }
    # only B1 (公共服务) counts: 330203 keeps its values, 330102 has none
    check(public, "330203", EXPECTED_330203)
    assert ("330102", "items.count") not in public
    licensing = {
        (v.unit, v.metric): v.value
        for v in compute_metrics(loaded, "region", sp.PERIOD, item_types=("01",))
    }
    check(licensing, "330102", EXPECTED_330102)
    assert ("330203", "cases.count") not in licensing
