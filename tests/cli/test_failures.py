"""No tracebacks for users: every command, given bad arguments, missing files and malformed files,
fails with one Chinese line and a documented exit code (``docs/cli.md``), never a traceback, never
click's English, never the internal-error code.

The commands are found by walking the click group, so a new command is covered without being
listed here. Each runs in-process through click's test runner against a real database on both
engines; a few cases run as real processes too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from govwatch.cli import cli
from govwatch.cli.failures import ExitCode
from govwatch.generator import generate, make_config
from govwatch.storage import connect
from tests.conftest import drop_pg_schema, pg_url

# click's English, as it would appear in a message or a help page
ENGLISH = (
    "Usage:",
    "Error:",
    "Options:",
    "Commands:",
    "Try '",
    "for help",
    "Missing option",
    "Missing argument",
    "Missing parameter",
    "No such command",
    "No such option",
    "Invalid value",
    "Show this message",
    "Show the version",
    "is not one of",
    "is not a valid",
    "does not exist",
    "is a directory",
    "Aborted!",
    "unexpected extra argument",
    "requires an argument",
    "default:",
    "[required]",
)
DOCUMENTED = {int(code) for code in ExitCode} - {int(ExitCode.INTERNAL)}
# these serve the web app (and build a demo province) when their arguments are right
NEVER_RUN = {("serve",), ("demo",)}


def leaves(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaves(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(leaves(cli))


def visible(command: click.Command) -> list[click.Parameter]:
    return [
        p
        for p in command.params
        if not (isinstance(p, click.Option) and p.hidden) and p.name != "help"
    ]


def check(result: Result, args: list[str]) -> None:
    """One Chinese line on failure, no traceback, no click English, a documented code."""
    shown = f"govwatch {' '.join(args)} → {result.exit_code}\n{result.output}"
    assert isinstance(result.exception, SystemExit | None), shown + f"\n{result.exc_info}"
    assert "Traceback (most recent call last)" not in result.output, shown
    assert not [w for w in ENGLISH if w in result.output], shown
    assert result.exit_code in DOCUMENTED, shown
    if result.exit_code not in (0, int(ExitCode.CHECK_FAILED)) and result.stderr.strip():
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("错误：")]
        help_page = result.stderr.lstrip().startswith("用法")
        assert help_page or len(errors) == 1, shown
        assert help_page or result.stderr.rstrip().splitlines()[-1].startswith("错误："), shown


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Malformed inputs of every kind a command reads."""
    out = tmp_path / "inputs"
    out.mkdir()
    made = {
        "missing": out / "no-such-file.jsonl",
        "utf8_jsonl": out / "latin1.jsonl",
        "utf8_csv": out / "latin1.csv",
        "utf8_yaml": out / "latin1.yaml",
        "broken_csv": out / "broken.csv",
        "broken_json": out / "broken.jsonl",
        "broken_yaml": out / "broken.yaml",
        "fake_xlsx": out / "fake.xlsx",
        "fake_parquet": out / "fake.parquet",
        "empty": out / "empty.csv",
        "directory": out / "a-directory",
    }
    made["utf8_jsonl"].write_bytes('{"case_id": "张三"}\n'.encode("gb18030") + b"\xff\xfe\n")
    made["utf8_csv"].write_bytes("case_id,kind\n办件,apply\n".encode("gb18030"))
    made["utf8_yaml"].write_bytes("name: 评估\n".encode("gb18030") + b"\xff\n")
    made["broken_csv"].write_text(
        'case_id,kind,occurred_at\n"C1,apply\nC2,"x"y",z\n', encoding="utf-8"
    )
    made["broken_json"].write_text('{"case_id": "C1", "kind": \n[1, 2\n', encoding="utf-8")
    made["broken_yaml"].write_text("a: [1, 2\n  b: {\n", encoding="utf-8")
    made["fake_xlsx"].write_bytes(b"not a zip file at all")
    made["fake_parquet"].write_bytes(b"PAR1 but not really")
    made["empty"].write_text("", encoding="utf-8")
    made["directory"].mkdir()
    return made


def filled(command: click.Command, path: Path | str | None = None) -> list[str]:
    """The command's required parameters with plausible values; every path ``path``."""
    args: list[str] = []
    for p in visible(command):
        given = p.required or (path is not None and isinstance(p.type, click.Path))
        if not given:
            continue
        if isinstance(p.type, click.Path):
            value = str(path if path is not None else "no-such-input.jsonl")
        elif isinstance(p.type, click.Choice):
            value = str(p.type.choices[0])
        elif isinstance(p.type, click.types.IntParamType | click.types.FloatParamType):
            value = "1"
        else:
            value = "x"
        if isinstance(p, click.Argument):
            args.append(value)
        elif isinstance(p, click.Option) and p.is_flag:
            args.append(p.opts[0])
        elif isinstance(p, click.Option):
            args += [p.opts[0], value]
    return args


def bad_values(command: click.Command) -> Iterator[tuple[str, str]]:
    """(option, value) pairs the option's type refuses."""
    for p in visible(command):
        if not isinstance(p, click.Option) or p.is_flag:
            continue
        if isinstance(p.type, click.Choice):
            yield p.opts[0], "no-such-choice"
        elif isinstance(p.type, click.types.IntParamType | click.types.FloatParamType):
            yield p.opts[0], "many"
        elif p.name == "at" or p.name in ("start", "end", "fill_deadline"):
            yield p.opts[0], "2026-13-45 25:61"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def shared_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per engine for the whole walk (a fresh one per command costs
    seconds on PostgreSQL, and the commands given bad input change nothing that matters)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('walk')}/govwatch.duckdb"
        connect(url).close()
        yield url
        return
    url = pg_url()
    connect(url).close()
    yield url
    cleanup = connect(url, migrate=False)
    drop_pg_schema(cleanup)
    cleanup.close()


@pytest.fixture
def runner(shared_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    return CliRunner(env={"GOVWATCH_DB": shared_db, "COLUMNS": "100"})


def run(runner: CliRunner, args: list[str]) -> Result:
    result = runner.invoke(cli, args, input="")
    check(result, args)
    return result


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_fails_in_one_chinese_line(
    path: tuple[str, ...], runner: CliRunner, files: dict[str, Path]
) -> None:
    command = dict(COMMANDS)[path]
    words = list(path)

    result = run(runner, [*words, "--no-such-option"])
    assert result.exit_code == ExitCode.INPUT and "没有选项" in result.stderr

    assert run(runner, [*words, "--help"]).exit_code == 0
    assert run(runner, [*words, "extra", "arguments", "here", "--"]).exit_code in DOCUMENTED

    if any(p.required for p in visible(command)):
        assert run(runner, words).exit_code == ExitCode.INPUT

    for option, value in bad_values(command):
        assert run(runner, [*words, *filled(command), option, value]).exit_code != 0

    if path in NEVER_RUN:
        return
    run(runner, [*words, *filled(command)])
    if any(isinstance(p.type, click.Path) for p in visible(command)):
        for bad in files.values():
            run(runner, [*words, *filled(command, bad)])


def test_groups_without_a_command_show_their_help_in_chinese(runner: CliRunner) -> None:
    for args in ([], ["import"], ["evaluation", "ratings"]):
        result = runner.invoke(cli, args)
        check(result, args)
        assert result.exit_code == ExitCode.INPUT and result.stderr.startswith("用法:")


def test_no_such_command_names_it(runner: CliRunner) -> None:
    result = run(runner, ["imprt", "events"])
    assert result.exit_code == ExitCode.INPUT
    assert result.stderr.strip().splitlines() == [
        "错误：没有命令“imprt”（是否想用：'import'？）（govwatch）；用 govwatch --help 查看用法"
    ]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    generate(make_config(200, 3, workers=1), out)
    return out


def test_a_custom_rule_whose_sql_breaks_is_one_line(
    runner: CliRunner, province: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "custom:\n  - {id: breaks, class: process, type: 过程异常, level: yellow,\n"
        '     description: 办件编号当作整数, expression: "CAST(case_id AS INTEGER) > 0"}\n',
        encoding="utf-8",
    )
    args = [
        "audit",
        "--catalog",
        str(province / "catalog.jsonl"),
        "--events",
        str(province / "events.jsonl"),
        "--rules",
        str(rules),
        "--at",
        "2026-06-30T18:00:00",
    ]
    result = run(runner, args)
    if result.exit_code:
        assert result.exit_code in (ExitCode.INPUT, ExitCode.DATABASE_ERROR)


def test_debug_shows_the_traceback_and_the_same_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    base = [
        sys.executable,
        "-m",
        "govwatch.cli",
        "evaluate",
        "--system",
        str(bad),
        "--values",
        str(bad),
    ]
    plain = subprocess.run(base, capture_output=True, text=True, check=False, cwd=tmp_path)
    debug = subprocess.run(
        [*base, "--debug"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    env_debug = subprocess.run(
        base, capture_output=True, text=True, check=False, cwd=tmp_path,
        env={**os.environ, "GOVWATCH_DEBUG": "1"},
    )  # fmt: skip
    assert plain.returncode == debug.returncode == env_debug.returncode == ExitCode.INPUT
    assert "Traceback" not in plain.stderr and len(plain.stderr.strip().splitlines()) == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "Traceback (most recent call last)" in env_debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1] == plain.stderr.strip()


def test_a_closed_pipe_ends_quietly(tmp_path: Path, province: Path) -> None:
    audit = (
        f"{sys.executable} -m govwatch.cli audit --catalog {province / 'catalog.jsonl'} "
        f"--events {province / 'events.jsonl'} --at 2026-06-30T18:00:00 | head -1"
    )
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", audit],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "错误" not in done.stderr


def test_a_duckdb_file_held_by_another_process_is_exit_code_3(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    connect(f"duckdb:///{path}").close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        base = [sys.executable, "-m", "govwatch.cli"]
        status = subprocess.run(
            [*base, "calendar", "status", "--db", f"duckdb:///{path}"],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
        doctor = subprocess.run(
            [*base, "doctor", "--db", f"duckdb:///{path}"],
            capture_output=True, text=True, check=False, cwd=tmp_path,
        )  # fmt: skip
    finally:
        holder.communicate("", timeout=30)
    assert status.returncode == ExitCode.DATABASE_UNAVAILABLE
    assert len(status.stderr.strip().splitlines()) == 1 and "另一个进程" in status.stderr
    assert doctor.returncode == ExitCode.CHECK_FAILED
    assert doctor.stdout.startswith("✗ 数据库：无法打开") and "Traceback" not in doctor.stderr
