"""Case clocks for 10 million cases on DuckDB, against the per-case reference implementation.

The data are built synthetically, straight into the tables (not through the generator):
1,000 items with working- or natural-day limits, 10 million accepted cases between 2019 and
2026, about 60 % finished, a tenth with pauses (supplements, special procedures, suspensions,
some still open) and a few extensions. The measured work is materialising ``case_clock`` for
every case at one moment (all views, one query). The baseline is the day-walking reference of
``tests/deadlines/reference_clock.py`` run case by case on a random sample; its time is
extrapolated to all cases, and its answers are checked against the SQL on the sample.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import time
from datetime import date, datetime
from typing import Any

from bench.common import WORK, record, scaled, table, timer
from govwatch.deadlines import install_clock_views
from govwatch.events.fields import KIND_ORDER
from govwatch.storage import Database, connect

CASES = 10_000_000
SAMPLE = 3_000
AT = datetime(2026, 6, 30, 12, 0)


def build(db: Database, cases: int) -> int:
    """Items and events, set-based; returns the number of events."""
    db.execute(
        """INSERT INTO items (item_code, name, department_code, region_code, case_kind,
            legal_limit, legal_limit_unit, promised_limit, promised_limit_unit, doc)
        SELECT 'I' || i, '事项' || i, 'D' || (i % 50), '330100', CASE WHEN i % 20 = 0 THEN '1' ELSE '2' END,
            20 + i % 40, CASE WHEN i % 4 = 0 THEN 'N' ELSE 'W' END,
            5 + i % 20, CASE WHEN i % 5 = 0 THEN 'N' ELSE 'W' END, '{}'
        FROM range(1000) t(i)"""
    )
    # Each case: accept; finish for 60 %; for 10 % one or two pauses; 2 % an extension.
    db.execute(
        f"""CREATE TEMP TABLE bench_cases AS
        SELECT i, 'C' || i AS case_id, 'I' || (i % 1000) AS item_code,
            TIMESTAMP '2019-01-01 09:00:00' + to_days(CAST(hash(i) % 2700 AS INTEGER))
                + to_hours(CAST(hash(i + 7) % 8 AS INTEGER)) AS accepted_at,
            hash(i + 13) % 100 AS r
        FROM range({cases}) t(i)"""
    )
    kinds = KIND_ORDER
    inserts = [
        # accept
        f"SELECT 'a' || i, case_id, item_code, 'accept', {kinds['accept']}, accepted_at, "
        "NULL, NULL, NULL FROM bench_cases",
        # finish (60 %), 1–40 days after acceptance
        f"SELECT 'f' || i, case_id, NULL, 'finish', {kinds['finish']}, "
        "accepted_at + to_days(CAST(1 + r % 40 AS INTEGER)), NULL, NULL, NULL "
        "FROM bench_cases WHERE r < 60",
        # pause start (10 %): three kinds by r
        "SELECT 'p' || i, case_id, NULL, CASE r % 3 WHEN 0 THEN 'supplement_request' "
        "WHEN 1 THEN 'special_start' ELSE 'suspend' END, "
        f"CASE r % 3 WHEN 0 THEN {kinds['supplement_request']} WHEN 1 THEN "
        f"{kinds['special_start']} ELSE {kinds['suspend']} END, "
        "accepted_at + to_days(CAST(1 + r % 5 AS INTEGER)), "
        "CASE WHEN r % 3 = 1 THEN '2' END, CASE WHEN r % 3 = 1 THEN 10 END, "
        "CASE WHEN r % 3 = 1 THEN 'W' END FROM bench_cases WHERE r >= 90",
        # pause end for most of them, 2–14 days later
        "SELECT 'q' || i, case_id, NULL, CASE r % 3 WHEN 0 THEN 'supplement_received' "
        "WHEN 1 THEN 'special_end' ELSE 'resume' END, "
        f"CASE r % 3 WHEN 0 THEN {kinds['supplement_received']} WHEN 1 THEN "
        f"{kinds['special_end']} ELSE {kinds['resume']} END, "
        "accepted_at + to_days(CAST(3 + r % 12 AS INTEGER)), NULL, NULL, NULL "
        "FROM bench_cases WHERE r >= 90 AND r < 98",
        # a second, overlapping supplement for some paused cases
        f"SELECT 's' || i, case_id, NULL, 'supplement_request', {kinds['supplement_request']}, "
        "accepted_at + to_days(2), NULL, NULL, NULL FROM bench_cases WHERE r >= 96",
        # extension (2 %)
        f"SELECT 'x' || i, case_id, NULL, 'special_start', {kinds['special_start']}, "
        "accepted_at + to_days(4), '1', 5, 'W' FROM bench_cases WHERE r >= 88 AND r < 90",
    ]
    for select in inserts:
        db.execute(
            "INSERT INTO events (event_id, case_id, item_code, kind, kind_order, occurred_at, "
            f"procedure_kind, limit_days, limit_unit) {select}"
        )
    return int(db.scalar("SELECT count(*) FROM events"))


def reference_sample(db: Database, sample: list[str]) -> tuple[float, int]:
    """Run the reference on the sample; return (seconds, mismatches) against the SQL rows."""
    sys.path.insert(0, str(WORK.parent))
    from tests.deadlines.reference_clock import Day, reference_clock

    cal = {d: Day(bool(w), bool(p)) for d, w, p in
           db.query("SELECT on_date, is_workday, provisional FROM calendar")}  # fmt: skip
    items = {
        r["item_code"]: {"promised_limit": r["promised_limit"],
                         "promised_unit": r["promised_limit_unit"],
                         "legal_limit": r["legal_limit"], "legal_unit": r["legal_limit_unit"],
                         "case_kind": r["case_kind"]}
        for r in db.query_dicts("SELECT * FROM items")
    }  # fmt: skip
    db.execute("CREATE TEMP TABLE bench_sample (case_id VARCHAR)")
    db.executemany("INSERT INTO bench_sample VALUES (?)", [[c] for c in sample])
    events: dict[str, list[dict[str, Any]]] = {c: [] for c in sample}
    for row in db.query_dicts(
        "SELECT e.* FROM events e JOIN bench_sample s ON s.case_id = e.case_id"
    ):
        events[row["case_id"]].append(row)
    sql_rows = {
        r["case_id"]: r
        for r in db.query_dicts(
            "SELECT c.* FROM bench_clock c JOIN bench_sample s ON s.case_id = c.case_id"
        )
    }
    start = time.perf_counter()
    results = {}
    for case_id in sample:
        evs = events[case_id]
        item_code = next(e["item_code"] for e in evs if e["kind"] == "accept")
        results[case_id] = reference_clock(cal, items.get(item_code), evs, AT)
    seconds = time.perf_counter() - start
    mismatches = 0
    for case_id, expected in results.items():
        got = sql_rows.get(case_id)
        if expected is None or got is None or any(got[k] != v for k, v in expected.items()):
            mismatches += 1
    return seconds, mismatches


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    cases = scaled(CASES)
    where = WORK / "clocks"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True, exist_ok=True)
    db = connect(f"duckdb:///{where}/clocks.duckdb")
    db.execute("SET enable_progress_bar = false")
    with timer() as build_time:
        n_events = build(db, cases)
    paused = int(db.scalar(
        "SELECT count(DISTINCT case_id) FROM events WHERE kind IN "
        "('supplement_request', 'suspend') OR (kind = 'special_start' AND procedure_kind = '2')"
    ))  # fmt: skip
    install_clock_views(db, AT)
    runs = []
    for _ in range(2):
        db.execute("DROP TABLE IF EXISTS bench_clock")
        load = os.getloadavg()[0]
        cpu_start = _cpu()
        with timer() as clock_time:
            db.execute("CREATE TEMP TABLE bench_clock AS SELECT * FROM case_clock")
        runs.append((clock_time(), _cpu() - cpu_start, load))
    sql_seconds, sql_cpu, sql_load = min(runs)
    rows = int(db.scalar("SELECT count(*) FROM bench_clock"))
    overdue = int(db.scalar("SELECT count(*) FROM bench_clock WHERE promised_overdue"))

    sample_size = min(SAMPLE, cases)
    sample = [str(r[0]) for r in db.query(
        f"SELECT case_id FROM bench_cases ORDER BY hash(i + 99) LIMIT {sample_size}"
    )]  # fmt: skip
    ref_seconds, mismatches = reference_sample(db, sample)
    ref_total = ref_seconds / sample_size * cases
    db.close()
    shutil.rmtree(where, ignore_errors=True)

    body = table(
        ["measure", "value"],
        [
            ["cases (accepted)", f"{rows:,}"],
            ["cases with pauses", f"{paused:,} ({paused / cases:.0%})"],
            ["events", f"{n_events:,}"],
            ["data build (not measured work)", f"{build_time():.1f} s"],
            ["**SQL clocks, all cases (DuckDB, best of 2)**", f"**{sql_seconds:.2f} s**"],
            ["CPU time of that run (all threads)", f"{sql_cpu:.1f} s"],
            ["load average when it started (2 cores, shared)", f"{sql_load:.1f}"],
            ["target", "≤ 10 s"],
            [
                f"reference, per case (sample of {sample_size:,})",
                f"{ref_seconds / sample_size * 1e3:.2f} ms",
            ],
            ["reference, extrapolated to all cases", f"{ref_total:,.0f} s"],
            ["**ratio reference / SQL**", f"**{ref_total / sql_seconds:,.0f}×**"],
            ["sample rows disagreeing with the reference", str(mismatches)],
            ["cases past their promised deadline at the moment", f"{overdue:,}"],
        ],
    )
    note = (
        f"\n\nMoment {AT.isoformat(sep=' ')}; `CREATE TEMP TABLE … AS SELECT * FROM case_clock` "
        "over every case (all clock views, one statement). The reference walks the calendar day "
        "by day per case in Python (`tests/deadlines/reference_clock.py`); it runs on a random "
        f"sample and is extrapolated linearly. Date {date.today().isoformat()}."
    )
    record("clocks", "Case clocks (issue 3)", body + note)


if __name__ == "__main__":
    main()
