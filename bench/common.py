"""Shared helpers for benchmarks: machine description, timing, and recording into docs/benchmarks.md.

Each benchmark owns one section of ``docs/benchmarks.md``, delimited by
``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->``; re-running it replaces only its section.
"""

from __future__ import annotations

import os
import platform
import re
import resource
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
WORK = Path(os.environ.get("GOVWATCH_BENCH_DIR", "/tmp/govwatch-bench"))
# Benchmarks scale down with GOVWATCH_BENCH_SCALE (e.g. 0.1) for a quick look; the recorded
# results in docs/benchmarks.md are at scale 1 unless the section says otherwise.
SCALE = float(os.environ.get("GOVWATCH_BENCH_SCALE", "1"))

HEADER = """# Benchmarks

Every number here was measured by `make bench` (or one `bench/bench_*.py`) on the machine and at
the date stated in its section. Targets come from the issues; ratios compare with the baseline
the issue names, measured in the same run. Timings never appear in tests.
"""


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, Python {platform.python_version()}"
    )


def git_rev() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            or "uncommitted"
        )
    except OSError:
        return "unknown"


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def peak_rss_mib(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def record(name: str, title: str, body: str) -> None:
    """Write (or replace) this benchmark's section of docs/benchmarks.md."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    scale_note = f" (scale {SCALE})" if SCALE != 1 else ""
    load = os.getloadavg()[0]
    section = (
        f"<!-- bench:{name} -->\n## {title}\n\n"
        f"Measured {stamp} on {machine()}, commit {git_rev()}{scale_note}; load average "
        f"{load:.1f} when it finished (2 cores: above 2 means other work shared the CPU).\n\n"
        f"{body.strip()}\n<!-- /bench:{name} -->"
    )
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    DOC.write_text(text, encoding="utf-8")
    print(section)


def table(headers: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def remove_worktrees(*checkouts: Path | None) -> None:
    """Remove the git worktrees a benchmark made to measure other revisions (None: none made)."""
    for checkout in checkouts:
        if checkout is not None:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(checkout)],
                cwd=Path(__file__).resolve().parent.parent,
                check=False,
            )
