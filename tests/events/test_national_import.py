"""National table exports imported into the event store on every engine."""

from __future__ import annotations

from pathlib import Path

from govwatch.events.ingest import import_events
from govwatch.storage import Database

NATIONAL = Path(__file__).parent.parent / "fixtures" / "national"


def test_national_directories_import_on_every_engine_and_reimport_is_a_no_op(db: Database) -> None:
    dirs = [NATIONAL / "gbt", NATIONAL / "legacy"]
    report = import_events(db, dirs)
    # The two special_end records are checked in the test below.
    others = [p for p in report.problems if p.field != "result"]
    assert (report.applied + report.quarantined, others) == (32, [])
    kinds = dict(db.query("SELECT kind, COUNT(*) FROM events GROUP BY kind"))
    kinds.setdefault("special_end", 0)
    assert kinds == {
        "apply": 5,
        "accept": 5,
        "supplement_request": 1,
        "step_start": 4,
        "step_end": 5,
        "special_start": 3,
        "special_end": 2 - report.quarantined,
        "finish": 3,
        "payment": 2,
        "rating": 2,
    }
    row = db.query(
        "SELECT occurred_at, promised_finish_at, case_kind FROM events "
        "WHERE case_id = 'BJ20250901001' AND kind = 'accept'"
    )[0]
    assert (str(row[0]), str(row[1]), row[2]) == ("2025-09-01 10:00:00", "2025-09-12 18:00:00", "2")
    materials = db.query(
        "SELECT name, provided FROM event_materials WHERE case_id = 'BJ20250901002' ORDER BY seq"
    )
    assert [tuple(m) for m in materials] == [("身份证", True), ("健康证明", False)]
    again = import_events(db, dirs)
    assert (again.applied, again.duplicates) == (0, report.applied)


def test_special_procedure_results_are_free_text(db: Database) -> None:
    report = import_events(db, [NATIONAL / "gbt", NATIONAL / "legacy"])
    assert report.problems == []
    results = db.query("SELECT result FROM events WHERE kind = 'special_end' ORDER BY result")
    assert [r[0] for r in results] == ["同意延长10个工作日", "同意延长10个工作日"]


def test_malformed_national_rows_are_quarantined_with_file_and_row(db: Database) -> None:
    report = import_events(db, [NATIONAL / "malformed"])
    assert report.applied == 0
    assert sorted((Path(p.source).name, p.line, p.field) for p in report.problems) == [
        ("事项办结.csv", 2, "case_id"),
        ("事项办结.csv", 3, "occurred_at"),
        ("事项办结.csv", 4, "occurred_at"),
    ]
