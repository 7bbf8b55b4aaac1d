"""Storage: one schema on DuckDB (embedded, default) and PostgreSQL.

Everything outside storage imports from here, never from its modules (an import-linter
contract): ``connect`` and ``connect_memory`` open a database, ``connect_serving`` and
``request_connection`` serve the web app's pool, ``DEFAULT_URL`` is the default address;
``duckdb_path`` and ``misread_absolute`` read addresses (:mod:`govwatch.storage.address`).
A lost or refused connection raises ``DatabaseUnavailableError``; ``connection_lost`` tells
such an error (or a driver's) from the others. ``SparkSettings``, ``configure_spark`` and
``parse_spark_conf`` point the Spark audit at a cluster (:mod:`govwatch.storage.spark`).
"""

from __future__ import annotations

from govwatch.storage.address import duckdb_path, misread_absolute
from govwatch.storage.db import (
    DEFAULT_URL,
    Database,
    DatabaseUnavailableError,
    checkpoint_if_idle,
    connect,
    connect_memory,
    connect_serving,
    connection_lost,
    request_connection,
)
from govwatch.storage.spark import SparkSettings
from govwatch.storage.spark import configure as configure_spark
from govwatch.storage.spark import parse_conf as parse_spark_conf

__all__ = [
    "DEFAULT_URL",
    "Database",
    "DatabaseUnavailableError",
    "SparkSettings",
    "checkpoint_if_idle",
    "configure_spark",
    "connect",
    "connect_memory",
    "connect_serving",
    "connection_lost",
    "duckdb_path",
    "misread_absolute",
    "parse_spark_conf",
    "request_connection",
]
