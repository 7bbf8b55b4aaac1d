"""What a concurrent writer's win looks like on each engine (retry, or ignore for bookkeeping)."""

from __future__ import annotations

import duckdb
import psycopg.errors as pg_errors


class LedgerRace(RuntimeError):
    """Another writer moved the head between our read and our write; the unit of work retries."""


class ClaimLost(RuntimeError):
    """A conditional update matched no row: another writer changed it first; retry."""


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a concurrent writer's win (retry, or ignore for bookkeeping)."""
    if isinstance(exc, duckdb.TransactionException | LedgerRace | ClaimLost):
        return True
    if isinstance(exc, duckdb.ConstraintException) and "Duplicate key" in str(exc):
        # DuckDB's twin of PostgreSQL's unique violation: a key (e.g. the ledger's next seq)
        # that a concurrent transaction committed after ours began
        return True
    return isinstance(
        exc,
        pg_errors.UniqueViolation | pg_errors.SerializationFailure | pg_errors.DeadlockDetected,
    )
