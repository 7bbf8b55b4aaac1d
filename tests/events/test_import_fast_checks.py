"""The import's cheaper tests give the verdicts of the general ones (issue 17).

``fast_timestamp_expr`` reads the common ``YYYY-MM-DDThh:mm:ss+08:00`` without the general
expression: every text must read as :func:`~govwatch.events.checks.timestamp_expr` reads it
(spec/data.md: ISO 8601 with an offset is Shanghai wall time). The NUL test scans a chunk's
bytes: a NUL in any record of a cut chunk must send the chunk to the exact path, whose
quarantine names the field. Timestamps travel to PostgreSQL as text written by Arrow: the
stored moment keeps its fraction of a second on both engines.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pytest

from govwatch.events.checks import timestamp_expr
from govwatch.events.ingest import _holds_nul, import_events
from govwatch.events.sql_checks import fast_timestamp_expr
from govwatch.storage import Database

TEXTS = [
    "2025-03-03T09:00:00+08:00",
    "2025-03-03 09:00:00+08:00",
    "2025-3-03T09:00:00+08:00",
    "1991-12-31T23:00:00+08:00",
    "1992-01-01T00:00:00+08:00",
    "2099-12-31T23:59:59+08:00",
    "2100-01-01T00:00:00+08:00",
    "2025-13-01T10:00:00+08:00",
    "2025-02-30T10:00:00+08:00",
    "２025-01-01T10:00:00+08:00",
    "2025-01-01T1０:00:00+08:00",
    "2025-01-01T10:00:00+0800",
    "2025-01-01T24:00:00+08:00",
    "2025-01-01T10:00:60+08:00",
    "2025-01-01T10:00:00+09:00",
    "2025-01-01T10:00:00Z",
    "2025-01-01Tab:00:00+08:00",
    "2025-01-01T10:00:00.5+08:00",
    "20250101100000",
    "20250101",
    "abc",
    "",
    None,
]


def test_fast_timestamps_read_as_the_general_expression() -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    for text in TEXTS:
        fast, general = con.execute(
            f"SELECT {fast_timestamp_expr('x')}, {timestamp_expr('x')} "
            "FROM (SELECT CAST(? AS VARCHAR) AS x)",
            [text],
        ).fetchall()[0]
        assert fast == general, text


def test_nul_is_found_in_any_slice_of_a_chunk() -> None:
    texts = pa.array(['{"a": 1}', '{"b": "x\x00"}', '{"c": 3}', None], pa.string())
    assert _holds_nul(texts)
    assert not _holds_nul(texts.slice(0, 1))
    assert _holds_nul(texts.slice(1, 1))
    assert not _holds_nul(texts.slice(2))
    assert _holds_nul(pa.chunked_array([texts.slice(0, 1), texts.slice(1, 2)]))
    assert _holds_nul(pa.array(["\x00"], pa.large_string()))


def _event(n: int, **fields: object) -> dict[str, object]:
    return {
        "event_id": f"E{n}",
        "case_id": f"C{n}",
        "kind": "apply",
        "item_code": "I1",
        "occurred_at": "2025-03-03T09:00:00+08:00",
        **fields,
    }


def test_a_nul_in_a_chunk_quarantines_its_record_only(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [orjson.dumps(_event(n)).decode() for n in range(5)]
    lines[3] = orjson.dumps(_event(3, applicant_name="张\x00三")).decode()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_events(db, [path], chunk_size=2)
    assert (report.applied, report.quarantined) == (4, 1)
    problem = report.problems[0]
    assert (problem.line, problem.field) == (4, "applicant_name")
    assert "U+0000" in problem.message


def test_fractions_of_a_second_survive_the_bulk_write(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    record = _event(1, occurred_at="2025-03-03T09:00:00.123456+08:00")
    record["promised_finish_at"] = "2025-03-10T17:30:00.5+08:00"
    path.write_text(orjson.dumps(record).decode() + "\n", encoding="utf-8")
    assert import_events(db, [path]).applied == 1
    rows = db.query("SELECT occurred_at, promised_finish_at FROM events")
    assert rows == [
        (datetime(2025, 3, 3, 9, 0, 0, 123456), datetime(2025, 3, 10, 17, 30, 0, 500000))
    ]


@pytest.mark.parametrize("size", [1, 2, 100])
def test_chunking_changes_nothing_stored(db: Database, tmp_path: Path, size: int) -> None:
    path = tmp_path / "events.jsonl"
    lines = [orjson.dumps(_event(n % 4, actor=f"A{n}")).decode() for n in range(9)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_events(db, [path], chunk_size=size)
    assert (report.applied, report.duplicates) == (4, 5)
    stored = db.query("SELECT event_id, actor FROM events ORDER BY event_id")
    assert stored == [(f"E{n}", f"A{n}") for n in range(4)]
    again = import_events(db, [path], chunk_size=size)
    assert (again.applied, again.duplicates) == (0, 9)
