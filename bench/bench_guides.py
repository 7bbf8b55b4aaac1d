"""Service-guide checks: 5,000 items' guides against 1M cases (issue 16, target ≤ 30 s).

A generated province of 1M cases (default rates: about a tenth of its 524 guides carry a
fault) is imported into a DuckDB file as ``govwatch guides check`` imports it into memory (the
file is kept, so that a re-run measures the check alone; the first run's load time is kept
beside it). Its catalog is
widened to 5,240 items: each generated item implemented ten times (item codes ending 01–10,
the same guide with its own code), and each case moved to one of its item's ten
implementations by a hash of its case id, so that the cases spread over every guide. The
measured time is :func:`govwatch.guides.checks.run_checks` (the three checks, all items, all
cases); the load is reported beside it.

Sizes scale with GOVWATCH_BENCH_SCALE.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import orjson

from bench.common import WORK, record, scaled, table, timer
from govwatch.events.ingest import import_events
from govwatch.generator import END_AT, generate, make_config
from govwatch.guides.checks import run_checks
from govwatch.items.ingest import import_catalog
from govwatch.storage import connect
from govwatch.timeutil import parse_timestamp

CASES = 1_000_000
COPIES = 10  # implementations per generated item: 524 × 10 = 5,240 guides
TARGET_SECONDS = 30.0


def province(cases: int, seed: int = 11) -> Path:
    folder = WORK / f"guides-{cases}-{seed}"
    if not (folder / "guides_truth.jsonl").exists():
        generate(make_config(cases, seed), folder)
    return folder


def widened_catalog(folder: Path) -> Path:
    """The catalog with every item implemented COPIES times (codes ending 01 … COPIES)."""
    out = folder / f"catalog-x{COPIES}.jsonl"
    if out.exists():
        return out
    lines = []
    for line in (folder / "catalog.jsonl").read_bytes().splitlines():
        item = orjson.loads(line)
        for n in range(1, COPIES + 1):
            twin = copy.deepcopy(item)
            twin["item_code"] = f"{item['item_code'][:-2]}{n:02d}"
            if isinstance(twin.get("guide"), dict) and "item_code" in twin["guide"]:
                twin["guide"]["item_code"] = twin["item_code"]
            lines.append(orjson.dumps(twin))
    out.write_bytes(b"\n".join(lines) + b"\n")
    return out


def loaded(folder: Path, catalog: Path) -> tuple[Path, float]:
    """The province in a DuckDB file (imported on the first run), and the import's seconds."""
    path = folder / f"x{COPIES}.duckdb"
    seconds = folder / f"x{COPIES}.load-seconds"
    if path.exists() and seconds.exists():
        return path, float(seconds.read_text())
    path.unlink(missing_ok=True)
    with timer() as load:
        db = connect(f"duckdb:///{path}")
        import_catalog(db, [catalog])
        import_events(db, [folder / "events.jsonl"])
        # each case to one of its item's implementations (DuckDB's hash of the case id)
        for name in ("events", "cases"):
            db.execute(
                f"UPDATE {name} SET item_code = substr(item_code, 1, length(item_code) - 2) "
                f"|| lpad(CAST(1 + hash(case_id) % {COPIES} AS VARCHAR), 2, '0') "
                "WHERE item_code IS NOT NULL"
            )
        db.execute("CHECKPOINT")
        db.close()
    seconds.write_text(f"{load():.1f}")
    return path, load()


def main() -> None:
    cases = scaled(CASES)
    folder = province(cases)
    path, load_s = loaded(folder, widened_catalog(folder))
    db = connect(f"duckdb:///{path}")
    items = int(db.scalar("SELECT count(*) FROM items"))
    events = int(db.scalar("SELECT count(*) FROM events"))
    with timer() as run:
        findings = run_checks(db, parse_timestamp(END_AT))
    db.close()
    checks = Counter(f.check for f in findings)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    target = TARGET_SECONDS * cases / CASES
    rows = [[
        f"{items:,}", f"{cases:,}", f"{events:,}", f"{load_s:.1f}",
        f"{run():.1f}", f"{run() / target:.2f}",
        f"{len(findings):,} ({checks['completeness']} / {checks['consistency']} / "
        f"{checks['practice']})",
    ]]  # fmt: skip
    body = table(
        [
            "guides",
            "cases",
            "events",
            "load s",
            "check s",
            "÷ target",
            "findings (完整性 / 一致性 / 实际)",
        ],
        rows,
    )
    body += (
        f"\n\nTarget: {TARGET_SECONDS:.0f} s for {CASES:,} cases (ratio = check time ÷ target, "
        "scaled to the run's size; below 1 meets it). DuckDB (a file; `govwatch guides check` "
        "imports the same way into memory); load = import of the catalog and events files, then "
        f"the cases spread over the widened catalog, on the run that made the file. The "
        f"province: seed 11, "
        f"{meta['items']} generated items each implemented {COPIES} times "
        f"({len(meta['guide_faults'])} generated guides with a fault, so about a tenth of the "
        "guides), every case moved to one of its item's implementations by a hash of its id. "
        "Check = `govwatch.guides.checks.run_checks`: completeness and consistency of every "
        "guide in Python, practice as set-based SQL over the events (the materials named, first "
        "step starts, payments, and the case clocks)."
    )
    record("guides", "Service-guide checks: 5,000 items' guides against 1M cases (issue 16)", body)


if __name__ == "__main__":
    main()
