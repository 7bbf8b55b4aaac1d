"""The catalog is data: settings by scope (most specific wins), custom rules checked before
saving, every change versioned with who and when, findings record the version."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.errors import ValidationError
from govwatch.live.pipeline import load_memory
from govwatch.rules import catalog as rule_catalog
from govwatch.rules.catalog import Catalog
from govwatch.rules.custom import CustomRuleDef, parse_expression
from govwatch.rules.engine import audit
from govwatch.rules.live import evaluate_cases
from govwatch.rules.settings import Scope, Setting
from govwatch.storage import Database
from tests.accounts import account
from tests.rules import fixture_cases as fx
from tests.rules.test_default_rules import write_fixture

OCT27 = fx.MOMENTS["oct27"]


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Database:
    catalog, events = write_fixture(tmp_path_factory.mktemp("cat"))
    return load_memory([catalog], [events])


def _rules(findings: list, case_id: str) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    return {(f.rule, f.level) for f in findings if f.case_id == case_id}


def test_warn_days_raised_globally_warns_a_day_earlier(memory: Database) -> None:
    cat = Catalog().with_setting(Setting("near_deadline", params=(("warn_days", "3"),)))
    assert ("near_deadline", "warning") in _rules(audit(memory, OCT27, cat), "open_promised_20w")
    assert ("near_deadline", "warning") not in _rules(audit(memory, OCT27), "open_promised_20w")


def test_most_specific_setting_wins(memory: Database) -> None:
    cat = (
        Catalog()
        .with_setting(Setting("unknown_item", Scope("all"), enabled=False))
        .with_setting(Setting("unlisted_fee", Scope("region", "330000"), enabled=False))
        .with_setting(Setting("unlisted_fee", Scope("item", "B001"), enabled=True, level="yellow"))
        .with_setting(Setting("fee_mismatch", Scope("department", "DEPT1"), level="red"))
    )
    found = audit(memory, fx.MOMENTS["nov20"], cat)
    assert not any(f.rule == "unknown_item" for f in found)
    assert ("unlisted_fee", "yellow") in _rules(found, "fee_on_free_item")
    assert ("fee_mismatch", "red") in _rules(found, "fee_short")


def test_graded_rule_refuses_a_plain_level_and_names_its_parameters() -> None:
    with pytest.raises(ValidationError, match="legal_level"):
        Catalog().with_setting(Setting("case_overdue", level="red"))


def test_unknown_parameter_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="warn_days"):
        Catalog().with_setting(Setting("near_deadline", params=(("days", 3),)))


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("secret_column > 1", "未知列"),
        ("pg_sleep(10) IS NULL", "不允许的函数"),
        ("status IN (SELECT status FROM alerts)", "子查询"),
        ("returns > 1; DROP TABLE alerts", "多条语句"),
        ("DROP TABLE alerts", "语句"),
        ("x.status = 'open'", "表名"),
    ],
)
def test_custom_expression_refusals_say_what_is_wrong(expression: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        parse_expression(expression)


def test_custom_rule_runs_like_a_builtin(memory: Database) -> None:
    rule = CustomRuleDef(
        "many_supplements",
        "process",
        "过程异常",
        "red",
        "补正告知达到两次",
        "supplement_requests >= 2 AND status <> 'finished'",
    )
    found = audit(memory, fx.MOMENTS["sep05"], Catalog().with_custom(rule))
    hits = [f for f in found if f.rule == "many_supplements"]
    assert [(f.case_id, f.level, f.key) for f in hits] == [("two_supplement_requests", "red", "")]
    assert hits[0].evidence == {"status": "open", "supplement_requests": 2}
    assert hits[0].message.startswith("补正告知达到两次")


def test_every_change_is_versioned_and_alerts_record_it(db: Database, tmp_path: Path) -> None:
    from govwatch.events.ingest import import_events
    from govwatch.items.ingest import import_catalog

    catalog, events = write_fixture(tmp_path)
    import_catalog(db, [catalog])
    import_events(db, [events])
    cat = rule_catalog.current(db).with_setting(
        Setting("repeated_return", params=(("max_returns", 3),))
    )
    saved = rule_catalog.save(db, cat, "审核员甲", "max_returns 3", datetime(2025, 9, 4, 9))
    assert (saved.version, rule_catalog.current(db).version) == (1, 1)
    assert rule_catalog.history(db) == [
        {
            "version": 1,
            "changed_at": "2025-09-04 09:00:00",
            "changed_by": "审核员甲",
            "summary": "max_returns 3",
        }
    ]
    evaluate_cases(db, ["returned_three_times", "two_supplement_requests"], fx.MOMENTS["sep05"])
    rows = db.query("SELECT rule, catalog_version FROM alerts WHERE status = 'active'")
    assert ("repeated_supplement", 1) in [(str(r[0]), int(r[1])) for r in rows]
    assert "repeated_return" not in [str(r[0]) for r in rows]
    assert rule_catalog.at_version(db, 0) == Catalog()


def test_cli_rules_set_history_and_audit_with_rules_file(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"duckdb:///{tmp_path}/g.duckdb"
    account(url, "管理员")
    out = runner.invoke(
        cli,
        [
            "rules",
            "set",
            "near_deadline",
            "--param",
            "warn_days=3",
            "--reason",
            "临近期限提前三天提醒",
            "--as",
            "管理员",
            "--db",
            url,
            "--at",
            "2025-10-01T09:00:00",
        ],
    )
    assert out.exit_code == 0, out.output
    out = runner.invoke(cli, ["rules", "history", "--db", url, "--format", "json"])
    assert json.loads(out.stdout)[0]["changed_by"] == "管理员"
    out = runner.invoke(cli, ["rules", "list", "--db", url, "--format", "json"])
    assert len(json.loads(out.stdout)) == 21
    catalog, events = write_fixture(tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text("settings:\n  - {rule: near_deadline, params: {warn_days: 3}}\n")
    out = runner.invoke(
        cli,
        [
            "audit",
            "--catalog",
            str(catalog),
            "--events",
            str(events),
            "--at",
            "2025-10-27T12:00:00",
            "--rules",
            str(rules),
        ],
    )
    assert out.exit_code == 0, out.output
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert {"case_id": "open_promised_20w", "rule": "near_deadline"}.items() <= next(
        x for x in lines if x["case_id"] == "open_promised_20w" and x["rule"] == "near_deadline"
    ).items()
    assert list(lines[0]) == [
        "case_id",
        "rule",
        "class",
        "type",
        "level",
        "key",
        "message",
        "evidence",
    ]
