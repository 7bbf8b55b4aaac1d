"""The demo's round takes its guide and coverage points from a real guide check (issue 16,
"Done when": a demo round's guide and coverage points are computed, and its page links each
to its evidence)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govwatch.cli.demo import build
from govwatch.evaluation.presets import load_preset
from govwatch.storage import connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app

GUIDE_LEAVES = {leaf.id for leaf in load_preset("online-service").leaves
                if str(leaf.metric or "").startswith("guides.")}  # fmt: skip


@pytest.mark.slow
def test_the_demo_round_computes_guide_points_and_links_them_to_their_evidence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVWATCH_NOW", raising=False)
    summary, accounts = build(400, 3, tmp_path)
    assert len(GUIDE_LEAVES) == 7
    db = connect(summary.db_url)
    try:
        run_id, findings = db.query("SELECT run_id, findings FROM guide_runs")[0]
        assert findings > 0  # the generated guides carry faults
        assert (
            db.scalar("SELECT guide_run_id FROM eval_rounds WHERE round_id = '2025-H2-online'")
            == run_id
        )
        values = db.query_dicts(
            "SELECT unit, indicator, value, status, note FROM eval_values "
            "WHERE round_id = '2025-H2-online' AND indicator = ANY(?)",
            [sorted(GUIDE_LEAVES)],
        )
        units = {str(u[0]) for u in db.query(
            "SELECT unit FROM eval_units WHERE round_id = '2025-H2-online'")}  # fmt: skip
        assert len(values) == len(GUIDE_LEAVES) * len(units)
        assert all(v["status"] == "computed" and v["note"].startswith("metric guides.")
                   for v in values)  # fmt: skip
        assert any(v["value"] < 1 for v in values)
        item_alerts = db.scalar("SELECT COUNT(*) FROM alerts WHERE rule_class = 'item_info'")
        assert item_alerts and item_alerts > 0
    finally:
        db.close()
    admin = next(a for a in accounts if a.role == "admin")
    app = create_app(summary.db_url)
    app.dependency_overrides[clock] = lambda: summary.end_at
    client = TestClient(app)
    login = client.post("/login", data={"username": admin.username, "password": admin.secret},
                        follow_redirects=False)  # fmt: skip
    assert login.status_code == 303
    page = client.get("/evaluations/2025-H2-online")
    links = re.findall(r'href="(/guides/evidence\?[^"]+)"', page.text)
    assert len(links) == len(GUIDE_LEAVES) * len(units)
    for indicator in GUIDE_LEAVES:
        href = next(h for h in links if f"indicator={indicator}" in h).replace("&amp;", "&")
        answer = client.get(href + "&format=json")
        assert answer.status_code == 200, href
        data = answer.json()
        assert data["run"]["run_id"] == run_id and data["value"] is not None
