"""The hash-chained ledger of alert transitions, orders, catalog changes and logins."""

from __future__ import annotations

from govwatch.ledger.chain import LedgerEntry, VerifyResult, append, append_one, verify
from govwatch.ledger.txn import run_claimed

__all__ = ["LedgerEntry", "VerifyResult", "append", "append_one", "run_claimed", "verify"]
