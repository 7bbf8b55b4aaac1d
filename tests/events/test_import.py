"""Importing events: formats and aliases, quarantine, idempotence, order independence; both engines."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from govwatch.events.ingest import canonical_event_id, import_events, import_records
from govwatch.items.ingest import import_catalog
from govwatch.storage import Database, connect
from tests.events.formats_helpers import write_all_formats

ITEM = {
    "item_code": "11440100MB0001-001",
    "name": "食品经营许可证核发",
    "item_type": "01",
    "department_code": "11440100MB2C12345X",
    "region_code": "440100",
    "legal_limit": 20,
    "promised_limit": 10,
    "steps": [
        {"name": "受理", "limit": 1},
        {"name": "审查", "limit": 5},
        {"name": "决定", "limit": 2},
    ],
    "materials": [{"name": "营业执照", "required": True}, {"name": "场所平面图", "required": True}],
    "fee": None,
}

CANONICAL = [
    {
        "event_id": "a-1",
        "case_id": "C-001",
        "item_code": ITEM["item_code"],
        "kind": "apply",
        "occurred_at": "2025-09-26T09:00:00+08:00",
        "applicant_type": "1",
        "applicant_name": "张三",
        "applicant_id": "110101199003071234",
        "phone": "13812345678",
        "channel": "2",
        "materials": [
            {"name": "营业执照", "provided": True},
            {"name": "场所平面图", "provided": False},
        ],
    },
    {
        "event_id": "a-2",
        "case_id": "C-001",
        "item_code": ITEM["item_code"],
        "kind": "accept",
        "occurred_at": "2025-09-26T10:00:00",
        "case_kind": "2",
        "actor": "u1",
        "org_code": "ORG1",
    },
    {
        "event_id": "a-3",
        "case_id": "C-001",
        "kind": "supplement_request",
        "occurred_at": "2025-09-29T10:00:00+08:00",
        "materials": ["场所平面图"],
        "reason": "缺图",
    },
    {
        "event_id": "a-4",
        "case_id": "C-001",
        "kind": "step_end",
        "occurred_at": "2025-10-09T14:30:00+08:00",
        "step": "审查",
        "action": "return",
        "opinion": "退回修改",
    },
    {
        "event_id": "a-5",
        "case_id": "C-001",
        "kind": "special_start",
        "occurred_at": "2025-10-09T14:00:00+08:00",
        "procedure_kind": "2",
        "procedure_type": "检测",
        "limit": 5,
        "limit_unit": "W",
    },
    {
        "event_id": "a-6",
        "case_id": "C-001",
        "kind": "payment",
        "occurred_at": "2025-10-20T09:00:00+08:00",
        "amount": 50.0,
        "fee_item": "工本费",
        "quantity": 2,
    },
    {
        "event_id": "a-7",
        "case_id": "C-001",
        "kind": "finish",
        "occurred_at": "2025-10-30T17:00:00+08:00",
        "result": "0",
        "license_no": "JY14401000001",
        "tier": "一般",
        "decided_value": 2000,
    },
    {
        "event_id": "a-8",
        "case_id": "C-001",
        "kind": "rating",
        "occurred_at": "2025-10-30T18:00:00+08:00",
        "level": "1",
        "channel": "移动端",
        "text": "很好",
    },
]

# The same records under national and legacy names, compact timestamps, mixed case keys.
ALIASED = [
    {
        "event_id": "a-1",
        "SBLSH": "C-001",
        "SXBM": ITEM["item_code"],
        "KIND": "apply",
        "时间": "20250926090000",
        "applicant_type": "1",
        "applicant_name": "张三",
        "applicant_id": "110101199003071234",
        "phone": "13812345678",
        "channel": "2",
        "materials": [
            {"name": "营业执照", "provided": True},
            {"name": "场所平面图", "provided": False},
        ],
    },
    {
        "event_id": "a-2",
        "办件编号": "C-001",
        "sxbm": ITEM["item_code"],
        "kind": "accept",
        "occurred_at": "20250926100000",
        "case_kind": "2",
        "actor": "u1",
        "org_code": "ORG1",
    },
    {
        "event_id": "a-3",
        "申办流水号": "C-001",
        "kind": "supplement_request",
        "occurred_at": "2025-09-29T02:00:00Z",
        "materials": ["场所平面图"],
        "reason": "缺图",
    },
    {
        "event_id": "a-4",
        "sblsh_short": "C-001",
        "kind": "step_end",
        "occurred_at": "20251009143000",
        "step": "审查",
        "action": "return",
        "opinion": "退回修改",
    },
    {
        "event_id": "a-5",
        "Case_ID": "C-001",
        "kind": "special_start",
        "occurred_at": "2025-10-09 14:00:00",
        "procedure_kind": "2",
        "procedure_type": "检测",
        "limit": "5",
        "limit_unit": "w",
    },
    {
        "event_id": "a-6",
        "case_id": "C-001",
        "kind": "payment",
        "occurred_at": "2025-10-20T01:00:00+00:00",
        "amount": "50.00",
        "fee_item": "工本费",
        "quantity": "2",
    },
    {
        "event_id": "a-7",
        "case_id": "C-001",
        "kind": "finish",
        "occurred_at": "20251030170000",
        "result": "0",
        "license_no": "JY14401000001",
        "tier": "一般",
        "decided_value": "2000",
    },
    {
        "event_id": "a-8",
        "case_id": "C-001",
        "kind": "rating",
        "occurred_at": "2025-10-30T18:00:00",
        "level": 1,
        "channel": "移动端",
        "text": "很好",
    },
]

EVENT_COLUMNS = (
    "event_id, case_id, item_code, kind, kind_order, occurred_at, actor, org_code, applicant_type, "
    "applicant_name, applicant_id, phone, channel, materials, case_kind, reason, step, action, "
    "opinion, procedure_kind, procedure_type, limit_days, limit_unit, result, license_no, tier, "
    "decided_value, CAST(amount AS FLOAT8) AS amount, fee_item, quantity, level, text"
)


def _write_jsonl(path: Path, records: list[Any]) -> Path:
    lines = [r if isinstance(r, str) else orjson.dumps(r).decode() for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _state(db: Database) -> tuple[list[tuple[Any, ...]], ...]:
    events = db.query(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY event_id")
    materials = db.query("SELECT event_id, seq, name, provided FROM event_materials ORDER BY 1, 2")
    cases = db.query(
        "SELECT case_id, item_code, org_code, region_code, channel, applied_at, accepted_at, "
        "case_kind, finished_at, result, status, event_count FROM cases ORDER BY case_id"
    )
    return events, materials, cases


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    return _write_jsonl(tmp_path / "catalog.jsonl", [ITEM])


def test_every_format_and_alias_loads_to_the_same_records(
    db_url: str, tmp_path: Path, catalog_file: Path
) -> None:
    states = {}
    files = write_all_formats(CANONICAL, tmp_path / "canon", "events")
    files += write_all_formats(ALIASED, tmp_path / "alias", "events")
    for i, path in enumerate(files):
        url = db_url.replace("govwatch.duckdb", f"f{i}.duckdb") if "duckdb" in db_url else db_url
        db = connect(url)
        try:
            for table in (
                "events",
                "event_materials",
                "cases",
                "items",
                "item_steps",
                "item_materials",
            ):
                db.execute(f"DELETE FROM {table}")
            import_catalog(db, [catalog_file])
            report = import_events(db, [path])
            assert (report.applied, report.quarantined) == (8, 0), (path, report.problems)
            states[f"{path.parent.name}/{path.name}"] = _state(db)
        finally:
            db.close()
    reference = states["canon/events.jsonl"]
    assert reference[0][0][5].isoformat() == "2025-09-26T09:00:00"
    for name, state in states.items():
        assert state == reference, name


def test_timestamps_with_offsets_become_shanghai_wall_time(
    db: Database, catalog_file: Path
) -> None:
    import_catalog(db, [catalog_file])
    import_records(db, ALIASED)
    got = dict(db.query("SELECT event_id, occurred_at FROM events"))
    assert got["a-3"].isoformat() == "2025-09-29T10:00:00"  # 02:00Z
    assert got["a-6"].isoformat() == "2025-10-20T09:00:00"  # 01:00+00:00
    assert got["a-2"].isoformat() == "2025-09-26T10:00:00"  # YYYYMMDDhhmmss


def test_malformed_records_are_quarantined_with_line_and_field_and_the_rest_applied(
    db: Database, tmp_path: Path, catalog_file: Path
) -> None:
    import_catalog(db, [catalog_file])
    good = CANONICAL[:3]
    records: list[Any] = [
        good[0],  # line 1
        "{not json",  # line 2
        {
            "event_id": "b-1",
            "kind": "accept",
            "occurred_at": "2025-09-26T10:00:00",
        },  # 3: no case_id
        good[1],  # line 4
        {"event_id": "b-2", "case_id": "C-9", "kind": "approve", "occurred_at": "2025-09-26"},  # 5
        {
            "event_id": "b-3",
            "case_id": "C-9",
            "kind": "step_start",
            "occurred_at": "yesterday",
        },  # 6
        {
            "event_id": "b-4",
            "case_id": "C-9",
            "kind": "rating",
            "occurred_at": "2025-10-01T09:00:00",
            "level": "6",
        },  # 7 fmt: skip
        {
            "event_id": "b-5",
            "case_id": "C-9",
            "kind": "apply",
            "occurred_at": "2025-10-01T09:00:00",
        },  # 8
        {
            "event_id": "b-6",
            "case_id": "C-9",
            "kind": "payment",
            "occurred_at": "2025-10-01T09:00:00",
            "amount": "五十",
        },  # 9 fmt: skip
        good[2],  # line 10
    ]
    path = _write_jsonl(tmp_path / "mixed.jsonl", records)
    report = import_events(db, [path])
    assert (report.applied, report.duplicates, report.quarantined) == (3, 0, 7)
    rows = db.query("SELECT line, field, raw FROM quarantine ORDER BY line")
    assert [(r[0], r[1]) for r in rows] == [
        (2, "record"),
        (3, "case_id"),
        (5, "kind"),
        (6, "occurred_at"),
        (7, "level"),
        (8, "item_code"),
        (9, "amount"),
    ]
    assert rows[0][2] == "{not json"  # kept whole
    messages = [r[0] for r in db.query("SELECT message FROM quarantine ORDER BY line")]
    assert "mixed.jsonl 第 5 行" in messages[2] and "approve" in messages[2]
    assert "YYYYMMDDhhmmss" in messages[3]


def test_reimport_is_a_no_op_and_reports_duplicates(
    db: Database, tmp_path: Path, catalog_file: Path
) -> None:
    import_catalog(db, [catalog_file])
    path = _write_jsonl(tmp_path / "events.jsonl", [*CANONICAL, "broken"])
    first = import_events(db, [path])
    before = _state(db), db.query("SELECT count(*) FROM quarantine")
    second = import_events(db, [path])
    assert (first.applied, first.duplicates, first.quarantined) == (8, 0, 1)
    assert (second.applied, second.duplicates) == (0, 8)
    assert (_state(db), db.query("SELECT count(*) FROM quarantine")) == before
    again = import_catalog(db, [catalog_file])
    assert (again.applied, again.duplicates) == (0, 1)


def test_shuffled_input_in_any_batches_gives_the_same_state(
    db_url: str, catalog_file: Path
) -> None:
    extra = [
        {**e, "event_id": e["event_id"].replace("a-", "x-"), "case_id": "C-002"} for e in CANONICAL
    ]
    everything = CANONICAL + extra
    states = []
    for seed in (1, 2, 3):
        shuffled = everything[:]
        random.Random(seed).shuffle(shuffled)
        db = connect(db_url)
        try:
            for table in (
                "events",
                "event_materials",
                "cases",
                "items",
                "item_steps",
                "item_materials",
            ):
                db.execute(f"DELETE FROM {table}")
            import_catalog(db, [catalog_file])
            for start in range(0, len(shuffled), 3):
                import_records(db, shuffled[start : start + 3])
            states.append(_state(db))
        finally:
            db.close()
    assert states[0] == states[1] == states[2]
    cases = states[0][2]
    assert [c[10] for c in cases] == ["finished", "finished"]
    assert cases[0][6].isoformat() == "2025-09-26T10:00:00"


def test_same_event_id_twice_in_one_file_counts_one_duplicate(
    db: Database, catalog_file: Path
) -> None:
    report = import_records(db, [CANONICAL[0], CANONICAL[0], CANONICAL[1]])
    assert (report.applied, report.duplicates) == (2, 1)


def test_event_without_id_is_named_by_sha256_of_canonical_json(db: Database) -> None:
    record = {
        "SBLSH": "C-7",
        "kind": "terminate",
        "occurred_at": "20251001090000",
        "reason": "撤回",
    }
    import_records(db, [record])
    import_records(db, [record])
    expected = canonical_event_id(record)
    assert db.query("SELECT event_id FROM events") == [(expected,)]
    canon = {
        "case_id": "C-7",
        "kind": "terminate",
        "occurred_at": "20251001090000",
        "reason": "撤回",
    }
    assert expected == canonical_event_id(canon)


def test_odd_but_well_formed_events_are_kept_as_evidence(db: Database) -> None:
    report = import_records(
        db,
        [
            {
                "event_id": "o-1",
                "case_id": "C-8",
                "kind": "finish",
                "occurred_at": "2025-10-01T09:00:00",
                "result": "6",
            },
            {
                "event_id": "o-2",
                "case_id": "C-8",
                "item_code": "NO-SUCH-ITEM",
                "kind": "accept",
                "occurred_at": "2025-10-02T09:00:00",
            },
            {
                "event_id": "o-3",
                "case_id": "C-8",
                "kind": "step_start",
                "occurred_at": "2025-10-02T10:00:00",
                "step": "不在流程中的环节",
            },
        ],
    )
    assert (report.applied, report.quarantined) == (3, 0)
    status = db.query("SELECT status, item_code, region_code FROM cases")
    assert status == [("finished", "NO-SUCH-ITEM", None)]


def test_quarantined_record_can_be_fixed_and_retried(db: Database, tmp_path: Path) -> None:
    from govwatch.events import quarantine
    from govwatch.live.pipeline import retry_quarantine as retry

    path = _write_jsonl(
        tmp_path / "e.jsonl",
        [
            {
                "event_id": "q-1",
                "case_id": "C-1",
                "kind": "finish",
                "occurred_at": "2025-10-01T09:00:00",
                "result": "9",
            }
        ],
    )
    import_events(db, [path])
    [entry] = quarantine.list_entries(db)
    assert entry["field"] == "result"
    still = retry(db, None)
    assert still.quarantined == 1 and db.scalar("SELECT count(*) FROM events") == 0
    [entry] = quarantine.list_entries(db)
    quarantine.fix(db, entry["id"], "result", "6")
    report = retry(db, [entry["id"]])
    assert report.applied == 1
    assert quarantine.list_entries(db) == []
    assert db.scalar("SELECT result FROM events WHERE event_id = 'q-1'") == "6"


def test_blank_and_unprintable_keys_do_not_stop_the_record(db: Database) -> None:
    record = {"": None, "\t": 1, "case_id": "C-B", "kind": "terminate",
              "occurred_at": "2025-10-10T10:00:00", "reason": "撤回"}  # fmt: skip
    report = import_records(db, [record])
    assert (report.applied, report.quarantined) == (1, 0)


def test_postgres_import_survives_ids_stored_by_another_writer_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import drop_pg_schema, pg_url

    db = connect(pg_url())  # the look-up-then-COPY race exists on PostgreSQL only
    try:
        import_records(db, CANONICAL[:2])
        real_query = db.query

        def blind(sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
            if "event_id = ANY" in sql:
                return []  # as if the rows were written after the look-up
            return real_query(sql, params)

        monkeypatch.setattr(db, "query", blind)
        report = import_records(db, CANONICAL[:4])
        assert (report.applied, report.duplicates) == (2, 2)
        assert real_query("SELECT count(*) FROM events") == [(4,)]
        assert real_query("SELECT count(*) FROM event_materials") == [(3,)]
    finally:
        drop_pg_schema(db)
        db.close()
