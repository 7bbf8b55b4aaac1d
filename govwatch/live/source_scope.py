"""Whether a source system's token may post a batch: every record must be its organisations'.

A ``source`` token may post only for its organisations: each record's organisation is its
``org_code``, else its item's department (or region), else its case's. A batch holding any
record outside the token's scope, or one whose organisation cannot be told, is refused whole.

The record's fields are read by the importer's own rule (:func:`govwatch.events.fields.naming_keys`:
which key wins among a field's aliases), so that the check judges the values the import will
store. :func:`check_batches` is the group commit's check (:mod:`govwatch.live.group_commit`),
run under the import turn so that what it reads cannot change before the import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from govwatch.auth.errors import ForbiddenError
from govwatch.auth.principal import Principal
from govwatch.events.fields import naming_keys
from govwatch.storage import Database

_SCOPE_FIELDS = ("case_id", "org_code", "item_code")
Fields = tuple[str | None, str | None, str | None]
Items = dict[str, tuple[str | None, str | None]]
Cases = dict[str, tuple[str | None, str | None, str | None]]

# the keys naming case_id, org_code, item_code (in the importer's order) by a record's keys:
# records of one batch share a few layouts
_LAYOUTS: dict[tuple[Any, ...], tuple[tuple[str, ...], ...]] = {}
_MAX_LAYOUTS = 1024


def _scope_keys(keys: tuple[Any, ...]) -> tuple[tuple[str, ...], ...]:
    found = _LAYOUTS.get(keys)
    if found is not None:
        return found
    by_field, _ = naming_keys(str(k) for k in keys)
    layout = tuple(tuple(by_field.get(f, ())) for f in _SCOPE_FIELDS)
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()
    _LAYOUTS[keys] = layout
    return layout


def _text(value: object) -> str | None:
    """A value as the importer reads it (JSON text of non-strings, trimmed; blank is none)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool | int | float):
        text = orjson.dumps(value).decode()
    else:
        text = orjson.dumps(value, default=str).decode()
    return text or None


def scope_fields(record: dict[str, Any]) -> Fields:
    """(case_id, org_code, item_code) of a record, each as the importer will store it: of the
    keys naming a field, the first (in the importer's order) whose value is not blank."""
    out: list[str | None] = []
    for keys in _scope_keys(tuple(record)):
        text = None
        for key in keys:
            text = _text(record[key])
            if text is not None:
                break
        out.append(text)
    return out[0], out[1], out[2]


@dataclass(frozen=True)
class Claim:
    """Who posts a batch and what its records name, read before the batch joins a group."""

    principal: Principal
    fields: tuple[Fields | None, ...]  # per record; empty for an unscoped principal


def claim(principal: Principal, records: Sequence[Any]) -> Claim:
    if principal.scope is None:
        return Claim(principal, ())
    return Claim(
        principal, tuple(scope_fields(r) if isinstance(r, dict) else None for r in records)
    )


def check_batches(
    db: Database, batches: list[tuple[Any, Sequence[Any]]]
) -> list[BaseException | None]:
    """The refusal of each (claim, records) batch, None where it may be imported.

    The group commit's check: the items and stored cases of all the batches are read at once.
    """
    claims = [owner for owner, _ in batches]
    if not all(isinstance(c, Claim) for c in claims):
        raise TypeError("check_batches judges batches by their Claim")
    fields = [c.fields for c in claims]
    every = [f for part in fields for f in part if f is not None]
    items: Items = {}
    cases: Cases = {}
    for chunk in _chunks(sorted({f[2] for f in every if f[2] is not None})):
        for code, dept, region in db.query(
            "SELECT item_code, department_code, region_code FROM items WHERE item_code = ANY(?)",
            [chunk],
        ):
            items[str(code)] = (dept, region)
    for chunk in _chunks(sorted({f[0] for f in every if f[0] is not None})):
        for case_id, dept, org, region in db.query(
            "SELECT case_id, department_code, org_code, region_code FROM cases "
            "WHERE case_id = ANY(?)",
            [chunk],
        ):
            cases[str(case_id)] = (dept, org, region)
    refusals: list[BaseException | None] = []
    for owner, part in zip(claims, fields, strict=True):
        try:
            if part:
                _verify(owner.principal, part, items, cases)
            refusals.append(None)
        except ForbiddenError as exc:
            refusals.append(exc)
    return refusals


def _verify(
    principal: Principal, fields: Sequence[Fields | None], items: Items, cases: Cases
) -> None:
    Groups = list[tuple[str | None, ...]]
    known: list[tuple[int, str | None, Groups]] = []
    in_batch: dict[str, Groups] = {}
    for index, record_fields in enumerate(fields):
        if record_fields is None:
            continue
        case_id, org, item = record_fields
        groups: Groups = []
        if org is not None:
            groups.append((org,))
        if item in items:
            groups.append(items[str(item)])
        if case_id in cases and any(cases[str(case_id)]):
            # a stored case whose events so far named no organisation tells nothing
            groups.append(cases[str(case_id)])
        if groups and case_id is not None:
            in_batch.setdefault(case_id, groups)
        known.append((index, case_id, groups))
    for index, case_id, own in known:
        groups = own or (in_batch.get(case_id, []) if case_id is not None else [])
        if not groups:
            if case_id is None:
                continue  # cannot be applied: the import quarantines it
            raise ForbiddenError(
                f"第 {index} 条记录无法确定所属机构（无 org_code、未知事项和办件）：来源系统只能"
                "提交本机构的事件，请补充 org_code"
            )
        for codes in groups:  # the record's org, its item's and its case's must all be ours
            if not principal.covers(*codes):
                raise ForbiddenError(
                    f"第 {index} 条记录属于机构 {'/'.join(c for c in codes if c)}，"
                    "不在本令牌授权的机构范围内；整批未导入"
                )


def _chunks(values: list[str], size: int = 1000) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
