"""POST /api/v1/events under attack: one parser decides, a bad record never costs the batch.

Issue 18 items 1 and 4 (HTTP). A source token of department D1 tries to write into D2's case
with records that orjson refuses but DuckDB's JSON reader would accept, or that are not JSON
objects at all; none may reach the store. Poison records (overflowing numbers, NUL, invalid
UTF-8, thousands of keys...) are answered with their index, field and message while the good
records of the same batch are applied; and a NUL in a query parameter answers 400, not 500.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.api.conftest import World, events_for

EVIL_CASE = "C-D2"  # department D2's case; the attacker holds source1 (D1)
NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}


def _evil(n: int, extra: bytes = b"", *, close: bytes = b"}") -> bytes:
    """A D1-token record terminating D2's case, with ``extra`` spliced before its end."""
    return (
        b'{"event_id": "evil-%d", "case_id": "C-D2", "kind": "terminate", '
        b'"occurred_at": "2025-09-05T10:00:00+08:00", "reason": "x"' % n + extra + close
    )


DEEP = b"[" * 1100 + b"]" * 1100
OWN = orjson.dumps(
    {
        "event_id": "own-1",
        "case_id": "C-OWN",
        "kind": "apply",
        "item_code": "ITEM-D1",
        "org_code": "D1",
        "occurred_at": "2025-09-05T09:00:00+08:00",
    }
)

# name -> (body, headers, outcome): ("quarantined", index of the evil record) when the batch
# is answered 200 with the record quarantined, or ("refused", status) when the batch is refused
VARIANTS: dict[str, tuple[bytes, dict[str, str], tuple[str, int]]] = {
    "trailing comma": (_evil(1, b","), NDJSON, ("quarantined", 0)),
    "NaN": (_evil(2, b', "x_note": NaN'), NDJSON, ("quarantined", 0)),
    "Infinity": (_evil(3, b', "x_note": Infinity'), NDJSON, ("quarantined", 0)),
    "-Infinity": (_evil(4, b', "x_note": -Infinity'), NDJSON, ("quarantined", 0)),
    "1e400": (_evil(5, b', "x_note": 1e400'), NDJSON, ("quarantined", 0)),
    "nesting over 1024": (_evil(6, b', "x_note": ' + DEEP), NDJSON, ("quarantined", 0)),
    "nesting over 255 (orjson reads, cannot write)": (
        _evil(7, b', "x_note": ' + b"[" * 300 + b"]" * 300),
        NDJSON,
        ("quarantined", 0),
    ),
    "invalid UTF-8": (_evil(8, b', "x_note": "\xff\xfe\xc3"'), NDJSON, ("quarantined", 0)),
    "JSON string element": (orjson.dumps([_evil(9).decode()]), JSON, ("quarantined", 0)),
    "JSON string line": (
        OWN + b"\n" + orjson.dumps(_evil(10).decode()),
        NDJSON,
        ("quarantined", 1),
    ),
    "string element beside a good one": (
        b"[" + OWN + b", " + orjson.dumps(_evil(11).decode()) + b"]",
        JSON,
        ("quarantined", 1),
    ),
    "number, list and null elements": (
        b"[1, [" + _evil(12) + b"], null, " + orjson.dumps(_evil(13).decode()) + b"]",
        JSON,
        ("quarantined", 1),
    ),
    "NaN inside an array": (
        b"[" + OWN + b", " + _evil(14, b', "x": NaN') + b"]",
        JSON,
        ("quarantined", 1),
    ),
    "trailing comma inside an array": (b"[" + _evil(15, b",") + b"]", JSON, ("quarantined", 0)),
    "byte order mark before JSON Lines": (b"\xef\xbb\xbf" + _evil(16), NDJSON, ("refused", 403)),
    "byte order mark before an array": (
        b"\xef\xbb\xbf[" + _evil(17) + b"]",
        JSON,
        ("refused", 403),
    ),
    # DuckDB keeps a repeated key's first value, orjson its last: the record is refused whole
    "repeated case_id (DuckDB reads the first)": (
        _evil(18, b', "case_id": "C-OWN", "org_code": "D1"'),
        NDJSON,
        ("quarantined", 0),
    ),
    "repeated case_id with a trailing comma": (
        _evil(19, b', "case_id": "C-OWN", "org_code": "D1",'),
        NDJSON,
        ("quarantined", 0),
    ),
    "repeated org_code": (
        _evil(20, b', "org_code": "D2", "org_code": "D1"'),
        NDJSON,
        ("quarantined", 0),
    ),
    "raw CR between keys (one record, judged)": (
        _evil(21, b',\r"x_note": 1'),
        NDJSON,
        ("refused", 403),
    ),
}


def _case_state(world: World, case_id: str) -> tuple[Any, ...]:
    events = world.db.query(
        "SELECT event_id, kind, org_code FROM events WHERE case_id = ? ORDER BY event_id",
        [case_id],
    )
    case = world.db.query(
        "SELECT status, terminated_at, event_count, org_code, department_code FROM cases "
        "WHERE case_id = ?",
        [case_id],
    )
    return tuple(tuple(r) for r in events), tuple(tuple(r) for r in case)


def test_no_variant_of_a_record_lets_a_token_write_into_another_departments_case(
    world: World,
) -> None:
    assert (
        world.post("source_all", "/api/v1/events", json=events_for("C-D2", "ITEM-D2")).status_code
        == 200
    )
    before = _case_state(world, EVIL_CASE)
    assert before[1][0][4] == "D2"
    broke: list[str] = []
    for name, (body, headers, (outcome, expected)) in VARIANTS.items():
        try:
            answer = world.client.post(
                "/api/v1/events", content=body, headers={**world.headers("source1"), **headers}
            )
        except Exception as exc:  # the test client re-raises what answered 500
            broke.append(f"{name}: 500 ({exc!r})"[:300])
            continue
        if _case_state(world, EVIL_CASE) != before:
            broke.append(f"{name}: D2's case changed")
            before = _case_state(world, EVIL_CASE)  # judge the next variant on its own
            continue
        if outcome == "refused":
            if answer.status_code != expected:
                broke.append(f"{name}: {answer.status_code} {answer.text[:200]}")
            continue
        if answer.status_code != 200:
            broke.append(f"{name}: {answer.status_code} {answer.text[:200]}")
            continue
        reported = {q["index"]: q for q in answer.json()["quarantined"]}
        if expected not in reported or reported[expected]["field"] != "record":
            broke.append(
                f"{name}: record {expected} not quarantined as malformed: {answer.text[:300]}"
            )
    assert not broke, "\n".join(broke)
    # every evil record is kept in the quarantine, as evidence, and none was applied
    assert world.db.scalar("SELECT count(*) FROM events WHERE event_id LIKE 'evil-%'") == 0
    raws = [
        str(r[0]) for r in world.db.query("SELECT raw FROM quarantine WHERE raw LIKE '%evil-%'")
    ]
    kept = {n for n in range(1, 22) for raw in raws if f"evil-{n}\\" in raw or f'evil-{n}"' in raw}
    refused = {16, 17, 21}  # refused whole (403): nothing of those batches is kept
    assert kept == set(range(1, 22)) - refused
    assert any(raw.startswith("[") and "evil-12" in raw for raw in raws)  # the list, as sent
    # the JSON string is kept as sent (its text, not an object made of it)
    assert any(raw.startswith('"{') and "evil-9" in raw for raw in raws)
    # the good records beside the bad ones were applied
    assert world.db.scalar("SELECT count(*) FROM events WHERE event_id = 'own-1'") == 1


def test_a_record_the_checker_reads_is_the_record_the_importer_stores(world: World) -> None:
    # the checker and the importer agree on aliases: a record is applied with what was judged
    record = {
        "event_id": "agree-1",
        "CASE_ID": "C-AGREE",
        "case_id": "",
        "kind": "apply",
        "item_code": "ITEM-D1",
        "org_code": "D1",
        "occurred_at": "2025-09-05T09:00:00+08:00",
        "extra_note": 1e300,
    }
    answer = world.post("source1", "/api/v1/events", json=[record])
    assert answer.status_code == 200, answer.text
    assert answer.json()["applied"] == 1
    assert world.db.scalar("SELECT org_code FROM cases WHERE case_id = 'C-AGREE'") == "D1"


def test_repeated_keys_are_refused_whichever_value_each_reader_would_pick(world: World) -> None:
    # orjson keeps the last value, DuckDB's reader the first: neither may decide alone
    lines = [
        b'{"event_id": "dup-1", "case_id": "C-NEW1", "kind": "apply", "item_code": "ITEM-D1", '
        b'"org_code": "D2", "org_code": "D1", "occurred_at": "2025-09-05T09:00:00+08:00"}',
        b'{"event_id": "dup-2", "case_id": "C-NEW2", "kind": "apply", "item_code": "ITEM-D1", '
        b'"org_code": "D1", "occurred_at": "2025-09-05T09:00:00+08:00", '
        b'"materials": [{"name": "a", "name": "b"}]}',
        b'{"event_id": "dup-3", "case_id": "C-NEW3", "kind": "apply", "item_code": "ITEM-D1", '
        b'"org_code": "D1", "occurred_at": "2025-09-05T09:00:00+08:00", "note": "\\u003a"}',
    ]
    answer = world.client.post(
        "/api/v1/events",
        content=b"\n".join(lines),
        headers={**world.headers("source1"), **NDJSON},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(q["index"], q["field"]) for q in body["quarantined"]] == [(0, "record"), (1, "record")]
    assert "org_code" in body["quarantined"][0]["message"]
    assert body["applied"] == 1  # an escaped colon is no repeated key
    stored = {str(r[0]) for r in world.db.query("SELECT event_id FROM events")}
    assert "dup-1" not in stored and "dup-2" not in stored and "dup-3" in stored


# -- poison records over HTTP ----------------------------------------------------------------


def _good(n: int, kind: str, **extra: object) -> dict[str, object]:
    return {
        "event_id": f"good-{n}",
        "case_id": "C-POISON",
        "kind": kind,
        "item_code": "ITEM-D1",
        "org_code": "D1",
        "occurred_at": f"2025-09-0{n}T10:00:00+08:00",
        **extra,
    }


def _poison(n: int, **fields: object) -> dict[str, object]:
    return {
        "event_id": f"poison-{n}",
        "case_id": f"C-PZ{n}",
        "org_code": "D1",
        "item_code": "ITEM-D1",
        "occurred_at": "2025-09-03T10:00:00+08:00",
        **fields,
    }


def _poison_lines() -> tuple[list[bytes], list[int]]:
    """JSON Lines of good records with poison between them; the poison lines' indexes."""
    good = [
        _good(1, "apply", applicant_type="1", materials=[{"name": "申请书", "provided": True}]),
        _good(2, "accept"),
        _good(4, "finish", result="6"),
    ]
    many_keys = _poison(9, kind="accept") | {f"k{i}": i for i in range(5000)}
    poison: list[bytes] = [
        orjson.dumps(_poison(1, kind="payment", amount=1e20, fee_item="工本费")),
        orjson.dumps(_poison(2, kind="special_start", procedure_kind="1", limit=3000000000)),
        orjson.dumps(_poison(3, kind="payment", fee_item="工本费"))[:-1] + b', "amount": NaN}',
        orjson.dumps(_poison(4, kind="apply", applicant_type="1", materials="not json")),
        orjson.dumps(_poison(5, kind="accept", applicant_type="1\x00")),
        orjson.dumps(_poison(6, kind="finish", result="6", level="\x00")),
        orjson.dumps(_poison(7, kind="accept", applicant_type="11")),
        orjson.dumps(_poison(8, kind="finish", result="6", level="55")),
        orjson.dumps(many_keys),
        orjson.dumps(_poison(10, kind="accept"))[:-1] + b', "reason": "\xff\xfe"}',
        orjson.dumps(_poison(11, kind="special_end", limit_unit="WORKDAYS")),
        orjson.dumps(_poison(12, kind="accept", reason="长" * 400_000)),  # over 1 MB
    ]
    lines = [orjson.dumps(good[0]), orjson.dumps(good[1]), *poison, orjson.dumps(good[2])]
    return lines, list(range(2, 2 + len(poison)))


@pytest.mark.parametrize("shape", ["json-lines", "array"])
def test_poison_records_are_reported_by_index_and_the_good_ones_applied(
    world: World, shape: str
) -> None:
    lines, bad = _poison_lines()
    if shape == "array":
        body, headers = b"[" + b",\n".join(lines) + b"]", JSON
    else:
        body, headers = b"\n".join(lines), NDJSON
    answer = world.client.post(
        "/api/v1/events", content=body, headers={**world.headers("source1"), **headers}
    )
    assert answer.status_code == 200, answer.text[:500]
    result = answer.json()
    assert result["applied"] == 3
    reported = [q["index"] for q in result["quarantined"]]
    assert reported == bad, result["quarantined"]
    for q in result["quarantined"]:
        assert q["field"] and q["message"], q
    assert world.db.scalar("SELECT event_count FROM cases WHERE case_id = 'C-POISON'") == 3
    assert world.db.scalar("SELECT count(*) FROM events WHERE event_id LIKE 'poison-%'") == 0
    # resending the same batch (a retrying client) gets past it: the good ones are duplicates
    again = world.client.post(
        "/api/v1/events", content=body, headers={**world.headers("source1"), **headers}
    )
    assert again.status_code == 200, again.text[:500]
    assert (again.json()["applied"], again.json()["duplicates"]) == (0, 3)


def test_a_record_over_one_megabyte_is_quarantined_with_its_size(world: World) -> None:
    big = orjson.dumps(_poison(1, kind="accept", reason="x" * (2**20 + 10)))
    small = orjson.dumps(_good(1, "apply"))
    answer = world.client.post(
        "/api/v1/events",
        content=small + b"\n" + big,
        headers={**world.headers("source1"), **NDJSON},
    )
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["applied"] == 1
    [problem] = answer.json()["quarantined"]
    assert (problem["index"], problem["field"]) == (1, "record")
    assert "1 MB" in problem["message"]
    kept = world.db.scalar("SELECT length(raw) FROM quarantine WHERE raw LIKE '%poison-1%'")
    assert kept == len(big)  # the evidence is the whole record


def test_a_body_whose_elements_cannot_be_told_apart_is_refused_whole(world: World) -> None:
    answer = world.client.post(
        "/api/v1/events",
        content=b'[{"event_id": "a", "case_id": "C-1}, ',
        headers={**world.headers("source1"), **JSON},
    )
    assert answer.status_code == 400
    assert "JSON 数组" in answer.json()["detail"]
    assert world.db.scalar("SELECT count(*) FROM events") == 0


# -- NUL in a query parameter ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/alerts?rule=%00",
        "/api/v1/alerts?case_id=C%00-1&limit=5",
        "/api/v1/alerts?department_code=D1%00",
        "/api/v1/me?anything=%00",
        "/api/v1/rules/history?rule=%00",
        "/api/v1/cases/C%00D",
        "/alerts?rule=a%00b",
        "/api/v1/events?wait=%00",
    ],
)
def test_a_nul_in_a_query_parameter_or_path_answers_400_in_chinese(world: World, url: str) -> None:
    if url.startswith("/api/v1/events"):
        answer = world.post("source1", url, json=[])
    else:
        answer = world.get("supervisor", url)
    assert answer.status_code == 400, answer.text[:300]
    assert "NUL" in answer.json()["detail"]
