"""Progress bars on a terminal, nothing off one: ``govwatch import events``, ``audit``,
``generate`` run as real processes with stderr on a pseudo-terminal, then on a pipe."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from govwatch.generator import generate, make_config

BAR = "━"  # rich's bar


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    generate(make_config(300, 7, workers=1), out)
    return out


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FORCE_TERMINAL", "NO_COLOR", "TTY_COMPATIBLE")
    }
    return {**env, "COLUMNS": "140", "TERM": "xterm-256color"}


def run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``govwatch ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, terminal)."""
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "govwatch.cli", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        cwd=cwd,
        env=_env(),
    )
    os.close(follower)
    seen = bytearray()
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 120)
            if not ready:
                proc.kill()
                raise AssertionError("no output on the terminal for 120 s")
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            seen += chunk
        stdout = proc.stdout.read().decode() if proc.stdout else ""
        code = proc.wait(timeout=120)
    finally:
        os.close(leader)
        if proc.stdout:
            proc.stdout.close()
    return code, stdout, seen.decode("utf-8", errors="replace")


def run_piped(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        check=False,
        timeout=300,
    )


def events_in(province: Path) -> int:
    return sum(1 for _ in (province / "events.jsonl").open(encoding="utf-8"))


def test_import_draws_a_bar_on_a_terminal_and_nothing_on_a_pipe(
    db_url: str, province: Path, tmp_path: Path
) -> None:
    n = events_in(province)
    catalog = ["import", "catalog", str(province / "catalog.jsonl"), "--db", db_url]
    assert run_piped(catalog, tmp_path).returncode == 0

    code, stdout, terminal = run_on_terminal(
        ["import", "events", str(province / "events.jsonl"), "--db", db_url], tmp_path
    )
    assert code == 0, terminal
    assert "导入办件事件" in terminal and BAR in terminal
    assert f"{n}/{n}" in terminal  # the count, ending at the records read
    assert "条/秒" in terminal and "已用" in terminal  # the rate and the time
    assert f"读取 {n} 条" in terminal  # the summary line is still there
    assert stdout == ""

    piped = run_piped(
        ["import", "events", str(province / "events.jsonl"), "--db", db_url], tmp_path
    )
    assert piped.returncode == 0, piped.stderr
    assert BAR not in piped.stderr and "条/秒" not in piped.stderr and "\x1b[" not in piped.stderr
    assert piped.stderr.strip().splitlines() == [
        f"办件事件：读取 {n} 条，应用 0 条，重复 {n} 条，隔离 0 条"
    ]


def test_quiet_draws_nothing_even_on_a_terminal(
    db_url: str, province: Path, tmp_path: Path
) -> None:
    code, _, terminal = run_on_terminal(
        ["--quiet", "import", "events", str(province / "events.jsonl"), "--db", db_url], tmp_path
    )
    assert code == 0, terminal
    assert BAR not in terminal and "条/秒" not in terminal and "读取" in terminal
    code, _, terminal = run_on_terminal(
        ["import", "events", str(province / "events.jsonl"), "--db", db_url, "-q"], tmp_path
    )
    assert code == 0 and BAR not in terminal


def test_audit_and_generate_draw_bars_and_keep_stdout_clean(province: Path, tmp_path: Path) -> None:
    n = events_in(province)
    audit = [
        "audit",
        "--catalog",
        str(province / "catalog.jsonl"),
        "--events",
        str(province / "events.jsonl"),
        "--at",
        "2026-06-30T18:00:00",
    ]
    code, stdout, terminal = run_on_terminal(audit, tmp_path)
    assert code == 0, terminal
    assert "读取办件事件" in terminal and f"{n}/{n}" in terminal and "运行监察规则" in terminal
    assert stdout and all(line.startswith("{") for line in stdout.splitlines())
    assert run_piped(audit, tmp_path).stdout == stdout

    code, _, terminal = run_on_terminal(
        ["generate", "--cases", "50", "--out", str(tmp_path / "p"), "--workers", "1"], tmp_path
    )
    assert code == 0, terminal
    assert "生成合成省份" in terminal and "50/50" in terminal and "件/秒" in terminal
