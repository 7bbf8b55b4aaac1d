"""Supervision orders (督办): issue, list, read, reply (with attachments), accept or return."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import Field

from govwatch.alerts.attachments import MAX_FILES
from govwatch.alerts.orders import (
    act_on_order,
    get_order,
    issue_order,
    list_orders,
    order_alert_ids,
)
from govwatch.alerts.workflow import decode_attachment
from govwatch.web.api.deps import DB, Caller, Clock
from govwatch.web.api.errors import AUTH, BAD_INPUT, CONFLICT, NOT_FOUND
from govwatch.web.api.schemas import AttachmentIn, OrderActionIn, OrderIn, OrderList, OrderOut

router = APIRouter(tags=["orders"])
OrderId = Annotated[str, Path(min_length=1, max_length=32)]


class OrderActionWithFiles(OrderActionIn):
    """A reply may carry files (Base64, as an alert action's): PDF, OFD, images, Word, Excel,
    WPS or text, at most 5 of 5 MB each; accept and return carry none."""

    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES)


def _out(db: DB, order_id: str, caller: Caller) -> OrderOut:
    order = get_order(db, order_id, caller)
    return OrderOut(**order.as_dict(), alert_ids=order_alert_ids(db, order_id))


@router.get("/orders", response_model=OrderList, responses={**AUTH})
def orders_index(
    db: DB,
    caller: Caller,
    state: Annotated[Literal["issued", "replied", "overdue", "closed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> OrderList:
    caller.require("orders.read")
    orders = list_orders(db, caller, state, limit, offset)
    return OrderList(
        items=[OrderOut(**o.as_dict(), alert_ids=order_alert_ids(db, o.order_id)) for o in orders],
        limit=limit,
        offset=offset,
    )


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=201,
    responses={**AUTH, **NOT_FOUND, **BAD_INPUT, **CONFLICT},
)
def orders_issue(body: OrderIn, db: DB, caller: Caller, at: Clock) -> OrderOut:
    """Issue an order on alerts to their department (reply due in working days, default 5)."""
    caller.require("orders.issue")
    order = issue_order(
        db,
        caller,
        body.alert_ids,
        at,
        content=body.content,
        org_code=body.org_code,
        reply_days=body.reply_days,
    )
    return _out(db, order.order_id, caller)


@router.get("/orders/{order_id}", response_model=OrderOut, responses={**AUTH, **NOT_FOUND})
def order_detail(order_id: OrderId, db: DB, caller: Caller) -> OrderOut:
    caller.require("orders.read")
    return _out(db, order_id, caller)


@router.post(
    "/orders/{order_id}/actions",
    response_model=OrderOut,
    responses={**AUTH, **NOT_FOUND, **BAD_INPUT, **CONFLICT},
)
def order_action(
    order_id: OrderId, body: OrderActionWithFiles, db: DB, caller: Caller, at: Clock
) -> OrderOut:
    """The department replies (with files, if any); the supervisor accepts or returns it."""
    caller.require("orders.read")
    files = [decode_attachment(a.name, a.content_type, a.content_base64) for a in body.attachments]
    act_on_order(
        db,
        caller,
        order_id,
        body.action,
        at,
        text=body.text,
        expected_version=body.expected_version,
        attachments=files,
    )
    return _out(db, order_id, caller)
