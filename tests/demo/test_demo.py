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
        assert [r[0] for r in published] == ["2026-H1-online"] and published[0][1]
        names = dict(db.query("SELECT unit, unit_name FROM eval_units WHERE round_id = ?",
                              ["2026-H1-online"]))  # fmt: skip
        assert all(str(n).endswith("市") for n in names.values())
    finally:
        db.close()
