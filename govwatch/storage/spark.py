"""The Spark adapter: run the rule catalog's SQL on Spark (local mode or a cluster).

The base tables are copied from a loaded database (the in-memory DuckDB of the stateless
audit) into Spark temporary views through Arrow; every query, written in the DuckDB dialect,
is carried to Spark SQL by sqlglot. The session runs in Asia/Shanghai so that naive
timestamps keep their wall time and ``CAST(ts AS DATE)`` is the official date.

Where Spark runs: ``GOVWATCH_SPARK_MASTER`` (default ``local[2]``) is passed to the session
builder, so ``spark://host:7077``, ``yarn`` or ``k8s://…`` point the audit at a cluster (see
docs/spark.md). One session is kept per process; its start-up is slow.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

import pyarrow as pa
import sqlglot

from govwatch.errors import GovwatchError
from govwatch.storage.db import Database

BASE_TABLES = (
    "items",
    "item_steps",
    "item_materials",
    "item_tiers",
    "item_risk_points",
    "events",
    "event_materials",
    "calendar",
)

_SESSION: Any = None


def session() -> Any:
    """The process's SparkSession (created on first use)."""
    global _SESSION
    if _SESSION is not None and _SESSION.sparkContext._jsc is not None:
        return _SESSION
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise GovwatchError(
            "未安装 pyspark：请安装 govwatch[spark]（pyspark）并确保有 Java 17，或改用 --engine duckdb"
        ) from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    master = os.environ.get("GOVWATCH_SPARK_MASTER", "local[2]")
    builder = (
        SparkSession.builder.master(master)
        .appName("govwatch-audit")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", os.environ.get("GOVWATCH_SPARK_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        # 2g ran out building a broadcast join at 100k cases; 6g is what the bench needed
        .config("spark.driver.memory", os.environ.get("GOVWATCH_SPARK_DRIVER_MEMORY", "6g"))
    )
    try:
        _SESSION = builder.getOrCreate()
    except Exception as exc:  # Java missing, port busy: say what to do
        raise GovwatchError(f"无法启动 Spark（{master}）：{exc}".splitlines()[0]) from exc
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def to_spark(sql: str) -> str:
    """A DuckDB-dialect query written as Spark SQL."""
    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


class SparkExecutor:
    """Temporary views in a Spark session, filled from a loaded database."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._views: list[str] = []

    @classmethod
    def from_database(cls, db: Database, tables: Sequence[str] = BASE_TABLES) -> SparkExecutor:
        executor = cls(session())
        for name in tables:
            executor.load_arrow(name, db.arrow(f"SELECT * FROM {name}"))
        return executor

    def load_arrow(self, name: str, table: Any) -> None:
        # events.id_hash (DuckDB's dedupe aid, an unsigned 64-bit Spark cannot read) stays home
        if "id_hash" in table.column_names:
            table = table.drop_columns(["id_hash"])
        # Spark reads neither string views nor all-null columns: make them plain strings.
        fields = []
        for field in table.schema:
            kind = field.type
            if (
                pa.types.is_large_string(kind)
                or pa.types.is_string_view(kind)
                or pa.types.is_null(kind)
            ):
                fields.append(pa.field(field.name, pa.string()))
            else:
                fields.append(field)
        table = table.cast(pa.schema(fields))
        frame = self.spark.createDataFrame(table)
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    def materialize(self, name: str, sql: str) -> None:
        frame = self.spark.sql(to_spark(sql)).cache()
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        frame = self.spark.sql(to_spark(sql))
        return list(frame.columns), [tuple(r) for r in frame.collect()]

    def set_scope(self, case_ids: Sequence[str]) -> None:
        frame = self.spark.createDataFrame([(c,) for c in sorted(set(case_ids))], "case_id string")
        frame.createOrReplaceTempView("gw_scope")
        self._views.append("gw_scope")

    def drop(self, names: Iterable[str]) -> None:
        for name in names:
            self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        for name in reversed(self._views):
            self.spark.catalog.dropTempView(name)
        self._views.clear()
        self.spark.catalog.clearCache()

    def __enter__(self) -> SparkExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
