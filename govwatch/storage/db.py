"""Connections to DuckDB and PostgreSQL behind one small interface.

SQL in govwatch is written once, with ``?`` placeholders, in the subset both engines share;
:meth:`Database.execute` carries the placeholders to psycopg's ``%s``. Only running a query on
each engine proves it portable, so every storage test runs on both.

A PostgreSQL connection can be lost under its user (a server restart, ``pg_terminate_backend``,
a network cut). A statement that meets a lost connection raises
:class:`DatabaseUnavailableError` (never a bare driver error); the next statement outside a
transaction opens a new connection in its place (:meth:`Database.reconnect`). Nothing is
retried here: whether a failed statement may run again is its caller's decision.
:meth:`Database.healthy` tells cheaply whether an idle connection is still usable (the web
app's pool asks before each checkout).
"""

from __future__ import annotations

import io
import os
import re
import select
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg import pq
from psycopg.conninfo import make_conninfo

from govwatch.errors import DatabaseBusyError, GovwatchError
from govwatch.storage.address import duckdb_path
from govwatch.storage.migrate import migrate as run_migrations

Dialect = Literal["duckdb", "postgres"]
DEFAULT_URL = "duckdb:///govwatch.duckdb"

_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?|%")
# ``INSERT … VALUES (?, …, ?) [ON CONFLICT …]``: one row of plain placeholders, which
# :meth:`Database.executemany` can send as multi-row VALUES on DuckDB.
_INSERT_ROW = re.compile(
    r"(?P<head>^\s*INSERT\s+INTO\s.*?\bVALUES\s*)(?P<row>\([^()]*\?[^()]*\))"
    r"(?P<tail>(?:\s+ON\s+CONFLICT\b.*)?)$",
    re.IGNORECASE | re.DOTALL,
)
# ``INSERT INTO t (a, b) VALUES `` heads whose rows can travel as an Arrow table instead.
_INSERT_COLUMNS = re.compile(
    r"^\s*INSERT\s+INTO\s+(?P<table>[\w.]+)\s*\((?P<cols>[\w\s,]+)\)\s*VALUES\s*$",
    re.IGNORECASE,
)
_PLAIN_ROW = re.compile(r"^\(\s*\?(?:\s*,\s*\?)*\s*\)$")
# From this many rows on, a plain INSERT on DuckDB goes through Arrow: binding parameters
# costs more than the insert itself (about 5 µs a value; 1,000 alerts of 18 columns, 0.1 s).
_ARROW_FROM_ROWS = 20
# Rows per multi-row INSERT on DuckDB (its executemany prepares and runs once per row:
# about 1.5 ms a row, 500 rows 0.8 s; 100 rows in one statement take a few milliseconds).
_ROWS_PER_INSERT = 100


class DatabaseUnavailableError(DatabaseBusyError):
    """The database cannot be reached, or the connection to it was lost during an operation.

    Temporary by nature (a restart, an outage): the web app answers 503 with ``Retry-After``.
    """


LOST_MESSAGE = "与数据库的连接中断（数据库可能正在重启）：本次操作未完成，请稍后重试"
# SQLSTATEs of a session the server ended or would not start: class 08 (connection exception),
# 57P01-57P03 (administrator, crash shutdown; cannot connect now), 53300 (too many connections).
_LOST_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def connection_lost(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised from, means a lost or refused connection.

    Errors of a live connection (a serialization failure, a lock timeout, a cancelled
    statement, a constraint) are not: the database is there and answered.
    """
    depth = 0
    while exc is not None and depth < 8:
        if isinstance(exc, DatabaseUnavailableError | duckdb.ConnectionException):
            return True
        if isinstance(exc, psycopg.InterfaceError):
            return True
        if isinstance(exc, psycopg.OperationalError):
            state = exc.sqlstate
            if state is None or state.startswith("08") or state in _LOST_STATES:
                return True
        exc = exc.__cause__ or exc.__context__
        depth += 1
    return False


def _to_pyformat(sql: str) -> str:
    """Turn ``?`` placeholders into ``%s`` and escape literal ``%``, leaving string literals."""

    def swap(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        return token.replace("%", "%%")

    return _PLACEHOLDER.sub(swap, sql)


@dataclass
class Database:
    """An open connection with the dialect it speaks."""

    dialect: Dialect
    raw: Any
    url: str
    schema: str | None = None
    _in_tx: int = field(default=0, repr=False)
    # PostgreSQL: the application_name the connection reports (kept for a reconnect)
    application_name: str | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)
    # Tables seen to exist (table_exists): pages ask on every request and the catalog query
    # costs about a millisecond on DuckDB; forgotten when this connection drops or alters one.
    _tables: set[str] = field(default_factory=set, repr=False)

    # -- a lost connection (PostgreSQL) -----------------------------------------------------
    @contextmanager
    def _guard(self) -> Iterator[Any]:
        """Run a PostgreSQL statement: on a connection known to be lost, outside a
        transaction, reconnect first; a statement that meets a lost connection raises
        :class:`DatabaseUnavailableError`. Yields the psycopg connection."""
        if self.raw.broken and not self._in_tx and not self._closed:
            self.reconnect()
        try:
            yield self.raw
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if self.raw.broken or connection_lost(exc):
                raise DatabaseUnavailableError(LOST_MESSAGE) from exc
            raise

    @property
    def lost(self) -> bool:
        """Known, without asking the server, to be unusable: closed, or broken by an error."""
        if self._closed:
            return True
        if self.dialect == "duckdb":
            try:
                self.raw.query_progress()  # raises on a closed connection; costs nothing
            except duckdb.Error:
                return True
            return False
        return bool(self.raw.closed)

    def healthy(self) -> bool:
        """Whether an idle connection can be handed out: not :attr:`lost`, outside a
        transaction, and (PostgreSQL) with nothing unread on its socket.

        A server that ends a session (a restart, ``pg_terminate_backend``) writes to the idle
        socket and closes it; an idle connection otherwise receives nothing. So the check costs
        a ``poll`` and asks the server (:meth:`ping`) only when something arrived.
        """
        if self._in_tx or self.lost:
            return False
        if self.dialect == "duckdb":
            return True
        if self.raw.info.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(self.raw.fileno(), select.POLLIN)
        return not poller.poll(0) or self.ping()

    def ping(self) -> bool:
        """Ask the server (``SELECT 1``): True when the connection answers."""
        if self._closed:
            return False
        try:
            self.raw.execute("SELECT 1").fetchall()
        except (duckdb.Error, psycopg.Error):
            return False
        return True

    def reconnect(self) -> None:
        """PostgreSQL: replace the connection by a new one to the same database (and schema).

        Raises :class:`DatabaseUnavailableError` when the server cannot be reached. Session
        state (temporary tables, settings made after connecting) does not carry over.
        """
        if self.dialect != "postgres":
            raise GovwatchError("只有 PostgreSQL 连接可以重连")
        if self._in_tx:
            raise GovwatchError("事务进行中，不能重连数据库")
        fresh = _connect_postgres(self.url, self.application_name)
        old, self.raw, self._closed = self.raw, fresh.raw, False
        with suppress(Exception):
            old.close()

    # -- statements -------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self._tables and sql.lstrip()[:5].upper() in ("DROP ", "ALTER"):
            self._tables.clear()
        if self.dialect == "duckdb":
            self.raw.execute(sql, list(params))
        else:
            with self._guard() as raw, raw.cursor() as cur:
                cur.execute(_to_pyformat(sql) if params else sql, params or None)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.dialect == "duckdb":
            return list(self.raw.execute(sql, list(params)).fetchall())
        with self._guard() as raw, raw.cursor() as cur:
            cur.execute(_to_pyformat(sql) if params else sql, params or None)
            return list(cur.fetchall()) if cur.description else []

    def query_dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if self.dialect == "duckdb":
            cur = self.raw.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        with self._guard() as raw, raw.cursor() as cur:
            cur.execute(_to_pyformat(sql) if params else sql, params or None)
            if not cur.description:
                return []
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.dialect == "duckdb":
            insert = _INSERT_ROW.match(sql)
            if insert is None or "UPDATE" in insert.group("tail").upper():
                # (DO UPDATE cannot touch one row twice in a statement: row by row)
                for row in rows:  # one execute a row is still faster than DuckDB's executemany
                    self.raw.execute(sql, list(row))
                return
            head, row_sql, tail = insert.group("head", "row", "tail")
            if len(rows) >= _ARROW_FROM_ROWS and self._insert_rows_arrow(head, row_sql, tail, rows):
                return
            for start in range(0, len(rows), _ROWS_PER_INSERT):
                part = rows[start : start + _ROWS_PER_INSERT]
                values = ", ".join(row_sql for _ in part)
                self.raw.execute(f"{head}{values}{tail}", [v for r in part for v in r])
        else:
            with self._guard() as raw, raw.cursor() as cur:
                cur.executemany(_to_pyformat(sql), rows)

    def _insert_rows_arrow(
        self, head: str, row_sql: str, tail: str, rows: Sequence[Sequence[Any]]
    ) -> bool:
        """Insert plain rows as one Arrow table (DuckDB); False when they do not fit one.

        Only ``INSERT INTO t (cols) VALUES (?, …)`` with nothing else, whose columns Arrow
        types as scalars (a column mixing text and numbers, say, is left to the binder).
        """
        named = _INSERT_COLUMNS.match(head)
        if named is None or tail.strip() or _PLAIN_ROW.match(row_sql.strip()) is None:
            return False
        cols = [c.strip() for c in named.group("cols").split(",")]
        if any(len(r) != len(cols) for r in rows):
            return False
        try:
            arrays = [pa.array([r[i] for r in rows]) for i in range(len(cols))]
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return False
        if any(pa.types.is_nested(a.type) for a in arrays):
            return False
        self.insert_arrow(named.group("table"), pa.Table.from_arrays(arrays, names=cols))
        return True

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """Run a query and return its result as an Arrow table."""
        if self.dialect == "duckdb":
            table = self.raw.sql(sql, params=list(params) or None).to_arrow_table()
            return table if isinstance(table, pa.Table) else table.read_all()
        rows = self.query_dicts(sql, params)
        if not rows:
            with self._guard() as raw, raw.cursor() as cur:
                cur.execute(_to_pyformat(sql) if params else sql, params or None)
                names = [d[0] for d in cur.description or []]
            return pa.table({n: pa.array([], pa.null()) for n in names})
        return pa.Table.from_pylist(rows)

    # -- bulk loading -----------------------------------------------------------------------
    def insert_arrow(
        self, table_name: str, data: pa.Table, *, on_conflict_nothing: bool = False
    ) -> int:
        """Append an Arrow table whose column names are columns of ``table_name``.

        Returns the number of rows inserted (rows skipped by ``on_conflict_nothing`` excluded).
        On PostgreSQL the rows travel as CSV through ``COPY`` (Arrow's C++ writer), which is
        an order of magnitude faster than row-by-row inserts.
        """
        if data.num_rows == 0:
            return 0
        cols = ", ".join(data.column_names)
        conflict = " ON CONFLICT DO NOTHING" if on_conflict_nothing else ""
        if self.dialect == "duckdb":
            self.raw.register("_gw_incoming", data)
            try:
                rows = self.raw.execute(
                    f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM _gw_incoming{conflict}"
                ).fetchall()
            finally:
                self.raw.unregister("_gw_incoming")
            return int(rows[0][0]) if rows else 0
        buffer = io.BytesIO()
        pacsv.write_csv(
            _csv_ready(data),
            buffer,
            pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
        )
        with self._guard() as raw, raw.cursor() as cur:
            target = table_name
            if on_conflict_nothing:
                target = f"_gw_copy_{table_name}"
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {target} (LIKE {table_name} INCLUDING DEFAULTS)"
                )
                cur.execute(f"TRUNCATE {target}")
            with cur.copy(f"COPY {target} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            if not on_conflict_nothing:
                return int(data.num_rows)
            cur.execute(f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM {target}{conflict}")
            inserted = int(cur.rowcount)
            cur.execute(f"TRUNCATE {target}")
            return inserted

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Database]:
        """A transaction; nested calls join the outer one."""
        if self._in_tx:
            self._in_tx += 1
            try:
                yield self
            finally:
                self._in_tx -= 1
            return
        if self.dialect == "postgres" and self.raw.broken and not self._closed:
            self.reconnect()  # (inside the transaction, _guard no longer may)
        self._in_tx = 1
        if self.dialect == "duckdb":
            self.raw.execute("BEGIN TRANSACTION")
            try:
                yield self
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            else:
                self.raw.execute("COMMIT")
            finally:
                self._in_tx = 0
        else:
            try:
                with self._guard() as raw, raw.transaction():
                    yield self
            finally:
                self._in_tx = 0

    def table_exists(self, name: str) -> bool:
        if name in self._tables:
            return True
        if self.dialect == "duckdb":
            found = self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            )
        else:
            found = self.scalar(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name = ? AND table_schema = current_schema()",
                [name],
            )
        if found and not self._in_tx:
            self._tables.add(name)
        return bool(found)

    def close(self) -> None:
        self._closed = True
        self.raw.close()


def _csv_ready(data: pa.Table) -> pa.Table:
    """Timestamps as text PostgreSQL reads exactly (Arrow writes nanoseconds otherwise)."""
    columns = []
    for column in data.columns:
        if pa.types.is_timestamp(column.type) and column.type.tz is None:
            # Arrow's cast writes what strftime does (fractions by the unit), thirty times faster
            column = column.cast(pa.string())
        elif pa.types.is_timestamp(column.type):
            column = pc.strftime(column, format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_date(column.type):
            column = pc.strftime(column, format="%Y-%m-%d")
        columns.append(column)
    return pa.table(columns, names=data.column_names)


def connect(
    url: str | None = None, *, migrate: bool = True, application_name: str | None = None
) -> Database:
    """Open ``duckdb:///path``, a bare path, ``:memory:`` or ``postgresql://…``; apply migrations.

    ``application_name`` names a PostgreSQL connection in ``pg_stat_activity`` (unless the
    address sets one). A PostgreSQL server that cannot be reached raises
    :class:`DatabaseUnavailableError`.
    """
    url = url or DEFAULT_URL
    if url.startswith(("postgresql://", "postgres://")):
        db = _connect_postgres(url, application_name)
    else:
        db = _connect_duckdb(url)
    if migrate:
        run_migrations(db)
    return db


def connect_memory(*, migrate: bool = True) -> Database:
    """An in-memory DuckDB database (stateless commands, tests)."""
    return connect("duckdb:///:memory:", migrate=migrate)


def _duckdb_path(url: str) -> str:
    """The file a DuckDB address names: how addresses read is :mod:`govwatch.storage.address`."""
    return duckdb_path(url)


# The serving process (govwatch serve) lets DuckDB's log grow to this size before it
# checkpoints (folds the log into the file); a checkpoint holds up every commit meanwhile.
# DuckDB's default of 16 MB means one every few thousand live events, each a pause for the
# importer and the live evaluator; with a larger threshold bursts run through and
# :func:`checkpoint_if_idle` (the sweeper, when nothing is queued) keeps the log short in quiet
# times. Data not yet checkpointed stays in memory, so bulk imports (the CLI, bounded to
# GOVWATCH_IMPORT_MEMORY) keep DuckDB's default. GOVWATCH_DUCKDB_CHECKPOINT overrides it.
SERVE_CHECKPOINT_THRESHOLD = os.environ.get("GOVWATCH_DUCKDB_CHECKPOINT", "512MB")
# What the serving process's PostgreSQL connections call themselves (pg_stat_activity).
SERVE_APPLICATION = "govwatch serve"
# The sweeper checkpoints once the log holds this much.
IDLE_CHECKPOINT_BYTES = 16 * 2**20


def connect_serving(url: str, *, migrate: bool) -> Database:
    """The serving process's root connection: on DuckDB, with the serving checkpoint threshold
    (live bursts are not stalled by checkpoints; see :data:`SERVE_CHECKPOINT_THRESHOLD`)."""
    root = connect(url, migrate=migrate)
    if root.dialect == "duckdb" and SERVE_CHECKPOINT_THRESHOLD:
        root.execute(f"SET checkpoint_threshold = '{SERVE_CHECKPOINT_THRESHOLD}'")
    return root


def request_connection(root: Database) -> Database:
    """A connection for one request or thread of the serving process.

    DuckDB: a cursor of the root connection (one process holds the file; cursors share it and
    each has its own transaction); PostgreSQL: a fresh connection to the same database.
    """
    if root.dialect == "duckdb":
        cursor = root.raw.cursor()
        cursor.execute("SET TimeZone = 'Asia/Shanghai'")
        return Database("duckdb", cursor, root.url)
    return connect(root.url, migrate=False, application_name=SERVE_APPLICATION)


def wal_bytes(db: Database) -> int:
    """The size of a DuckDB file's write-ahead log (0 for PostgreSQL or memory)."""
    path = _duckdb_path(db.url) if db.dialect == "duckdb" else ""
    if not path or path == ":memory:":
        return 0
    try:
        return Path(path + ".wal").stat().st_size
    except FileNotFoundError:
        return 0


def checkpoint_if_idle(db: Database, min_bytes: int = IDLE_CHECKPOINT_BYTES) -> bool:
    """Checkpoint a DuckDB file whose log holds ``min_bytes`` or more, unless it is busy.

    A plain ``CHECKPOINT`` fails while another connection's transaction is open: then it is
    left for the next call (True when a checkpoint ran).
    """
    if wal_bytes(db) < min_bytes:
        return False
    try:
        db.execute("CHECKPOINT")
    except duckdb.Error:
        return False
    return True


def _connect_duckdb(url: str) -> Database:
    path = _duckdb_path(url)
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(path or ":memory:")
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DatabaseBusyError(
                f"数据库文件 {path} 正被另一个进程使用（DuckDB 同一时间只允许一个进程打开）："
                "请先停止该进程（如 govwatch serve），或用 --db 指定另一个文件，"
                "或改用 PostgreSQL（--db postgresql://…）"
            ) from exc
        raise GovwatchError(f"无法打开数据库文件 {path}：{exc}") from exc
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    return Database("duckdb", con, url)


def _connect_postgres(url: str, application_name: str | None = None) -> Database:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    schema = query.pop("schema", [None])[0]
    if schema and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
        raise GovwatchError(f"schema 名称“{schema}”不合法：只能包含字母、数字和下划线")
    rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
    clean = parsed._replace(query=rest).geturl()
    if application_name and "application_name" not in query:
        clean = make_conninfo(clean, application_name=application_name)
    try:
        con = psycopg.connect(clean, autocommit=True)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailableError(
            f"无法连接 PostgreSQL（{parsed.hostname}:{parsed.port or 5432}）：{exc}".splitlines()[0]
            + "；请检查服务是否运行、用户与数据库名是否正确"
        ) from exc
    try:
        con.execute("SET TIME ZONE 'Asia/Shanghai'")
        if schema:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(f"SET search_path TO {schema}")
    except psycopg.OperationalError as exc:  # lost at once (a server shutting down)
        con.close()
        if connection_lost(exc):
            raise DatabaseUnavailableError(LOST_MESSAGE) from exc
        raise
    return Database("postgres", con, url, schema=schema, application_name=application_name)
