"""An audit of a generated province reports exactly the generator's truth.jsonl."""

from __future__ import annotations

from pathlib import Path

import pytest

from govwatch.live.pipeline import load_memory
from govwatch.rules.engine import audit
from tests.conftest import SPARK_AUDIT_TIMEOUT, skip_or_fail
from tests.rules.province import end_at, identities, make_province, truth


@pytest.mark.parametrize(("cases", "seed"), [(400, 1), (900, 42)])
def test_audit_of_generated_province_equals_its_truth(
    tmp_path: Path, cases: int, seed: int
) -> None:
    folder = make_province(tmp_path, cases, seed)
    db = load_memory([folder / "catalog.jsonl"], [folder / "events.jsonl"])
    found = identities(audit(db, end_at(folder)))
    expected = truth(folder)
    assert found - expected == set(), "findings the generator did not inject"
    assert expected - found == set(), "injected violations the audit missed"


@SPARK_AUDIT_TIMEOUT
@pytest.mark.slow
@pytest.mark.spark
def test_spark_audit_of_10k_cases_equals_duckdb_audit_and_truth(tmp_path: Path) -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        skip_or_fail("pyspark is not installed")
    folder = make_province(tmp_path, 10_000, 7)
    db = load_memory([folder / "catalog.jsonl"], [folder / "events.jsonl"])
    on_duckdb = audit(db, end_at(folder))
    on_spark = audit(db, end_at(folder), engine="spark")
    assert [f.as_dict() for f in on_spark] == [f.as_dict() for f in on_duckdb]
    assert identities(on_spark) == truth(folder)


def test_generated_truth_is_not_empty(tmp_path: Path) -> None:
    assert len(truth(make_province(tmp_path, 400, 1))) > 20
