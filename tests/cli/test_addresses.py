"""Database addresses: plain paths, ``duckdb:///relative``, ``duckdb:////absolute``; a warning
when an address looks absolute but reads relative; other kinds refused. Real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from govwatch.storage import duckdb_path, misread_absolute


def govwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GOVWATCH_DB"}
    return subprocess.run(
        [sys.executable, "-m", "govwatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("address", "path"),
    [
        ("duckdb:///data/x.duckdb", "data/x.duckdb"),
        ("duckdb:////srv/gw/x.duckdb", "/srv/gw/x.duckdb"),
        ("data/x.duckdb", "data/x.duckdb"),
        ("/srv/gw/x.duckdb", "/srv/gw/x.duckdb"),
        ("duckdb:///:memory:", ":memory:"),
        (":memory:", ":memory:"),
    ],
)
def test_addresses_name_the_file_sqlalchemy_style(address: str, path: str) -> None:
    assert duckdb_path(address) == path


def test_home_expands() -> None:
    assert duckdb_path("~/gw.duckdb") == str(Path.home() / "gw.duckdb")


def test_only_a_three_slash_address_whose_first_directory_is_at_the_root_is_misread() -> None:
    assert misread_absolute("duckdb:///tmp/x.duckdb") == ("tmp/x.duckdb", "duckdb:////tmp/x.duckdb")
    assert misread_absolute("duckdb:////tmp/x.duckdb") is None
    assert misread_absolute(f"duckdb:///no-such-dir-{uuid.uuid4().hex}/x.duckdb") is None
    assert misread_absolute("duckdb:///x.duckdb") is None
    assert misread_absolute("/tmp/x.duckdb") is None
    assert misread_absolute("duckdb:///:memory:") is None


def test_three_slashes_before_an_existing_root_directory_warn_and_read_relative(
    tmp_path: Path,
) -> None:
    name = f"gw-{uuid.uuid4().hex[:8]}"
    result = govwatch("calendar", "status", "--db", f"duckdb:///tmp/{name}/x.duckdb", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        f"提示：数据库地址 duckdb:///tmp/{name}/x.duckdb 按相对路径 tmp/{name}/x.duckdb 解读；"
        f"如指绝对路径请写 duckdb:////tmp/{name}/x.duckdb"
    ) in result.stderr
    assert (tmp_path / "tmp" / name / "x.duckdb").exists()
    assert not Path("/tmp", name).exists()


def test_four_slashes_and_plain_paths_open_the_file_they_name_without_warning(
    tmp_path: Path,
) -> None:
    absolute = tmp_path / "abs" / "x.duckdb"
    four = govwatch("calendar", "status", "--db", f"duckdb:///{absolute}", cwd=tmp_path)
    assert four.returncode == 0 and "提示" not in four.stderr
    assert absolute.exists()

    plain = govwatch("calendar", "status", "--db", "plain/y.duckdb", cwd=tmp_path)
    assert plain.returncode == 0 and "提示" not in plain.stderr
    assert (tmp_path / "plain" / "y.duckdb").exists()

    env_address = subprocess.run(
        [sys.executable, "-m", "govwatch.cli", "calendar", "status"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "GOVWATCH_DB": str(tmp_path / "env.duckdb")},
        check=False,
        timeout=120,
    )
    assert env_address.returncode == 0 and (tmp_path / "env.duckdb").exists()


def test_an_address_of_another_kind_is_refused_in_one_line(tmp_path: Path) -> None:
    result = govwatch("calendar", "status", "--db", "mysql://u@h/db", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "错误：数据库地址 mysql://u@h/db 的类型“mysql”不受支持：应为 duckdb:///相对路径、"
        "duckdb:////绝对路径、文件路径或 postgresql://…"
    ]
    assert not list(tmp_path.iterdir())


def test_help_documents_the_address_forms(tmp_path: Path) -> None:
    result = govwatch("import", "events", "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = "".join(result.stdout.split())
    assert "duckdb:///相对路径" in text and "duckdb:////绝对路径（四条斜线）" in text
    assert "GOVWATCH_DB" in text
