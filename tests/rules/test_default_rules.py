"""Each default rule fires on its fixture cases and not on the others, at several moments,
on DuckDB, PostgreSQL and Spark (tests/rules/fixture_cases.py tells the cases)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.live.pipeline import load_memory
from govwatch.rules.engine import audit
from govwatch.rules.model import Finding
from govwatch.rules.registry import DEFAULT_RULES
from govwatch.storage import Database, connect
from tests.conftest import SPARK_AUDIT_TIMEOUT, drop_pg_schema, pg_url, skip_or_fail
from tests.rules import fixture_cases as fx

Results = dict[str, list[Finding]]


def write_fixture(folder: Path) -> tuple[Path, Path]:
    catalog, events = folder / "catalog.jsonl", folder / "events.jsonl"
    catalog.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in fx.CATALOG) + "\n")
    events.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in fx.EVENTS) + "\n")
    return catalog, events


def audit_all_moments(db: Database, engine: str = "duckdb") -> Results:
    return {name: audit(db, at, engine=engine) for name, at in fx.MOMENTS.items()}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_fixture(tmp_path_factory.mktemp("rules"))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def results(request: pytest.FixtureRequest, files: tuple[Path, Path]) -> Iterator[Results]:
    catalog, events = files
    if request.param == "duckdb":
        db = load_memory([catalog], [events])
        yield audit_all_moments(db)
        db.close()
        return
    db = connect(pg_url())
    try:
        import_catalog(db, [catalog])
        import_events(db, [events])
        yield audit_all_moments(db)
    finally:
        drop_pg_schema(db)
        db.close()


def found(results: Results, moment: str, case_id: str, rule: str) -> set[tuple[str, str]]:
    return {(f.key, f.level) for f in results[moment] if f.case_id == case_id and f.rule == rule}


def check_rule(results: Results, rule_id: str) -> None:
    cases = [cid for cid, (rule, _) in fx.EXPECT.items() if rule == rule_id]
    assert any(any(exp.values()) for _, exp in (fx.EXPECT[c] for c in cases)), rule_id
    for cid in cases:
        for moment, expected in fx.EXPECT[cid][1].items():
            assert found(results, moment, cid, rule_id) == expected, (cid, moment)


@pytest.mark.parametrize("rule_id", [r.id for r in DEFAULT_RULES])
def test_rule_fires_on_its_cases_and_only_when_due(results: Results, rule_id: str) -> None:
    check_rule(results, rule_id)


def test_clean_cases_have_no_finding_at_any_moment(results: Results) -> None:
    for moment, findings in results.items():
        dirty = [f for f in findings if f.case_id in fx.CLEAN]
        assert dirty == [], moment


def test_findings_carry_evidence_and_a_chinese_sentence(results: Results) -> None:
    by_id = {r.id: r for r in DEFAULT_RULES}
    for f in results["nov20"]:
        rule = by_id[f.rule]
        assert (f.rule_class, f.rule_type) == (rule.rule_class, rule.rule_type)
        assert set(f.evidence) == set(rule.evidence)
        assert f.message and any("\u4e00" <= ch <= "\u9fff" for ch in f.message)
        assert list(f.as_dict()) == [
            "case_id",
            "rule",
            "class",
            "type",
            "level",
            "key",
            "message",
            "evidence",
        ]


def test_findings_are_sorted_and_unique(results: Results) -> None:
    for findings in results.values():
        ids = [f.identity() for f in findings]
        assert ids == sorted(set(ids))


@pytest.fixture(scope="module")
def spark_results(files: tuple[Path, Path]) -> Results:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        skip_or_fail("pyspark is not installed")
    db = load_memory(*([p] for p in files))
    try:
        return {
            name: audit(db, fx.MOMENTS[name], engine="spark")
            for name in ("sep01", "oct28", "nov20")
        }
    finally:
        db.close()


@SPARK_AUDIT_TIMEOUT
@pytest.mark.spark
@pytest.mark.slow
def test_spark_audit_equals_duckdb_audit_on_every_rule_fixture(
    spark_results: Results, files: tuple[Path, Path]
) -> None:
    db = load_memory(*([p] for p in files))
    for name, findings in spark_results.items():
        assert [f.as_dict() for f in findings] == [
            f.as_dict() for f in audit(db, fx.MOMENTS[name])
        ], name
    for rule in DEFAULT_RULES:
        for cid in [c for c, (r, _) in fx.EXPECT.items() if r == rule.id]:
            for moment in spark_results:
                assert found(spark_results, moment, cid, rule.id) == fx.EXPECT[cid][1][moment]
