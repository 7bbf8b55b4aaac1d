"""Notifications read and delivered: the inbox, webhook targets, and delivery with retries.

They are written by :func:`govwatch.notifications.notify` (below alerts and evaluation, which
both report through it). Every notification and webhook delivery carries a ``dedupe_key`` naming the transition it
reports (e.g. ``alert:<id>:<seq>``); a unique index and ``ON CONFLICT DO NOTHING`` make a
second attempt to notify the same transition a no-op. Deliveries are claimed with a
conditional update before sending, so two sweepers never send one delivery twice.

Webhooks leave the system: their targets are checked (:mod:`govwatch.alerts.webhook_targets`:
public addresses only, unless the operator allows more; checked again at every delivery) and
their bodies carry no personal data: the notice's data is masked by meaning like a masked view
(:func:`govwatch.auth.masking.mask_record`), and phone and ID numbers in its message are masked
too. In-app notifications stay unmasked: only entitled roles read them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from govwatch.alerts.webhook_targets import WebhookTargetError, check_target, post
from govwatch.auth.errors import NotFoundError
from govwatch.auth.passwords import new_id, new_secret
from govwatch.auth.principal import Principal
from govwatch.storage import Database

MAX_ATTEMPTS = 6
BACKOFF = timedelta(seconds=30)
CLAIM_FOR = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Govwatch-Signature"


def visible_filter(principal: Principal, alias: str = "") -> tuple[str, list[Any]]:
    """SQL condition (and params) for the notifications a principal may read (columns of the
    table ``alias``, when given)."""
    p = f"{alias}." if alias else ""
    roles = [principal.role] + (["supervisor"] if principal.role == "admin" else [])
    marks = ", ".join("?" for _ in roles)
    condition = f"({p}recipient_role IS NULL OR {p}recipient_role IN ({marks}))"
    params: list[Any] = list(roles)
    if principal.scope is not None:
        codes = sorted(principal.scope | principal.regions) or ["-"]
        condition += (
            f" AND ({p}recipient_org IS NULL "
            f"OR {p}recipient_org IN ({', '.join('?' for _ in codes)}))"
        )
        params += codes
    return condition, params


def reader_of(principal: Principal) -> str:
    """Whose reading a receipt records: the user (or token), not the role or organisation."""
    return principal.user_id or principal.token_id or principal.name


def unread_condition(principal: Principal, dialect: str = "postgres") -> tuple[str, list[Any]]:
    """`` AND`` the notification ``n`` is not read by this reader.

    DuckDB: ``NOT IN`` this reader's receipts, a hash of a few thousand rows probed by the
    visible notifications (its ``NOT EXISTS`` hashes every receipt: 1.5 times the work);
    PostgreSQL plans ``NOT EXISTS`` as an anti-join on the receipts' index (migration 069).
    Notification ids are never null.
    """
    if dialect == "duckdb":
        return (
            " AND n.notification_id NOT IN (SELECT r.notification_id FROM notification_reads r "
            "WHERE r.reader = ?)",
            [reader_of(principal)],
        )
    return (
        " AND NOT EXISTS (SELECT 1 FROM notification_reads r "
        "WHERE r.notification_id = n.notification_id AND r.reader = ?)",
        [reader_of(principal)],
    )


def list_notifications(
    db: Database,
    principal: Principal,
    unread_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The principal's notifications, newest first; ``read_at`` is when *this reader* read it
    (each reader has an inbox of their own: migration 064, ``notification_reads``)."""
    condition, params = visible_filter(principal, "n")
    if unread_only:
        extra, extra_params = unread_condition(principal, db.dialect)
        condition += extra
        params += extra_params
    return db.query_dicts(
        "SELECT n.notification_id, n.kind, n.ref, n.message, n.created_at, r.read_at "
        "FROM notifications n LEFT JOIN notification_reads r "
        "ON r.notification_id = n.notification_id AND r.reader = ? "
        f"WHERE {condition} ORDER BY n.created_at DESC, n.notification_id "
        f"LIMIT {int(limit)} OFFSET {int(offset)}",
        [reader_of(principal), *params],
    )


def inbox_counts(db: Database, principal: Principal) -> tuple[int, int]:
    """How many notifications the principal has and how many of them this reader has not
    read, in one query (the inbox showed them with two)."""
    condition, params = visible_filter(principal, "n")
    found = db.query(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE r.notification_id IS NULL) "
        "FROM notifications n LEFT JOIN notification_reads r "
        f"ON r.notification_id = n.notification_id AND r.reader = ? WHERE {condition}",
        [reader_of(principal), *params],
    )[0]
    return int(found[0] or 0), int(found[1] or 0)


def count_notifications(db: Database, principal: Principal, unread_only: bool = False) -> int:
    """How many notifications the principal has (unread: not yet read by this reader)."""
    condition, params = visible_filter(principal, "n")
    if unread_only:
        extra, extra_params = unread_condition(principal, db.dialect)
        condition += extra
        params += extra_params
    return int(db.scalar(f"SELECT COUNT(*) FROM notifications n WHERE {condition}", params) or 0)


def mark_read(db: Database, principal: Principal, notification_id: str, at: datetime) -> None:
    """This reader has read the notification (again: no change). ``notifications.read_at``
    keeps the first reading by anyone."""
    condition, params = visible_filter(principal)
    found = db.query(
        f"UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE notification_id = ? "
        f"AND {condition} RETURNING notification_id",
        [at, notification_id, *params],
    )
    if not found:
        raise NotFoundError(f"通知“{notification_id}”不存在")
    db.execute(
        "INSERT INTO notification_reads (notification_id, reader, read_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [notification_id, reader_of(principal), at],
    )


def mark_all_read(db: Database, principal: Principal, at: datetime) -> int:
    """Every notification of the principal read by this reader; how many were unread."""
    condition, params = visible_filter(principal, "n")
    extra, extra_params = unread_condition(principal, db.dialect)
    reader = reader_of(principal)
    with db.transaction():
        ids = [
            str(r[0])
            for r in db.query(
                f"SELECT n.notification_id FROM notifications n WHERE {condition}{extra}",
                [*params, *extra_params],
            )
        ]
        if ids:
            db.executemany(
                "INSERT INTO notification_reads (notification_id, reader, read_at) "
                "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(i, reader, at) for i in ids],
            )
            db.execute(
                "UPDATE notifications SET read_at = ? WHERE read_at IS NULL "
                "AND notification_id = ANY(?)",
                [at, ids],
            )
    return len(ids)


# -- webhooks -------------------------------------------------------------------------------


def add_webhook(
    db: Database, url: str, kinds: str, org_code: str | None, created_by: str, at: datetime
) -> tuple[str, str]:
    """(webhook_id, signing secret). Bodies are signed: HMAC-SHA256 of the body, hex.

    The URL must name a public http(s) target (WebhookTargetError, an InputError, otherwise)."""
    check_target(url)
    webhook_id, secret = new_id(), new_secret()
    db.execute(
        "INSERT INTO webhooks (webhook_id, url, secret, org_code, kinds, active, created_at, "
        "created_by) VALUES (?, ?, ?, ?, ?, TRUE, ?, ?)",
        [webhook_id, url, secret, org_code, kinds or "*", at, created_by],
    )
    return webhook_id, secret


def list_webhooks(db: Database) -> list[dict[str, Any]]:
    return db.query_dicts(
        "SELECT webhook_id, url, org_code, kinds, active, created_at FROM webhooks "
        "ORDER BY created_at, webhook_id"
    )


def remove_webhook(db: Database, webhook_id: str) -> None:
    found = db.query(
        "UPDATE webhooks SET active = FALSE WHERE webhook_id = ? AND active RETURNING webhook_id",
        [webhook_id],
    )
    if not found:
        raise NotFoundError(f"Webhook“{webhook_id}”不存在或已停用")


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


Sender = Callable[[str, bytes, dict[str, str]], int]


def deliver_due(db: Database, at: datetime, sender: Sender | None = None, limit: int = 100) -> int:
    """Send the deliveries that are due; failed ones retry with exponential backoff.

    Returns how many were delivered. A delivery is claimed (pending → sending, with a claim
    expiry) before it is sent; a crashed sender's claim expires and it is tried again. The
    target is checked again before each attempt and posted to at the address checked
    (:func:`govwatch.alerts.webhook_targets.post`); ``sender`` replaces that post (tests), never
    the check. A target refused now fails its delivery at once, without sending anything.
    """
    due = db.query(
        "SELECT d.delivery_id, d.payload, d.attempts, d.kind, w.url, w.secret "
        "FROM webhook_deliveries d JOIN webhooks w ON w.webhook_id = d.webhook_id "
        "WHERE w.active AND ((d.status = 'pending' AND d.next_attempt_at <= ?) "
        "OR (d.status = 'sending' AND d.claimed_until < ?)) "
        f"ORDER BY d.next_attempt_at, d.delivery_id LIMIT {int(limit)}",
        [at, at],
    )
    delivered = 0
    for delivery_id, payload, attempts, kind, url, secret in due:
        claimed = db.query(
            "UPDATE webhook_deliveries SET status = 'sending', claimed_until = ? "
            "WHERE delivery_id = ? AND attempts = ? AND status IN ('pending', 'sending') "
            "RETURNING delivery_id",
            [at + CLAIM_FOR, delivery_id, attempts],
        )
        if not claimed:
            continue
        body = str(payload).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(str(secret), body),
            "X-Govwatch-Event": str(kind),
            "X-Govwatch-Delivery": str(delivery_id),
        }
        error = ""
        try:
            target = check_target(str(url))
        except WebhookTargetError as exc:
            db.execute(
                "UPDATE webhook_deliveries SET status = 'failed', attempts = ?, "
                "claimed_until = NULL, last_error = ? WHERE delivery_id = ?",
                [int(attempts) + 1, str(exc)[:500], delivery_id],
            )
            continue
        try:
            status = (
                post(target, body, headers) if sender is None else sender(str(url), body, headers)
            )
            ok = 200 <= status < 300
            error = "" if ok else f"HTTP {status}"
        except Exception as exc:  # any failure of the receiver is a failed attempt
            ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
        tries = int(attempts) + 1
        if ok:
            db.execute(
                "UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, "
                "delivered_at = ?, "
                "claimed_until = NULL, last_error = NULL WHERE delivery_id = ?",
                [tries, at, delivery_id],
            )
            delivered += 1
        else:
            final = tries >= MAX_ATTEMPTS
            db.execute(
                "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
                "claimed_until = NULL, last_error = ? WHERE delivery_id = ?",
                [
                    "failed" if final else "pending",
                    tries,
                    at + BACKOFF * (2 ** (tries - 1)),
                    error,
                    delivery_id,
                ],
            )
    return delivered
