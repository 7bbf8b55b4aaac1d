"""POST /api/v1/events: a JSON array or JSON Lines of case events from a source system.

The body is read by one parser (:func:`govwatch.events.json_records.read_body`): each record is
a JSON object as orjson reads it, or it is malformed and quarantined with its index, never
applied (so the scope check judges exactly what the importer will read). A ``source`` token
may post only for its organisations (:mod:`govwatch.live.source_scope`): a batch holding any
record outside the token's scope is refused whole (403) and nothing of it is applied; a record
whose organisation cannot be told yet (its case is not stored yet) is held until it can
(``held`` in the answer). A bad record never fails the batch: the others are applied and the
answer names it (index, field, message). This module reads the body, hands the records to the
live runtime (:meth:`govwatch.live.runtime.LiveRuntime.import_batch`) and renders the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from govwatch.auth.principal import Principal
from govwatch.errors import InputError
from govwatch.events.json_records import read_body
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


def ingest(
    db: Database, principal: Principal, body: bytes, pool: Pool, wait: bool
) -> tuple[ImportAnswer, int]:
    """Import the batch (in a group with concurrent ones) through the live runtime;
    (answer, cases of this batch still queued)."""
    parsed = read_body(body)
    source = f"api:{principal.name}"
    # What can be done before the batch joins a group is done here, beside other requests:
    # parsing, reading what its records name. The scope check itself runs in the group,
    # under the import turn (check_batches), on these same records.
    owner = claim(principal, parsed.data, source, parsed.positions)
    report, pending = pool.runtime.import_batch(
        db,
        parsed.texts,
        source,
        owner,
        rejected=parsed.rejected,
        wait=wait,
        wait_seconds=WAIT_SECONDS,
    )
    answer = ImportAnswer(
        applied=report.applied,
        duplicates=report.duplicates,
        quarantined=[
            QuarantinedRecord(index=p.index, field=p.field, message=p.message)
            for p in report.problems
        ],
        held=report.held,
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
