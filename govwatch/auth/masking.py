"""Masking of personal data (spec/data.md §3): ``张*``, ``110***********1234``, ``138****5678``.

Applicant names keep their first character, ID numbers their first 3 and last 4, phone
numbers their first 3 and last 4; every other character becomes ``*`` (so the length shows).
Values too short to keep anything are masked whole.

Personal data is recognised by what a key *means*, not by how it is spelt: a key is personal
when, lower-cased and stripped of everything but letters and digits, it is one of the names
in :data:`PERSONAL_KEYS` (``APPLICANT_NAME``, ``Applicant-Name``, ``applicantName``,
``申请人姓名``, ``联系电话``, ``SJHM`` …). Keys are judged at any depth: in nested objects and
lists, and inside text that holds JSON (the ``extra`` column keeps a record's unknown keys as
JSON text, ``materials`` its list). Everything under a personal key is masked with that key's
rule. A ``correction`` whose ``field`` names a personal field (any spelling, or a dotted path
ending in one) has its ``old``/``new``/``value`` values masked the same way, wherever they
sit in the record. :func:`pii_present` finds the same fields, for the log of unmasked views.

Free text is not searched for numbers that look like a phone or an ID (a rating's ``text``
is shown as written): masking follows field names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

NAME_FIELDS = frozenset({"applicant_name"})
ID_FIELDS = frozenset({"applicant_id"})
PHONE_FIELDS = frozenset({"phone"})
PII_FIELDS = NAME_FIELDS | ID_FIELDS | PHONE_FIELDS

# Spellings of each personal field, as written in records, national tables and exchange
# layouts. They are compared after :func:`normalize_key`, so case, ``_``, ``-`` and spaces
# do not matter and need not be listed.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "applicant_name": (
        "applicant_name",
        "applicantname",
        "contact_name",
        "contact_person",
        "申请人",
        "申请人姓名",
        "申请人名称",
        "申请者名称",
        "申请者姓名",
        "姓名",
        "联系人",
        "联系人姓名",
        "SQRMC",
        "SQRXM",
        "LXRXM",
    ),
    "applicant_id": (
        "applicant_id",
        "applicant_id_no",
        "applicant_id_number",
        "id_number",
        "id_no",
        "id_card",
        "idcard_no",
        "certificate_no",
        "申请人证件号码",
        "申请者证件号码",
        "证件号码",
        "证件号",
        "身份证",
        "身份证号",
        "身份证号码",
        "联系人证件号码",
        "SQRZJHM",
        "ZJHM",
        "SFZH",
    ),
    "phone": (
        "phone",
        "phone_number",
        "mobile",
        "mobile_phone",
        "telephone",
        "tel",
        "contact_phone",
        "applicant_phone",
        "applicant_mobile",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "联系电话",
        "联系方式",
        "联系人手机",
        "联系人手机号码",
        "联系人电话",
        "SJHM",
        "LXDH",
        "LXRSJ",
        "LXRDH",
    ),
}
_NON_WORD = re.compile(r"[\W_]+")


def normalize_key(key: str) -> str:
    """``APPLICANT_NAME``, ``Applicant-Name`` and ``applicantName`` all give ``applicantname``."""
    return _NON_WORD.sub("", key).lower()


PERSONAL_KEYS: dict[str, str] = {
    normalize_key(spelling): field for field, names in _SPELLINGS.items() for spelling in names
}
# Objects that describe a person (``"applicant": {"name": …, "id": …}``): inside them a plain
# ``name`` or ``id`` is that person's. Elsewhere ``name`` is a material's or an item's name.
PERSON_OBJECTS = frozenset(
    normalize_key(k)
    for k in ("applicant", "contact", "contact_person", "person", "申请人", "申请者", "联系人")
)
_IN_PERSON: dict[str, str] = {
    normalize_key(k): field
    for field, names in (
        ("applicant_name", ("name", "full_name", "姓名", "名称", "XM", "MC")),
        ("applicant_id", ("id", "id_type_no", "number", "证件号码", "号码", "ZJHM")),
    )
    for k in names
}
# Keys of a correction that carry the corrected field's values.
_VALUE_KEYS = frozenset({"old", "new", "oldvalue", "newvalue", "value", "values", "from", "to"})
# Deeper than this, a nested value is not walked: hidden whole in a masked view.
MAX_DEPTH = 64
HIDDEN = "***"


def pii_field(key: object, in_person: bool = False) -> str | None:
    """The personal field a key means (``applicant_name``, ``applicant_id``, ``phone``), or None.

    ``in_person``: the key sits in an object describing a person (:data:`PERSON_OBJECTS`),
    where ``name`` and ``id`` are that person's. A dotted or slashed path
    (``extra.contact.Phone``) means what its last part means, in the object its parent names.
    """
    if not isinstance(key, str) or not key:
        return None
    parts = [p for p in re.split(r"[./\\\[\]]+", key.strip()) if p]
    if not parts:
        return None
    last = normalize_key(parts[-1])
    if len(parts) > 1:
        in_person = in_person or normalize_key(parts[-2]) in PERSON_OBJECTS
    found = PERSONAL_KEYS.get(last)
    if found is None and in_person:
        found = _IN_PERSON.get(last)
    return found


def _person(key: object, value: Any) -> bool:
    """Whether ``value`` (an object or list) describes a person (``"applicant": {…}``)."""
    return (
        isinstance(key, str)
        and isinstance(value, Mapping | list | tuple)
        and normalize_key(key) in PERSON_OBJECTS
    )


def mask_name(value: str) -> str:
    if not value:
        return value
    return value[0] + "*" * max(1, len(value) - 1)


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_id(value: str) -> str:
    return _keep_ends(value, 3, 4)


def mask_phone(value: str) -> str:
    return _keep_ends(value, 3, 4)


_MASKS: dict[str, Callable[[str], str]] = {
    "applicant_name": mask_name,
    "applicant_id": mask_id,
    "phone": mask_phone,
}


def mask_value(field: str, value: Any) -> Any:
    """``value`` masked as the personal field ``field`` (any spelling) means; else unchanged."""
    if value is None or value == "" or isinstance(value, bool):
        return value
    kind = field if field in _MASKS else pii_field(field)
    if kind is None:
        return value
    return _MASKS[kind](str(value))


# -- walking records ---------------------------------------------------------------------------


def _json_text(value: str) -> Any:
    """The object or list a text holds as JSON, else None."""
    text = value.strip()
    if len(text) < 2 or (text[0], text[-1]) not in (("{", "}"), ("[", "]")):
        return None
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict | list) else None


# "key": "value" or "key": number, for JSON-like text that does not parse (too deep, cut).
_PAIR = re.compile(r'"((?:[^"\\]|\\.){1,80})"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)')


def _looks_like_json(value: str) -> bool:
    text = value.lstrip()
    return text[:1] in ("{", "[")


def _mask_unparsed(text: str, in_person: bool) -> str:
    """Personal values of ``"key": value`` pairs in text that does not parse as JSON."""

    def swap(match: re.Match[str]) -> str:
        kind = pii_field(match.group(1), in_person)
        if kind is None:
            return match.group(0)
        raw = match.group(2)
        inner = raw[1:-1] if raw.startswith('"') else raw
        start = match.start(2) - match.start(0)
        return match.group(0)[:start] + '"' + _MASKS[kind](inner) + '"'

    return _PAIR.sub(swap, text)


def _mask_all(value: Any, kind: str, depth: int) -> Any:
    """Every leaf under a personal key, masked as ``kind``."""
    if depth > MAX_DEPTH:
        return HIDDEN
    if isinstance(value, Mapping):
        return {k: _mask_all(v, kind, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_all(v, kind, depth + 1) for v in value]
    return mask_value(kind, value)


# What a walk knows at a point: the personal field a correction above corrects (its values
# are that field's), and whether the enclosing object describes a person.
_Context = tuple[str | None, bool]


def _kind_of(key: object, value: Any, context: _Context) -> str | None:
    corrected, in_person = context
    if _person(key, value):
        return None  # walked as a person's object
    kind = pii_field(key, in_person)
    if kind is None and corrected and normalize_key(str(key)) in _VALUE_KEYS:
        kind = corrected
    return kind


def _inner(key: object, value: Any, context: _Context) -> _Context:
    return (context[0], context[1] or _person(key, value))


def _enter(record: Mapping[str, Any], context: _Context) -> _Context:
    return (pii_field(record.get("field")) or context[0], context[1])


def _mask(value: Any, context: _Context, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return HIDDEN
    if isinstance(value, Mapping):
        return _mask_mapping(value, context, depth)
    if isinstance(value, list | tuple):
        return [_mask(v, context, depth + 1) for v in value]
    if isinstance(value, str) and _looks_like_json(value):
        parsed = _json_text(value)
        if parsed is None:
            return _mask_unparsed(value, context[1])
        masked = _mask(parsed, context, depth + 1)
        return value if masked == parsed else orjson.dumps(masked).decode()
    return value


def _mask_mapping(record: Mapping[str, Any], context: _Context, depth: int) -> dict[str, Any]:
    context = _enter(record, context)
    out: dict[str, Any] = {}
    for key, value in record.items():
        kind = _kind_of(key, value, context)
        if kind is not None:
            out[key] = _mask_all(value, kind, depth + 1)
        else:
            out[key] = _mask(value, _inner(key, value, context), depth + 1)
    return out


def mask_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an event-like record with its personal data masked, at any depth.

    A ``correction`` of a personal field masks its ``old``/``new``/``value`` values the
    same way; nested mappings, lists and JSON text (``extra``, evidence) are masked by key.
    """
    return _mask_mapping(record, (None, False), 0)


def _found(value: Any, context: _Context, depth: int, into: set[str]) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(value, Mapping):
        context = _enter(value, context)
        for key, inner in value.items():
            kind = _kind_of(key, inner, context)
            if kind is None:
                _found(inner, _inner(key, inner, context), depth + 1, into)
            elif _carries(inner):
                into.add(kind)
    elif isinstance(value, list | tuple):
        for inner in value:
            _found(inner, context, depth + 1, into)
    elif isinstance(value, str) and _looks_like_json(value):
        parsed = _json_text(value)
        if parsed is not None:
            _found(parsed, context, depth + 1, into)
            return
        for match in _PAIR.finditer(value):
            kind = pii_field(match.group(1), context[1])
            if kind is not None and match.group(2) != '""':
                into.add(kind)


def _carries(value: Any) -> bool:
    """Whether a value under a personal key holds anything (not None, blank or empty)."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, Mapping):
        return any(_carries(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_carries(v) for v in value)
    return True


def pii_present(record: Mapping[str, Any]) -> list[str]:
    """The personal fields that carry a value anywhere in the record (for the view log)."""
    found: set[str] = set()
    _found(record, (None, False), 0, found)
    return sorted(found)
