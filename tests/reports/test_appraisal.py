"""年度绩效考核: each component equals an independent query, the total is the weighted sum of
the components the unit has, weights are the administrator's (checked, ledgered), the page
links every number and exports."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.errors import ForbiddenError
from govwatch.auth.users import add_user
from govwatch.errors import InputError
from govwatch.reports.appraisal import (
    CARD_PENALTY,
    DEFAULT_WEIGHTS,
    ORDER_PENALTY,
    appraisal,
    set_weights,
)
from govwatch.storage import Database, connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.reports.notice_seed import ADMIN, AT, SUPERVISOR, seed, seed_cases

FIRST, AFTER = datetime(2026, 1, 1), datetime(2027, 1, 1)


@pytest.fixture()
def seeded(db: Database) -> Database:
    seed(db)
    seed_cases(db)
    return db


def _expected(db: Database, unit: str, weights: dict[str, float]) -> dict[str, float | None]:
    finished, late = db.query(
        "SELECT COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM alerts a WHERE a.case_id = "
        "c.case_id AND a.rule = 'case_overdue' AND a.status = 'active') THEN 1 ELSE 0 END) "
        "FROM cases c WHERE c.department_code = ? AND c.finished_at >= ? AND c.finished_at < ?",
        [unit, FIRST, AFTER],
    )[0]
    applied = db.scalar(
        "SELECT COUNT(*) FROM cases WHERE department_code = ? AND applied_at >= ? "
        "AND applied_at < ?",
        [unit, FIRST, AFTER],
    )
    cards = db.scalar(
        "SELECT COUNT(*) FROM alerts WHERE department_code = ? AND level IN ('red', 'yellow') "
        "AND occurred_at >= ? AND occurred_at < ?",
        [unit, FIRST, AFTER],
    )
    overdue = db.scalar(
        "SELECT COUNT(*) FROM orders WHERE org_code = ? AND issued_at >= ? AND issued_at < ? "
        "AND ((replied_at IS NULL AND reply_due_on < ?) OR CAST(replied_at AS DATE) > reply_due_on)",
        [unit, FIRST, AFTER, AT.date()],
    )
    mean = db.scalar(
        "SELECT AVG(r.score) FROM eval_results r JOIN eval_rounds e ON e.round_id = r.round_id "
        "WHERE r.unit = ? AND e.status = 'published' AND e.published_at >= ? AND e.published_at < ?",
        [unit, FIRST, AFTER],
    )
    scores = {
        "ontime": round((finished - late) / finished * 100, 2) if finished else None,
        "cards": round(max(0.0, 100 - CARD_PENALTY * round(cards * 1000 / applied, 2)), 2)
        if applied
        else None,
        "orders": max(0.0, 100 - ORDER_PENALTY * overdue),
        "evaluation": round(float(mean), 2) if mean is not None else None,
    }
    present = {k: s for k, s in scores.items() if s is not None}
    total = sum(weights[k] * s for k, s in present.items()) / sum(weights[k] for k in present)
    return {**scores, "total": round(total, 2)}


def test_totals_are_the_weighted_sum_of_independently_counted_components(
    seeded: Database,
) -> None:
    weights, rows = appraisal(seeded, 2026, AT)
    assert weights == DEFAULT_WEIGHTS
    assert {r.unit for r in rows} == {"D1", "D2", "D3"}
    for r in rows:
        expected = _expected(seeded, r.unit, weights)
        assert {k: r.scores[k] for k in expected if k != "total"} == {
            k: v for k, v in expected.items() if k != "total"
        }
        assert r.total == expected["total"]
    totals = [r.total or 0.0 for r in rows]
    assert totals == sorted(totals, reverse=True)
    assert [r.rank for r in rows] == [1, 2, 3]


def test_the_administrators_weights_change_the_totals_and_are_checked(seeded: Database) -> None:
    chosen = {"ontime": 100, "cards": 0, "orders": 0, "evaluation": 0}
    set_weights(seeded, ADMIN, 2026, chosen, AT)
    weights, rows = appraisal(seeded, 2026, AT)
    assert weights == {k: float(v) for k, v in chosen.items()}
    for r in rows:
        assert r.total == r.scores["ontime"]
    assert appraisal(seeded, 2025, AT)[0] == DEFAULT_WEIGHTS
    with pytest.raises(
        InputError, match="2026年考核权重“评估得分”应为 0 到 100 之间的数，收到“很重”"
    ):
        set_weights(seeded, ADMIN, 2026, {"evaluation": "很重"}, AT)
    with pytest.raises(InputError, match="不能全部为 0"):
        set_weights(seeded, ADMIN, 2026, dict.fromkeys(chosen, 0), AT)
    with pytest.raises(ForbiddenError):
        set_weights(seeded, SUPERVISOR, 2026, chosen, AT)
    assert seeded.scalar("SELECT COUNT(*) FROM ledger WHERE kind = 'appraisal.weights'") == 1


def test_the_page_links_every_number_and_exports(db_url: str) -> None:
    db = connect(db_url)
    seed(db)
    seed_cases(db)
    add_user(db, "a_admin", "Appraisal-pass-1!", "admin", None, datetime(2026, 1, 1))
    _, rows = appraisal(db, 2026, AT)
    db.close()
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: AT
    with TestClient(app) as client:
        client.post("/login", data={"username": "a_admin", "password": "Appraisal-pass-1!"})
        page = client.get("/appraisal?year=2026").text
        assert "/cases?department=D1&finished_from=2026-01-01&finished_to=2026-12-31" in page
        assert "/alerts?department=D2&level=yellow&status=&date_from=2026-01-01" in page
        assert "/desk?list=follow&org=D2" in page and "/evaluations/R2" in page
        sheet = client.get("/appraisal?year=2026&format=xlsx")
        book = load_workbook(io.BytesIO(sheet.content))
        values = [v for row in book.active.iter_rows(values_only=True) for v in row]
        for r in rows:
            assert r.total in values and r.name in values
        bad = client.get("/appraisal?year=20x6")
        assert bad.status_code == 400 and "考核年度“20x6”无效" in bad.text
