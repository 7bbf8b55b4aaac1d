"""Generated provinces for the rule tests, and the truth they carry."""

from __future__ import annotations

import json
from pathlib import Path

from govwatch.generator.config import make_config
from govwatch.generator.writer import generate
from govwatch.rules.model import Finding
from govwatch.timeutil import parse_timestamp

Identity = tuple[str, str, str, str]


def make_province(folder: Path, cases: int, seed: int) -> Path:
    generate(make_config(cases, seed, workers=1), folder)
    return folder


def truth(folder: Path) -> set[Identity]:
    out = set()
    for line in (folder / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        out.add((t["case_id"], t["rule"], t["key"], t["level"]))
    return out


def end_at(folder: Path):  # type: ignore[no-untyped-def]
    return parse_timestamp(json.loads((folder / "meta.json").read_text())["end_at"])


def identities(findings: list[Finding]) -> set[Identity]:
    return {(f.case_id, f.rule, f.key, f.level) for f in findings}
