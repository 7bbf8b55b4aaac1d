"""Benchmark: generating a synthetic province of 1 million cases (target ≤ 60 s).

Writes into ``$GOVWATCH_BENCH_DIR/generate`` (default /tmp/govwatch-bench). Reports wall
time, CPU time of all processes, events per second and output sizes. The baseline named by
the issue is the target itself (60 s for 1M cases); the ratio is measured / target. A
single-process run of a 50,000-case slice is measured in the same run to show the gain of
the chunk-parallel writer.
"""

from __future__ import annotations

import os
import resource
import shutil

from bench.common import WORK, record, scaled, table, timer
from govwatch.generator import generate, make_config

TARGET_SECONDS = 60.0
CASES = 1_000_000


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _run(cases: int, workers: int, out: str) -> tuple[float, float, int, int]:
    shutil.rmtree(out, ignore_errors=True)
    cpu0 = _cpu_seconds()
    with timer() as elapsed:
        summary = generate(make_config(cases, seed=2025, workers=workers), out)
    return elapsed(), _cpu_seconds() - cpu0, summary.events, summary.bytes_written


def main() -> None:
    cases = scaled(CASES)
    base = str(WORK / "generate")
    slice_cases = min(cases, 50_000)
    s_wall, s_cpu, s_events, _ = _run(slice_cases, 1, base + "-serial")
    wall, cpu, events, size = _run(cases, 0, base)
    sizes = {
        name: os.path.getsize(os.path.join(base, name))
        for name in ("catalog.jsonl", "events.jsonl", "truth.jsonl")
    }
    shutil.rmtree(base + "-serial", ignore_errors=True)
    full_estimate = TARGET_SECONDS * cases / CASES
    rows = [
        [f"{cases:,} cases, {os.cpu_count()} workers", f"{wall:.1f}", f"{cpu:.1f}", f"{events:,}",
         f"{events / wall:,.0f}", f"{wall / full_estimate:.2f}"],
        [f"{slice_cases:,} cases, 1 process", f"{s_wall:.1f}", f"{s_cpu:.1f}", f"{s_events:,}",
         f"{s_events / s_wall:,.0f}", "–"],
    ]  # fmt: skip
    body = table(["run", "wall s", "CPU s", "events", "events/s", "÷ target"], rows)
    body += (
        f"\n\nTarget: {TARGET_SECONDS:.0f} s for {CASES:,} cases (ratio = wall time ÷ target, scaled to "
        f"the run's size; below 1 meets it). Output: events.jsonl {sizes['events.jsonl'] / 2**20:,.0f} MiB, "
        f"truth.jsonl {sizes['truth.jsonl'] / 2**20:,.1f} MiB, catalog.jsonl {sizes['catalog.jsonl'] / 2**10:,.0f} KiB, "
        f"{size / 2**20:,.0f} MiB in all. Parallel speed-up over one process: "
        f"{(events / wall) / (s_events / s_wall):.2f}×. CPU is shared with other work on this machine, so wall "
        f"time includes waiting for it; CPU time of all processes ÷ {os.cpu_count()} cores = "
        f"{cpu / (os.cpu_count() or 1):.1f} s is the wall time on an otherwise idle machine."
    )
    record("generate", "Generator: 1 million cases", body)


if __name__ == "__main__":
    main()
