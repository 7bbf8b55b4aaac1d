"""The importer under fuzzing (hypothesis), on both engines: for any file of good records,
records with mutated fields and raw bytes, ``govwatch events import`` (the importer and the
rules after it) never fails, every line read is applied, a duplicate or quarantined, the
counts add up, and every untouched good record is stored.

Bounded and derandomised in ``make test``; ``make fuzz`` runs many random examples
(tests/fuzz_settings.py).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from govwatch.events.fields import ALIASES, KINDS
from govwatch.live.pipeline import import_event_files
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url
from tests.fuzz_settings import fuzz_settings

AT = ["2025-10-01T09:00:00", "2025-10-02T10:30:00+08:00", "20251003143000", "2025-10-04"]
ITEM = "FUZZ-ITEM-001"


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def fdb(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    url = (
        f"duckdb:///{tmp_path_factory.mktemp('fuzz')}/govwatch.duckdb"
        if request.param == "duckdb"
        else pg_url()
    )
    db = connect(url)
    try:
        yield db
    finally:
        drop_pg_schema(db)
        db.close()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


# -- what a file holds --------------------------------------------------------------------------

# values a field may be given: well-formed, odd, out of range, of the wrong type
WEIRD = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "1e20",
            "3000000000",
            "-1",
            "2.5",
            "",
            " ",
            "null",
            "[]",
            "{}",
            "[1, 2",
            "abc",
            "2025-13-45",
            "99991231235959",
            "1",
            "12",
            "W",
            "pass",
            "apply",
            "申请人撤回",
            "\x00",
            "a\x07b",
            "\r\n",
            "\u2028",
            "\ud7ff",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.text(max_size=30),
    st.builds(
        lambda n, c: c * n,
        st.sampled_from([49, 50, 51, 64, 65, 4000, 4001]),
        st.sampled_from("x长"),
    ),
    st.lists(
        st.one_of(
            st.text(max_size=8),
            st.integers(),
            st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
        ),
        max_size=4,
    ),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
)
# keys a mutation may set: every field's spellings, odd spellings, unknown keys
KEYS = st.one_of(
    st.sampled_from(sorted(ALIASES)),
    st.sampled_from(["Case_ID", " kind ", "AMOUNT", "", "\t", 'quo"te', "x.y", "$.kind", "备注"]),
    st.text(max_size=12),
)
# what a raw line may become (applied to the record's JSON text)
RAW_EDITS = st.sampled_from(
    ["nan", "infinity", "1e400", "trailing comma", "repeat key", "truncate", "cr in string",
     "cr as space", "invalid byte", "nul byte", "deep", "string", "array", "bom", "spaces"]
)  # fmt: skip


def _good(tag: str, n: int, kind: str, at: str, case: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "event_id": f"{tag}-{n}",
        "case_id": f"{tag}-C{case}",
        "kind": kind,
        "occurred_at": at,
    }
    if kind in ("apply", "accept"):
        record["item_code"] = ITEM
    if kind == "apply":
        record.update(
            applicant_type="1", channel="2", materials=[{"name": "申请书", "provided": True}]
        )
    elif kind == "finish":
        record.update(result="6")
    elif kind == "payment":
        record.update(amount=50, quantity=2, fee_item="工本费")
    elif kind == "special_start":
        record.update(procedure_kind="1", limit=5, limit_unit="W")
    elif kind == "rating":
        record.update(level="2", channel="移动端")
    return record


def _raw_edit(text: bytes, edit: str) -> bytes:
    if edit == "nan":
        return text[:-1] + b',"amount":NaN}'
    if edit == "infinity":
        return text[:-1] + b',"quantity":-Infinity}'
    if edit == "1e400":
        return text[:-1] + b',"decided_value":1e400}'
    if edit == "trailing comma":
        return text[:-1] + b",}"
    if edit == "repeat key":
        return text[:-1] + b',"case_id":"other"}'
    if edit == "truncate":
        return text[: len(text) // 2]
    if edit == "cr in string":
        return text.replace(b'":"', b'":"\r', 1)
    if edit == "cr as space":
        return text.replace(b",", b",\r")
    if edit == "invalid byte":
        return text.replace(b'":"', b'":"\xff\xc3', 1)
    if edit == "nul byte":
        return text.replace(b'":"', b'":"\x00', 1)
    if edit == "deep":
        return text[:-1] + b',"deep":' + b"[" * 300 + b"]" * 300 + b"}"
    if edit == "string":
        return orjson.dumps(text.decode())
    if edit == "array":
        return b"[" + text + b"]"
    if edit == "bom":
        return b"\xef\xbb\xbf" + text
    return b"  " + text + b"\t "


@st.composite
def event_files(draw: st.DrawFn) -> tuple[str, list[bytes], set[str]]:
    """(tag, the file's lines, the event ids of the good records left untouched)."""
    tag = uuid.uuid4().hex[:12]
    lines: list[bytes] = []
    untouched: set[str] = set()
    count = draw(st.integers(min_value=1, max_value=25))
    for n in range(count):
        shape = draw(
            st.sampled_from(["good", "good", "good", "mutated", "raw", "bytes", "repeat", "blank"])
        )
        record = _good(
            tag, n, draw(st.sampled_from(KINDS)), draw(st.sampled_from(AT)), draw(st.integers(0, 5))
        )
        if shape == "good":
            lines.append(orjson.dumps(record))
            untouched.add(record["event_id"])
        elif shape == "mutated":
            for _ in range(draw(st.integers(1, 3))):
                key = draw(KEYS)
                if draw(st.booleans()) and key in record:
                    del record[key]
                else:
                    record[key] = draw(WEIRD)
            lines.append(_dumps(record))
        elif shape == "raw":
            lines.append(_raw_edit(orjson.dumps(record), draw(RAW_EDITS)))
        elif shape == "bytes":
            lines.append(draw(st.binary(max_size=80)).replace(b"\n", b" "))
        elif shape == "repeat" and lines:
            lines.append(draw(st.sampled_from(lines)))  # a duplicate, or the same poison again
        else:
            lines.append(b"")
    return tag, lines, untouched


def _dumps(record: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(record)
    except orjson.JSONEncodeError:  # an integer past 64 bits
        return json.dumps(record, ensure_ascii=False).encode()


def _readable_lines(lines: list[bytes]) -> int:
    """Lines the importer reads: every one that is not blank (JSON white space)."""
    body = b"\n".join(lines)
    return sum(
        1 for line in body.removeprefix(b"\xef\xbb\xbf").split(b"\n") if line.strip(b" \t\r\n")
    )


def _check(db: Database, path: Path, report: Any, expected_read: int) -> None:
    assert report.read == expected_read
    assert report.read == report.applied + report.duplicates + report.quarantined
    rows = db.query_dicts(
        "SELECT line, field, message FROM quarantine WHERE source = ?", [str(path)]
    )
    assert len(rows) == report.quarantined
    for row in rows:
        assert row["field"] and f"第 {row['line']} 行" in row["message"]
    stored = db.scalar("SELECT count(*) FROM events WHERE source = ?", [str(path)])
    assert stored == report.applied


@fuzz_settings(bounded=36)
@given(file=event_files(), crlf=st.booleans())
def test_any_json_lines_file_imports_without_failing(
    fdb: Database, fuzz_dir: Path, file: tuple[str, list[bytes], set[str]], crlf: bool
) -> None:
    tag, lines, untouched = file
    path = fuzz_dir / f"{tag}.jsonl"
    body = (b"\r\n" if crlf else b"\n").join(lines) + b"\n"
    path.write_bytes(body)
    report = import_event_files(fdb, [path])  # the importer, then the touched cases' rules
    _check(fdb, path, report, _readable_lines(lines))
    if untouched:
        marks = ", ".join("?" for _ in untouched)
        found = fdb.query(
            f"SELECT event_id FROM events WHERE event_id IN ({marks})", sorted(untouched)
        )
        assert {r[0] for r in found} == untouched


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes, int]:
    """(tag, a CSV file whose rows may change encoding or hold odd cells, its rows)."""
    tag = uuid.uuid4().hex[:12]
    header = draw(st.sampled_from([["event_id", "case_id", "kind", "occurred_at", "reason"],
                                   ["event_id", "办件编号", "kind", "时间", "reason"]]))  # fmt: skip
    encoding = draw(st.sampled_from(["utf-8", "gbk"]))
    out = [_csv_line(header).encode(encoding)]
    rows = draw(st.integers(1, 20))
    for n in range(rows):
        cells = [
            f"{tag}-{n}",
            f"{tag}-C{n % 4}",
            "terminate",
            draw(st.sampled_from(AT)),
            f"撤回申请{n}",
        ]
        shape = draw(st.sampled_from(["good", "good", "odd cell", "other encoding", "bytes"]))
        line = _csv_line(cells).encode(encoding)
        if shape == "odd cell":
            cells[draw(st.integers(0, 4))] = str(draw(WEIRD)).replace("\x00", "")
            line = _csv_line(cells).encode(encoding, "replace")
        elif shape == "other encoding":
            line = _csv_line(cells).encode("gbk" if encoding == "utf-8" else "utf-8")
        elif shape == "bytes":
            line = b"a," + draw(st.binary(min_size=1, max_size=40)).replace(b"\n", b"").replace(b"\r", b"").replace(b'"', b"") + b"\r\n"  # fmt: skip
        out.append(line)
    return tag, b"".join(out), rows


def _csv_line(cells: list[str]) -> str:
    text = io.StringIO(newline="")
    csv.writer(text).writerow(cells)
    return text.getvalue()


@fuzz_settings(bounded=18, long=200)
@given(file=csv_files())
def test_any_csv_file_imports_without_failing(
    fdb: Database, fuzz_dir: Path, file: tuple[str, bytes, int]
) -> None:
    tag, body, rows = file
    path = fuzz_dir / f"{tag}.csv"
    path.write_bytes(body)
    report = import_event_files(fdb, [path])
    assert report.read <= rows
    assert report.read == report.applied + report.duplicates + report.quarantined
    assert fdb.scalar("SELECT count(*) FROM events WHERE source = ?", [str(path)]) == report.applied
