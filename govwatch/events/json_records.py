"""What a JSON event record is: one parser decides, for the checker and the importer alike.

A record is a JSON object as orjson parses it, nothing else. A posted body is read record by
record, and each record is judged by the importer's own first stage
(:func:`govwatch.events.checks.record_problem`: orjson refuses ``NaN``, ``Infinity``,
``1e400``, a trailing comma, nesting over 1,024 levels, invalid UTF-8; a JSON *string* holding
an object's text, a number, a list or ``null`` is no record; nor is one over 1 MB, over 256
keys, too deep, or holding a control character such as NUL). What fails is a :class:`Rejected`:
never handed to the importer, whose DuckDB JSON reader is more lenient and would read values
the scope check (:mod:`govwatch.live.source_scope`) never judged. So is a record with a key
written twice in one object (orjson keeps the last value, DuckDB the first: refusing it is the
only reading both sides agree on).

A good record travels on as ``(data, text)``: ``data`` is what the checker judges and ``text``
its orjson serialisation, exactly what the importer reads (and judges again by the same
function). A rejected one carries its 0-based index, the field (``record`` unless one key is to
blame), a Chinese message, and its raw text as evidence for the quarantine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

from govwatch.errors import InputError
from govwatch.events.checks import record_problem, storable

BOM = b"\xef\xbb\xbf"
_COLON_ESCAPES = (b"\\u003a", b"\\u003A")


@dataclass(frozen=True)
class Rejected:
    """A malformed record: never applied, quarantined with this evidence."""

    index: int
    field: str
    message: str
    raw: str


@dataclass(frozen=True)
class Body:
    """A posted body read record by record: the good records (``data`` for the checker,
    ``texts`` for the importer) at ``positions`` in the body, and the rejected ones."""

    data: tuple[dict[str, Any], ...]
    texts: tuple[str, ...]
    positions: tuple[int, ...]
    rejected: tuple[Rejected, ...]

    @property
    def size(self) -> int:
        return len(self.texts) + len(self.rejected)


class _Fault(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def read_body(body: bytes) -> Body:
    """The records of a JSON array or JSON Lines body (a leading byte order mark is dropped).

    An empty body, or one that starts as an array whose elements cannot even be told apart,
    is refused whole (:class:`InputError`); otherwise every element or non-blank line is a
    record, good or rejected, at its 0-based position."""
    text = body.removeprefix(BOM).strip()
    if not text:
        raise InputError("请求体为空：应为 JSON 数组或 JSON Lines（每行一个事件对象）")
    data: list[dict[str, Any]] = []
    texts: list[str] = []
    positions: list[int] = []
    rejected: list[Rejected] = []
    if text.startswith(b"["):
        fast = _whole_array(text)
        if fast is not None:
            data, texts = fast
            return Body(tuple(data), tuple(texts), tuple(range(len(data))), ())
        pieces = _split_array(text)
    else:
        pieces = [line for line in (part.strip() for part in text.split(b"\n")) if line]
    for index, raw in enumerate(pieces):
        try:
            record, serialised = parse_record(raw)
        except _Fault as fault:
            rejected.append(Rejected(index, fault.field, fault.message, evidence(raw)))
            continue
        data.append(record)
        texts.append(serialised)
        positions.append(index)
    return Body(tuple(data), tuple(texts), tuple(positions), tuple(rejected))


def parse_record(raw: bytes) -> tuple[dict[str, Any], str]:
    """(record, its orjson text) of one record's raw bytes; raises the fault otherwise."""
    if not raw:
        raise _Fault("record", "空记录：应为一个 JSON 对象（数组中多余的逗号？）")
    # bytes that are not UTF-8 are kept aside, for the judge to name and the evidence to show
    text = raw.decode("utf-8", "surrogateescape")
    problem = record_problem(text)
    if isinstance(problem, tuple):  # (field, message); else the record is one
        field, message = problem
        raise _Fault(field, message)
    record = orjson.loads(raw)  # an object: record_problem parsed it so
    try:
        serialised = orjson.dumps(record)
    except orjson.JSONEncodeError:
        raise _Fault("record", "嵌套层数过深：事件记录应为扁平的 JSON 对象") from None
    if _colons(raw) != serialised.count(b":"):
        repeated = _repeated_key(raw)
        if repeated is not None:
            raise _Fault(
                "record",
                f"键“{repeated}”在同一对象中出现了不止一次：每个键只能出现一次（重复的键"
                "无法判断以哪个值为准）",
            )
    return _cleaned(record, serialised.decode())


def evidence(raw: bytes) -> str:
    """A rejected record's raw text as the quarantine keeps it (see ``checks.storable``)."""
    return storable(raw.decode("utf-8", "surrogateescape"))


# -- one record -------------------------------------------------------------------------------


def _colons(raw: bytes) -> int:
    """Colons in the raw text, escaped ones included.

    The orjson text of a record has one colon per key and one per colon inside its strings,
    written as is. The raw text has one per key it holds (a repeated key counts twice) and one
    per colon inside its strings, literal or escaped (``\\u003a``): so it counts more than the
    orjson text exactly when a key was written twice (or a string holds the text ``\\u003a``
    itself, which sends the record to the exact check). A cheap test on the common path.
    """
    return raw.count(b":") + sum(raw.count(e) for e in _COLON_ESCAPES)


def _repeated_key(raw: bytes) -> str | None:
    """The first key written twice in one object of a record orjson accepted, if any."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in items:
            if key in seen and not found:
                found.append(key)
            seen[key] = value
        return seen

    json.loads(raw, object_pairs_hook=pairs)
    return found[0] if found else None


def _usable_key(key: str) -> bool:
    """Keys a JSON path can name: not blank, no backslash or control characters."""
    return bool(key.strip()) and "\\" not in key and key.isprintable()


# records of one batch share a few layouts: whether each key is usable, by the keys in order
_USABLE: dict[tuple[str, ...], bool] = {}
_MAX_LAYOUTS = 1024


def _cleaned(record: dict[str, Any], text: str) -> tuple[dict[str, Any], str]:
    """Drop keys no field could have (blank or unprintable names) before the import sees them."""
    keys = tuple(record)
    usable = _USABLE.get(keys)
    if usable is None:
        usable = all(_usable_key(k) for k in keys)
        if len(_USABLE) >= _MAX_LAYOUTS:
            _USABLE.clear()
        _USABLE[keys] = usable
    if usable:
        return record, text
    kept = {k: v for k, v in record.items() if _usable_key(k)}
    return kept, orjson.dumps(kept).decode()


# -- a JSON array body ------------------------------------------------------------------------


def _whole_array(text: bytes) -> tuple[list[dict[str, Any]], list[str]] | None:
    """The common case: an array orjson reads whole, every element an object written once
    per key. None when anything is amiss, to read it element by element instead (each judged
    with its raw text). The importer judges the texts again (size, keys, depth, control
    characters) by the same function, and quarantines what fails there by its index."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, list):
        return None
    data: list[dict[str, Any]] = []
    texts: list[str] = []
    serialised = 0
    for element in value:
        if not isinstance(element, dict):
            return None
        try:
            raw = orjson.dumps(element)
        except orjson.JSONEncodeError:
            return None
        serialised += raw.count(b":")
        record, record_text = _cleaned(element, raw.decode())
        data.append(record)
        texts.append(record_text)
    if _colons(text) != serialised:  # a key written twice somewhere (or an escaped colon)
        return None
    return data, texts


# the tokens that shape an array: a whole string, a bracket, a comma, or a quote left open
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},"]')


def _split_array(text: bytes) -> list[bytes]:
    """The raw elements of a JSON array, told apart by its commas outside strings and
    nested brackets: each is then judged on its own. Refused whole (400) when the array's
    shape itself is broken (unbalanced brackets, a quote left open, text after its end)."""
    elements: list[bytes] = []
    depth = 0
    start = 1
    for token in _TOKEN.finditer(text):
        mark = token.group()
        if len(mark) > 1:
            continue  # a string
        if mark in b"[{":
            depth += 1
        elif mark in b"]}":
            depth -= 1
            if depth == 0:
                piece = text[start : token.start()].strip()
                if piece or elements:
                    elements.append(piece)
                if text[token.end() :].strip():
                    break  # text after the array's end
                return elements
            if depth < 0:
                break
        elif mark == b"," and depth == 1:  # a comma between elements
            elements.append(text[start : token.start()].strip())
            start = token.end()
        elif mark == b'"':
            break  # a string never closed
    raise InputError(
        "请求体不是合法的 JSON 数组（方括号、花括号或引号不配对，或数组之后还有内容），"
        "无法逐条区分记录：整批未导入；请提交 JSON 数组或 JSON Lines（每行一个事件对象）"
    )
