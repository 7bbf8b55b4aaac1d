"""Settings and custom rules that cannot stop supervision (issue 18 item 6), on both engines.

- A rule parameter must be a finite number in its allowed range (catalog.PARAM_RANGES):
  ``nan``, ``inf``, ``1e400`` and out-of-range values are refused from the command line, the
  rules page and the API, with a Chinese message naming the parameter and its range.
- A catalog version stored before that check does not stop evaluation.
- A custom rule's divisions are guarded: a zero divisor on a stored case neither fails its dry
  run nor its evaluation, and both engines find the same cases.
- A custom rule that still fails on cases to come (a cast that cannot convert) is skipped on
  the live path: the posted cases leave ``live_pending``, every other rule's alerts are
  raised, and the failure is recorded and shown on the rules page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from govwatch.auth.orgs import sync_from_catalog
from govwatch.auth.tokens import create_token
from govwatch.cli import cli
from govwatch.events.ingest import import_events, import_records
from govwatch.items.ingest import import_catalog
from govwatch.live.queue import pending_count
from govwatch.rules.catalog import PARAM_RANGES, Catalog, current, save
from govwatch.rules.custom import CustomRuleDef
from govwatch.rules.engine import audit
from govwatch.rules.item_rules import RULES as ITEM_RULES
from govwatch.rules.live import evaluate_cases, sweep
from govwatch.rules.registry import DEFAULT_RULES
from govwatch.storage import Database, connect
from govwatch.web.app import create_app
from tests.accounts import account
from tests.api.conftest import T0, seed
from tests.rules import fixture_cases as fx
from tests.rules.province import end_at, identities, make_province
from tests.rules.test_default_rules import write_fixture

BAD_TOLERANCES = ("nan", "NaN", "inf", "-inf", "1e400", "-0.5", "1000001", "abc")
RANGE_TEXT = "0 到 1000000"


def _active(db: Database) -> set[tuple[str, str, str, str]]:
    rows = db.query("SELECT case_id, rule, key, level FROM alerts WHERE status = 'active'")
    return {(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows}


def _versions(db_url: str) -> int:
    db = connect(db_url)
    try:
        return int(db.scalar("SELECT count(*) FROM rule_catalog_versions"))
    finally:
        db.close()


def test_every_numeric_parameter_of_the_catalog_has_an_allowed_range() -> None:
    every_rule = (*DEFAULT_RULES, *ITEM_RULES)  # the case rules and the item-information rules
    numeric = {(r.id, p.name) for r in every_rule for p in r.params if p.kind in ("int", "float")}
    ranged = {(rule, name) for rule, params in PARAM_RANGES.items() for name in params}
    assert numeric == ranged
    for rule in every_rule:
        for p in rule.params:
            if p.kind in ("int", "float"):
                low, high = PARAM_RANGES[rule.id][p.name]
                assert low <= float(p.default) <= high, (rule.id, p.name)


WHY = ("--reason", "测试参数范围", "--as", "管理员")  # a reason, by an administrator


def test_the_command_line_refuses_a_parameter_that_is_not_a_finite_number_in_range(
    db_url: str,
) -> None:
    account(db_url, "管理员")
    runner = CliRunner()
    for value in BAD_TOLERANCES:
        out = runner.invoke(
            cli,
            ["rules", "set", "fee_mismatch", "--param", f"tolerance={value}", *WHY, "--db", db_url],
        )
        assert out.exit_code != 0, (value, out.output)
        assert "tolerance" in out.output and RANGE_TEXT in out.output, out.output
    out = runner.invoke(
        cli, ["rules", "set", "near_deadline", "--param", "warn_days=366", *WHY, "--db", db_url]
    )
    assert out.exit_code != 0 and "warn_days" in out.output and "0 到 365" in out.output
    assert _versions(db_url) == 0  # nothing was saved
    good = runner.invoke(
        cli, ["rules", "set", "fee_mismatch", "--param", "tolerance=0.5", *WHY, "--db", db_url]
    )
    assert good.exit_code == 0, good.output
    assert _versions(db_url) == 1


@dataclass
class App:
    client: TestClient
    db: Database
    tokens: dict[str, str]

    def send(self, method: str, url: str, who: str = "admin", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}", **kw.pop("headers", {})}
        answer: httpx.Response = self.client.request(method, url, headers=headers, **kw)
        return answer


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> Iterator[App]:
    application = create_app(db_url)
    pool = application.state.pool
    db = pool.get()
    tokens = seed(db, tmp_path)
    with TestClient(application) as client:
        yield App(client, db, tokens)
    pool.put(db)


def test_the_page_and_the_api_refuse_a_parameter_that_is_not_a_finite_number_in_range(
    app: App,
) -> None:
    for value in BAD_TOLERANCES:
        page = app.send(
            "POST",
            "/rules/setting",
            data={
                "rule": "fee_mismatch",
                "scope_kind": "all",
                "p.tolerance": value,
                "reason": "测试",
            },
        )
        assert page.status_code == 400, (value, page.status_code)
        assert "tolerance" in page.text and RANGE_TEXT in page.text
        api = app.send(
            "PUT",
            "/api/v1/rules/settings",
            json={"rule": "fee_mismatch", "scope": "all", "params": {"tolerance": value}},
        )
        assert api.status_code == 400, (value, api.text)
        assert "tolerance" in api.json()["detail"] and RANGE_TEXT in api.json()["detail"]
    # JSON numbers that are not finite: the literals NaN and Infinity, and an overflow
    for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
        body = '{"rule": "fee_mismatch", "scope": "all", "params": {"tolerance": ' + literal + "}}"
        api = app.send(
            "PUT",
            "/api/v1/rules/settings",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert api.status_code in (400, 422), (literal, api.text)
        if api.status_code == 400:
            assert RANGE_TEXT in api.json()["detail"]
    assert app.db.scalar("SELECT count(*) FROM rule_catalog_versions") == 0
    assert app.send("GET", "/api/v1/rules").json()["settings"] == []
    # the page says the range beside the parameter, before anyone types a value
    row = app.send("GET", "/rules").text.split('id="rule-fee_mismatch"')[1].split("</tr>")[0]
    assert "允许 0–1000000" in row
    # a workflow setting is refused as plainly: "²" is a digit to str.isdigit(), not to int()
    for value in ("²", "0", "61", "nan"):
        answer = app.send("PUT", "/api/v1/settings/order_reply_days", json={"value": value})
        assert answer.status_code == 400, (value, answer.text)
        assert "1–60" in answer.json()["detail"]


def _fixture_store(db: Database, tmp_path: Path) -> None:
    catalog, events = write_fixture(tmp_path)
    import_catalog(db, [catalog])
    import_events(db, [events])


def test_a_stored_version_with_a_non_finite_parameter_does_not_stop_evaluation(
    db: Database, tmp_path: Path
) -> None:
    """A version saved before parameters were checked: its bad value is left out, not run."""
    _fixture_store(db, tmp_path)
    doc = {
        "settings": [
            {"rule": "fee_mismatch", "scope": "all", "params": {"tolerance": float("nan")}},
            {"rule": "unknown_item", "scope": "all", "enabled": False},
        ],
        "custom": [],
    }
    db.execute(
        "INSERT INTO rule_catalog_versions (version, changed_at, changed_by, summary, doc) "
        "VALUES (1, ?, 'old', 'saved before the check', ?)",
        [datetime(2025, 9, 1), json.dumps(doc)],
    )
    at = fx.MOMENTS["nov20"]
    evaluate_cases(db, None, at)
    expected = Catalog().with_setting(current(db).settings[0])  # unknown_item off, tolerance 0.01
    assert [s.rule for s in current(db).settings] == ["unknown_item"]
    assert _active(db) == identities(audit(db, at, expected))
    assert any(a[1] == "fee_mismatch" for a in _active(db))


def _event_counts(db: Database) -> dict[str, int]:
    rows = db.query("SELECT case_id, count(*) FROM events GROUP BY case_id")
    return {str(r[0]): int(r[1]) for r in rows}


def test_a_custom_rule_dividing_by_zero_on_a_stored_case_is_saved_and_finds_alike(
    db_url: str, tmp_path: Path
) -> None:
    """``x / (event_count - N)`` and ``x % (event_count - N)`` with a case of N events: the
    dry run passes (the divisor is guarded), the case with N events is not flagged, every case
    with more is, on both engines."""
    db = connect(db_url)
    try:
        _fixture_store(db, tmp_path)
        counts = _event_counts(db)
    finally:
        db.close()
    n = sorted(counts.values())[len(counts) // 2]
    operator = account(db_url, "管理员")
    expression = f"event_count / (event_count - {n}) > 1 AND event_count % (event_count - {n}) >= 0"
    out = CliRunner().invoke(
        cli,
        [
            "rules",
            "add",
            "--id",
            "many_events",
            "--class",
            "process",
            "--type",
            "过程异常",
            "--level",
            "yellow",
            "--description",
            "事件数超过中位数",
            "--expression",
            expression,
            "--at",
            fx.MOMENTS["nov20"].isoformat(),
            "--db",
            db_url,
            "--as",
            operator,
        ],
    )
    assert out.exit_code == 0, out.output
    db = connect(db_url)
    try:
        flagged = {a[0] for a in _active(db) if a[1] == "many_events"}
        assert flagged == {c for c, k in counts.items() if k > n}
        assert not any(k == n for c, k in counts.items() if c in flagged)
        assert db.scalar("SELECT count(*) FROM rule_failures") == 0
    finally:
        db.close()


BAD_RULE = {
    "id": "status_as_number",
    "type": "过程异常",
    "level": "yellow",
    "description": "状态码大于零（写错的规则：状态不是数字）",
    "expression": "CAST(status AS INTEGER) > 0",
}


def _by_case(lines: list[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        event = json.loads(line)
        out.setdefault(str(event["case_id"]), []).append(event)
    return out


@pytest.fixture
def province_app(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[App, list[str], datetime]]:
    """A server over an empty store of a province's catalog, seen at the province's end."""
    folder = make_province(tmp_path / "p", 40, 11)
    at = end_at(folder)
    monkeypatch.setenv("GOVWATCH_NOW", at.isoformat())
    setup = connect(db_url)
    import_catalog(setup, [folder / "catalog.jsonl"])
    sync_from_catalog(setup, at)
    roots = [str(r[0]) for r in setup.query("SELECT org_code FROM orgs WHERE parent_code IS NULL")]
    tokens = {
        "source": create_token(setup, "feed", "source", roots, "test", T0)[0],
        "admin": create_token(setup, "admin", "admin", [], "test", T0)[0],
    }
    setup.close()
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    application = create_app(db_url)
    pool = application.state.pool
    db = pool.get()
    with TestClient(application) as client:
        yield App(client, db, tokens), lines, at
    pool.put(db)


def test_a_failing_custom_rule_is_skipped_on_the_live_path_and_shown_to_the_administrator(
    province_app: tuple[App, list[str], datetime],
) -> None:
    app, lines, at = province_app
    # saved while nothing is stored: its dry run has no case to fail on
    saved = app.send("POST", "/rules/custom", data=BAD_RULE)
    assert saved.status_code == 200 and "已添加规则 status_as_number" in saved.text, saved.text
    cases = _by_case(lines)
    ids = sorted(cases)
    for half in (ids[: len(ids) // 2], ids[len(ids) // 2 :]):
        batch = [e for c in half for e in cases[c]]
        answer = app.send("POST", "/api/v1/events", who="source", json=batch)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Govwatch-Pending-Cases"] == "0"  # nothing held back
    pool = app.client.app.state.pool  # type: ignore[attr-defined]
    assert pool.evaluator.idle(timeout=120)
    assert pending_count(app.db) == 0
    # every other rule raised its alerts: the live result is the audit without the bad rule
    assert _active(app.db) == identities(audit(app.db, at))
    assert not any(a[1] == "status_as_number" for a in _active(app.db))
    failure = app.db.query_dicts("SELECT * FROM rule_failures")
    assert [(f["rule"], f["custom"]) for f in failure] == [("status_as_number", True)]
    assert failure[0]["failures"] >= 2 and failure[0]["message"]
    # the sweeper's evaluation skips it too
    sweep(app.db, at + timedelta(days=1))
    # the administrator sees it on the rules page and its JSON twin
    page = app.send("GET", "/rules")
    row = page.text.split('id="rule-status_as_number"')[1].split("</tr>")[0]
    assert "运行失败，已跳过" in row and failure[0]["message"][:20] in row
    twin = {r["id"]: r for r in app.send("GET", "/rules?format=json").json()["rules"]}
    assert twin["status_as_number"]["failure"]["rule"] == "status_as_number"
    assert twin["fee_mismatch"]["failure"] is None


def _case(case_id: str, actor: str) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"{case_id}-a",
            "case_id": case_id,
            "kind": "apply",
            "item_code": "B001",
            "occurred_at": "2025-09-01T09:00:00+08:00",
            "applicant_type": "1",
            "channel": "1",
        },
        {
            "event_id": f"{case_id}-b",
            "case_id": case_id,
            "kind": "accept",
            "item_code": "B001",
            "occurred_at": "2025-09-01T10:00:00+08:00",
            "actor": actor,
        },
    ]


def test_a_rule_that_fails_keeps_its_alerts_and_a_clean_whole_store_run_forgets_the_failure(
    db: Database, tmp_path: Path
) -> None:
    """A run that could not look clears nothing; once the rule runs over every case again
    without error, its recorded failure is gone."""
    catalog, _ = write_fixture(tmp_path)
    import_catalog(db, [catalog])
    rule = CustomRuleDef(
        "numbered_handler",
        "process",
        "过程异常",
        "yellow",
        "受理人工号大于 1000",
        "CAST(accepted_by AS INTEGER) > 1000",
    )
    at = datetime(2025, 9, 2, 12)
    save(db, current(db).with_custom(rule), "管理员", "add numbered_handler", at)
    import_records(db, _case("k1", "1001"))
    evaluate_cases(db, ["k1"], at)
    alert = ("k1", "numbered_handler", "", "yellow")
    assert alert in _active(db)
    import_records(db, _case("k2", "张三"))  # a handler named, not numbered: the cast fails
    evaluate_cases(db, ["k1", "k2"], at + timedelta(hours=1))
    assert alert in _active(db)  # still active: the rule could not look
    others = {a for a in _active(db) if a[1] != "numbered_handler"}
    assert others == identities(audit(db, at + timedelta(hours=1)))  # the others ran
    row = db.query_dicts("SELECT rule, failures, cases, catalog_version FROM rule_failures")
    assert row == [{"rule": "numbered_handler", "failures": 1, "cases": 2, "catalog_version": 1}]
    # the case that broke it goes away; the next whole-store run works and forgets the failure
    for table in ("events", "cases", "live_pending"):
        db.execute(f"DELETE FROM {table} WHERE case_id = 'k2'")
    evaluate_cases(db, None, at + timedelta(hours=2))
    assert db.scalar("SELECT count(*) FROM rule_failures") == 0
    assert alert in _active(db)
