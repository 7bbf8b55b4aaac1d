"""Masking of personal data (spec/data.md §3): ``张*``, ``110***********1234``, ``138****5678``.

Applicant names keep their first character, ID numbers their first 3 and last 4, phone
numbers their first 3 and last 4; every other character becomes ``*`` (so the length shows).
Values too short to keep anything are masked whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME_FIELDS = frozenset({"applicant_name"})
ID_FIELDS = frozenset({"applicant_id"})
PHONE_FIELDS = frozenset({"phone"})
PII_FIELDS = NAME_FIELDS | ID_FIELDS | PHONE_FIELDS


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


def mask_value(field: str, value: Any) -> Any:
    if value is None or value == "":
        return value
    text = str(value)
    if field in NAME_FIELDS:
        return mask_name(text)
    if field in ID_FIELDS:
        return mask_id(text)
    if field in PHONE_FIELDS:
        return mask_phone(text)
    return value


def mask_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an event-like record with its personal data masked.

    A ``correction`` of a personal-data field masks its ``old``/``new`` values the same way.
    Nested mappings and lists (evidence) are masked by key too.
    """
    out: dict[str, Any] = {}
    corrected = record.get("field")
    for key, value in record.items():
        if key in PII_FIELDS:
            out[key] = mask_value(key, value)
        elif key in ("old_value", "new_value", "old", "new") and corrected in PII_FIELDS:
            out[key] = mask_value(str(corrected), value)
        elif isinstance(value, Mapping):
            out[key] = mask_record(value)
        elif isinstance(value, list):
            out[key] = [mask_record(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out


def pii_present(record: Mapping[str, Any]) -> list[str]:
    """The personal-data fields that carry a value in the record (for the view log)."""
    found = [k for k in PII_FIELDS if record.get(k) not in (None, "")]
    if record.get("field") in PII_FIELDS and (record.get("old_value") or record.get("new_value")):
        found.append(str(record["field"]))
    return sorted(set(found))
