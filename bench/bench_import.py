"""Import throughput and memory: 10M events into DuckDB and PostgreSQL; peak RSS on a ≥ 2 GB file.

Targets (issue 2): ≥ 100k events/s into DuckDB, ≥ 30k events/s into PostgreSQL, ≤ 1 GB RSS
while importing a file of at least 2 GB. The event file is synthetic but realistic in shape
(the ten kinds a typical case has, personal data, materials), written by this script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from bench.common import WORK, record, scaled, table

EVENTS = scaled(10_000_000)
ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("GOVWATCH_BENCH_PG", "postgresql://root@127.0.0.1:5432/test")


def write_events(path: Path, n_events: int) -> None:
    """About 10 events per case: apply, accept, steps, payment, finish, rating."""
    marker = path.with_suffix(".n")
    stamp = f"{n_events} v2"
    if path.exists() and marker.exists() and marker.read_text() == stamp:
        return
    start = datetime(2025, 3, 3, 9, 0)
    kinds = [
        "apply",
        "accept",
        "step_start",
        "step_end",
        "step_start",
        "step_end",
        "step_start",
        "step_end",
        "finish",
        "rating",
    ]
    with path.open("wb") as out:
        buf = []
        for i in range(n_events):
            case, k = divmod(i, len(kinds))
            kind = kinds[k]
            at = start + timedelta(minutes=(case % 500_000) + k * 37)
            rec: dict[str, object] = {
                "event_id": f"E{i:010d}",
                "case_id": f"C{case:09d}",
                "kind": kind,
                "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                "actor": f"U{case % 977}",
                "org_code": f"ORG{case % 50:03d}",
            }
            if kind in ("apply", "accept"):
                rec["item_code"] = f"ITEM{case % 300:04d}"
            if kind == "apply":
                rec.update(
                    applicant_type="1",
                    applicant_name="张三丰",
                    applicant_id="110101199003071234",
                    phone="13812345678",
                    channel="2",
                    materials=[
                        {"name": "营业执照", "provided": True},
                        {"name": "身份证", "provided": True},
                    ],
                )
            elif kind.startswith("step"):
                rec["step"] = ["受理", "审查", "决定"][(k - 2) // 2]
                if kind == "step_end":
                    rec.update(action="pass", opinion="同意")
            elif kind == "finish":
                rec.update(result="6", reason="符合条件")
            elif kind == "rating":
                rec.update(level="1", channel="移动端", text="办理速度快，窗口人员态度很好，满意")
            buf.append(orjson.dumps(rec))
            if len(buf) >= 100_000:
                out.write(b"\n".join(buf) + b"\n")
                buf = []
        if buf:
            out.write(b"\n".join(buf) + b"\n")
    marker.write_text(stamp)


def run_import(db_url: str, path: Path) -> tuple[float, float, str]:
    """Import in a child process; return (seconds, peak RSS MiB, report line)."""
    code = (
        "import sys, time, resource, orjson\n"
        "from govwatch.storage import connect\n"
        "from govwatch.events.ingest import import_events\n"
        "db = connect(sys.argv[1])\n"
        "t = time.perf_counter()\n"
        "r = import_events(db, [sys.argv[2]])\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(orjson.dumps({'s': dt, 'rss': rss, 'applied': r.applied, 'dup': r.duplicates,"
        " 'q': r.quarantined}).decode())\n"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", code, db_url, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    data = orjson.loads(out)
    return (
        float(data["s"]),
        float(data["rss"]),
        f"applied {data['applied']}, quarantined {data['q']}",
    )


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "import-events.jsonl"
    t = time.perf_counter()
    write_events(path, EVENTS)
    size_gb = path.stat().st_size / 1e9
    print(
        f"event file: {EVENTS} events, {size_gb:.2f} GB ({time.perf_counter() - t:.0f} s)",
        file=sys.stderr,
    )
    rows = []
    duck = WORK / "import.duckdb"
    for suffix in ("", ".wal"):
        Path(str(duck) + suffix).unlink(missing_ok=True)
    secs, rss, note = run_import(f"duckdb:///{duck}", path)
    rows.append(
        [
            "DuckDB",
            f"{EVENTS:,}",
            f"{secs:.1f}",
            f"{EVENTS / secs:,.0f}",
            "≥ 100,000",
            f"{rss:,.0f}",
            note,
        ]
    )
    schema = f"bench_import_{os.getpid()}"
    secs, rss_pg, note = run_import(f"{PG}?schema={schema}", path)
    rows.append(
        [
            "PostgreSQL",
            f"{EVENTS:,}",
            f"{secs:.1f}",
            f"{EVENTS / secs:,.0f}",
            "≥ 30,000",
            f"{rss_pg:,.0f}",
            note,
        ]
    )
    subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "root",
            "-d",
            "test",
            "-qc",
            f"DROP SCHEMA IF EXISTS {schema} CASCADE",
        ],
        check=False,
    )
    body = table(
        ["engine", "events", "seconds", "events/s", "target", "peak RSS MiB", "result"], rows
    )
    body += (
        f"\n\nThe file is {size_gb:.2f} GB of JSON Lines ({EVENTS:,} events of {EVENTS // 10:,} cases). "
        "Peak RSS is the importing process's maximum resident set (target ≤ 1 GB on a file of at "
        "least 2 GB); the DuckDB figure includes the database's own buffer pool and the "
        "duplicate check on `event_id`. The import here is the event store alone "
        "(`import_events`, not the live pipeline): clocks and rules of the touched cases are measured by their own "
        "benchmarks (clocks, audit)."
    )
    record("import", "Import: 10 million events", body)


if __name__ == "__main__":
    main()
