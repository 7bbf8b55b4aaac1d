"""Masking formats, passwords, the organisation tree, tokens and the users/tokens commands."""

from __future__ import annotations

from datetime import datetime

import orjson
import pytest
from click.testing import CliRunner

from govwatch.auth.demo import create_demo_users
from govwatch.auth.errors import AuthenticationError
from govwatch.auth.masking import mask_id, mask_name, mask_phone, mask_record
from govwatch.auth.orgs import add_org, subtree
from govwatch.auth.passwords import hash_password, verify_password
from govwatch.auth.tokens import create_token, resolve_token, revoke_token
from govwatch.auth.users import add_user, authenticate, set_active
from govwatch.cli import cli
from govwatch.errors import InputError
from govwatch.storage import Database, connect

T0 = datetime(2025, 10, 9, 10, 0)


def test_masking_formats_follow_the_spec() -> None:
    assert mask_name("张三") == "张*"
    assert mask_id("110101199003071234") == "110***********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("123") == "***"


def test_mask_record_covers_corrections_and_nested_evidence() -> None:
    record = {
        "kind": "correction",
        "field": "phone",
        "old_value": "13812345678",
        "new_value": "13912345678",
        "evidence": {"applicant_id": "110101199003071234"},
    }
    masked = mask_record(record)
    assert (masked["old_value"], masked["new_value"]) == ("138****5678", "139****5678")
    assert masked["evidence"]["applicant_id"] == "110***********1234"


def test_passwords_are_argon2_hashed_and_checked() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong")
    with pytest.raises(InputError, match="太短"):
        hash_password("short")


def _tree(db: Database) -> None:
    add_org(db, "330000", "浙江省", "province", None, None, T0)
    add_org(db, "330100", "杭州市", "city", "330000", None, T0)
    add_org(db, "330102", "上城区", "county", "330100", None, T0)
    add_org(db, "D1", "市场监管局", "department", "330102", "330102", T0)
    add_org(db, "D2", "规划局", "department", "330102", "330102", T0)


def test_subtree_of_a_county_holds_its_departments_and_region(db: Database) -> None:
    _tree(db)
    codes, regions = subtree(db, ["330102"])
    assert codes == {"330102", "D1", "D2"} and regions == {"330102"}
    codes, regions = subtree(db, ["D1"])
    assert codes == {"D1"} and regions == frozenset()


def test_login_refuses_wrong_password_and_disabled_accounts(db: Database) -> None:
    _tree(db)
    add_user(db, "wang", "correct horse battery", "department", "D1", T0)
    assert authenticate(db, "wang", "correct horse battery", T0).org_code == "D1"
    with pytest.raises(AuthenticationError):
        authenticate(db, "wang", "nope", T0)
    with pytest.raises(AuthenticationError):
        authenticate(db, "nobody", "nope", T0)
    set_active(db, "wang", False, T0)
    with pytest.raises(AuthenticationError):
        authenticate(db, "wang", "correct horse battery", T0)


def test_tokens_are_stored_hashed_scoped_and_revocable(db: Database) -> None:
    _tree(db)
    secret, info = create_token(db, "sys", "source", ["330102"], "admin", T0)
    assert db.scalar("SELECT count(*) FROM api_tokens WHERE token_hash = ?", [secret]) == 0
    principal = resolve_token(db, secret, T0)
    assert principal is not None and principal.covers("D2") and not principal.covers("D9")
    revoke_token(db, info.token_id, T0)
    assert resolve_token(db, secret, T0) is None


def test_demo_users_get_fresh_passwords_for_every_role(db: Database) -> None:
    _tree(db)
    accounts = create_demo_users(db, T0)
    assert {a.role for a in accounts} == {
        "admin",
        "supervisor",
        "department",
        "evaluator",
        "source",
    }
    department = next(a for a in accounts if a.role == "department")
    assert authenticate(db, department.username, department.secret, T0).org_code == "D1"
    again = create_demo_users(db, T0)
    assert {a.secret for a in again}.isdisjoint({a.secret for a in accounts})


def test_users_and_tokens_commands(db_url: str) -> None:
    db = connect(db_url)
    _tree(db)
    db.close()
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "users",
            "add",
            "zhao",
            "--role",
            "department",
            "--org",
            "D1",
            "--generate",
            "--db",
            db_url,
            "--format",
            "json",
        ],
    )
    assert added.exit_code == 0, added.output
    password = orjson.loads(added.stdout)[0]["password"]
    listed = runner.invoke(cli, ["users", "list", "--db", db_url, "--format", "json"])
    assert [u["username"] for u in orjson.loads(listed.stdout)] == ["zhao"]
    created = runner.invoke(
        cli, ["tokens", "create", "feed", "--org", "D1", "--db", db_url, "--format", "json"]
    )
    token = orjson.loads(created.stdout)[0]
    revoked = runner.invoke(cli, ["tokens", "revoke", token["token_id"], "--db", db_url])
    assert revoked.exit_code == 0
    db = connect(db_url, migrate=False)
    assert authenticate(db, "zhao", password, T0).role == "department"
    assert resolve_token(db, token["token"], T0) is None
    db.close()
    missing_org = runner.invoke(
        cli, ["users", "add", "qian", "--role", "department", "--generate", "--db", db_url]
    )
    assert missing_org.exit_code != 0
