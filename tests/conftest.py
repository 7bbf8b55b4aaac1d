"""Shared fixtures: a fresh database on every engine, frozen time helpers.

Every storage and rule test takes the ``db`` fixture and so runs twice: on an in-memory DuckDB
and on a fresh schema of the PostgreSQL server at 127.0.0.1:5432. When ``CI=true`` a test that
would be skipped because PostgreSQL (or a browser, or Spark) is missing fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from govwatch.storage import Database, connect

PG_BASE = os.environ.get("GOVWATCH_TEST_PG", "postgresql://root@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


# Spark starting and auditing take minutes on 2 busy cores: more than the 600 s default.
SPARK_AUDIT_TIMEOUT = pytest.mark.timeout(1800)


def skip_or_fail(reason: str) -> None:
    """Skip locally; in CI a missing real part is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_BASE, connect_timeout=3):
            return True
    except Exception:
        return False


_PG_OK: bool | None = None


def pg_url() -> str:
    """A URL to a new, empty schema on the test PostgreSQL server."""
    global _PG_OK
    if _PG_OK is None:
        _PG_OK = _pg_available()
    if not _PG_OK:
        skip_or_fail(f"PostgreSQL is not reachable at {PG_BASE}")
    return f"{PG_BASE}?schema=gwt_{uuid.uuid4().hex[:12]}"


def drop_pg_schema(db: Database) -> None:
    if db.dialect == "postgres" and db.schema:
        db.execute(f"DROP SCHEMA IF EXISTS {db.schema} CASCADE")


@pytest.fixture(autouse=True, scope="session")
def ledger_files_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A PostgreSQL database's ledger key and anchor file live in GOVWATCH_LEDGER_DIR (by
    default ~/.local/state/govwatch): the test schemas' go to the session's temporary files."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GOVWATCH_LEDGER_DIR", str(tmp_path_factory.mktemp("ledger-files")))
        yield


@pytest.fixture(params=["duckdb", "postgres"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL of a fresh database on each engine (DuckDB file, PostgreSQL schema)."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path_factory.mktemp('db')}/govwatch.duckdb"
        return
    url = pg_url()
    yield url
    cleanup = connect(url, migrate=False)
    drop_pg_schema(cleanup)
    cleanup.close()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An open, migrated database on each engine."""
    database = connect(db_url)
    try:
        yield database
    finally:
        database.close()
