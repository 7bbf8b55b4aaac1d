"""The synthetic province generator: determinism, conformance to spec/data.md, and its truth."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import chinese_calendar
import orjson
import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.errors import InputError
from govwatch.generator import END_AT, RULES, START_AT, generate, make_config
from govwatch.generator.config import parse_rate_overrides
from govwatch.generator.people import id_is_valid, uscc_is_valid
from govwatch.storage import Database
from tests.generator.oracle import at, audit

FILES = ("catalog.jsonl", "events.jsonl", "truth.jsonl", "meta.json")
KIND_FIELDS: dict[str, set[str]] = {
    "apply": {"item_code", "applicant_type", "applicant_name", "applicant_id_type", "applicant_id", "phone",
              "channel", "materials"},
    "accept": {"item_code", "case_kind", "promised_finish_at"},
    "reject": {"reason", "legal_basis"},
    "supplement_request": {"materials", "reason"},
    "supplement_received": {"materials"},
    "step_start": {"step"},
    "step_end": {"step", "action", "opinion"},
    "special_start": {"procedure_kind", "procedure_type", "limit", "limit_unit", "reason", "approved_by"},
    "special_end": {"result"},
    "suspend": {"reason"},
    "resume": set(),
    "terminate": {"reason"},
    "finish": {"result", "reason", "legal_basis", "license_no", "tier", "decided_value", "item_code"},
    "payment": {"amount", "fee_item", "quantity"},
    "rating": {"level", "channel", "text"},
    "correction": {"field", "old", "new", "reason"},
    "relation": {"handler", "applicant_id", "relation"},
}  # fmt: skip
COMMON = {"event_id", "case_id", "kind", "occurred_at", "actor", "org_code"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")
COMPACT = re.compile(r"^\d{14}$")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line]


@pytest.fixture(scope="module")
def injected(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3000 cases, most of them breaking one rule (0.045 per rule)."""
    out = tmp_path_factory.mktemp("injected")
    generate(make_config(3000, seed=11, violation_rate=0.045, chunk_size=700, workers=1), out)
    return out


@pytest.fixture(scope="module")
def ordinary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3000 cases at the default rates, a tenth of the times written as YYYYMMDDhhmmss."""
    out = tmp_path_factory.mktemp("ordinary")
    generate(make_config(3000, seed=5, compact_time_share=0.1, workers=1), out)
    return out


def test_same_seed_gives_identical_files_whatever_the_number_of_workers(tmp_path: Path) -> None:
    generate(make_config(900, seed=3, chunk_size=200, workers=1), tmp_path / "a")
    generate(make_config(900, seed=3, chunk_size=200, workers=2), tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seeds_give_different_provinces_and_cases(tmp_path: Path) -> None:
    generate(make_config(200, seed=1, workers=1), tmp_path / "a")
    generate(make_config(200, seed=2, workers=1), tmp_path / "b")
    for name in ("catalog.jsonl", "events.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_meta_records_seed_size_window_and_rates(injected: Path) -> None:
    meta = orjson.loads((injected / "meta.json").read_bytes())
    assert (meta["seed"], meta["cases"], meta["start_at"], meta["end_at"]) == (
        11,
        3000,
        START_AT,
        END_AT,
    )
    assert meta["violation_rates"] == dict.fromkeys(RULES, 0.045)
    assert date.fromisoformat(meta["end_at"][:10]) < date(2026, 12, 31)


def test_every_default_rule_appears_in_the_truth(injected: Path) -> None:
    truth = read_jsonl(injected / "truth.jsonl")
    assert set(RULES) == {t["rule"] for t in truth}
    assert {t["level"] for t in truth if t["rule"] == "case_overdue"} == {"yellow", "red"}
    assert all(set(t) == {"case_id", "rule", "key", "level"} for t in truth)


@pytest.mark.parametrize("which", ["injected", "ordinary"])
def test_truth_equals_an_independent_reading_of_the_rules(
    which: str, request: pytest.FixtureRequest
) -> None:
    out: Path = request.getfixturevalue(which)
    truth = {
        (t["case_id"], t["rule"], t["key"], t["level"]) for t in read_jsonl(out / "truth.jsonl")
    }
    found = audit(read_jsonl(out / "catalog.jsonl"), read_jsonl(out / "events.jsonl"), at(END_AT))
    assert found - truth == set(), "findings the generator did not record"
    assert truth - found == set(), "recorded findings the oracle does not see"


def test_clean_province_breaks_no_rule(tmp_path: Path) -> None:
    generate(make_config(2000, seed=9, violation_rate=0.0, workers=1), tmp_path)
    assert (tmp_path / "truth.jsonl").read_bytes() == b""
    assert (
        audit(
            read_jsonl(tmp_path / "catalog.jsonl"),
            read_jsonl(tmp_path / "events.jsonl"),
            at(END_AT),
        )
        == set()
    )


def test_events_carry_only_the_spec_fields_and_codes(ordinary: Path) -> None:
    events = read_jsonl(ordinary / "events.jsonl")
    assert len({e["event_id"] for e in events}) == len(events)
    formats = Counter("iso" if ISO.match(e["occurred_at"]) else "compact" for e in events)
    assert all(ISO.match(e["occurred_at"]) or COMPACT.match(e["occurred_at"]) for e in events)
    assert 0.05 < formats["compact"] / len(events) < 0.15
    for e in events:
        assert set(e) <= COMMON | KIND_FIELDS[e["kind"]], e
        assert len(e["event_id"]) <= 64 and len(e["case_id"]) <= 50
        if e["kind"] == "apply":
            assert e["applicant_type"] in "123456" and e["channel"] in ("1", "2", "3", "4", "9")
            assert all(set(m) == {"name", "provided"} for m in e["materials"])
        elif e["kind"] == "accept":
            assert e["case_kind"] in ("1", "2")
        elif e["kind"] == "rating":
            assert e["level"] in "12345"
            assert e["channel"] in (
                "PC端",
                "移动端",
                "二维码",
                "大厅平板",
                "大厅其他终端",
                "电话",
                "短信",
            )
        elif e["kind"] == "finish":
            assert e["result"] in "01234567"
        elif e["kind"] == "step_end":
            assert e["action"] in ("pass", "return", "other")
        elif e["kind"] == "special_start":
            assert e["procedure_kind"] in ("1", "2") and e["limit_unit"] in ("W", "N")


def test_catalog_items_have_every_field_in_range(ordinary: Path) -> None:
    items = read_jsonl(ordinary / "catalog.jsonl")
    assert 200 <= len(items) <= 600
    types = {"01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "20"}
    for item in items:
        assert len(item["item_code"]) <= 24 and len(item["base_code"]) <= 10
        assert re.fullmatch(r"39\d{4}", item["region_code"])
        assert uscc_is_valid(item["department_code"])
        assert (
            item["item_type"] in types
            and item["level"] in "1234567"
            and item["case_kind"] in ("1", "2")
        )
        assert item["promised_limit"] <= item["legal_limit"]
        assert item["legal_limit_unit"] in ("W", "N") and item["promised_limit_unit"] in ("W", "N")
        if item["case_kind"] == "1":
            assert item["promised_limit"] == 0
        assert item["steps"] and item["materials"] and isinstance(item["guide"], dict)
        assert {
            "depth",
            "unified_identity",
            "e_license",
            "online_payment",
            "delivery",
            "max_visits",
        } == set(item["online"])
        for risk in item["risk_points"]:
            assert risk["level"] in ("高", "中", "低") and risk["step"] in [
                s["name"] for s in item["steps"]
            ]
    assert {i["legal_limit_unit"] for i in items} == {"W", "N"}
    assert any(i["fee"] and "unit_price" in i["fee"] for i in items)
    assert any(i["discretion"] for i in items)


def test_times_fall_on_working_days_in_office_hours_except_after_hours_step_ends(
    injected: Path,
) -> None:
    truth = read_jsonl(injected / "truth.jsonl")
    after_hours = {
        (t["case_id"], t["key"].split("/")[0]) for t in truth if t["key"].endswith("/office_hours")
    }
    seen_after_hours = set()
    for e in read_jsonl(injected / "events.jsonl"):
        moment = at(e["occurred_at"])
        assert chinese_calendar.is_workday(moment.date()), e
        assert date(2025, 1, 1) <= moment.date() <= date(2026, 6, 30)
        if not 8 <= moment.hour < 18:
            assert e["kind"] == "step_end" and (e["case_id"], e["step"]) in after_hours, e
            seen_after_hours.add((e["case_id"], e["step"]))
    assert seen_after_hours == after_hours


def test_personal_data_is_fake_but_well_formed(ordinary: Path) -> None:
    applies = [e for e in read_jsonl(ordinary / "events.jsonl") if e["kind"] == "apply"]
    for e in applies:
        assert re.fullmatch(r"1[3-9]\d{9}", e["phone"])
        if e["applicant_type"] == "1":
            assert id_is_valid(e["applicant_id"]) and e["applicant_id"].startswith("39")
            assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", e["applicant_name"])
        else:
            assert uscc_is_valid(e["applicant_id"])


def test_files_import_with_nothing_quarantined(db: Database, tmp_path: Path) -> None:
    from govwatch.events.ingest import import_events
    from govwatch.items.ingest import import_catalog

    generate(
        make_config(150, seed=4, violation_rate=0.04, compact_time_share=0.2, workers=1), tmp_path
    )
    catalog = import_catalog(db, [tmp_path / "catalog.jsonl"])
    events = import_events(db, [tmp_path / "events.jsonl"])
    assert catalog.quarantined == 0 and events.quarantined == 0
    assert events.applied == len(read_jsonl(tmp_path / "events.jsonl"))


def test_rates_are_checked_before_anything_is_written() -> None:
    with pytest.raises(InputError, match="超过 1"):
        make_config(10, violation_rate=0.05)
    with pytest.raises(InputError, match="规则编号"):
        parse_rate_overrides(["no_such_rule=0.1"])
    assert parse_rate_overrides(["near_deadline=0.2"]) == {"near_deadline": 0.2}


def test_one_rule_can_be_given_its_own_rate(tmp_path: Path) -> None:
    overrides = dict.fromkeys(RULES, 0.0) | {"unlisted_fee": 0.5}
    generate(make_config(400, seed=2, violation_rate=0.0, overrides=overrides, workers=1), tmp_path)
    rules = Counter(t["rule"] for t in read_jsonl(tmp_path / "truth.jsonl"))
    assert set(rules) == {"unlisted_fee"} and 150 < rules["unlisted_fee"] < 250


def test_generate_command_writes_the_four_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "generate",
            "--cases",
            "40",
            "--seed",
            "8",
            "--out",
            str(tmp_path),
            "--workers",
            "1",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["cases"] == 40 and summary["events"] > 40
    assert all((tmp_path / name).exists() for name in FILES)
