"""Evaluation round pages and the round's compute and publish times (issue 13).

Target: a round of the ``online-service`` preset over the province's departments (262 at 1M
cases) with 1M cases stored: the round pages' p95 ≤ 300 ms under 20 concurrent clients (the
round list, the round page, a unit's history, the results' XLSX export), and computing and
publishing the round each ≤ 10 s.

The province is made by the generator (``GOVWATCH_BENCH_SCALE`` scales its 1M cases) and
imported into a DuckDB file once (kept in ``GOVWATCH_BENCH_DIR`` and reused when its size
matches: an import of 1M cases takes minutes). Each measured revision then works on its own
copy of that file, in a process of its own: it creates a round, collects, enters the values no
data computes (as the administration), computes (timed, with the robustness analysis of 500
draws as the demo does), opens review, publishes (timed), and serves the pages, which 20
clients (each its own supervisor account) read one after another.

``GOVWATCH_BENCH_BASELINE=<revision>`` measures that revision's code the same way in the same
run (a git worktree), as bench_pages does; its rows sit beside this code's.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.bench_pages import _baseline_checkout, load, p95
from bench.common import WORK, record, scaled, table

CASES = scaled(1_000_000)
CLIENTS = 20
TARGET_MS = 300.0
TARGET_S = 10.0
PORT = 8768
PASSWORD = "Bench-rounds-2025!"
ROUND = "bench-online"

# Runs in the measured revision's process (its code on PYTHONPATH): the round's life, timed,
# then the app served on the port. Prints one JSON line with the timings before serving.
WORKER = r"""
import json, random, sys, time
from datetime import date, datetime, timedelta
from govwatch.storage import connect
from govwatch.auth.users import add_user
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.presets import load_preset
from govwatch.evaluation.rounds.lifecycle import (UnitSpec, collect, compute_round, create_round,
    open_review, publish_round)
from govwatch.evaluation.rounds.values import Actor, submit_value
from govwatch.items.queries import departments

url, port, clients, password, round_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
at = datetime(2026, 6, 20, 10, 0)
db = connect(url)
for i in range(clients):
    add_user(db, f"bench_sup_{i}", password, "supervisor", None, at)
admin = Actor("bench_admin", "admin")
system = load_preset("online-service")
units = [UnitSpec(code, name, "部门") for code, name, _level in departments(db)]
create_round(db, round_id, "2026 年上半年 网上政务服务能力评估", system,
             Period(date(2026, 1, 1), date(2026, 6, 19)), "department", units, admin, at,
             review_days=0)
collect(db, round_id, admin, at + timedelta(hours=1))
rng = random.Random(13)
for u in units:
    for leaf in system.leaves:
        if leaf.source in ("check", "filled", "survey") and not leaf.metric:
            value = rng.random() < 0.85 if leaf.scale == "boolean" else round(rng.uniform(0.55, 1.0), 3)
            submit_value(db, round_id, u.unit, leaf.id, value, admin, at + timedelta(hours=2), "bench")
start = time.perf_counter()
compute_round(db, round_id, admin, at + timedelta(days=1), uncertainty=500)
computed = time.perf_counter() - start
open_review(db, round_id, admin, at + timedelta(days=1, hours=1))
start = time.perf_counter()
publish_round(db, round_id, admin, at + timedelta(days=2))
published = time.perf_counter() - start
unit = units[len(units) // 2].unit
db.close()
print(json.dumps({"compute": computed, "publish": published, "units": len(units), "unit": unit}), flush=True)

import uvicorn
from govwatch.web.app import create_app
from govwatch.web.api.deps import clock
app = create_app(url)
app.dependency_overrides[clock] = lambda: at + timedelta(days=3)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""


def province() -> Path:
    """The generated province imported into DuckDB once (reused while its size matches)."""
    from govwatch.generator import generate, make_config
    from govwatch.items.ingest import import_catalog
    from govwatch.live.pipeline import import_event_files
    from govwatch.storage import connect

    path = WORK / f"rounds-{CASES}.duckdb"
    if path.exists():
        return path
    source = WORK / f"rounds-province-{CASES}"
    if source.exists():
        shutil.rmtree(source)
    generate(make_config(CASES, 13), source)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = connect(f"duckdb:///{partial}")
    try:
        import_catalog(db, [source / "catalog.jsonl"])
        import_event_files(db, [source / "events.jsonl"])
        db.execute("CHECKPOINT")
    finally:
        db.close()
    partial.rename(path)
    for suffix in (".ledger-key", ".ledger-anchors.jsonl"):  # the ledger's files go with it
        if Path(f"{partial}{suffix}").exists():
            Path(f"{partial}{suffix}").rename(f"{path}{suffix}")
    shutil.rmtree(source)
    return path


def _always(path: str) -> Callable[[int], str]:
    return lambda _n: path


def _login(base: str, username: str) -> str:
    answer = httpx.post(
        base + "/login",
        data={"username": username, "password": PASSWORD},
        follow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login of {username} failed: {answer.status_code}")
    return str(answer.cookies["gw_session"])


def measure(label: str, source: Path, code: Path | None) -> list[list[object]]:
    """One revision: its own copy of the province, the round's times, the pages' p95."""
    copy = WORK / f"rounds-{label.replace(' ', '-')}.duckdb"
    shutil.copyfile(source, copy)
    # the ledger's key and anchors sit beside the file: the copy keeps the same chain
    for suffix in (".ledger-key", ".ledger-anchors.jsonl"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{copy}{suffix}")
    env = dict(os.environ)
    env.pop("GOVWATCH_NOW", None)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    url = f"duckdb:///{copy}"
    argv = [sys.executable, "-c", WORKER, url, str(PORT), str(CLIENTS), PASSWORD, ROUND]
    worker = subprocess.Popen(
        argv, cwd=code or Path.cwd(), env=env, stdout=subprocess.PIPE, text=True
    )
    rows: list[list[object]] = []
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        if not line:
            raise RuntimeError(f"{label}: the round could not be built (exit {worker.poll()})")
        timing = json.loads(line)
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(600):
            try:
                httpx.get(base + "/public", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        cookies = [_login(base, f"bench_sup_{i}") for i in range(CLIENTS)]
        rows.append([label, "计算 compute_round", "—", f"{timing['compute']:.2f} s", "—",
                     f"{timing['compute'] / TARGET_S:.2f}"])  # fmt: skip
        rows.append([label, "发布 publish_round", "—", f"{timing['publish']:.2f} s", "—",
                     f"{timing['publish'] / TARGET_S:.2f}"])  # fmt: skip
        pages = (
            ("评估批次 list", "/evaluations"),
            ("批次页 round page", f"/evaluations/{ROUND}"),
            ("单位历次 unit history", f"/evaluations/units/{timing['unit']}"),
            ("结果导出 export", f"/evaluations/{ROUND}?format=xlsx"),
        )
        for name, path in pages:
            load(base, cookies, _always(path))  # warm up
            times = load(base, cookies, _always(path))
            rows.append([label, name, f"`{path}`", f"{statistics.median(times):.0f} ms",
                         f"{p95(times):.0f} ms", f"{p95(times) / TARGET_MS:.2f}"])  # fmt: skip
            print(" | ".join(str(c) for c in rows[-1]), file=sys.stderr, flush=True)
        rows.insert(0, [label, f"{timing['units']} units", "", "", "", ""])
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        for suffix in ("", ".wal", ".ledger-key", ".ledger-anchors.jsonl"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return rows


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    source = province()
    baseline = os.environ.get("GOVWATCH_BENCH_BASELINE", "")
    code = _baseline_checkout(baseline) if baseline else None
    rows: list[list[object]] = []
    try:
        if code is not None:
            rows += measure(f"baseline {baseline}", source, code)
        rows += measure("this code", source, None)
    finally:
        if code is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(code)], check=False)
    body = (
        f"{CASES:,} cases (the generator's province, DuckDB); a round of the online-service "
        f"preset over the province's departments; {CLIENTS} concurrent clients on loopback, "
        "each its own supervisor, 15 requests each after a warm-up round; targets: p95 ≤ "
        f"{TARGET_MS:.0f} ms per page, compute and publish ≤ {TARGET_S:.0f} s each (ratio ≤ 1 "
        "meets it).\n\n" + table(["code", "what", "path", "median / time", "p95", "/ target"], rows)
    )
    record("rounds", "Evaluation round pages, compute and publish (issue 13)", body)


if __name__ == "__main__":
    main()
