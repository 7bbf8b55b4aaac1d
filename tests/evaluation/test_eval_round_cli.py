"""``govwatch evaluation …`` drives a whole round from the command line, on both engines."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from govwatch.auth.operator import OPERATOR_ENV
from govwatch.cli import cli
from govwatch.evaluation.rounds.commission import Evaluator, commission
from govwatch.evaluation.rounds.values import Actor
from govwatch.storage import connect
from tests.accounts import account

from . import small_province as sp
from .test_eval_rounds import SYSTEM

AT = datetime(2025, 11, 3, 10, 0)


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_round_from_create_to_verified_publication(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = connect(db_url)
    sp.load(db, tmp_path)
    db.close()
    monkeypatch.setenv(OPERATOR_ENV, account(db_url, "管理员"))
    account(db_url, "填报员", "department", "330102")
    account(db_url, "填报员2", "department", "330203")
    account(db_url, "第三方", "evaluator")
    system = tmp_path / "system.yaml"
    system.write_text(SYSTEM, encoding="utf-8")
    units = tmp_path / "units.csv"
    units.write_text("unit,name,group\n330102,上城区,城区\n330203,海曙区,城区\n", encoding="utf-8")
    values = tmp_path / "values.csv"
    values.write_text("unit,indicator,value\n330102,guide,是\n330203,guide,否\n", encoding="utf-8")
    d = ["--db", db_url]
    run("evaluation", "ratings", "sync", "--at", "2025-11-01T09:00:00", *d)
    run(
        "evaluation",
        "create",
        "r1",
        "--name",
        "十月评估",
        "--system",
        str(system),
        "--from",
        "2025-10-01",
        "--to",
        "2025-10-31",
        "--kind",
        "region",
        "--units",
        str(units),
        "--review-days",
        "2",
        "--at",
        "2025-11-03T09:00:00",
        *d,
    )
    db = connect(db_url)
    commission(db, "r1", Evaluator("user", "第三方"), ["guide"], Actor("管理员", "admin"), AT)
    db.close()
    run("evaluation", "collect", "r1", "--at", "2025-11-04T09:00:00", *d)
    run(
        "evaluation",
        "fill",
        "r1",
        "--unit",
        "330102",
        "--indicator",
        "channels",
        "--value",
        "0.75",
        "--as",
        "填报员",
        "--evidence",
        str(units),
        "--at",
        "2025-11-05T09:00:00",
        *d,
    )
    run(
        "evaluation",
        "fill",
        "r1",
        "--unit",
        "330203",
        "--indicator",
        "channels",
        "--value",
        "0.5",
        "--as",
        "填报员2",
        "--at",
        "2025-11-05T09:00:00",
        *d,
    )
    run(
        "evaluation",
        "import-values",
        "r1",
        str(values),
        "--as",
        "第三方",
        "--at",
        "2025-11-06T09:00:00",
        *d,
    )
    out = run("evaluation", "compute", "r1", "--format", "json", "--at", "2025-11-07T09:00:00", *d)
    scores = {r["unit"]: r["score"] for r in json.loads(out)}
    assert scores["330203"] == 50.0
    run("evaluation", "review", "r1", "--at", "2025-11-07T10:00:00", *d)
    digest = run("evaluation", "publish", "r1", "--at", "2025-11-12T09:00:00", *d).strip()
    check = json.loads(run("evaluation", "verify", "r1", "--format", "json", *d))
    assert check["ok"] and check["digest"] == digest
    shown = json.loads(run("evaluation", "show", "r1", "--format", "json", *d))
    assert shown["status"] == "published" and shown["results"][0]["unit"] == "330102"
    listed = json.loads(run("evaluation", "list", "--format", "json", *d))
    assert [r["round_id"] for r in listed] == ["r1"]


def test_refused_change_prints_one_line_and_exits_2(db_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "govwatch.cli",
            "evaluation",
            "collect",
            "nope",
            "--db",
            db_url,
            "--as",
            account(db_url, "管理员"),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "nope" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
