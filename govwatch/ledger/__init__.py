"""The hash-chained ledger of alert transitions, orders, catalog changes and logins.

Entries are keyed with a secret outside the database and the head is anchored to a file
outside it too (:mod:`govwatch.ledger.keys`, :mod:`govwatch.ledger.anchor`), so that whoever
can write SQL cannot rewrite the ledger quietly; :func:`verify` says what does not hold.
"""

from __future__ import annotations

from govwatch.ledger.audit import VerifyResult, verify
from govwatch.ledger.chain import LedgerEntry, anchor_now, append, append_one
from govwatch.ledger.keys import LedgerKeyError
from govwatch.ledger.txn import ClaimLost, is_conflict, run_claimed

__all__ = [
    "ClaimLost",
    "LedgerEntry",
    "LedgerKeyError",
    "VerifyResult",
    "anchor_now",
    "append",
    "append_one",
    "is_conflict",
    "run_claimed",
    "verify",
]
