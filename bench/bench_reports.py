"""Benchmark: the monthly provincial supervision notice (电子监察通报) for 1M cases, written as
DOCX + PDF + XLSX (issue 15: ≤ 15 s).

The database is bench_pages's (1M cases over 20 departments and 10 counties, with alerts,
workflow and orders; built with DuckDB SQL). The same-run baseline is what the dashboard
computes for the same month and place (``dashboard_data``: its cases, rates and alert
figures), which the notice calls twice (the month and the one before) beside its own
queries: the notice's time over the baseline's says what a notice costs beyond the page.
Steps are timed apart: the builder's queries, the DOCX (charts included), the PDF
(LibreOffice), the XLSX. ``GOVWATCH_BENCH_SCALE=0.01`` runs it small (printed, not recorded).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench import bench_pages as pages
from bench.common import SCALE, WORK, peak_rss_mib, record, timer
from govwatch.alerts.dashboard import PROVINCE, DashFilter, dashboard_data
from govwatch.reports.docx_writer import write_docx
from govwatch.reports.pdf_writer import write_pdf
from govwatch.reports.period import parse_period
from govwatch.reports.supervision import build_supervision_notice
from govwatch.reports.xlsx_writer import write_xlsx
from govwatch.storage import connect

TARGET_SECONDS = 15.0
RUNS = 3
AT = pages.AT
PERIOD = f"{AT:%Y-%m}"


def _baseline(url: str) -> float:
    db = connect(url)
    try:
        p = parse_period(PERIOD)
        with timer() as took:
            dashboard_data(db, PROVINCE, DashFilter("", "", p.start, p.end), AT)
        return took()
    finally:
        db.close()


def _notice(url: str, out: Path) -> dict[str, float]:
    db = connect(url)
    try:
        with timer() as total:
            with timer() as build:
                notice = build_supervision_notice(db, PERIOD, None, AT)
            with timer() as docx_time:
                docx = write_docx(notice, out / "notice.docx")
            with timer() as pdf_time:
                write_pdf(docx, out / "notice.pdf")
            with timer() as xlsx_time:
                write_xlsx(notice, out / "notice.xlsx")
        return {
            "build": build(),
            "docx": docx_time(),
            "pdf": pdf_time(),
            "xlsx": xlsx_time(),
            "total": total(),
        }
    finally:
        db.close()


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"reports-{pages.CASES}.duckdb"
    if not (pages.REUSE and path.exists()):
        pages.build_duckdb(path)
    url = f"duckdb:///{path}"
    baseline = [_baseline(url) for _ in range(RUNS)]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        for i in range(RUNS):
            out = Path(tmp) / str(i)
            out.mkdir()
            runs.append(_notice(url, out))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    base = statistics.median(baseline)
    verdict = "meets" if med["total"] <= TARGET_SECONDS else "misses"
    body = (
        f"Monthly provincial notice ({PERIOD}) over {pages.CASES:,} cases, DuckDB, median of "
        f"{RUNS} runs; baseline: the dashboard's figures for the same month in the same run.\n\n"
        "| step | seconds |\n|---|---:|\n"
        f"| baseline: dashboard_data (same month) | {base:.2f} |\n"
        f"| notice: queries (builder) | {med['build']:.2f} |\n"
        f"| DOCX (charts drawn) | {med['docx']:.2f} |\n"
        f"| PDF (LibreOffice headless) | {med['pdf']:.2f} |\n"
        f"| XLSX | {med['xlsx']:.2f} |\n"
        f"| **total (DOCX + PDF + XLSX)** | **{med['total']:.2f}** |\n\n"
        f"Target ≤ {TARGET_SECONDS:.0f} s: {verdict}. Builder ÷ baseline: "
        f"{med['build'] / base if base else 0:.1f}×. Peak RSS {peak_rss_mib():.0f} MiB "
        f"(LibreOffice's own: {peak_rss_mib(children=True):.0f} MiB).\n"
    )
    print(body)
    if SCALE == 1:
        record("reports", "Supervision notice (issue 15)", body)
    else:
        print(f"scale {SCALE}: not recorded in docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
