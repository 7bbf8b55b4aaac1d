"""A preset round on a generated province: every metric on DuckDB and PostgreSQL gives the
same values, which match computations made directly from the generated files."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from govwatch.auth.users import add_user
from govwatch.evaluation.demand.ratings import open_followups, sync_ratings_from_events
from govwatch.evaluation.metrics.definitions import METRICS, Period
from govwatch.evaluation.metrics.supply import compute_metrics
from govwatch.evaluation.presets import load_preset
from govwatch.evaluation.rounds.commission import Evaluator, commission
from govwatch.evaluation.rounds.digest import verify_round
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    collect,
    compute_round,
    create_round,
    open_review,
    publish_round,
)
from govwatch.evaluation.rounds.values import Actor, submit_value
from govwatch.generator import generate, make_config
from govwatch.items.ingest import import_catalog
from govwatch.live.pipeline import import_event_files
from govwatch.storage import Database, connect

from ..conftest import drop_pg_schema, pg_url

CASES = 600
PERIOD = Period(date(2025, 1, 1), date(2025, 12, 31), datetime(2026, 1, 31, 12))
ADMIN = Actor("管理员", "admin")
EVAL = Actor("第三方", "evaluator")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    generate(make_config(CASES, 11, workers=1), out)
    return out


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def load(db: Database, province: Path) -> Database:
    import_catalog(db, [province / "catalog.jsonl"])
    import_event_files(db, [province / "events.jsonl"])
    sync_ratings_from_events(db)
    open_followups(db, at=datetime(2026, 1, 1))
    return db


def run_round(db: Database, kind: str, units: list[str]) -> dict[str, tuple[float, int, int]]:
    system = load_preset("online-service")
    create_round(
        db,
        "r1",
        "全省评估",
        system,
        PERIOD,
        kind,
        [UnitSpec(u, group="县区" if i % 2 else "城区") for i, u in enumerate(units)],
        ADMIN,
        datetime(2026, 1, 31, 12),
        review_days=0,
    )
    collect(db, "r1", ADMIN, datetime(2026, 2, 1, 9))
    # the third party enters the check indicators it is commissioned for
    add_user(db, EVAL.name, "pw-third-party-2026", "evaluator", None, datetime(2026, 2, 1, 9))
    checks = [leaf.id for leaf in system.leaves if leaf.source == "check" and not leaf.metric]
    commission(db, "r1", Evaluator("user", EVAL.name), checks, ADMIN, datetime(2026, 2, 1, 9))
    for i, unit in enumerate(units):
        for leaf in system.leaves:
            if leaf.source in ("check", "filled") and not leaf.metric:
                value = 1 if leaf.scale == "boolean" else round(0.5 + (i % 5) / 10, 2)
                submit_value(
                    db,
                    "r1",
                    unit,
                    leaf.id,
                    value,
                    EVAL if leaf.source == "check" else ADMIN,
                    datetime(2026, 2, 2, 9),
                    "测试",
                )
    result = compute_round(db, "r1", ADMIN, datetime(2026, 2, 3, 9))
    open_review(db, "r1", ADMIN, datetime(2026, 2, 3, 9))
    publish_round(db, "r1", ADMIN, datetime(2026, 2, 4, 9))
    assert verify_round(db, "r1").ok
    return {r.unit: (r.score, r.stars, r.rank) for r in result.results}


@pytest.fixture(scope="module")
def both(province: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Metrics and a preset round on DuckDB and on PostgreSQL."""
    out: dict[str, Any] = {}
    duck = connect(f"duckdb:///{tmp_path_factory.mktemp('duck')}/g.duckdb")
    url = pg_url()
    pg = connect(url)
    try:
        for name, db in (("duckdb", duck), ("postgres", pg)):
            load(db, province)
            values = {}
            for kind in ("region", "city", "department"):
                for v in compute_metrics(db, kind, PERIOD):
                    values[(kind, v.unit, v.metric)] = v.value
            cities = sorted({u for (k, u, _m) in values if k == "city"})
            out[name] = {
                "metrics": values,
                "round": run_round(db, "city", cities),
                "alerts": db.query_dicts("SELECT case_id, rule_class, level FROM alerts"),
                "db_url": db.url,
            }
    finally:
        duck.close()
        drop_pg_schema(pg)
        pg.close()
    return out


def test_every_metric_is_the_same_on_duckdb_and_postgres(both: dict[str, Any]) -> None:
    duck, pg = both["duckdb"]["metrics"], both["postgres"]["metrics"]
    assert duck.keys() == pg.keys()
    assert {m for (_k, _u, m) in duck} == {m.id for m in METRICS}
    # sums are integers divided in Python: the values are bit-identical, not just close
    different = {k: (duck[k], pg[k]) for k in duck if duck[k] != pg[k]}
    assert not different


def test_preset_round_gives_the_same_results_on_both_engines(both: dict[str, Any]) -> None:
    duck, pg = both["duckdb"]["round"], both["postgres"]["round"]
    assert duck.keys() == pg.keys() and len(duck) >= 3
    for unit in duck:
        assert duck[unit][0] == pytest.approx(pg[unit][0], rel=1e-12)
        assert duck[unit][1:] == pg[unit][1:]


def _in_period(ts: str) -> bool:
    return PERIOD.start.isoformat() <= ts[:10] <= PERIOD.end.isoformat()


def test_catalog_metrics_match_the_catalog_file(both: dict[str, Any], province: Path) -> None:
    got = both["duckdb"]["metrics"]
    by_unit: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in rows(province / "catalog.jsonl"):
        by_unit[item["region_code"]].append(item)
    for unit, items in by_unit.items():
        online = [i.get("online") or {} for i in items]
        n = len(items)
        assert got[("region", unit, "items.count")] == n
        assert got[("region", unit, "items.depth_ge4_share")] == pytest.approx(
            sum(1 for o in online if (o.get("depth") or 0) >= 4) / n
        )
        assert got[("region", unit, "items.unified_identity_share")] == pytest.approx(
            sum(1 for o in online if o.get("unified_identity")) / n
        )
        with_limits = [
            i
            for i in items
            if (i.get("legal_limit") or 0) > 0 and i.get("promised_limit") is not None
        ]
        legal = sum(i["legal_limit"] for i in with_limits)
        expected = (
            (legal - sum(i["promised_limit"] for i in with_limits)) / legal if legal else None
        )
        assert got[("region", unit, "items.promise_reduction")] == pytest.approx(expected)


def test_case_and_rating_metrics_match_the_event_file(both: dict[str, Any], province: Path) -> None:
    got = both["duckdb"]["metrics"]
    items = {i["item_code"]: i for i in rows(province / "catalog.jsonl")}
    events = rows(province / "events.jsonl")
    applies = {e["case_id"]: e for e in events if e["kind"] == "apply"}
    case_item = {
        e["case_id"]: e["item_code"]
        for e in events
        if e["kind"] in ("apply", "accept") and e.get("item_code")
    }
    region_of = {c: items[i]["region_code"] for c, i in case_item.items() if i in items}
    n_cases: Counter[str] = Counter()
    online: Counter[str] = Counter()
    for case_id, e in applies.items():
        if case_id in region_of and _in_period(e["occurred_at"]):
            n_cases[region_of[case_id]] += 1
            online[region_of[case_id]] += e.get("channel") in ("2", "3")
    ratings: dict[str, list[str]] = defaultdict(list)
    for e in events:
        if e["kind"] == "rating" and _in_period(e["occurred_at"]) and e["case_id"] in region_of:
            ratings[region_of[e["case_id"]]].append(e["level"])
    checked = 0
    for unit, n in n_cases.items():
        if not n:
            continue
        assert got[("region", unit, "cases.online_share")] == pytest.approx(online[unit] / n)
        checked += 1
    for unit, levels in ratings.items():
        good = sum(1 for lv in levels if lv in ("1", "2", "3"))
        assert got[("region", unit, "ratings.count")] == len(levels)
        assert got[("region", unit, "ratings.good_rate")] == pytest.approx(good / len(levels))
    assert checked >= 5


def test_alert_metrics_match_the_alerts_raised(both: dict[str, Any], province: Path) -> None:
    got = both["duckdb"]["metrics"]
    items = {i["item_code"]: i for i in rows(province / "catalog.jsonl")}
    events = rows(province / "events.jsonl")
    first: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e["occurred_at"]):
        first.setdefault(e["case_id"], e["occurred_at"])
    applied = {e["case_id"]: e["occurred_at"] for e in events if e["kind"] == "apply"}
    case_item = {
        e["case_id"]: e["item_code"]
        for e in events
        if e["kind"] in ("apply", "accept") and e.get("item_code")
    }
    red: Counter[str] = Counter()
    for a in both["duckdb"]["alerts"]:
        case = a["case_id"]
        item = items.get(case_item.get(case, ""))
        if item and _in_period(applied.get(case, first[case])) and a["level"] == "red":
            red[item["department_code"]] += 1
    assert red, "the generated province should raise red alerts"
    for dept, n in red.items():
        assert got[("department", dept, "alerts.count.red")] == n


def test_on_time_rate_matches_the_generated_truth(both: dict[str, Any], province: Path) -> None:
    """Finished cases are late exactly when the truth lists a case_overdue finding for them."""
    got = both["duckdb"]["metrics"]
    items = {i["item_code"]: i for i in rows(province / "catalog.jsonl")}
    events = rows(province / "events.jsonl")
    late = {t["case_id"] for t in rows(province / "truth.jsonl") if t["rule"] == "case_overdue"}
    case_item = {
        e["case_id"]: e["item_code"]
        for e in events
        if e["kind"] in ("apply", "accept") and e.get("item_code")
    }
    finished: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e["occurred_at"]):
        if e["kind"] == "finish":
            finished.setdefault(e["case_id"], e["occurred_at"])
    total: Counter[str] = Counter()
    on_time: Counter[str] = Counter()
    for case, at in finished.items():
        item = items.get(case_item.get(case, ""))
        if item is None or not _in_period(at):
            continue
        total[item["department_code"]] += 1
        on_time[item["department_code"]] += case not in late
    assert total
    for dept, n in total.items():
        assert got[("department", dept, "cases.finished_count")] == n
        assert got[("department", dept, "cases.on_time_rate")] == pytest.approx(on_time[dept] / n)
