"""The Spark adapter: run the rule catalog's SQL on Spark (local mode or a cluster).

The base tables are copied from a loaded database (the in-memory DuckDB of the stateless
audit) into Spark temporary views through Arrow; every query, written in the DuckDB dialect,
is carried to Spark SQL by sqlglot. The session runs in Asia/Shanghai so that naive
timestamps keep their wall time and ``CAST(ts AS DATE)`` is the official date.

Where Spark runs: :func:`configure` (``govwatch audit --master URL --spark-conf KEY=VALUE``),
else ``GOVWATCH_SPARK_MASTER`` (default ``local[2]``), is passed to the session builder, so
``spark://host:7077``, ``yarn`` or ``k8s://…`` point the audit at a cluster (see docs/spark.md).
One session is kept per process; its start-up is slow.

How the tables reach the executors: through Arrow from the driver (the default, which works
on any cluster but carries every row through the driver), or, with a staging directory
(``--spark-stage DIR``), written once as Parquet there and read by the executors themselves:
the directory must then be storage every executor sees (the same machine, NFS, a mounted
bucket).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot

from govwatch.errors import GovwatchError, InputError
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


@dataclass(frozen=True)
class SparkSettings:
    """Where and how the audit runs on Spark.

    ``master``: the master URL (None: ``GOVWATCH_SPARK_MASTER``, else ``local[2]``);
    ``conf``: Spark settings given on the command line, applied after govwatch's own (so
    they win); ``stage``: a directory where the base tables are written as Parquet for the
    executors to read (None: the tables go through the driver as Arrow).
    """

    master: str | None = None
    conf: tuple[tuple[str, str], ...] = ()
    stage: Path | None = None


_SETTINGS = SparkSettings()


def configure(settings: SparkSettings) -> None:
    """Settings for the sessions and executors made after this call (the command line's)."""
    global _SETTINGS
    _SETTINGS = settings


def parse_conf(pairs: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``KEY=VALUE`` Spark settings, refused in Chinese when one is not of that form."""
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or not key.startswith("spark."):
            raise InputError(
                f"Spark 设置“{pair}”格式不对：应为 键=值，键以 spark. 开头，"
                "如 spark.executor.memory=4g"
            )
        out.append((key, value))
    return tuple(out)


def master_url() -> str:
    """The master the next session connects to."""
    return _SETTINGS.master or os.environ.get("GOVWATCH_SPARK_MASTER", "local[2]")


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
    master = master_url()
    builder = (
        SparkSession.builder.master(master)
        .appName("govwatch-audit")
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.sql.timestampType", "TIMESTAMP_NTZ")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", os.environ.get("GOVWATCH_SPARK_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.ansi.enabled", "false")
        # 2g ran out building a broadcast join at 100k cases; 6g is what the bench needed
        .config("spark.driver.memory", os.environ.get("GOVWATCH_SPARK_DRIVER_MEMORY", "6g"))
    )
    for key, value in _SETTINGS.conf:
        builder = builder.config(key, value)
    try:
        _SESSION = builder.getOrCreate()
    except Exception as exc:  # Java missing, port busy: say what to do
        raise GovwatchError(f"无法启动 Spark（{master}）：{exc}".splitlines()[0]) from exc
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def spark_schema(schema: pa.Schema) -> pa.Schema:
    """The Arrow schema Spark reads: string views, large and all-null columns as strings,
    and without events.id_hash (DuckDB's dedupe aid, an unsigned 64-bit Spark cannot read)."""
    fields = []
    for field in schema:
        if field.name == "id_hash":
            continue
        kind = field.type
        if (
            pa.types.is_large_string(kind)
            or pa.types.is_string_view(kind)
            or pa.types.is_null(kind)
        ):
            fields.append(pa.field(field.name, pa.string()))
        else:
            fields.append(field)
    return pa.schema(fields)


def spark_table(table: pa.Table) -> pa.Table:
    """An Arrow table in the schema Spark reads (:func:`spark_schema`)."""
    schema = spark_schema(table.schema)
    return table.select(schema.names).cast(schema)


STAGE_BATCH_ROWS = 262_144


def stage_table(db: Database, name: str, path: Path) -> Path:
    """Write table ``name`` of a loaded database to ``path`` as Parquet, batch by batch.

    DuckDB hands the rows over as a stream of Arrow batches, so the driver never holds a
    second copy of the events; the schema is the one Spark reads (:func:`spark_schema`), and
    naive timestamps are written as such (Parquet's isAdjustedToUTC=false), which Spark reads
    back as TIMESTAMP_NTZ: the wall time is kept.
    """
    if db.dialect == "duckdb":
        reader = db.raw.sql(f"SELECT * FROM {name}").to_arrow_reader(STAGE_BATCH_ROWS)
        schema = spark_schema(reader.schema)
        with pq.ParquetWriter(path, schema) as writer:
            for batch in reader:
                columns = [batch.column(f.name).cast(f.type) for f in schema]
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
        return path
    pq.write_table(spark_table(db.arrow(f"SELECT * FROM {name}")), path)
    return path


def to_spark(sql: str) -> str:
    """A DuckDB-dialect query written as Spark SQL."""
    return str(sqlglot.transpile(sql, read="duckdb", write="spark")[0])


class SparkExecutor:
    """Temporary views in a Spark session, filled from a loaded database."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._views: list[str] = []
        self._staged: Path | None = None  # this run's Parquet directory, removed at close

    @classmethod
    def from_database(cls, db: Database, tables: Sequence[str] = BASE_TABLES) -> SparkExecutor:
        executor = cls(session())
        stage = _SETTINGS.stage
        if stage is None:
            for name in tables:
                executor.load_arrow(name, db.arrow(f"SELECT * FROM {name}"))
            return executor
        staged = executor._staged = stage.resolve() / f"govwatch-{uuid.uuid4().hex[:12]}"
        staged.mkdir(parents=True)
        try:
            for name in tables:
                executor.load_parquet(name, stage_table(db, name, staged / f"{name}.parquet"))
        except BaseException:
            executor.close()
            raise
        return executor

    def load_arrow(self, name: str, table: Any) -> None:
        frame = self.spark.createDataFrame(spark_table(table))
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    def load_parquet(self, name: str, path: Path) -> None:
        """A view over a Parquet file the executors read themselves."""
        frame = self.spark.read.parquet(path.as_uri())
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
        if self._staged is not None:
            shutil.rmtree(self._staged, ignore_errors=True)
            self._staged = None

    def __enter__(self) -> SparkExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
