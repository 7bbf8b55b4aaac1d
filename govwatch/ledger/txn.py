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

import duckdb
import psycopg.errors as pg_errors

from govwatch.errors import GovwatchError
from govwatch.ledger.chain import LedgerRace
from govwatch.storage import Database

T = TypeVar("T")

_ATTEMPTS = 8


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a concurrent writer's win (retry, or ignore for bookkeeping)."""
    if isinstance(exc, duckdb.TransactionException | LedgerRace):
        return True
    if isinstance(exc, duckdb.ConstraintException) and "Duplicate key" in str(exc):
        # DuckDB's twin of PostgreSQL's unique violation: a key (e.g. the ledger's next seq)
        # that a concurrent transaction committed after ours began
        return True
    return isinstance(
        exc,
        pg_errors.UniqueViolation | pg_errors.SerializationFailure | pg_errors.DeadlockDetected,
    )


def run_claimed(db: Database, work: Callable[[Database], T]) -> T:
    """Run ``work(db)`` in a transaction, again (a few times) when a concurrent writer won."""
    if db._in_tx:
        # Joining an outer transaction: the outer unit of work owns the retry.
        return work(db)
    for attempt in range(_ATTEMPTS):
        try:
            with db.transaction():
                return work(db)
        except GovwatchError:
            raise
        except Exception as exc:
            if not is_conflict(exc) or attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.005 * (2**attempt))
    raise AssertionError("unreachable")
