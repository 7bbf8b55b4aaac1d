"""The live path: alerts follow re-evaluation without duplicates, levels rise in place,
cleared findings stay in history, the sweeper raises time-driven findings, and many small
shuffled batches end where one batch audit does."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

from govwatch.events.ingest import import_events
from govwatch.items.ingest import import_catalog
from govwatch.rules.engine import audit
from govwatch.rules.live import alert_id, evaluate_cases, sweep
from govwatch.storage import Database
from tests.rules.province import end_at, identities, make_province

CATALOG = [{
    "item_code": "E001", "name": "测试事项", "department_code": "DEPT1", "region_code": "330102",
    "case_kind": "2", "legal_limit": 30, "promised_limit": 20,
    "steps": [], "materials": [{"name": "申请书", "required": True}],
}]  # fmt: skip


def _events(case_id: str) -> list[dict[str, object]]:
    return [
        {"event_id": f"{case_id}-1", "case_id": case_id, "kind": "apply", "item_code": "E001",
         "occurred_at": "2025-09-26T09:00:00",
         "materials": [{"name": "申请书", "provided": True}]},
        {"event_id": f"{case_id}-2", "case_id": case_id, "kind": "accept", "item_code": "E001",
         "occurred_at": "2025-09-26T10:00:00"},
    ]  # fmt: skip


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def _load(db: Database, tmp_path: Path, events: list[dict[str, object]]) -> None:
    import_catalog(db, [_write(tmp_path / "catalog.jsonl", CATALOG)])
    import_events(db, [_write(tmp_path / "events.jsonl", events)])


def _alerts(db: Database) -> list[dict[str, object]]:
    return db.query_dicts("SELECT * FROM alerts ORDER BY case_id, rule, key")


def _history(db: Database, aid: str) -> list[tuple[str, str]]:
    rows = db.query(
        "SELECT change, level FROM alert_history WHERE alert_id = ? ORDER BY seq", [aid]
    )
    return [(str(r[0]), str(r[1])) for r in rows]


def test_overdue_alert_rises_from_yellow_to_red_in_place(db: Database, tmp_path: Path) -> None:
    _load(db, tmp_path, _events("c1"))
    evaluate_cases(db, ["c1"], datetime(2025, 10, 31, 12))
    evaluate_cases(db, ["c1"], datetime(2025, 11, 3, 12))
    evaluate_cases(db, ["c1"], datetime(2025, 11, 20, 12))
    aid = alert_id("c1", "case_overdue", "")
    rows = [a for a in _alerts(db) if a["rule"] == "case_overdue"]
    assert [(a["alert_id"], a["level"], a["status"]) for a in rows] == [(aid, "red", "active")]
    assert _history(db, aid) == [("raised", "yellow"), ("level", "red")]
    assert rows[0]["first_seen_at"] == datetime(2025, 10, 31, 12)
    assert rows[0]["level_changed_at"] == datetime(2025, 11, 20, 12)


def test_near_deadline_clears_when_case_finishes_and_stays_in_history(
    db: Database, tmp_path: Path
) -> None:
    _load(db, tmp_path, _events("c1"))
    evaluate_cases(db, ["c1"], datetime(2025, 10, 28, 12))
    finish = {"event_id": "c1-3", "case_id": "c1", "kind": "finish", "result": "6",
              "occurred_at": "2025-10-29T09:00:00"}  # fmt: skip
    import_events(db, [_write(tmp_path / "more.jsonl", [finish])])
    evaluate_cases(db, ["c1"], datetime(2025, 10, 29, 12))
    aid = alert_id("c1", "near_deadline", "")
    (row,) = [a for a in _alerts(db) if a["alert_id"] == aid]
    assert (row["status"], row["cleared_at"]) == ("cleared", datetime(2025, 10, 29, 12))
    assert _history(db, aid) == [("raised", "warning"), ("cleared", "warning")]


def test_reevaluating_the_same_state_changes_no_alert(db: Database, tmp_path: Path) -> None:
    _load(db, tmp_path, _events("c1") + _events("c2"))
    at = datetime(2025, 10, 31, 12)
    evaluate_cases(db, ["c1", "c2"], at)
    before = db.scalar("SELECT COUNT(*) FROM alert_history")
    counts = evaluate_cases(db, ["c1", "c2"], at)
    assert counts == {"raised": 0, "level": 0, "cleared": 0, "reopened": 0}
    assert db.scalar("SELECT COUNT(*) FROM alert_history") == before
    assert db.scalar("SELECT COUNT(*) FROM alerts") == 2


def test_sweeper_raises_the_warning_once_its_day_begins(db: Database, tmp_path: Path) -> None:
    _load(db, tmp_path, _events("c1"))
    from govwatch.deadlines import refresh_next_check

    evaluate_cases(db, ["c1"], datetime(2025, 10, 27, 12))
    refresh_next_check(db, ["c1"], at=datetime(2025, 10, 27, 12))
    assert sweep(db, datetime(2025, 10, 27, 23, 59))["cases"] == 0
    swept = sweep(db, datetime(2025, 10, 28, 0, 0, 30))
    assert (swept["cases"], swept["raised"]) == (1, 1)
    assert [a["rule"] for a in _alerts(db)] == ["near_deadline"]


def test_small_shuffled_batches_with_sweeps_end_as_one_batch_audit(
    db: Database, tmp_path: Path
) -> None:
    folder = make_province(tmp_path / "p", 250, 3)
    at = end_at(folder)
    import_catalog(db, [folder / "catalog.jsonl"])
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    random.Random(5).shuffle(lines)
    size = len(lines) // 12 + 1
    for n, start in enumerate(range(0, len(lines), size)):
        batch = lines[start : start + size]
        path = tmp_path / f"batch{n}.jsonl"
        path.write_text("\n".join(batch) + "\n", encoding="utf-8")
        import_events(db, [path])
        evaluate_cases(db, sorted({json.loads(x)["case_id"] for x in batch}), at)
        sweep(db, at)
    active = {
        (str(r[0]), str(r[1]), str(r[2]), str(r[3]))
        for r in db.query("SELECT case_id, rule, key, level FROM alerts WHERE status = 'active'")
    }
    assert active == identities(audit(db, at))
    assert db.scalar("SELECT COUNT(*) FROM alerts") == db.scalar(
        "SELECT COUNT(DISTINCT alert_id) FROM alerts"
    )


def test_reevaluating_a_case_keeps_its_overdue_order_alert(db: Database, tmp_path: Path) -> None:
    from govwatch.alerts.escalation import check_overdue
    from govwatch.alerts.orders import issue_order
    from govwatch.alerts.sync import sync_workflow
    from govwatch.auth.principal import Principal

    _load(db, tmp_path, _events("c1"))
    evaluate_cases(db, ["c1"], datetime(2025, 10, 31, 12))
    sync_workflow(db, datetime(2025, 10, 31, 12))
    supervisor = Principal(name="sup", role="supervisor")
    issue_order(
        db,
        supervisor,
        [alert_id("c1", "case_overdue", "")],
        datetime(2025, 10, 31, 12),
        content="请核查",
    )
    check_overdue(db, datetime(2025, 11, 20, 9))  # no reply within 5 working days
    overdue = db.query_dicts("SELECT alert_id, status FROM alerts WHERE rule = 'order_overdue'")
    assert [a["status"] for a in overdue] == ["active"]
    evaluate_cases(db, ["c1"], datetime(2025, 11, 20, 10))  # an event or a sweep of the case
    assert (
        db.scalar("SELECT status FROM alerts WHERE alert_id = ?", [overdue[0]["alert_id"]])
        == "active"
    )
    assert _history(db, str(overdue[0]["alert_id"]))[-1][0] != "cleared"


def test_reevaluation_does_not_lower_a_level_raised_for_overdue_rectification(
    db: Database, tmp_path: Path
) -> None:
    from datetime import date

    from govwatch.alerts.escalation import escalate_rectification
    from govwatch.alerts.sync import sync_workflow
    from govwatch.alerts.workflow import act
    from govwatch.auth.principal import Principal

    _load(db, tmp_path, _events("c1"))
    first = datetime(2025, 10, 31, 12)
    evaluate_cases(db, ["c1"], first)
    sync_workflow(db, first)
    aid = alert_id("c1", "case_overdue", "")
    supervisor = Principal(name="sup", role="supervisor")
    act(
        db,
        supervisor,
        aid,
        "require_rectification",
        first,
        reason="限期整改",
        due_on=date(2025, 11, 3),
    )
    assert escalate_rectification(db, datetime(2025, 11, 4, 9)) == 1
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [aid]) == "red"
    # the rule itself still says yellow on 5 Nov: the raised level stands
    evaluate_cases(db, ["c1"], datetime(2025, 11, 5, 12))
    assert db.scalar("SELECT level FROM alerts WHERE alert_id = ?", [aid]) == "red"
    assert [c for c in _history(db, aid)] == [("raised", "yellow"), ("level", "red")]
