"""Administration over the API: webhooks, workflow settings, ledger check, PII view log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from govwatch.alerts.notify import add_webhook, list_webhooks, remove_webhook
from govwatch.alerts.settings import DEFAULTS, get_setting, set_setting
from govwatch.auth.pii_log import list_views
from govwatch.ledger import verify
from govwatch.web.api.cases import plain
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, NOT_FOUND
from govwatch.web.api.schemas import (
    LedgerCheck,
    SettingIn,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)

router = APIRouter(tags=["admin"])


@router.get("/webhooks", response_model=list[WebhookOut], responses={**AUTH})
def webhooks_index(db: DB, caller: Caller) -> list[WebhookOut]:
    caller.require("webhooks.manage")
    return [WebhookOut(**w) for w in list_webhooks(db)]


@router.post(
    "/webhooks", response_model=WebhookCreated, status_code=201, responses={**AUTH, **BAD_INPUT}
)
def webhooks_add(body: WebhookIn, db: DB, caller: Caller, at: Clock) -> WebhookCreated:
    """Register a receiver; bodies are signed with the returned secret (X-Govwatch-Signature)."""
    caller.require("webhooks.manage")
    webhook_id, secret = add_webhook(db, body.url, body.kinds, body.org_code, caller.name, at)
    return WebhookCreated(webhook_id=webhook_id, secret=secret)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses={**AUTH, **NOT_FOUND})
def webhooks_remove(
    webhook_id: Annotated[str, Path(max_length=32)], db: DB, caller: Caller
) -> Response:
    caller.require("webhooks.manage")
    remove_webhook(db, webhook_id)
    return Response(status_code=204)


SettingName = Literal["auto_order_red", "order_reply_days"]


@router.get("/settings", response_model=dict[str, str], responses={**AUTH})
def settings_index(db: DB, caller: Caller) -> dict[str, str]:
    caller.require("alerts.supervise")
    return {name: get_setting(db, name) for name in DEFAULTS}


@router.put("/settings/{name}", response_model=dict[str, str], responses={**AUTH, **BAD_INPUT})
def settings_put(
    name: SettingName, body: SettingIn, db: DB, caller: Caller, at: Clock
) -> dict[str, str]:
    caller.require("users.manage")
    set_setting(db, name, body.value, caller.name, at)
    return {n: get_setting(db, n) for n in DEFAULTS}


@router.get("/ledger/verify", response_model=LedgerCheck, responses={**AUTH})
def ledger_verify(db: DB, caller: Caller) -> LedgerCheck:
    """Walk the hash chain; name the first entry that was altered or removed."""
    caller.require("ledger.verify")
    return LedgerCheck(**verify(db).as_dict())


@router.get("/pii-views", response_model=list[dict[str, Any]], responses={**AUTH})
def pii_views(
    db: DB,
    caller: Caller,
    viewer: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Who saw unmasked personal data, when, about which case."""
    caller.require("users.manage")
    return [{k: plain(v) for k, v in r.items()} for r in list_views(db, viewer, limit)]
