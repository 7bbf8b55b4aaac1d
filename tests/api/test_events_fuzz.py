"""POST /api/v1/events under fuzzing (hypothesis), on both engines: for any body (JSON Lines of
good records, records with mutated fields and raw bytes, or a JSON array of any values), the
answer is never 500; a batch it takes accounts for every record (applied, duplicates,
quarantined by index, or held) and stores every untouched good record; a batch it refuses
whole says why in Chinese (400), or that the token may not post it (403).

Bounded and derandomised in ``make test``; ``make fuzz`` runs many random examples
(tests/fuzz_settings.py). The bodies come from the importer's fuzz test.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tests.api.conftest import World
from tests.events.test_fuzz import WEIRD, event_files
from tests.fuzz_settings import fuzz_settings

ANSWERS = {200, 400, 403, 413, 422}


def _not_blank(line: bytes) -> bytes:
    """A line that is a record (a blank one would not count as one)."""
    return line if line.strip() else b"x"


def _check_answer(world: World, answer: Any, records: int, untouched: set[str]) -> None:
    assert answer.status_code != 500, answer.text
    assert answer.status_code in ANSWERS, (answer.status_code, answer.text)
    data = answer.json()
    if answer.status_code != 200:
        message = data.get("detail") or data.get("message") or answer.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in str(message)), message
        return
    quarantined = data["quarantined"]
    assert data["applied"] + data["duplicates"] + len(quarantined) + data["held"] == records
    assert len({q["index"] for q in quarantined}) == len(quarantined)
    for q in quarantined:
        assert 0 <= q["index"] < records and q["field"] and q["message"]
    if untouched:
        marks = ", ".join("?" for _ in untouched)
        found = world.db.query(
            f"SELECT event_id FROM events WHERE event_id IN ({marks})", sorted(untouched)
        )
        assert {r[0] for r in found} == untouched


@fuzz_settings(bounded=30, long=300)
@given(file=event_files(), crlf=st.booleans(), wait=st.booleans())
def test_any_json_lines_body_never_answers_500(
    world: World, file: tuple[str, list[bytes], set[str]], crlf: bool, wait: bool
) -> None:
    _, lines, untouched = file
    lines = [_not_blank(line) for line in lines]
    body = (b"\r\n" if crlf else b"\n").join(lines)
    answer = world.client.post(
        f"/api/v1/events?wait={'true' if wait else 'false'}",
        content=body,
        headers={**world.headers("admin"), "Content-Type": "application/x-ndjson"},
    )
    _check_answer(world, answer, len(lines), untouched)


@fuzz_settings(bounded=18, long=200)
@given(
    file=event_files(), extra=st.lists(WEIRD, max_size=4), who=st.sampled_from(["admin", "source1"])
)
def test_any_json_array_body_never_answers_500(
    world: World, file: tuple[str, list[bytes], set[str]], extra: list[Any], who: str
) -> None:
    """Elements: the good and mutated records as objects, odd values (strings, numbers,
    lists...) beside them; a source token may be refused (403) for records outside its scope."""
    _, lines, untouched = file
    elements: list[Any] = []
    for line in lines:
        try:
            elements.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            elements.append(line.decode("utf-8", "replace"))  # its text, as a JSON string
    elements += extra
    try:
        body = orjson.dumps(elements)
    except orjson.JSONEncodeError:  # an integer past 64 bits
        return
    answer = world.client.post(
        "/api/v1/events",
        content=body,
        headers={**world.headers(who), "Content-Type": "application/json"},
    )
    _check_answer(world, answer, len(elements), untouched if who == "admin" else set())
