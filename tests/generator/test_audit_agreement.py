"""End to end: ``govwatch audit --at END_AT`` over a generated province reports exactly its truth."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.generator import END_AT, generate, make_config


def findings(lines: bytes) -> set[tuple[str, str, str, str]]:
    out = set()
    for line in lines.splitlines():
        if line.strip():
            f = orjson.loads(line)
            out.add((f["case_id"], f["rule"], f["key"], f["level"]))
    return out


def test_audit_at_end_reports_exactly_the_truth(tmp_path: Path) -> None:
    generate(
        make_config(1500, seed=21, violation_rate=0.045, compact_time_share=0.05, workers=1),
        tmp_path,
    )
    result = CliRunner().invoke(cli, [
        "audit", "--catalog", str(tmp_path / "catalog.jsonl"), "--events", str(tmp_path / "events.jsonl"),
        "--at", END_AT, "--format", "jsonl",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    reported = findings(result.stdout.encode())
    truth = findings((tmp_path / "truth.jsonl").read_bytes())
    assert reported - truth == set(), "reported but not injected"
    assert truth - reported == set(), "injected but not reported"
