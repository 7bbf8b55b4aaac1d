"""Notifications: in-app messages and webhook deliveries, each created exactly once.

The one writer of the ``notifications`` and ``webhook_deliveries`` tables, for every package
that reports something to people and machines: alerts and supervision orders, rounds and
rectification demands, notices (通报), the calendar reminder. It sits below alerts and
evaluation in the import layers (pyproject.toml) so that both use it. Reading the inbox,
webhook targets and delivery live in :mod:`govwatch.alerts.notify`.

Every notification and webhook delivery carries a ``dedupe_key`` naming the transition it
reports (e.g. ``alert:<id>:<seq>``); a unique index and ``ON CONFLICT DO NOTHING`` make a
second attempt to notify the same transition a no-op. Webhook bodies carry no personal data:
the notice's data is masked by meaning (:func:`govwatch.auth.masking.mask_record`), and phone
and ID numbers in its message are masked too. In-app notifications stay unmasked: only
entitled roles read them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from govwatch.auth.masking import mask_id, mask_phone, mask_record
from govwatch.auth.passwords import new_id
from govwatch.storage import Database


@dataclass(frozen=True)
class Notice:
    """One thing that happened, for people (in-app) and machines (webhooks)."""

    dedupe_key: str
    kind: str  # e.g. alert.appeal, order.issued
    ref: str
    message: str
    recipient_role: str | None
    recipient_org: str | None
    payload: Mapping[str, Any]


def notify(db: Database, notices: Sequence[Notice], at: datetime) -> None:
    """Record in-app notifications and enqueue webhook deliveries (idempotent per dedupe key)."""
    if not notices:
        return
    db.executemany(
        "INSERT INTO notifications (notification_id, dedupe_key, kind, recipient_role, "
        "recipient_org, ref, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [
            (
                new_id(),
                n.dedupe_key,
                n.kind,
                n.recipient_role,
                n.recipient_org,
                n.ref,
                n.message,
                at,
            )
            for n in notices
        ],
    )
    hooks = db.query("SELECT webhook_id, org_code, kinds FROM webhooks WHERE active")
    if not hooks:
        return
    rows = []
    for webhook_id, org_code, kinds in hooks:
        patterns = [k.strip() for k in str(kinds).split(",") if k.strip()]
        for n in notices:
            if org_code is not None and n.recipient_org not in (None, org_code):
                continue
            if not any(
                p == "*" or p == n.kind or (p.endswith(".*") and n.kind.startswith(p[:-1]))
                for p in patterns
            ):
                continue
            body = orjson.dumps(
                {
                    "kind": n.kind,
                    "ref": n.ref,
                    "message": mask_free_text(n.message),
                    "at": at.isoformat(),
                    "data": mask_record(n.payload),
                },
                default=str,
            )
            rows.append((new_id(), webhook_id, n.dedupe_key, n.kind, body.decode(), at, at))
    db.executemany(
        "INSERT INTO webhook_deliveries (delivery_id, webhook_id, dedupe_key, kind, payload, "
        "status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
        "ON CONFLICT DO NOTHING",
        rows,
    )


# Mainland ID numbers (17 digits and a check character) and mobile numbers standing alone in text.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_free_text(text: str) -> str:
    """``text`` with ID and mobile numbers masked (``110***********1234``, ``138****5678``).

    A webhook's message is free text written by govwatch; masking by field name cannot reach
    into it, so numbers shaped like personal ones are masked wherever they stand."""
    text = _ID_NUMBER.sub(lambda m: mask_id(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
