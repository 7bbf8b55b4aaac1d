"""``govwatch rules set`` and ``rules unset`` change the catalog as the rules page and the API do
(issue 14 item 6), on both engines: the scope must name a region, department or item that
exists (refused in Chinese, naming it, with nothing saved), a reason is required and stored in
the history, and an override can be deleted."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner, Result

from govwatch.auth.operator import OPERATOR_ENV
from govwatch.auth.orgs import add_org
from govwatch.cli import cli
from govwatch.rules import catalog as rule_catalog
from govwatch.rules.settings import Scope, Setting
from govwatch.storage import connect
from tests.accounts import account

AT = datetime(2025, 10, 27, 10, 0)
WHEN = ["--at", "2025-10-27T10:00:00"]


@pytest.fixture
def url(db_url: str) -> str:
    """A database whose organisation tree knows one county, 上城区 (330102)."""
    db = connect(db_url)
    try:
        add_org(db, "330100", "杭州市", "city", None, "330100", AT)
        add_org(db, "330102", "上城区", "county", "330100", "330102", AT)
    finally:
        db.close()
    account(db_url, "管理员")
    return db_url


def _run(*args: str) -> Result:
    """Run as the operator account 管理员 (GOVWATCH_OPERATOR), unless ``--as`` names another."""
    runner = CliRunner(env={OPERATOR_ENV: "管理员"})
    return runner.invoke(cli, list(args), prog_name="govwatch")


def _versions(url: str) -> list[rule_catalog.Version]:
    db = connect(url, migrate=False)
    try:
        return rule_catalog.versions(db)
    finally:
        db.close()


def _settings(url: str) -> tuple[Setting, ...]:
    db = connect(url, migrate=False)
    try:
        return rule_catalog.current(db).settings
    finally:
        db.close()


def test_an_unknown_region_is_refused_naming_it(url: str) -> None:
    out = _run(
        "rules", "set", "step_overdue", "--scope", "region:999999", "--disable",
        "--reason", "试点区划暂停", "--as", "管理员", *WHEN, "--db", url,
    )  # fmt: skip
    assert out.exit_code != 0
    assert "行政区划“999999”不存在" in out.output, out.output
    assert "Traceback" not in out.output
    out = _run(
        "rules", "set", "step_overdue", "--scope", "department:NO_SUCH_DEPT", "--disable",
        "--reason", "试点部门暂停", *WHEN, "--db", url,
    )  # fmt: skip
    assert out.exit_code != 0 and "部门“NO_SUCH_DEPT”不存在" in out.output, out.output
    assert _versions(url) == []  # nothing was saved


def test_a_reason_is_required(url: str) -> None:
    out = _run("rules", "set", "step_overdue", "--disable", *WHEN, "--db", url)
    assert out.exit_code == 2
    assert "缺少选项" in out.output and "--reason" in out.output, out.output
    out = _run("rules", "set", "step_overdue", "--disable", "--reason", "  ", *WHEN, "--db", url)
    assert out.exit_code != 0 and "请填写理由" in out.output, out.output
    assert _versions(url) == []


def test_set_then_unset_keeps_who_and_why_in_the_history(url: str) -> None:
    out = _run(
        "rules", "set", "step_overdue", "--scope", "region:330102", "--disable",
        "--reason", "上城区系统迁移期间暂停", "--as", "管理员", *WHEN, "--db", url,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert [(s.rule, s.scope, s.enabled) for s in _settings(url)] == [
        ("step_overdue", Scope("region", "330102"), False)
    ]
    saved = _versions(url)[0]
    assert (saved.changed_by, saved.reason) == ("管理员", "上城区系统迁移期间暂停")
    assert "上城区" in saved.summary  # the region by name, not its code alone

    out = _run(
        "rules", "unset", "step_overdue", "--scope", "region:330102",
        "--reason", "迁移完成，恢复监察", "--as", "管理员", *WHEN, "--db", url,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert _settings(url) == ()
    deleted = _versions(url)[0]
    assert deleted.reason == "迁移完成，恢复监察" and "删除" in deleted.summary

    out = _run("rules", "history", "--db", url, "--format", "json")
    assert out.exit_code == 0, out.output
    history = json.loads(out.stdout)
    assert [(h["version"], h["reason"]) for h in history] == [
        (1, "上城区系统迁移期间暂停"),
        (2, "迁移完成，恢复监察"),
    ]
    table = _run("rules", "history", "--db", url).stdout
    assert "理由：迁移完成，恢复监察" in table and "T10:00" not in table

    again = _run(
        "rules", "unset", "step_overdue", "--scope", "region:330102",
        "--reason", "再删一次", *WHEN, "--db", url,
    )  # fmt: skip
    assert again.exit_code != 0 and "没有单独的调整" in again.output, again.output
    assert len(_versions(url)) == 2
