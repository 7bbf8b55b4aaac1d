"""Batch audit of generated provinces: DuckDB scaling, PostgreSQL, Spark local, and a naive
per-case pandas baseline for case_overdue and near_deadline (the live path: bench_live.py).

Sizes scale with GOVWATCH_BENCH_SCALE; GOVWATCH_BENCH_AUDIT_PARTS (comma list of duckdb,
duckdb5m, pg, spark, pandas, stateless, stateless1m) limits what runs. Each part records its
own section.

``stateless`` (issue 17 target 2): ``govwatch audit --catalog --events --at`` end to end as a
user runs it (a child process, its output discarded), at 100k cases (``stateless1m``: and 1M),
beside its phases measured in this process (catalog, events, rules) and the floor (DuckDB's
own read of the same events file, :func:`bench.bench_import.run_floor`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

from bench.common import WORK, record, scaled, table, timer
from govwatch.generator.config import make_config
from govwatch.generator.writer import generate
from govwatch.live.pipeline import load_memory
from govwatch.rules.engine import audit
from govwatch.timeutil import parse_timestamp

PARTS = set(
    os.environ.get("GOVWATCH_BENCH_AUDIT_PARTS", "duckdb,duckdb5m,pg,spark,pandas").split(",")
)
BATCH = 500
PG_TIMEOUT_S = int(os.environ.get("GOVWATCH_BENCH_PG_TIMEOUT", "900"))  # per statement


def province(cases: int, seed: int = 11) -> Path:
    folder = WORK / f"audit-{cases}-{seed}"
    if not (folder / "meta.json").exists():
        generate(make_config(cases, seed), folder)
    return folder


def end_at(folder: Path) -> datetime:
    return parse_timestamp(json.loads((folder / "meta.json").read_text())["end_at"])


def duckdb_run(folder: Path) -> tuple[float, tuple[float, int]]:
    """Load and audit on in-memory DuckDB: (load s, (audit s, findings))."""
    with timer() as load:
        db = load_memory([folder / "catalog.jsonl"], [folder / "events.jsonl"])
    with timer() as run:
        findings = audit(db, end_at(folder))
    db.close()
    return load(), (run(), len(findings))


def stateless_run(folder: Path) -> list[object]:
    """The CLI end to end, its phases, and the floor: one table row."""
    from bench.bench_import import run_floor
    from govwatch.events.ingest import import_events
    from govwatch.items.ingest import import_catalog
    from govwatch.storage import connect_memory

    at = end_at(folder).isoformat(sep=" ")
    command = [
        sys.executable,
        "-m",
        "govwatch.cli",
        "audit",
        "--catalog",
        str(folder / "catalog.jsonl"),
    ]
    command += ["--events", str(folder / "events.jsonl"), "--at", at, "--format", "jsonl"]
    with timer() as whole:
        done = subprocess.run(command, capture_output=True, check=True)
    findings = done.stdout.count(b"\n")
    db = connect_memory()
    with timer() as catalog:
        import_catalog(db, [folder / "catalog.jsonl"])
    with timer() as events:
        report = import_events(db, [folder / "events.jsonl"])
    with timer() as rules:
        audit(db, end_at(folder))
    db.close()
    floor_s, _ = run_floor(folder / "events.jsonl")
    return [
        f"{report.read:,}",
        f"{whole():.1f}",
        f"{catalog():.1f}",
        f"{events():.1f} ({report.read / events():,.0f}/s)",
        f"{rules():.1f}",
        f"{floor_s:.1f}",
        f"{events() / floor_s:.2f}×",
        findings,
    ]


def pandas_baseline(folder: Path) -> tuple[float, int]:
    """Per case in Python: the clock of case_overdue and near_deadline, day by day."""
    import pandas as pd

    db = load_memory([folder / "catalog.jsonl"], [folder / "events.jsonl"])
    at = end_at(folder)
    cal = db.arrow("SELECT on_date, is_workday FROM calendar").to_pandas()
    work = dict(zip(cal["on_date"], cal["is_workday"], strict=True))
    items = (
        db.arrow("SELECT item_code, promised_limit, legal_limit, promised_limit_unit FROM items")
        .to_pandas()
        .set_index("item_code")
    )
    events = db.arrow(
        "SELECT case_id, kind, item_code, occurred_at FROM events WHERE occurred_at <= "
        f"TIMESTAMP '{at.isoformat(sep=' ')}' AND kind IN ('accept', 'finish')"
    ).to_pandas()
    db.close()
    found = 0
    with timer() as run:
        for _case_id, group in events.groupby("case_id"):
            acc = group[group["kind"] == "accept"]
            if acc.empty or acc["item_code"].iloc[0] not in items.index:
                continue
            item = items.loc[acc["item_code"].iloc[0]]
            start = pd.Timestamp(acc["occurred_at"].min()).date()
            fin = group[group["kind"] == "finish"]
            end = pd.Timestamp(fin["occurred_at"].min()).date() if not fin.empty else at.date()
            elapsed, day = 0, start
            while day < end:
                day = day + pd.Timedelta(days=1)
                if work.get(day, day.weekday() < 5):
                    elapsed += 1
            remaining = int(item["promised_limit"] or 0) - elapsed
            if remaining < 0 or (fin.empty and remaining <= 2):
                found += 1
    return run(), found


def pg_run(folder: Path) -> tuple[float, float, int]:
    from govwatch.events.ingest import import_events
    from govwatch.items.ingest import import_catalog
    from govwatch.storage import connect

    db = connect(f"postgresql://root@127.0.0.1:5432/test?schema=bench_{uuid.uuid4().hex[:8]}")
    try:
        with timer() as load:
            import_catalog(db, [folder / "catalog.jsonl"])
            import_events(db, [folder / "events.jsonl"])
        db.execute(f"SET statement_timeout = '{PG_TIMEOUT_S * 1000}'")
        with timer() as run:
            findings = audit(db, end_at(folder))
        return load(), run(), len(findings)
    finally:
        db.execute(f"DROP SCHEMA {db.schema} CASCADE")
        db.close()


def spark_run(folder: Path) -> tuple[float, int]:
    db = load_memory([folder / "catalog.jsonl"], [folder / "events.jsonl"])
    audit(db, end_at(folder), engine="spark")  # warm the session
    with timer() as run:
        findings = audit(db, end_at(folder), engine="spark")
    db.close()
    return run(), len(findings)


def _save(name: str, title: str, rows: list[list[object]], notes: list[str]) -> None:
    """Record what has been measured so far (a later, slower part cannot lose it)."""
    body = table(["engine", "cases", "load s", "audit s", "findings"], rows) if rows else ""
    record(name, title, body + "\n\n" + "\n\n".join(notes))


def main() -> None:
    base_size = scaled(1_000_000)
    small = scaled(100_000)
    run_small = 0.0
    notes = [
        "One `govwatch audit`-equivalent run (`rules.engine.audit`, all 21 default rules) "
        "over a generated province loaded into in-memory DuckDB; load = import of the "
        "catalog and events files."
    ]
    if "duckdb" in PARTS:
        rows: list[list[object]] = []
        for size in (small, base_size):
            load_s, run_s = duckdb_run(province(size))
            run_small = run_s[0] if size == small else run_small
            target = f" ({run_s[0] / 30:.2f}× the 30 s target)" if size == base_size else ""
            rows.append(
                ["DuckDB", f"{size:,}", f"{load_s:.1f}", f"{run_s[0]:.1f}{target}", run_s[1]]
            )
            _save("audit", "Batch audit on DuckDB: 100k and 1M cases (issue 4)", rows, notes)
    if "pandas" in PARTS:
        folder = province(small)
        pandas_s, _ = pandas_baseline(folder)
        if not run_small:
            run_small = duckdb_run(folder)[1][0]
        _save(
            "audit-baseline",
            "Batch audit baseline: naive per-case pandas (issue 4)",
            [],
            [
                f"Naive per-case pandas loop for case_overdue and near_deadline on {small:,} "
                f"cases: {pandas_s:.1f} s; the whole 21-rule SQL audit of the same data on "
                f"DuckDB in the same run: {run_small:.1f} s (ratio "
                f"{pandas_s / max(run_small, 1e-9):.1f}×)."
            ],
        )
    if "spark" in PARTS:
        # 2g broadcasts out of memory at 100k cases (6g is now also the session default)
        os.environ.setdefault("GOVWATCH_SPARK_DRIVER_MEMORY", "6g")
        title = "Batch audit on Spark local[2] (issue 4)"
        try:
            spark_s, n = spark_run(province(small))
            _save(
                "audit-spark",
                title,
                [["Spark local[2]", f"{small:,}", "–", f"{spark_s:.1f}", n]],
                [
                    "The second audit of one session (the first warms the JVM and caches); the "
                    "same rule SQL, transpiled by sqlglot."
                ],
            )
        except Exception as exc:  # a failure is a result too
            _save(
                "audit-spark",
                title,
                [],
                [f"Spark local at {small:,} cases failed: {str(exc)[:300]}"],
            )
    if "pg" in PARTS:
        title = "Batch audit on PostgreSQL: 1M cases (issue 4)"
        try:
            load_s, run_pg, n = pg_run(province(base_size))
            rows = [["PostgreSQL", f"{base_size:,}", f"{load_s:.1f}", f"{run_pg:.1f}", n]]
            _save("audit-pg", title, rows, ["Load = `govwatch import` into a fresh schema (COPY)."])
        except Exception as exc:  # a timeout is a result too
            _save(
                "audit-pg", title, [], [f"PostgreSQL at {base_size:,} cases did not finish: {exc}"]
            )

    if "stateless" in PARTS or "stateless1m" in PARTS:
        sizes = [small] + ([base_size] if "stateless1m" in PARTS else [])
        rows = []
        for size in sizes:
            rows.append([f"{size:,}", *stateless_run(province(size))])
            record(
                "audit-stateless",
                "Stateless `govwatch audit` end to end (issue 17 target 2)",
                table(
                    [
                        "cases",
                        "events",
                        "`govwatch audit` s",
                        "catalog s",
                        "events s",
                        "rules s",
                        "floor s",
                        "events / floor",
                        "findings",
                    ],
                    rows,
                )
                + "\n\n`govwatch audit --catalog … --events … --at END --format jsonl` in a "
                "child process, output discarded (targets: 100k cases ≤ 8 s, 1M ≤ 80 s). The "
                "phases are measured again in the benchmark's own process (in-memory DuckDB: "
                "catalog import, event import, the 21 rules); floor: DuckDB's own `read_json` "
                "of the same events file, all fields as explicit VARCHAR columns, ordered by "
                "case, in the same run.",
            )

    if "duckdb5m" in PARTS:  # last: the longest part, recorded in its own section
        size = scaled(5_000_000)
        load_s, run_s = duckdb_run(province(size))
        _save(
            "audit-5m",
            "Batch audit on DuckDB: 5M cases, the scaling point (issue 4)",
            [["DuckDB", f"{size:,}", f"{load_s:.1f}", f"{run_s[0]:.1f}", run_s[1]]],
            notes,
        )


if __name__ == "__main__":
    main()
