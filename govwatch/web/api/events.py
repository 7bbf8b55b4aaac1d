"""POST /api/v1/events: a JSON array or JSON Lines of case events from a source system.

A ``source`` token may post only for its organisations (:mod:`govwatch.live.source_scope`):
a batch holding any record outside the token's scope, or one whose organisation cannot be told,
is refused whole (403) and nothing of it is applied. This module parses the body, hands it to
the live runtime (:meth:`govwatch.live.runtime.LiveRuntime.import_batch`) and renders the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from govwatch.auth.principal import Principal
from govwatch.errors import InputError
from govwatch.live.runtime import WAIT_SECONDS
from govwatch.live.source_scope import claim
from govwatch.storage import Database
from govwatch.web.api.deps import DB, Caller, Pool
from govwatch.web.api.errors import AUTH, BAD_INPUT
from govwatch.web.api.schemas import ImportAnswer, QuarantinedRecord

router = APIRouter(tags=["events"])
MAX_BODY = 64 * 2**20
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


# records of one batch share a few layouts: whether each key is usable, by the keys in order
_USABLE: dict[tuple[Any, ...], bool] = {}
_MAX_LAYOUTS = 1024


def _all_usable(keys: tuple[Any, ...]) -> bool:
    found = _USABLE.get(keys)
    if found is None:
        found = all(_usable_key(k) for k in keys)
        if len(_USABLE) >= _MAX_LAYOUTS:
            _USABLE.clear()
        _USABLE[keys] = found
    return found


def clean(records: list[Any]) -> list[Any]:
    """Drop keys no field could have (blank or unprintable names) before the import sees them."""
    out = []
    for r in records:
        if isinstance(r, dict) and not _all_usable(tuple(r)):
            r = {k: v for k, v in r.items() if _usable_key(k)}
        out.append(r)
    return out


def ingest(
    db: Database, principal: Principal, body: bytes, pool: Pool, wait: bool
) -> tuple[ImportAnswer, int]:
    """Import the batch (in a group with concurrent ones) through the live runtime;
    (answer, cases of this batch still queued)."""
    records = clean(parse_body(body))
    # What can be done before the batch joins a group is done here, beside other requests:
    # reading what its records name, writing them as the JSON text the importer reads. The
    # scope check itself runs in the group, under the import turn (check_batches).
    owner = claim(principal, records)
    texts = [r if isinstance(r, str) else orjson.dumps(r, default=str).decode() for r in records]
    report, pending = pool.runtime.import_batch(
        db, texts, f"api:{principal.name}", owner, wait=wait, wait_seconds=WAIT_SECONDS
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
