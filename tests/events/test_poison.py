"""Poison records (issue 18 item 4): every malformed record is quarantined with its file,
line, field and a message saying what was expected; none stops the import, and the good
records around it are applied. Both engines: PostgreSQL's columns are the stricter ones.

Each case writes a file of a good record, the poison, and another good record, imports it the
way ``govwatch events import`` does (the touched cases' rules follow), and reads back the
quarantine row of that file and the good events. One database per engine serves the module;
every case has its own file and ids.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from govwatch.events import checks, quarantine
from govwatch.events.fields import FIELDS
from govwatch.live.pipeline import import_event_files, retry_quarantine
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url

AT = "2025-10-01T09:00:00"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def pdb(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One migrated database per engine for the whole module (each case keeps to its ids)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('poison')}/govwatch.duckdb"
    else:
        url = pg_url()
    db = connect(url)
    try:
        yield db
    finally:
        drop_pg_schema(db)
        db.close()


def _record(tag: str, n: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": f"{tag}-{n}",
        "case_id": f"{tag}-C{n}",
        "kind": "payment",
        "occurred_at": AT,
    }
    record.update(fields)
    return {k: v for k, v in record.items() if v is not None}


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def _import(db: Database, path: Path) -> Any:
    report = import_event_files(db, [path])
    assert report.read == report.applied + report.duplicates + report.quarantined
    return report


def _quarantined(db: Database, path: Path) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT source, line, field, message, raw FROM quarantine WHERE source = ? ORDER BY line",
        [str(path)],
    )


def _stored(db: Database, tag: str) -> list[str]:
    rows = db.query(
        "SELECT event_id FROM events WHERE event_id LIKE ? ORDER BY event_id", [f"{tag}-%"]
    )
    return [r[0] for r in rows]


def _poison_between(db: Database, directory: Path, poison: bytes) -> tuple[str, dict[str, Any]]:
    """Import good (line 1), poison (line 2), good (line 3): the tag and the quarantine row."""
    tag = uuid.uuid4().hex[:10]
    path = directory / f"{tag}.jsonl"
    good = [_line(_record(tag, n, kind="terminate", reason="撤回")) for n in (1, 3)]
    path.write_bytes(
        good[0] + b"\n" + poison.replace(b"@TAG", tag.encode()) + b"\n" + good[1] + b"\n"
    )
    report = _import(db, path)
    assert (report.applied, report.quarantined) == (2, 1), report.problems
    [row] = _quarantined(db, path)
    assert (row["source"], row["line"]) == (str(path), 2)
    assert _stored(db, tag) == [f"{tag}-1", f"{tag}-3"]
    return tag, row


def _poison(**fields: Any) -> bytes:
    return _line(_record("@TAG", 2, **fields))


def _raw(body: str) -> bytes:
    """A record's text with the tag's ids, for what orjson cannot write (NaN, 1e400 ...)."""
    return ('{"event_id": "@TAG-2", "case_id": "@TAG-C2", "kind": "payment", "occurred_at": "'
            + AT + '", ' + body + "}").encode()  # fmt: skip


NUMBERS_OUT_OF_RANGE = {
    # amount is DECIMAL(14, 2): 1e20 aborted a whole import with a ConversionException
    "amount 1e20": (_poison(amount=1e20), "amount", "999,999,999,999.99"),
    "amount '1e20' as text": (_poison(amount="1e20"), "amount", "实际为“1e20”"),
    "amount 10^12": (_poison(amount=1_000_000_000_000), "amount", "有限数值"),
    "amount NaN as text": (_poison(amount="NaN"), "amount", "实际为“NaN”"),
    # limit is an INTEGER number of days
    "limit 3000000000": (_poison(kind="special_start", limit=3_000_000_000), "limit", "0 至 36500"),
    "limit negative": (_poison(kind="special_start", limit=-1), "limit", "0 至 36500"),
    "limit fractional": (_poison(kind="special_start", limit=2.5), "limit", "整数"),
    "limit NaN as text": (_poison(kind="special_start", limit="NaN"), "limit", "实际为“NaN”"),
    "quantity Infinity as text": (_poison(quantity="Infinity"), "quantity", "有限数值"),
    "quantity 1e300": (_poison(quantity=1e300), "quantity", "有限数值"),
    "decided_value -Infinity as text": (
        _poison(kind="finish", result="6", decided_value="-Infinity"),
        "decided_value",
        "有限数值",
    ),
    "promised_finish_at in year 9999": (
        _poison(kind="accept", item_code="X", promised_finish_at="9999-01-01T00:00:00"),
        "promised_finish_at",
        "1980–2100",
    ),
}

NOT_JSON_FOR_ORJSON = {
    # DuckDB's reader takes these; orjson, the one parser that decides, does not
    "NaN as a number": (_raw('"amount": NaN'), "NaN 或 Infinity"),
    "Infinity as a number": (_raw('"quantity": Infinity'), "NaN 或 Infinity"),
    "1e400": (_raw('"decided_value": 1e400'), "超出范围"),
    "trailing comma": (_raw('"reason": "x",'), "多余的逗号"),
    "nesting over 1024": (_raw('"deep": ' + "[" * 2000 + "]" * 2000), "嵌套超过 1024 层"),
    "a JSON string, not an object": (
        orjson.dumps(_line(_record("@TAG", 2)).decode()),
        "JSON 字符串而不是对象",
    ),
    "a raw NUL inside a string": (_raw('"reason": "a\x00b"'), "控制字符"),
}


@pytest.mark.parametrize("case", NUMBERS_OUT_OF_RANGE, ids=list(NUMBERS_OUT_OF_RANGE))
def test_numbers_outside_their_column_are_quarantined(
    pdb: Database, tmp_path: Path, case: str
) -> None:
    poison, field, expected = NUMBERS_OUT_OF_RANGE[case]
    _, row = _poison_between(pdb, tmp_path, poison)
    assert row["field"] == field
    assert "第 2 行" in row["message"] and expected in row["message"], row["message"]


def test_numbers_at_their_bounds_are_applied(pdb: Database, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "bounds.jsonl"
    records = [
        _record(tag, 1, amount=999_999_999_999.99, quantity=1e15),
        _record(tag, 2, amount="-999999999999.99"),
        _record(tag, 3, kind="special_start", limit=36_500, limit_unit="N"),
        _record(tag, 4, kind="special_start", limit="0"),
        _record(tag, 5, kind="finish", result="6", decided_value=-1e15),
    ]
    path.write_bytes(b"\n".join(_line(r) for r in records) + b"\n")
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (5, 0), report.problems
    amount = pdb.scalar(f"SELECT CAST(amount AS VARCHAR) FROM events WHERE event_id = '{tag}-1'")
    assert amount == "999999999999.99"
    assert pdb.scalar(f"SELECT limit_days FROM events WHERE event_id = '{tag}-3'") == 36_500


@pytest.mark.parametrize("case", NOT_JSON_FOR_ORJSON, ids=list(NOT_JSON_FOR_ORJSON))
def test_what_orjson_cannot_read_is_quarantined(pdb: Database, tmp_path: Path, case: str) -> None:
    poison, expected = NOT_JSON_FOR_ORJSON[case]
    _, row = _poison_between(pdb, tmp_path, poison)
    assert row["field"] == "record"
    assert expected in row["message"], row["message"]
    assert "\x00" not in row["raw"]  # no PostgreSQL text column holds a NUL


@pytest.mark.parametrize(
    "body",
    [
        '"case_id": "@TAG-C2", "kind": "terminate", "amount": NaN',
        '"case_id": "@TAG-C2", "kind": "x",',
    ],
    ids=["NaN", "trailing comma"],
)
def test_records_without_event_id_that_orjson_cannot_read_are_quarantined(
    pdb: Database, tmp_path: Path, body: str
) -> None:
    # the id of a record without one is the SHA-256 of its orjson reading: it used to crash
    poison = ('{"occurred_at": "' + AT + '", ' + body + "}").encode()
    _, row = _poison_between(pdb, tmp_path, poison)
    assert row["field"] == "record" and "不是合法的 JSON" in row["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": "a\x00b"}, "reason"),
        ({"case_id": "@TAG-C\x002"}, "case_id"),
        ({"opinion": "bell\x07"}, "opinion"),
        ({"text": "del\x7f"}, "text"),
        ({"kind": "apply", "item_code": "X", "materials": [{"name": "申请书\x00"}]}, "materials"),
        ({"SBLSH": "@TAG-C\x012"}, "case_id"),  # an alias names the field
        ({"my_note": {"deep": ["\x00"]}}, "my_note"),  # an unknown key, nested
    ],
    ids=["NUL", "NUL in case_id", "BEL", "DEL", "NUL in a material", "alias", "unknown key"],
)
def test_control_characters_in_any_text_are_quarantined(
    pdb: Database, tmp_path: Path, fields: dict[str, Any], field: str
) -> None:
    record = _record("@TAG", 2, **fields)
    if "SBLSH" in fields:
        del record["case_id"]
    _, row = _poison_between(pdb, tmp_path, _line(record))
    assert row["field"] == field
    assert "控制字符 U+00" in row["message"], row["message"]
    assert "\x00" not in row["raw"] and "\x00" not in row["message"]


def test_tabs_and_line_ends_in_text_are_kept(pdb: Database, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "text.jsonl"
    path.write_bytes(
        _line(_record(tag, 1, kind="terminate", reason="第一行\r\n第二行\t（附）")) + b"\n"
    )
    assert _import(pdb, path).applied == 1
    assert (
        pdb.scalar(f"SELECT reason FROM events WHERE event_id = '{tag}-1'")
        == "第一行\r\n第二行\t（附）"
    )


TEXT_FIELDS = [f for f in FIELDS if f.type == "text"]
# the events columns' declared lengths (001_core.sql); every other text: 4,000 characters
LENGTHS = {"event_id": 64, "case_id": 50, "applicant_type": 1, "case_kind": 1,
           "procedure_kind": 1, "limit_unit": 1, "level": 1}  # fmt: skip
# a value as long as the column allows that its checks accept (codes checked on every kind)
AT_LIMIT = {"case_kind": "1", "procedure_kind": "1", "limit_unit": "W", "kind": "correction",
            "action": "pass"}  # fmt: skip


@pytest.mark.parametrize("field", [f.name for f in TEXT_FIELDS])
def test_every_text_field_longer_than_its_column_is_quarantined(
    pdb: Database, tmp_path: Path, field: str
) -> None:
    """Whatever the kind: PostgreSQL refused applicant_type on accept and level on finish,
    checked only on apply and rating, and took the whole batch down with them."""
    limit = LENGTHS.get(field, 4000)
    tag = uuid.uuid4().hex[:10]
    at_limit = AT_LIMIT.get(field, "x" * limit)
    if field == "event_id":
        at_limit = tag + "-" + "e" * (limit - len(tag) - 1)
    if field == "case_id":
        at_limit = tag + "-" + "c" * (limit - len(tag) - 1)
    over = "y" * (limit + 1)
    fine = _record(tag, 1, kind="correction", field="reason", old="a", new="b")
    fine[field] = at_limit
    path = tmp_path / f"{tag}.jsonl"
    poison = _record(tag, 2, kind="correction")
    poison[field] = over
    path.write_bytes(_line(fine) + b"\n" + _line(poison) + b"\n")
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (1, 1), report.problems
    [row] = _quarantined(pdb, path)
    assert (row["line"], row["field"]) == (2, field)
    assert str(limit) in row["message"] or "应为" in row["message"], row["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "accept", "item_code": "X", "applicant_type": "12"}, "applicant_type"),
        ({"kind": "finish", "result": "6", "level": "12"}, "level"),
    ],
    ids=["applicant_type on accept", "level on finish"],
)
def test_over_long_codes_on_kinds_that_do_not_check_them(
    pdb: Database, tmp_path: Path, fields: dict[str, Any], field: str
) -> None:
    _, row = _poison_between(pdb, tmp_path, _poison(**fields))
    assert row["field"] == field
    assert "长度应不超过 1 个字符，实际为 2（“12”）" in row["message"]


def test_column_lengths_checked_are_the_schema_s(tmp_path: Path) -> None:
    """The declared VARCHAR lengths the checks enforce are those of the migrated schema."""
    db = connect(pg_url())  # DuckDB does not keep a VARCHAR's length
    try:
        rows = db.query(
            "SELECT column_name, character_maximum_length FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = 'events' AND character_maximum_length IS NOT NULL",
            [db.schema],
        )
    finally:
        drop_pg_schema(db)
        db.close()
    columns = {f.column: f.name for f in FIELDS}
    assert {columns[c]: n for c, n in rows} == checks.COLUMN_LENGTHS == LENGTHS
    assert checks.TEXT_LIMIT == 4000


@pytest.mark.parametrize(
    ("materials", "shown"),
    [("abc", "实际为“abc”"), ({"name": "申请书"}, "应为列表"), ("[1, 2", "应为列表")],
    ids=["not JSON", "an object", "cut short"],
)
def test_materials_that_are_not_a_list_are_quarantined(
    pdb: Database, tmp_path: Path, materials: Any, shown: str
) -> None:
    _, row = _poison_between(
        pdb, tmp_path, _poison(kind="apply", item_code="X", materials=materials)
    )
    assert row["field"] == "materials" and shown in row["message"], row["message"]


def test_a_line_that_is_not_utf8_is_one_malformed_record(pdb: Database, tmp_path: Path) -> None:
    _, row = _poison_between(
        pdb, tmp_path, _raw('"reason": "\xff\xfe"').replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe")
    )
    assert row["field"] == "record"
    assert "0xFF" in row["message"] and "不是合法的 UTF-8" in row["message"]
    assert "\\xff\\xfe" in row["raw"]  # the bytes, written out


def test_invalid_utf8_on_many_lines_keeps_every_line_number(pdb: Database, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "mixed.jsonl"
    lines = []
    for n in range(1, 21):
        record = _line(_record(tag, n, kind="terminate", reason=f"原因{n}"))
        if n % 4 == 0:  # the same record written in GBK: not UTF-8
            record = record.decode().encode("gbk")
        lines.append(record)
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (15, 5)
    assert [r["line"] for r in _quarantined(pdb, path)] == [4, 8, 12, 16, 20]
    assert len(_stored(pdb, tag)) == 15


def test_a_raw_carriage_return_neither_splits_a_record_nor_shifts_line_numbers(
    pdb: Database, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "cr.jsonl"
    lines = [
        _line(_record(tag, 1, kind="terminate", reason="a")),
        _line(_record(tag, 2, kind="terminate", reason="a")).replace(
            b'"a"', b'"a\rb"'
        ),  # in a string
        _line(_record(tag, 3, kind="terminate")).replace(
            b",", b",\r", 1
        ),  # between tokens: JSON space
        _line(_record(tag, 4, kind="terminate", reason="x", amount="y")),  # line 4: malformed
        _line(_record(tag, 5, kind="terminate", reason="a")),
    ]
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")  # and CRLF line ends
    report = _import(pdb, path)
    assert (report.read, report.applied, report.quarantined) == (5, 3, 2)
    rows = _quarantined(pdb, path)
    assert [(r["line"], r["field"]) for r in rows] == [(2, "record"), (4, "amount")]
    assert "控制字符" in rows[0]["message"]
    assert _stored(pdb, tag) == [f"{tag}-1", f"{tag}-3", f"{tag}-5"]


def test_nesting_deeper_than_orjson_writes_is_quarantined(pdb: Database, tmp_path: Path) -> None:
    depth = checks.MAX_DEPTH
    deep = "[" * depth + "]" * depth  # with the record itself: one level too deep
    _, row = _poison_between(pdb, tmp_path, _raw('"deep": ' + deep))
    assert row["field"] == "record" and f"嵌套超过 {depth} 层" in row["message"]
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "deepest.jsonl"
    fits = "[" * (depth - 1) + "]" * (depth - 1)
    path.write_bytes(_raw('"deep": ' + fits).replace(b"@TAG", tag.encode()) + b"\n")
    assert _import(pdb, path).applied == 1  # and its extra keeps the nesting


def test_a_record_over_one_megabyte_is_quarantined(pdb: Database, tmp_path: Path) -> None:
    poison = _poison(kind="terminate", reason="长" * 400_000)  # 1.2 MB in UTF-8
    _, row = _poison_between(pdb, tmp_path, poison)
    assert row["field"] == "record" and "超过单条上限 1048576 字节" in row["message"]


def test_a_record_with_thousands_of_keys_is_quarantined(pdb: Database, tmp_path: Path) -> None:
    many = {f"k{i}": i for i in range(5000)}  # once exhausted the import's memory cap
    _, row = _poison_between(pdb, tmp_path, _poison(kind="terminate", **many))
    assert row["field"] == "record" and "5004 个键，超过单条上限 256 个" in row["message"]


def test_thousands_of_distinct_unknown_keys_in_a_chunk_import_each_record_s_own(
    pdb: Database, tmp_path: Path
) -> None:
    """Each record's unknown keys go to its extra, and only its own: the work no longer grows
    with the number of distinct keys of the chunk (here 40,000 under the import memory cap)."""
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "wide.jsonl"
    records = [
        _record(tag, n, kind="terminate", **{f"x{n}_{i}": i for i in range(200)})
        for n in range(200)
    ]
    path.write_bytes(b"\n".join(_line(r) for r in records) + b"\n")
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (200, 0)
    extra = pdb.scalar(f"SELECT extra FROM events WHERE event_id = '{tag}-7'")
    assert orjson.loads(extra) == {f"x7_{i}": i for i in range(200)}


def test_extra_holds_the_record_s_own_unknown_keys_only(pdb: Database, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "extra.jsonl"
    records = [
        _record(tag, 1, kind="terminate", note="甲", 备注='含"引号'),
        _record(tag, 2, kind="terminate", other={"a": [1, None]}),
        _record(tag, 3, kind="terminate"),
    ]
    path.write_bytes(b"\n".join(_line(r) for r in records) + b"\n")
    _import(pdb, path)
    extras = dict(pdb.query(f"SELECT event_id, extra FROM events WHERE event_id LIKE '{tag}-%'"))
    assert orjson.loads(extras[f"{tag}-1"]) == {"note": "甲", "备注": '含"引号'}
    assert orjson.loads(extras[f"{tag}-2"]) == {"other": {"a": [1, None]}}
    assert extras[f"{tag}-3"] is None


def test_a_key_written_twice_is_quarantined(pdb: Database, tmp_path: Path) -> None:
    # orjson keeps the last case_id, DuckDB the first: no reading is the record's
    _, row = _poison_between(pdb, tmp_path, _raw('"case_id": "@TAG-C9"'))
    assert row["field"] == "record" and "出现了不止一次" in row["message"]


def test_too_many_spellings_of_fields_quarantine_the_rare_ones(
    pdb: Database, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "spellings.jsonl"
    records = []
    for n in range(200):  # " reason", "  reason" ...: each a spelling of reason
        record = _record(tag, n, kind="terminate")
        record[" " * n + "reason"] = "撤回"
        records.append(record)
    path.write_bytes(b"\n".join(_line(r) for r in records) + b"\n")
    report = _import(pdb, path)
    assert report.applied + report.quarantined == 200 and report.quarantined >= 200 - 128
    assert all("写法过多" in r["message"] for r in _quarantined(pdb, path))


def test_a_json_array_file_with_a_string_element(pdb: Database, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "array.json"
    good = _record(tag, 1, kind="terminate")
    path.write_bytes(orjson.dumps([good, _line(_record(tag, 2, kind="terminate")).decode()]))
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (1, 1)
    [row] = _quarantined(pdb, path)
    assert (row["line"], row["field"]) == (2, "record") and "JSON 字符串" in row["message"]


# -- CSV and Excel ------------------------------------------------------------------------------

CSV_HEADER = ["event_id", "办件编号", "kind", "occurred_at", "reason"]


def _csv_rows(tag: str, start: int, count: int) -> list[list[str]]:
    return [[f"{tag}-{n}", f"{tag}-C{n}", "terminate", AT, f"申请人撤回申请（第 {n} 件）"] for n in
            range(start, start + count)]  # fmt: skip


def _csv_bytes(rows: list[list[str]], encoding: str) -> bytes:
    import io

    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def test_a_csv_that_turns_from_utf8_to_gbk_keeps_its_utf8_rows(
    pdb: Database, tmp_path: Path
) -> None:
    """Decided by the file's first text that is not ASCII (UTF-8 here, over 64 KB of it); each
    GBK row is quarantined, readable, and imports once retried."""
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "turns.csv"
    utf8 = _csv_bytes([CSV_HEADER, *_csv_rows(tag, 1, 1000)], "utf-8")
    assert len(utf8) > 1 << 16
    path.write_bytes(utf8 + _csv_bytes(_csv_rows(tag, 1001, 3), "gbk"))
    report = _import(pdb, path)
    assert (report.read, report.applied, report.quarantined) == (1003, 1000, 3)
    rows = _quarantined(pdb, path)
    assert [(r["line"], r["field"]) for r in rows] == [
        (1002, "record"),
        (1003, "record"),
        (1004, "record"),
    ]
    assert "不是 UTF-8 编码" in rows[0]["message"]
    assert "申请人撤回申请（第 1001 件）" in rows[0]["raw"]  # read in GBK, for the reader to check
    ids = [e["id"] for e in quarantine.list_entries(pdb) if e["source"] == str(path)]
    assert retry_quarantine(pdb, ids).applied == 3
    assert len(_stored(pdb, tag)) == 1003


@pytest.mark.parametrize(
    "ascii_rows", [0, 3000], ids=["GBK from the header", "GBK after 64 KB of ASCII"]
)
def test_a_gbk_csv_imports_whole(pdb: Database, tmp_path: Path, ascii_rows: int) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "gbk.csv"
    header = (
        CSV_HEADER if not ascii_rows else ["event_id", "case_id", "kind", "occurred_at", "reason"]
    )
    plain = [
        [f"{tag}-a{n}", f"{tag}-A{n}", "terminate", AT, "withdrawn"] for n in range(ascii_rows)
    ]
    path.write_bytes(_csv_bytes([header, *plain, *_csv_rows(tag, 1, 5)], "gbk"))
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (ascii_rows + 5, 0), report.problems[:3]
    reason = pdb.scalar(f"SELECT reason FROM events WHERE event_id = '{tag}-3'")
    assert reason == "申请人撤回申请（第 3 件）"


def test_a_csv_cell_over_one_megabyte_is_one_malformed_row(pdb: Database, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "big.csv"
    rows = [CSV_HEADER, *_csv_rows(tag, 1, 1), [f"{tag}-2", f"{tag}-C2", "terminate", AT, "长" * 500_000],
            *_csv_rows(tag, 3, 1)]  # fmt: skip
    path.write_bytes(_csv_bytes(rows, "utf-8"))
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (2, 1)
    [row] = _quarantined(pdb, path)
    assert (row["line"], row["field"]) == (3, "record") and "超过单条上限" in row["message"]


def test_an_excel_amount_beyond_64_bits_is_quarantined(pdb: Database, tmp_path: Path) -> None:
    import openpyxl

    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "fees.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["event_id", "case_id", "kind", "occurred_at", "amount"])
    sheet.append([f"{tag}-1", f"{tag}-C1", "payment", AT, 50])
    sheet.append([f"{tag}-2", f"{tag}-C2", "payment", AT, 1e20])  # a whole number past 64 bits
    sheet.append([f"{tag}-3", f"{tag}-C3", "payment", AT, 12.5])
    book.save(path)
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (2, 1)
    [row] = _quarantined(pdb, path)
    assert (row["line"], row["field"]) == (3, "amount")


def test_a_control_character_under_a_blank_key_names_the_record(
    pdb: Database, tmp_path: Path
) -> None:
    _, row = _poison_between(pdb, tmp_path, _poison(kind="terminate", **{"": "a\x00"}))
    assert row["field"] == "record" and "U+0000" in row["message"]  # found by the fuzz test


def test_a_csv_whose_header_decodes_in_neither_encoding_is_read_row_by_row(
    pdb: Database, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "bytes.csv"
    header = b"event_id,case_id,kind,occurred_at,reason,\xff\x80\r\n"  # found by the fuzz test
    path.write_bytes(header + _csv_bytes(_csv_rows(tag, 1, 2), "utf-8"))
    report = _import(pdb, path)
    assert (report.read, report.applied + report.quarantined) == (2, 2)


def test_json_lines_whose_first_line_is_an_array_are_read_line_by_line(
    pdb: Database, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:10]
    path = tmp_path / "first.jsonl"
    first = b"[" + _line(_record(tag, 1, kind="terminate")) + b"]"  # found by the fuzz test
    path.write_bytes(first + b"\n" + _line(_record(tag, 2, kind="terminate")) + b"\n")
    report = _import(pdb, path)
    assert (report.applied, report.quarantined) == (1, 1)
    [row] = _quarantined(pdb, path)
    assert (row["line"], row["field"]) == (1, "record") and "实际为数组" in row["message"]


def test_a_quarantined_record_replaced_by_text_with_nul_is_stored_and_still_refused(
    pdb: Database, tmp_path: Path
) -> None:
    tag, _ = _poison_between(pdb, tmp_path, _poison(amount="1e20"))
    [entry] = [e for e in quarantine.list_entries(pdb) if tag in e["raw"]]
    fixed = _line(_record(tag, 2, kind="terminate")).decode().replace("terminate", "termi\x00nate")
    quarantine.replace_raw(pdb, entry["id"], fixed)  # PostgreSQL text cannot hold the NUL
    report = retry_quarantine(pdb, [entry["id"]])
    assert (report.applied, report.quarantined) == (0, 1)
