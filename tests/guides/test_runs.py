"""Guide check runs into evaluation and supervision (issue 16 items 4, 5, 6), on both engines.

A small generated province carries every kind of guide fault with its truth
(``guides_truth.jsonl``, and ``meta.json``'s ``guide_faults`` naming each faulty item's kind).
The truth is what the checks must find (tests/guides/test_generated_guides.py), so the figures
a run gives can be counted from it independently of the code under test:

- coverage per city equals the counts of the catalog and the truth;
- each ``guides.*`` metric equals 1 − (items with a finding of the element) / items;
- an evaluator's override of a finding changes the value on the next collection and is in the
  ledger under the evaluator's name; a round records the run it used;
- the item-information alerts are exactly the injected faults the four rules cover, they go to
  the item's department, survive a re-evaluation of every case, and clear when a later run no
  longer finds them.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from govwatch.alerts.sync import sync_workflow
from govwatch.errors import GovwatchError
from govwatch.evaluation.metrics.definitions import Period, unit_expr
from govwatch.evaluation.metrics.supply import compute_metrics
from govwatch.evaluation.rounds.digest import verify_round
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    collect,
    compute_round,
    create_round,
    open_review,
    publish_round,
    set_guide_run,
)
from govwatch.evaluation.rounds.values import Actor
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.events.ingest import import_events
from govwatch.generator import generate, make_config
from govwatch.guides.coverage import coverage
from govwatch.guides.runs import review_finding
from govwatch.items.ingest import import_catalog
from govwatch.live.guide_runs import guide_check_run
from govwatch.rules.item_rules import ITEM_CLASS, evaluate_items, item_case_id
from govwatch.rules.live import evaluate_cases
from govwatch.rules.settings import Scope, Setting
from govwatch.storage import Database
from govwatch.timeutil import parse_timestamp

ADMIN = Actor("评估管理员", "admin")
# Faults whose findings the four item rules raise, by the rule (completeness faults by kind).
RULE_OF_FAULT = {
    "unpublished": "guide_element_missing",
    "missing": "guide_element_missing",
    "malformed": "guide_element_malformed",
    "dead_link": "guide_dead_link",
}
GROUPS = {"basic": "basic.", "materials": "materials", "process": "process",
          "forms": "downloads", "fees": "fees"}  # fmt: skip
METRIC_OF = {"basic": "guides.basic_accuracy", "materials": "guides.materials_accuracy",
             "process": "guides.process_accuracy", "forms": "guides.forms_accuracy",
             "fees": "guides.fees_accuracy"}  # fmt: skip


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("guide-runs")
    generate(make_config(1200, seed=5, workers=1, guide_fault_rate=0.03), out)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same province without guide faults: the same items, every guide correct."""
    out = tmp_path_factory.mktemp("guide-runs-clean")
    generate(make_config(1200, seed=5, workers=1, guide_fault_rate=0.0), out)
    return out


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _end(province: Path) -> datetime:
    meta = json.loads((province / "meta.json").read_text(encoding="utf-8"))
    return parse_timestamp(meta["end_at"])


def _city(region: str) -> str:
    return region[:4] + "00"


def _load(db: Database, province: Path) -> datetime:
    import_catalog(db, [province / "catalog.jsonl"])
    import_events(db, [province / "events.jsonl"])
    return _end(province)


def _expected(province: Path) -> dict[str, dict[str, Any]]:
    """Per city, from the catalog and the truth: items, published, standard, faulty per group."""
    truth = _lines(province / "guides_truth.jsonl")
    elements: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for t in truth:
        elements[t["item_code"]].add((t["element"], t["check"]))
    out: dict[str, dict[str, Any]] = {}
    for rec in _lines(province / "catalog.jsonl"):
        city = out.setdefault(
            _city(rec["region_code"]),
            {"items": 0, "published": 0, "standard": 0, "faulty": Counter()},
        )
        found = elements.get(rec["item_code"], set())
        published = (rec.get("guide") or {}).get("published", True) is not False
        city["items"] += 1
        city["published"] += published
        city["standard"] += published and not any(c == "completeness" for _e, c in found)
        for group, prefix in GROUPS.items():
            if any(e.startswith(prefix) for e, _c in found):
                city["faulty"][group] += 1
    return out


def test_coverage_and_metrics_equal_the_catalog_and_its_truth(db: Database, province: Path) -> None:
    at = _load(db, province)
    run = guide_check_run(db, at, "核查员").run
    expected = _expected(province)
    got = coverage(db, run.run_id, unit_expr("city", "i"))
    assert set(got) == set(expected)
    for city, e in expected.items():
        c = got[city]
        assert (c.items, c.published, c.with_guide, c.standard) == (
            e["items"], e["published"], e["published"], e["standard"]
        ), city  # fmt: skip
        assert dict(c.faulty) == {g: e["faulty"][g] for g in GROUPS}, city
    # the metrics a round reads: 1 − findings / items per element group, and the two rates
    period = Period(date(2025, 1, 1), at.date(), at)
    values = {
        (v.unit, v.metric): v
        for v in compute_metrics(db, "city", period, metrics=[*METRIC_OF.values(),
                                 "guides.items_published", "guides.guide_standard"])
    }  # fmt: skip
    for city, e in expected.items():
        for group, metric in METRIC_OF.items():
            v = values[(city, metric)]
            assert v.value == pytest.approx(1 - e["faulty"][group] / e["items"])
            assert v.denominator == e["items"]
        assert values[(city, "guides.items_published")].value == pytest.approx(
            e["published"] / e["items"]
        )
        assert values[(city, "guides.guide_standard")].value == pytest.approx(
            e["standard"] / e["items"]
        )
    assert sum(e["faulty"]["forms"] for e in expected.values()) > 0  # the province has faults


# Two guide leaves of the online-service preset (the whole preset is the demo's: tests/demo).
SYSTEM = """
name: 办事指南评估
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
indicators:
  - id: usability
    name: 办事指南准确度
    children:
      - {id: usability.materials, name: 申请材料准确率, points: 60, source: metric,
         metric: guides.materials_accuracy, scale: ratio}
      - {id: visibility.items_published, name: 事项清单公布率, points: 40, source: metric,
         metric: guides.items_published, scale: ratio}
"""


def _round(db: Database, at: datetime, cities: list[str]) -> None:
    create_round(db, "g1", "办事指南评估", parse_system(SYSTEM, origin="测试指标体系"),
                 Period(date(2025, 1, 1), at.date(), at), "city",
                 [UnitSpec(c) for c in cities], ADMIN, at)  # fmt: skip


def _value(db: Database, unit: str, indicator: str) -> float:
    return float(
        db.scalar(
            "SELECT value FROM eval_values WHERE round_id = 'g1' AND unit = ? AND indicator = ?",
            [unit, indicator],
        )
    )


def test_an_override_changes_the_value_on_recollection_and_is_ledgered(
    db: Database, province: Path
) -> None:
    at = _load(db, province)
    run = guide_check_run(db, at, "核查员").run
    expected = _expected(province)
    cities = sorted(expected)
    _round(db, at, cities)
    collect(db, "g1", ADMIN, at)
    # the round records the run it used
    assert db.scalar("SELECT guide_run_id FROM eval_rounds WHERE round_id = 'g1'") == run.run_id
    item, element, check, city = db.query(
        "SELECT f.item_code, f.element, f.check_kind, SUBSTR(i.region_code, 1, 4) || '00' "
        "FROM guide_findings f JOIN guide_run_items i ON i.run_id = f.run_id "
        "AND i.item_code = f.item_code WHERE f.run_id = ? AND f.element = 'materials' "
        "ORDER BY f.item_code LIMIT 1",
        [run.run_id],
    )[0]
    before = _value(db, city, "usability.materials")
    assert before == pytest.approx(
        1 - expected[city]["faulty"]["materials"] / expected[city]["items"]
    )
    with pytest.raises(GovwatchError, match="理由"):
        review_finding(db, run.run_id, item, element, check, "override", "第三方", "  ", at)
    review_finding(db, run.run_id, item, element, check, "override", "第三方张三",
                   "现场核实：窗口按指南收取材料，清单有误", at)  # fmt: skip
    assert _value(db, city, "usability.materials") == before  # not until recomputed
    collect(db, "g1", ADMIN, at)
    faulty = expected[city]["faulty"]["materials"] - 1  # (one materials finding per item)
    assert _value(db, city, "usability.materials") == pytest.approx(
        1 - faulty / expected[city]["items"]
    )
    entries = db.query_dicts(
        "SELECT kind, actor, ref, payload FROM ledger WHERE kind LIKE 'guide.%' ORDER BY seq"
    )
    assert [(e["kind"], e["actor"]) for e in entries] == [("guide.override", "第三方张三")]
    assert "现场核实" in entries[0]["payload"] and item in entries[0]["ref"]
    review_finding(db, run.run_id, item, element, check, "restore", "第三方张三", "复核后成立", at)
    collect(db, "g1", ADMIN, at)
    assert _value(db, city, "usability.materials") == pytest.approx(before)
    # a later run does not move the round; set_guide_run does, ledgered
    later = guide_check_run(db, at, "核查员").run
    collect(db, "g1", ADMIN, at)
    assert db.scalar("SELECT guide_run_id FROM eval_rounds WHERE round_id = 'g1'") == run.run_id
    set_guide_run(db, "g1", later.run_id, ADMIN, at)
    assert db.scalar("SELECT guide_run_id FROM eval_rounds WHERE round_id = 'g1'") == later.run_id
    # once a round that used the run is published, its findings are frozen
    collect(db, "g1", ADMIN, at)
    compute_round(db, "g1", ADMIN, at)
    open_review(db, "g1", ADMIN, at)
    publish_round(db, "g1", ADMIN, datetime(2026, 12, 31))
    assert verify_round(db, "g1").ok  # the digest covers the run and its reviews
    with pytest.raises(GovwatchError, match="已发布"):
        review_finding(db, later.run_id, item, element, check, "override", "第三方张三", "再议", at)


def _item_alerts(db: Database, status: str = "active") -> set[tuple[str, str, str]]:
    return {
        (str(r[0]), str(r[1]), str(r[2]))
        for r in db.query(
            "SELECT item_code, rule, key FROM alerts WHERE rule_class = ? AND status = ?",
            [ITEM_CLASS, status],
        )
    }


def test_item_alerts_are_the_injected_faults_and_clear_when_the_guide_is_fixed(
    db: Database, province: Path, clean: Path, tmp_path: Path
) -> None:
    at = _load(db, province)
    meta = json.loads((province / "meta.json").read_text(encoding="utf-8"))
    fault = {f["item_code"]: f["kind"] for f in meta["guide_faults"]}
    expected = set()
    for t in _lines(province / "guides_truth.jsonl"):
        kind = fault.get(t["item_code"])
        if t["check"] == "consistency":
            expected.add((t["item_code"], "guide_list_mismatch", t["element"]))
        elif t["check"] == "completeness" and kind in RULE_OF_FAULT:
            expected.add((t["item_code"], RULE_OF_FAULT[kind], t["element"]))
    assert {rule for _i, rule, _k in expected} == set(RULE_OF_FAULT.values()) | {
        "guide_list_mismatch"
    }
    outcome = guide_check_run(db, at, "核查员")
    assert _item_alerts(db) == expected
    assert outcome.alerts["raised"] == len(expected)
    # to the item's department, on the item's pseudo case, in the workflow
    row = db.query_dicts(
        "SELECT a.case_id, a.item_code, a.department_code, i.department_code AS item_dept, "
        "w.state FROM alerts a JOIN items i ON i.item_code = a.item_code "
        "JOIN alert_workflow w ON w.alert_id = a.alert_id WHERE a.rule_class = ? LIMIT 1",
        [ITEM_CLASS],
    )[0]
    assert row["case_id"] == item_case_id(row["item_code"])
    assert row["department_code"] == row["item_dept"] and row["state"] == "open"
    # re-evaluating every case (as a rule change does) leaves the item alerts alone
    evaluate_cases(db, None, at)
    sync_workflow(db, at, None)
    assert _item_alerts(db) == expected
    # fix one item of each rule: its guide as the same province publishes it without faults
    fixed: dict[str, str] = {}
    for item, rule, _key in sorted(expected):
        fixed.setdefault(rule, item)
    records = {r["item_code"]: r for r in _lines(clean / "catalog.jsonl")}
    mended = tmp_path / "mended.jsonl"
    mended.write_text(
        "\n".join(json.dumps(records[i], ensure_ascii=False) for i in fixed.values()),
        encoding="utf-8",
    )
    import_catalog(db, [mended])
    again = guide_check_run(db, at, "核查员")
    gone = {a for a in expected if a[0] in fixed.values()}
    assert gone and _item_alerts(db) == expected - gone
    assert _item_alerts(db, "cleared") == gone
    assert again.alerts["cleared"] == len(gone)
    states = {
        str(r[0])
        for r in db.query(
            "SELECT w.state FROM alerts a JOIN alert_workflow w ON w.alert_id = a.alert_id "
            "WHERE a.rule_class = ? AND a.status = 'cleared'",
            [ITEM_CLASS],
        )
    }
    assert states == {"closed"}


def test_item_rule_settings_resolve_per_item(db: Database, province: Path) -> None:
    at = _load(db, province)
    run = guide_check_run(db, at, "核查员").run
    everything = evaluate_items(db, run.run_id, ())
    dead = [f for f in everything if f.rule == "guide_dead_link"]
    assert dead and all(f.level == "yellow" for f in dead)
    region = dead[0].region_code
    settings = (
        Setting("guide_dead_link", Scope("region", region), enabled=False),
        Setting("guide_list_mismatch", Scope(), level="red"),
        Setting("guide_element_malformed", Scope("item", dead[0].item_code), level="red"),
    )
    found = evaluate_items(db, run.run_id, settings)
    assert {f.item_code for f in found if f.rule == "guide_dead_link"} == {
        f.item_code for f in dead if f.region_code != region
    }
    assert {f.level for f in found if f.rule == "guide_list_mismatch"} == {"red"}
    assert {f.level for f in found if f.rule == "guide_element_malformed"} == {"warning"}
    # the parameter: a guide is reported once it has at least that many dead links
    strict = evaluate_items(
        db, run.run_id, (Setting("guide_dead_link", params=(("min_links", 99),)),)
    )
    assert not [f for f in strict if f.rule == "guide_dead_link"]
