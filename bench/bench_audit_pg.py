"""The batch audit on PostgreSQL (issue 17 target 3: the 1M-case audit ≤ 90 s): both paths in
one run over the same store.

For each size (GOVWATCH_BENCH_AUDIT_PG_SIZES, default ``100000,1000000``, scaled by
GOVWATCH_BENCH_SCALE): a generated province imported into a fresh PostgreSQL schema, then
``rules.engine.audit`` on the embedded engine (``batch=True``, :mod:`govwatch.rules.pg_batch`,
what a large store now uses) and on PostgreSQL's own SQL (``batch=False``, the path before),
with wall time, CPU seconds (this process, and the PostgreSQL backend with its parallel
workers, read from /proc: the comparable figure on a shared machine) and whether the two
paths' findings are identical. GOVWATCH_BENCH_AUDIT_PG_PLAIN_MAX (cases, default 1000000)
skips the plain path above that size; GOVWATCH_BENCH_PG_TIMEOUT bounds each of its statements.
"""

from __future__ import annotations

import os
import resource
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_audit import end_at, province
from bench.common import peak_rss_mib, record, scaled, table, timer
from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules.engine import audit
from govwatch.rules.model import Finding
from govwatch.storage import Database, connect

SIZES = [
    scaled(int(n))
    for n in os.environ.get("GOVWATCH_BENCH_AUDIT_PG_SIZES", "100000,1000000").split(",")
]
PLAIN_MAX = int(os.environ.get("GOVWATCH_BENCH_AUDIT_PG_PLAIN_MAX", "1000000"))
PG_TIMEOUT_S = int(os.environ.get("GOVWATCH_BENCH_PG_TIMEOUT", "1800"))  # per statement
TARGET_S = 90.0
PG_URL = os.environ.get("GOVWATCH_BENCH_PG", "postgresql://root@127.0.0.1:5432/test")


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu(pid: int) -> float | None:
    """CPU seconds of the PostgreSQL backend ``pid`` and its live parallel workers (None when
    the server's processes are not visible here). A parallel worker lives for one query and is
    gone when the audit ends: its CPU is not counted, so the plain path's figure is a lower
    bound (the batch's COPY runs in the backend alone)."""
    tick = os.sysconf("SC_CLK_TCK")
    marker = f"parallel worker for PID {pid}".encode()
    total, seen = 0, False
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if int(proc.name) != pid and marker not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen = seen or int(proc.name) == pid
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick if seen else None


def measured(db: Database, work: Callable[[], list[Finding]]) -> dict[str, Any]:
    """Wall and CPU seconds of one audit, and its findings."""
    pid = int(db.scalar("SELECT pg_backend_pid()"))
    cpu0, pg0 = _process_cpu(), backend_cpu(pid)
    with timer() as wall:
        findings = work()
    pg1 = backend_cpu(pid)
    return {
        "wall": wall(),
        "cpu": _process_cpu() - cpu0,
        "pg_cpu": None if pg0 is None or pg1 is None else pg1 - pg0,
        "findings": findings,
    }


def _cpu_text(run: dict[str, Any]) -> str:
    if run["pg_cpu"] is None:
        return f"{run['cpu']:.1f} + ?"
    return f"{run['cpu']:.1f} + {run['pg_cpu']:.1f} = {run['cpu'] + run['pg_cpu']:.1f}"


def _same(a: list[Finding], b: list[Finding]) -> bool:
    return [(f.as_dict(), f.occurred_at) for f in a] == [(f.as_dict(), f.occurred_at) for f in b]


def size_row(size: int) -> list[object]:
    folder = province(size)
    db = connect(f"{PG_URL}?schema=bench_{uuid.uuid4().hex[:8]}")
    try:
        with timer() as load:
            import_catalog(db, [folder / "catalog.jsonl"])
            report = import_events(db, [folder / "events.jsonl"])
        db.execute("ANALYZE")
        at = end_at(folder)
        db.execute(f"SET statement_timeout = '{PG_TIMEOUT_S * 1000}'")
        batch = measured(db, lambda: audit(db, at, batch=True))
        row: list[object] = [
            f"{size:,}",
            f"{report.read:,}",
            f"{load():.1f}",
            f"{batch['wall']:.1f} ({batch['wall'] / TARGET_S:.2f}× the 90 s target)",
            _cpu_text(batch),
        ]
        if size > PLAIN_MAX:
            return [*row, "not run", "–", "–", len(batch["findings"]), "–"]
        try:
            plain = measured(db, lambda: audit(db, at, batch=False))
        except Exception as exc:  # a timeout is a result too
            reason = str(exc).splitlines()[0][:120]
            return [*row, f"did not finish ({reason})", "–", "–", len(batch["findings"]), "–"]
        both = (batch["cpu"] + (batch["pg_cpu"] or 0), plain["cpu"] + (plain["pg_cpu"] or 0))
        return [
            *row,
            f"{plain['wall']:.1f}",
            _cpu_text(plain),
            f"{plain['wall'] / batch['wall']:.1f}× wall, {both[1] / both[0]:.1f}× CPU",
            len(batch["findings"]),
            "yes" if _same(batch["findings"], plain["findings"]) else "NO",
        ]
    finally:
        db.execute("RESET statement_timeout")
        db.execute(f"DROP SCHEMA {db.schema} CASCADE")
        db.close()


def main() -> None:
    headers = [
        "cases",
        "events",
        "load s",
        "batch audit s",
        "batch CPU s (process + PG)",
        "plain audit s",
        "plain CPU s (process + PG)",
        "plain / batch",
        "findings",
        "identical",
    ]
    rows: list[list[object]] = []
    for size in SIZES:
        rows.append(size_row(size))
        record(
            "audit-pg-batch",
            "Batch audit on PostgreSQL: embedded engine against PostgreSQL's SQL (issue 17 target 3)",
            table(headers, rows)
            + "\n\n`rules.engine.audit` over a generated province imported into a fresh "
            "PostgreSQL schema (load = `govwatch import`'s catalog and events import, then "
            "ANALYZE). Batch: the tables the rules read copied once (COPY … TO STDOUT, CSV "
            "parsed by Arrow as it arrives) into an in-memory DuckDB and the 21 rules run "
            "there (`govwatch.rules.pg_batch`, chosen for stores of ≥ 50,000 events); plain: "
            "the same rules as PostgreSQL SQL (the path before). Both in the same run, batch "
            "first; CPU = this process (DuckDB, Arrow, Python) + the PostgreSQL backend (its "
            "parallel workers, gone when the audit ends, are not counted: the plain path's CPU "
            "is a lower bound); identical = the same findings, levels, evidence and moments. "
            f"Target: the 1M-case audit ≤ {TARGET_S:.0f} s. Peak RSS of the benchmark process: "
            f"{peak_rss_mib():,.0f} MiB.",
        )


if __name__ == "__main__":
    main()
