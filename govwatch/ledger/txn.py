"""Units of work that claim rows with conditional updates, retried on write-write conflicts.

PostgreSQL makes a second writer wait for the first and then re-checks the ``WHERE`` clause
(so a claim on a stale ``version`` matches no row); DuckDB instead aborts the second writer
with a conflict. Either way the loser runs its unit of work again from the start, re-reads the
state, and is refused by the state machine with a clear message: an action applies once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from govwatch.errors import GovwatchError
from govwatch.ledger.chain import anchor_if_due, take_nested_appends
from govwatch.ledger.conflict import ClaimLost, is_conflict
from govwatch.storage import Database

__all__ = ["ClaimLost", "is_conflict", "run_claimed"]

T = TypeVar("T")

_ATTEMPTS = 8


def run_claimed(db: Database, work: Callable[[Database], T]) -> T:
    """Run ``work(db)`` in a transaction, again (a few times) when a concurrent writer won."""
    if db._in_tx:
        # Joining an outer transaction: the outer unit of work owns the retry.
        return work(db)
    take_nested_appends()  # (what an earlier, failed unit of work left on this thread)
    for attempt in range(_ATTEMPTS):
        try:
            with db.transaction():
                done = work(db)
        except GovwatchError:
            raise
        except Exception as exc:
            if not is_conflict(exc) or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.005 * (2**attempt))
            continue
        # Committed: the entries the unit of work appended can be anchored now.
        if take_nested_appends():
            anchor_if_due(db)
        return done
    raise AssertionError("unreachable")
