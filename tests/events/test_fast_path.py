"""The set-based import path (issue 17) gives the records and verdicts the per-record one does.

JSON Lines files are read in blocks by Arrow (``read_jsonl_columns``) and the first stage is
judged in SQL (``events.sql_checks``): the records, their lines, and every quarantined
record's field and message must be those of the per-line reader and ``record_problem``.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from govwatch.events.checks import record_problem
from govwatch.events.ingest import import_events, import_records
from govwatch.formats import RawRecord, _read_json, read_jsonl_columns
from govwatch.storage import Database

GOOD = {
    "case_id": "C1",
    "kind": "apply",
    "item_code": "I1",
    "occurred_at": "2025-03-03T09:00:00+08:00",
}

# texts on which orjson and DuckDB's reader disagree, or that record_problem refuses
ODD_TEXTS = [
    '{"case_id": "C2", "kind": "apply", "occurred_at": "2025-03-03", "x": NaN}',
    '{"case_id": "C3", "kind": "apply", "occurred_at": "2025-03-03", "x": -Infinity}',
    '{"case_id": "C4", "kind": "apply", "occurred_at": "2025-03-03",}',
    '{"case_id": "C5", "kind": "apply", "occurred_at": "2025-03-03", "x": [1, 2,]}',
    '{"case_id": "C6", "kind": "apply", "occurred_at": "2025-03-03", "x": 1e400}',
    '{"case_id": "C7", "kind": "apply", "occurred_at": "2025-03-03", "kind": "accept"}',
    '{"case_id": "C8\\u0000", "kind": "apply", "occurred_at": "2025-03-03"}',
    '{"case_id": "C9", "kind": "apply", "occurred_at": "2025-03-03", "x": "\\ud800"}',
    '{"case_id": "C10", "kind": "apply", "occurred_at": "2025-03-03", "x": "a\x7fb"}',
    '"{\\"case_id\\": \\"C11\\"}"',
    "[1, 2]",
    "{not json",
    '{"case_id": "C12", "kind": "apply", "occurred_at": "2025-03-03", "x": '
    + "[" * 300
    + "]" * 300
    + "}",
    orjson.dumps({f"k{i}": i for i in range(300)}).decode(),
    '{"case_id": "C13", "kind": "apply", "occurred_at": "2025-03-03", "x": "\\u0061", '
    '"\\u0078": 2}',
]


def _block_records(path: Path, block: int) -> list[RawRecord]:
    return [
        RawRecord(str(path), line, text, problem)
        for table in read_jsonl_columns(path, block)
        for line, text, problem in zip(
            table.column("line").to_pylist(),
            table.column("text").to_pylist(),
            table.column("problem").to_pylist(),
            strict=True,
        )
    ]


@pytest.mark.parametrize("block", [7, 64, 1 << 20])
def test_block_reader_gives_the_records_and_lines_of_the_line_reader(
    tmp_path: Path, block: int
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + orjson.dumps(GOOD)
        + b"\r\n\n   \n\t"
        + orjson.dumps({**GOOD, "case_id": "C2", "reason": "a\rb"})
        + b" \n"
        + b'{"case_id": "\xff\xfe"}\n'
        + orjson.dumps({**GOOD, "case_id": "C3"})
        + b"\n\n"
        + b'{"case_id": "no newline at the end"}'
    )
    expected = list(_read_json(path))
    assert _block_records(path, block) == expected
    assert [r.line for r in expected] == [1, 4, 5, 6, 8]
    assert expected[2].problem is not None


@pytest.mark.parametrize("through", ["file", "records"])
def test_quarantine_of_odd_records_names_what_record_problem_names(
    db: Database, tmp_path: Path, through: str
) -> None:
    texts = [orjson.dumps({**GOOD, "event_id": "E0"}).decode(), *ODD_TEXTS]
    if through == "file":
        path = tmp_path / "odd.jsonl"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        report = import_events(db, [path])
    else:
        report = import_records(db, texts, source="odd")
    assert report.applied == 1
    assert report.quarantined == len(ODD_TEXTS)
    got = {p.line: (p.field, p.message.split("：", 1)[1]) for p in report.problems}
    for line, text in enumerate(texts[1:], start=2):
        verdict = record_problem(text)
        if isinstance(verdict, tuple):  # the first stage refuses it, with these words
            assert got[line] == verdict, text
        else:  # a repeated key (orjson reads it once): the second stage's words
            assert got[line][0] == "record", text
            assert "同一个键出现了不止一次" in got[line][1], text
