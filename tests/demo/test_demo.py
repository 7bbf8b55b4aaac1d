"""``govwatch demo`` prepares a province that is supervised, evaluated and published."""

from __future__ import annotations

from pathlib import Path

import pytest

from govwatch.cli.demo import build
from govwatch.storage import connect


@pytest.mark.slow
def test_demo_builds_alerts_accounts_and_a_published_round(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVWATCH_NOW", raising=False)
    summary, accounts = build(400, 3, tmp_path)
    assert summary.cases == 400 and summary.alerts > 0
    assert summary.end_at.isoformat() == "2026-06-30T22:00:00"
    roles = {a.role for a in accounts}
    assert roles == {"admin", "supervisor", "department", "evaluator", "source"}
    db = connect(summary.db_url)
    try:
        published = db.query("SELECT round_id, digest FROM eval_rounds WHERE status = 'published'")
        assert [r[0] for r in published] == ["2025-H2-online"] and published[0][1]
        names = dict(db.query("SELECT unit, unit_name FROM eval_units WHERE round_id = ?",
                              ["2025-H2-online"]))  # fmt: skip
        assert all(str(n).endswith("市") for n in names.values())
        # one monthly supervision notice (May, the month before the clock) and the published
        # round's evaluation notice, issued with their digests, general (every unit sees them)
        notices = db.query("SELECT kind, status, digest FROM notices ORDER BY kind")
        assert [(str(k), str(s)) for k, s, _ in notices] == [
            ("evaluation", "issued"),
            ("supervision", "issued"),
        ] and all(d for _, _, d in notices)
        told = db.scalar("SELECT count(*) FROM notifications WHERE kind = 'notice.issued'")
        assert int(told) == 2
    finally:
        db.close()


@pytest.mark.slow
def test_demo_rounds_agree_with_their_names_and_leave_appeals_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2025 年下半年 covers 2025-07-01..12-31 and is published after; 2026 年第一季度 covers
    2026-01-01..03-31 and is under review at the demo's clock, two departments' appeals
    submitted and the demo department's own still possible."""
    monkeypatch.delenv("GOVWATCH_NOW", raising=False)
    summary, accounts = build(400, 3, tmp_path)
    department = next(a.org_code for a in accounts if a.role == "department")
    db = connect(summary.db_url)
    try:
        rounds = {
            r[0]: r[1:]
            for r in db.query(
                "SELECT round_id, name, period_start, period_end, status, published_at, "
                "review_until_at FROM eval_rounds"
            )
        }
        name, start, end, status, published_at, _ = rounds["2025-H2-online"]
        assert name.startswith("2025 年下半年") and status == "published"
        assert (str(start), str(end)) == ("2025-07-01", "2025-12-31")
        assert published_at.date() > end and published_at <= summary.end_at
        name, start, end, status, _, until = rounds["2026-Q1-supervision"]
        assert name.startswith("2026 年第一季度") and status == "review"
        assert (str(start), str(end)) == ("2026-01-01", "2026-03-31")
        assert until > summary.end_at  # the window is open at the clock
        appeals = db.query(
            "SELECT unit FROM eval_appeals WHERE round_id = '2026-Q1-supervision' "
            "AND status = 'open'"
        )
        assert len(appeals) == 2 and department not in {a[0] for a in appeals}
        units = {u[0] for u in db.query(
            "SELECT unit FROM eval_units WHERE round_id = '2026-Q1-supervision'")}  # fmt: skip
        assert department in units
    finally:
        db.close()
