"""Whether a source system's token may post a batch: every record must be its organisations'.

A ``source`` token may post only for its organisations: each record's organisation is its
``org_code``, else its item's department (or region), else its case's. A batch holding any
record outside the token's scope is refused whole (403). A record whose organisation cannot be
told yet (no ``org_code``, no known item, its case not stored yet: its ``apply`` is in another
batch) is neither refused nor applied: it is held (:mod:`govwatch.live.held`) until its case's
organisation is known, then judged by the same rule and imported (:func:`release_held`) or
quarantined as out of scope. So arrival order never decides whether an event is accepted.

The records judged are the very objects the importer receives (:mod:`govwatch.events.json_records`:
the API parses with orjson once and hands the importer their orjson text; what orjson cannot
read as an object never reaches the importer). Their fields are read by the importer's own rule
(:func:`govwatch.events.fields.naming_keys`: which key wins among a field's aliases), so that
the check judges the values the import will store. :func:`check_batches` is the group commit's
check (:mod:`govwatch.live.group_commit`), run under the import turn so that what it reads
cannot change before the import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import orjson

from govwatch.auth.errors import ForbiddenError
from govwatch.auth.orgs import subtree
from govwatch.auth.principal import Principal
from govwatch.auth.users import SCOPED_ROLES
from govwatch.events import quarantine
from govwatch.events.fields import FIELDS, naming_keys
from govwatch.events.ingest import import_parts
from govwatch.live import held
from govwatch.live.held import HeldRecord, Hold
from govwatch.live.queue import enqueue
from govwatch.storage import Database

log = logging.getLogger("govwatch.source_scope")

_SCOPE_FIELDS = ("case_id", "org_code", "item_code")
Fields = tuple[str | None, str | None, str | None]
Items = dict[str, tuple[str | None, str | None]]
Cases = dict[str, tuple[str | None, str | None, str | None]]
Groups = list[tuple[str | None, ...]]
# a case id longer than its column is never held: the import quarantines the record
_CASE_ID_MAX = next(f.max_length for f in FIELDS if f.name == "case_id") or 50
# held records are released in import runs of at most this many
_RELEASE_CHUNK = 10_000

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
    source: str = ""  # the batch's source as the import stores it (api:<name>)
    positions: tuple[int, ...] = ()  # each record's index in its request body (default: its own)


def claim(
    principal: Principal,
    records: Sequence[Any],
    source: str = "",
    positions: Sequence[int] | None = None,
) -> Claim:
    where = tuple(positions) if positions is not None else tuple(range(len(records)))
    if principal.scope is None:
        return Claim(principal, (), source, where)
    return Claim(
        principal,
        tuple(scope_fields(r) if isinstance(r, dict) else None for r in records),
        source,
        where,
    )


def check_batches(
    db: Database, batches: list[tuple[Any, Sequence[Any]]]
) -> list[BaseException | Hold | None]:
    """The verdict on each (claim, records) batch: its refusal; a :class:`Hold` when it may be
    imported but some records wait for their case (stored here, in ``held_events``); None when
    it may be imported whole.

    The group commit's check: the items and stored cases of all the batches are read at once.
    """
    claims = [owner for owner, _ in batches]
    if not all(isinstance(c, Claim) for c in claims):
        raise TypeError("check_batches judges batches by their Claim")
    items, cases = _lookup(db, [f for c in claims for f in c.fields if f is not None])
    verdicts: list[BaseException | Hold | None] = []
    for owner, (_, records) in zip(claims, batches, strict=True):
        try:
            waiting = _verify(owner.principal, owner.fields, items, cases) if owner.fields else []
            if waiting:
                _hold(db, owner, records, waiting)
                verdicts.append(Hold(frozenset(waiting)))
            else:
                verdicts.append(None)
        except ForbiddenError as exc:
            verdicts.append(exc)
    return verdicts


def _lookup(db: Database, every: Sequence[Fields]) -> tuple[Items, Cases]:
    """The stored items and cases these records name (department, org, region of each)."""
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
    return items, cases


def _groups(fields: Fields, items: Items, cases: Cases) -> Groups:
    """The organisation codes a record belongs to: its org, its item's, its stored case's."""
    case_id, org, item = fields
    groups: Groups = []
    if org is not None:
        groups.append((org,))
    if item in items:
        groups.append(items[str(item)])
    if case_id in cases and any(cases[str(case_id)]):
        # a stored case whose events so far named no organisation tells nothing
        groups.append(cases[str(case_id)])
    return groups


def _outside(principal: Principal, groups: Groups) -> tuple[str | None, ...] | None:
    """The first group of codes outside the principal's scope (the record's org, its item's
    and its case's must all be ours), None when all are in it."""
    for codes in groups:
        if not principal.covers(*codes):
            return codes
    return None


def _verify(
    principal: Principal, fields: Sequence[Fields | None], items: Items, cases: Cases
) -> list[int]:
    """Raise if a record lies outside the principal's scope; the records to hold (positions
    in the batch): those whose organisation cannot be told yet."""
    known: list[tuple[int, str | None, Groups]] = []
    in_batch: dict[str, Groups] = {}
    for index, record_fields in enumerate(fields):
        if record_fields is None:
            continue
        case_id = record_fields[0]
        groups = _groups(record_fields, items, cases)
        if groups and case_id is not None:
            in_batch.setdefault(case_id, groups)
        known.append((index, case_id, groups))
    waiting: list[int] = []
    for index, case_id, own in known:
        groups = own or (in_batch.get(case_id, []) if case_id is not None else [])
        if not groups:
            if case_id is None or len(case_id) > _CASE_ID_MAX:
                continue  # cannot be applied: the import quarantines it
            waiting.append(index)
            continue
        outside = _outside(principal, groups)
        if outside is not None:
            raise ForbiddenError(
                f"第 {index} 条记录属于机构 {'/'.join(c for c in outside if c)}，"
                "不在本令牌授权的机构范围内；整批未导入"
            )
    if waiting and principal.token_id is None:
        raise ForbiddenError(
            f"第 {waiting[0]} 条记录无法确定所属机构（无 org_code、未知事项和办件）：只有来源"
            "系统的令牌提交的此类记录才会暂存待判，请补充 org_code"
        )
    return waiting


def _hold(db: Database, owner: Claim, records: Sequence[Any], waiting: Sequence[int]) -> None:
    token_id = owner.principal.token_id
    assert token_id is not None  # _verify refused the batch otherwise
    rows = []
    for index in waiting:
        record = records[index]
        case_id = owner.fields[index]
        assert case_id is not None and case_id[0] is not None
        rows.append(
            HeldRecord(
                case_id=case_id[0],
                token_id=token_id,
                poster=owner.principal.name,
                source=owner.source,
                position=owner.positions[index] if owner.positions else index,
                record=record if isinstance(record, str) else orjson.dumps(record).decode(),
            )
        )
    held.hold(db, rows)


# -- held records released ----------------------------------------------------------------------


def release_held(db: Database, case_ids: Sequence[str] | None) -> list[str]:
    """Judge the held records of these cases (all when None) whose case's organisation is now
    known, by the same rule as on arrival with the scope their token has now: import those in
    scope (their cases queued for the live evaluator), quarantine the others (and those whose
    token was revoked). Returns the cases the imported records touched.

    Called under the import turn. A crash between the import and the removal of the held rows
    imports them again at the next release: they are duplicates then (their cases queued
    again), nothing is lost.
    """
    if case_ids is not None and not (case_ids and held.any_held(db, case_ids)):
        return []
    ready = held.ready(db, case_ids)
    touched: set[str] = set()
    for start in range(0, len(ready), _RELEASE_CHUNK):
        touched.update(_release(db, ready[start : start + _RELEASE_CHUNK]))
    return sorted(touched)


def sweep_held(
    db: Database, turn: Callable[[], AbstractContextManager[object]] = nullcontext
) -> int:
    """The sweeper's step: release what waits for cases that appeared any other way (a file
    import, another server process); how many cases the released records touched."""
    with turn():
        return len(release_held(db, None))


def _release(db: Database, ready: list[HeldRecord]) -> list[str]:
    records = [orjson.loads(r.record) for r in ready]
    fields = [scope_fields(r) for r in records]
    items, cases = _lookup(db, fields)
    principals: dict[str, Principal | None] = {}
    parts: dict[str, list[str]] = {}
    refused: list[quarantine.QuarantineEntry] = []
    done: list[HeldRecord] = []
    for row, record_fields in zip(ready, fields, strict=True):
        if row.token_id not in principals:
            principals[row.token_id] = _token_principal(db, row.token_id, row.poster)
        principal = principals[row.token_id]
        groups = _groups(record_fields, items, cases)
        outside = _outside(principal, groups) if principal is not None else None
        if principal is None:
            problem = f"提交该记录的令牌（{row.poster}）已吊销，暂存的记录不再导入"
        elif not groups:
            continue  # still unknown (ready() names cases stored with one): keep waiting
        elif outside is not None:
            problem = (
                f"暂存的记录所属办件 {row.case_id} 属于机构 "
                f"{'/'.join(c for c in outside if c)}，不在令牌（{row.poster}）授权的机构范围内："
                "未导入"
            )
        else:
            parts.setdefault(row.source, []).append(row.record)
            done.append(row)
            continue
        done.append(row)
        line = row.position + 1
        refused.append(
            quarantine.QuarantineEntry(
                "event",
                row.source,
                line,
                "case_id",
                f"{row.source} 第 {line} 行：{problem}",
                row.record,
            )
        )
    quarantine.add(db, refused)
    batches = [(texts, source) for source, texts in parts.items()]
    reports = import_parts(db, batches, memory_cap=False) if batches else []
    touched = sorted({c for r in reports for c in r.case_ids})
    if touched:  # queued before the held rows go: a crash in between releases them again
        enqueue(db, touched)
    held.remove(db, done)
    if reports or refused:
        log.info(
            "held records released: %d applied, %d duplicates, %d quarantined",
            sum(r.applied for r in reports),
            sum(r.duplicates for r in reports),
            sum(r.quarantined for r in reports) + len(refused),
        )
    return touched


def _token_principal(db: Database, token_id: str, name: str) -> Principal | None:
    """The token's principal as it stands now (None once revoked)."""
    rows = db.query(
        "SELECT role FROM api_tokens WHERE token_id = ? AND revoked_at IS NULL", [token_id]
    )
    if not rows:
        return None
    role = str(rows[0][0])
    codes = [
        str(r[0])
        for r in db.query(
            "SELECT org_code FROM api_token_orgs WHERE token_id = ? ORDER BY org_code", [token_id]
        )
    ]
    if role not in SCOPED_ROLES:
        return Principal(name=name, role=role, token_id=token_id)
    scope, regions = subtree(db, codes)
    return Principal(name=name, role=role, token_id=token_id, scope=scope, regions=regions)


def _chunks(values: list[str], size: int = 1000) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
