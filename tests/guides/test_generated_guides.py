"""The guide checks on a generated province equal its truth (issue 16, first "Done when" line).

The province's guides carry every kind of injected fault (guides_truth.jsonl beside
truth.jsonl); the checks must find each expected finding and none else, on DuckDB and on
PostgreSQL, and ``govwatch guides check`` must print exactly them.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.events.ingest import import_events
from govwatch.generator import END_AT, generate, make_config
from govwatch.generator.config import GUIDE_FAULTS
from govwatch.generator.guides import UNLISTED_STEPS
from govwatch.guides.checks import run_checks
from govwatch.items.ingest import import_catalog
from govwatch.live.pipeline import load_memory
from govwatch.storage import Database
from govwatch.timeutil import parse_timestamp
from govwatch.vocabulary import GUIDE_CHECK_NAMES, GUIDE_ELEMENT_NAMES

Finding = tuple[str, str, str]
# More of the faults whose findings depend on the cases than the defaults give, so that a
# province of 3,000 cases shows a practice finding on each of the four elements.
OVERRIDES = {"wrong_fee": 0.05, "wrong_promised_limit": 0.05, "wrong_materials": 0.05,
             "wrong_process": 0.05, "unlisted_step": 0.03}  # fmt: skip


def _truth(folder: Path) -> set[Finding]:
    lines = (folder / "guides_truth.jsonl").read_text(encoding="utf-8").splitlines()
    return {(t["item_code"], t["element"], t["check"]) for t in map(json.loads, lines)}


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("guides-province")
    generate(
        make_config(3000, seed=8, workers=1, guide_fault_rate=0.02, guide_overrides=OVERRIDES),
        out,
    )
    return out


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Most cases break a rule: some items' cases contradict even a correct guide."""
    out = tmp_path_factory.mktemp("guides-crowded")
    generate(
        make_config(3000, seed=11, violation_rate=0.045, workers=1, guide_fault_rate=0.03), out
    )
    return out


def test_the_truth_covers_every_fault_kind_and_every_check(province: Path) -> None:
    meta = json.loads((province / "meta.json").read_text(encoding="utf-8"))
    kinds = Counter(f["kind"] for f in meta["guide_faults"])
    rates = {k: OVERRIDES.get(k, 0.02) for k in GUIDE_FAULTS}
    assert kinds == {k: round(rates[k] * meta["items"]) for k in GUIDE_FAULTS}
    assert len({f["item_code"] for f in meta["guide_faults"]}) == sum(kinds.values())
    truth = _truth(province)
    assert meta["guide_findings"] == len(truth)
    assert {check for _c, _e, check in truth} == {"completeness", "consistency", "practice"}
    practice = {element for _c, element, check in truth if check == "practice"}
    assert practice == {"materials", "process", "fees", "basic.promised_limit"}


def test_the_checks_find_every_injected_fault_and_nothing_else(
    db: Database, province: Path
) -> None:
    import_catalog(db, [province / "catalog.jsonl"])
    import_events(db, [province / "events.jsonl"])
    findings = run_checks(db, parse_timestamp(END_AT))
    found = {(f.item_code, f.element, f.check) for f in findings}
    truth = _truth(province)
    assert found - truth == set(), "findings the generator did not inject"
    assert truth - found == set(), "injected faults the checks missed"
    assert len(findings) == len(found)


@pytest.mark.parametrize("which", ["province", "crowded"])
def test_the_command_prints_exactly_the_truth(which: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(which)
    result = CliRunner().invoke(cli, [
        "guides", "check", "--catalog", str(folder / "catalog.jsonl"),
        "--events", str(folder / "events.jsonl"), "--at", END_AT, "--format", "jsonl",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(list(r) == ["item_code", "element", "check", "expected", "found", "message",
                           "evidence"] for r in rows)  # fmt: skip
    assert {(r["item_code"], r["element"], r["check"]) for r in rows} == _truth(folder)
    assert f"共 {len(rows)} 条发现" in result.stderr


def test_a_province_without_guide_faults_or_violations_has_no_finding(tmp_path: Path) -> None:
    generate(
        make_config(1500, seed=4, violation_rate=0.0, workers=1, guide_fault_rate=0.0), tmp_path
    )
    assert (tmp_path / "guides_truth.jsonl").read_bytes() == b""
    db = load_memory([tmp_path / "catalog.jsonl"], [tmp_path / "events.jsonl"])
    try:
        assert run_checks(db, parse_timestamp(END_AT)) == []
    finally:
        db.close()


def test_guide_faults_leave_the_rule_truth_and_the_other_cases_alone(tmp_path: Path) -> None:
    generate(make_config(2000, seed=6, workers=1), tmp_path / "faults")
    generate(make_config(2000, seed=6, workers=1, guide_fault_rate=0.0), tmp_path / "none")
    faults, none = tmp_path / "faults", tmp_path / "none"
    assert (faults / "truth.jsonl").read_bytes() == (none / "truth.jsonl").read_bytes()

    def events(folder: Path) -> list[tuple[str, str, str, str]]:
        rows = map(json.loads, (folder / "events.jsonl").read_text(encoding="utf-8").splitlines())
        return [(e["case_id"], e["kind"], e["occurred_at"], e.get("step", "")) for e in rows]

    with_faults = events(faults)
    added = [e for e in with_faults if e[3] in UNLISTED_STEPS]
    assert added and len(with_faults) - len(events(none)) == len(added)
    assert [e for e in with_faults if e[3] not in UNLISTED_STEPS] == events(none)
    catalog = [json.loads(line) for line in (faults / "catalog.jsonl").read_text().splitlines()]
    plain = [json.loads(line) for line in (none / "catalog.jsonl").read_text().splitlines()]
    assert [{**r, "guide": None} for r in catalog] == [{**r, "guide": None} for r in plain]


def test_csv_and_table_formats(province: Path) -> None:
    args = ["guides", "check", "--catalog", str(province / "catalog.jsonl"),
            "--events", str(province / "events.jsonl"), "--at", "2026-06-30 22:00"]  # fmt: skip
    table = CliRunner().invoke(cli, [*args, "--format", "table"])
    text = CliRunner().invoke(cli, [*args, "--format", "csv"])
    assert table.exit_code == 0 and text.exit_code == 0, table.output + text.output
    rows = list(csv.reader(io.StringIO(text.stdout)))
    assert rows[0] == ["item_code", "element", "check", "expected", "found", "message", "evidence"]
    assert {(r[0], r[1], r[2]) for r in rows[1:]} == _truth(province)
    assert all(isinstance(json.loads(r[6]), dict) for r in rows[1:])
    lines = table.stdout.splitlines()
    assert len(lines) == len(rows) - 1
    # the table speaks Chinese: element and check by name, never their codes
    for line in lines:
        _code, element, check, message = line.split("\t")
        assert element in GUIDE_ELEMENT_NAMES.values() and check in GUIDE_CHECK_NAMES.values()
        assert "basic." not in line and "_" not in message
