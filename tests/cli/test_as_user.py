"""The command line acts as a named user (spec/interface.md, "Stateful commands"), both engines:
``--as USER`` or the operator account ``GOVWATCH_OPERATOR``; the account's role decides, and a
refusal names the role the action would need (exit 2, one Chinese line); without either, the
command says how to name one; the action is recorded under the account."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from govwatch.auth.operator import OPERATOR_ENV
from govwatch.cli import cli
from govwatch.storage import connect
from tests.accounts import account

CREATE = [
    "evaluation", "create", "r1", "--name", "十月评估", "--system", "online-service",
    "--from", "2025-10-01", "--to", "2025-10-31", "--kind", "department",
    "--at", "2025-11-03T09:00:00",
]  # fmt: skip


def _run(args: list[str], operator: str | None = None) -> Result:
    env = {OPERATOR_ENV: operator} if operator is not None else {OPERATOR_ENV: ""}
    return CliRunner(env=env).invoke(cli, args, prog_name="govwatch")


def _units(tmp_path: Path) -> str:
    path = tmp_path / "units.csv"
    path.write_text("unit,name,group\nD1,市场监管局,市级\nD2,交通运输局,市级\n", encoding="utf-8")
    return str(path)


def test_a_department_account_is_refused_naming_the_role_it_would_need(
    db_url: str, tmp_path: Path
) -> None:
    clerk = account(db_url, "填报员", "department", "D1")
    out = _run([*CREATE, "--units", _units(tmp_path), "--as", clerk, "--db", db_url])
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [
        "错误：用户“填报员”的角色是部门用户，不能创建评估批次：需要管理员角色"
    ]
    out = _run(["rules", "set", "step_overdue", "--disable", "--reason", "试", "--as", clerk,
                "--db", db_url])  # fmt: skip
    assert out.exit_code == 2 and "需要管理员角色" in out.output
    db = connect(db_url, migrate=False)
    try:
        assert db.scalar("SELECT COUNT(*) FROM eval_rounds") == 0
    finally:
        db.close()


def test_the_operator_account_from_the_environment_acts_and_is_recorded(
    db_url: str, tmp_path: Path
) -> None:
    admin = account(db_url, "管理员")
    out = _run([*CREATE, "--units", _units(tmp_path), "--db", db_url], operator=admin)
    assert out.exit_code == 0, out.output
    out = _run(["evaluation", "close", "r1", "--db", db_url], operator=admin)
    assert out.exit_code == 2 and "只有已发布的批次可以关闭" in out.output
    db = connect(db_url, migrate=False)
    try:
        created_by = db.scalar("SELECT created_by FROM eval_rounds WHERE round_id = 'r1'")
        ledger = db.query("SELECT kind, actor FROM ledger WHERE ref = 'round:r1'")
    finally:
        db.close()
    assert created_by == "admin:管理员"
    assert [(str(k), str(a)) for k, a in ledger] == [("round.create", "管理员")]


def test_without_a_named_user_the_command_says_how_to_name_one(db_url: str, tmp_path: Path) -> None:
    out = _run([*CREATE, "--units", _units(tmp_path), "--db", db_url])
    assert out.exit_code == 2
    assert "--as 用户名" in out.output and OPERATOR_ENV in out.output
    out = _run([*CREATE, "--units", _units(tmp_path), "--as", "无此人", "--db", db_url])
    assert out.exit_code == 2 and "“无此人”不存在或已停用" in out.output
