"""POST /api/v1/events: a JSON array or JSON Lines of case events from a source system.

A ``source`` token may post only for its organisations: each record's organisation is its
``org_code``, else its item's department (or region), else its case's. A batch holding any
record outside the token's scope, or one whose organisation cannot be told, is refused whole
(403) and nothing of it is applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from govwatch.auth.errors import ForbiddenError
from govwatch.auth.principal import Principal
from govwatch.errors import InputError
from govwatch.events.fields import ALIASES
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Pool
from govwatch.web.api.errors import AUTH, BAD_INPUT
from govwatch.web.api.schemas import ImportAnswer, QuarantinedRecord

router = APIRouter(tags=["events"])
MAX_BODY = 64 * 2**20
# How long a wait=true request waits for the live evaluator before answering anyway.
WAIT_SECONDS = 60.0
PENDING_HEADER = "X-Govwatch-Pending-Cases"
_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
        "description": "case events (spec/data.md §2): a JSON array, or one JSON object a line",
    }
}


def parse_body(body: bytes) -> list[Any]:
    """Records of a JSON array or JSON Lines body; an unreadable line stays text (quarantined)."""
    text = body.strip()
    if not text:
        raise InputError("请求体为空：应为 JSON 数组或 JSON Lines（每行一个事件对象）")
    if text.startswith(b"["):
        try:
            records = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"请求体不是合法的 JSON 数组：{exc}") from exc
        if not isinstance(records, list):
            raise InputError("请求体应为 JSON 数组或 JSON Lines")
        return records
    out: list[Any] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            out.append(line.decode("utf-8", "replace"))
    return out


def _usable_key(key: object) -> bool:
    """Keys a JSON path can name: not blank, no backslash or control characters."""
    text = str(key)
    return bool(text.strip()) and "\\" not in text and text.isprintable()


_SCOPE_FIELDS = ("case_id", "org_code", "item_code")
Fields = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class _Layout:
    """What the keys of a record (in their order) mean; records of one batch share a few."""

    usable: bool  # every key usable (nothing to drop)
    # for case_id, org_code, item_code: the keys naming it, in the importer's order of choice
    scope_keys: tuple[tuple[str, ...], ...]


_LAYOUTS: dict[tuple[Any, ...], _Layout] = {}
_MAX_LAYOUTS = 1024


def _layout(keys: tuple[Any, ...]) -> _Layout:
    found = _LAYOUTS.get(keys)
    if found is not None:
        return found
    naming: dict[str, list[tuple[bool, str]]] = {}
    for key in keys:
        name = str(key)
        field = ALIASES.get(name.strip().lower())
        if field in _SCOPE_FIELDS and '"' not in name and _usable_key(name):
            # the importer takes the canonical name first, then the aliases by their text
            naming.setdefault(str(field), []).append((name != field, name))
    layout = _Layout(
        usable=all(_usable_key(k) for k in keys),
        scope_keys=tuple(tuple(k for _, k in sorted(naming.get(f, []))) for f in _SCOPE_FIELDS),
    )
    if len(_LAYOUTS) >= _MAX_LAYOUTS:
        _LAYOUTS.clear()
    _LAYOUTS[keys] = layout
    return layout


def clean(records: list[Any]) -> list[Any]:
    """Drop keys no field could have (blank or unprintable names) before the import sees them."""
    out = []
    for r in records:
        if isinstance(r, dict) and not _layout(tuple(r)).usable:
            r = {k: v for k, v in r.items() if _usable_key(k)}
        out.append(r)
    return out


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
    """(case_id, org_code, item_code) of a record, each as the importer will store it.

    Where several keys name one field (aliases), the importer takes the canonical name
    first, then the aliases in order of their text, the first not blank: the scope check
    must judge the same values that will be stored.
    """
    out: list[str | None] = []
    for keys in _layout(tuple(record)).scope_keys:
        text = None
        for key in keys:
            text = _text(record[key])
            if text is not None:
                break
        out.append(text)
    return out[0], out[1], out[2]


def case_ids_of(records: Sequence[Any]) -> list[str]:
    return sorted(
        {c for r in records if isinstance(r, dict) and (c := scope_fields(r)[0]) is not None}
    )


Items = dict[str, tuple[str | None, str | None]]
Cases = dict[str, tuple[str | None, str | None, str | None]]


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


def ingest(
    db: Database, principal: Principal, body: bytes, pool: Pool, wait: bool
) -> tuple[ImportAnswer, int]:
    """Import the batch (in a group with concurrent ones), queue its cases for the live
    evaluator; (answer, cases of this batch still queued)."""
    records = clean(parse_body(body))
    # What can be done before the batch joins a group is done here, beside other requests:
    # reading what its records name, writing them as the JSON text the importer reads. The
    # scope check itself runs in the group, under the import turn (check_batches).
    owner = claim(principal, records)
    texts = [r if isinstance(r, str) else orjson.dumps(r, default=str).decode() for r in records]
    report = pool.imports.run(db, texts, f"api:{principal.name}", owner)
    pending = 0
    if report.token is not None:
        evaluator = pool.evaluator
        ticket = evaluator.submit()
        pending = report.cases
        if wait and evaluator.wait(ticket, WAIT_SECONDS):
            pending = 0  # a round that read the queue after our enqueue has written its alerts
        elif wait:
            pending = sum(
                int(
                    db.scalar(
                        "SELECT count(*) FROM live_pending WHERE token = ? AND case_id IN "
                        f"({', '.join('?' for _ in chunk)})",
                        [report.token, *chunk],
                    )
                    or 0
                )
                for chunk in _chunks(report.case_ids)
            )
    answer = ImportAnswer(
        applied=report.applied,
        duplicates=report.duplicates,
        quarantined=[
            QuarantinedRecord(index=p.index, field=p.field, message=p.message)
            for p in report.problems
        ],
    )
    return answer, pending


@router.post(
    "/events",
    response_model=ImportAnswer,
    openapi_extra=_BODY_SCHEMA,
    responses={**AUTH, **BAD_INPUT},
)
async def post_events(
    request: Request,
    response: Response,
    db: DB,
    caller: Caller,
    wait: Annotated[
        bool,
        Query(
            description="true（默认）：等本批办件的时限、规则与告警处理完成后再答复；"
            "false：事件入库即答复，由实时评估线程随后处理（高吞吐接入）"
        ),
    ] = True,
) -> ImportAnswer:
    """Import events (applied, duplicates, quarantined with index, field and message).

    The touched cases' clocks, rules and alert workflow are brought up to date by the live
    evaluator; with ``wait=true`` the answer comes after that (header
    ``X-Govwatch-Pending-Cases``: cases of this batch still waiting, 0 normally).
    """
    caller.require("events.post")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"请求体超过 {MAX_BODY // 2**20} MB：请分批提交")
    pool: Pool = request.app.state.pool
    answer, pending = await run_in_threadpool(ingest, db, caller, body, pool, wait)
    response.headers[PENDING_HEADER] = str(pending)
    return answer
