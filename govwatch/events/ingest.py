"""Importing case events: streaming, set-based validation, idempotent, loss-free.

Records are read in chunks (``CHUNK`` records) and handed to DuckDB as raw JSON text with
their source and line. Everything after that is set-based SQL on the chunk: discovering the
keys used, resolving aliases, parsing timestamps, checking code sets, and choosing for each
malformed record the first field that is wrong and a message saying what was expected.
Good records are inserted with ``ON CONFLICT DO NOTHING`` on ``event_id`` (a re-sent event is
a duplicate and changes nothing), malformed ones go to the quarantine whole. The case state of
every case an import touched is then rebuilt from its ordered event history, so that arrival
order never matters.

On PostgreSQL the chunk is staged in an in-memory DuckDB and the checked rows travel by COPY.

Crash safety (issue 18): a chunk's events and materials commit in one transaction, and the
first one also writes the run's mark (``import_marks``, stamped with the ``ingested_at`` of
the run's rows). The mark goes only once the run's cases are rebuilt and what follows them is
done (:mod:`govwatch.live.pipeline`), so the marks are a durable watermark: every event older
than the oldest mark has its case rebuilt and followed. An import that finds the mark of a
run that is gone (killed, or failed) takes it over: it rebuilds that run's cases with its
own, its caller runs their aftermath, and the mark goes with its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import secrets
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import numpy as np
import orjson
import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from govwatch.errors import InputError
from govwatch.events import national, quarantine
from govwatch.events.cases import cases_out_of_step, cases_stamped, rebuild_cases
from govwatch.events.checks import (
    ERROR_FIELD_SQL,
    ERROR_MESSAGE_SQL,
    KIND_ORDER_EXPR,
    MAX_SPELLINGS,
    json_path,
    judge_texts,
    sql_text,
)
from govwatch.events.fields import ALIASES, FIELDS, naming_keys
from govwatch.events.sql_checks import fast_timestamp_expr, keys_sql, plain_sql
from govwatch.formats import RawRecord, jsonl_is_lines, read_jsonl_columns, read_records
from govwatch.storage import Database, DatabaseUnavailableError
from govwatch.timeutil import now, sql_timestamp, wall_clock

CHUNK = 100_000
# DuckDB's memory cap while importing (GOVWATCH_IMPORT_MEMORY, e.g. "2GB"; empty: no cap).
IMPORT_MEMORY_LIMIT = os.environ.get("GOVWATCH_IMPORT_MEMORY", "500MB")
MAX_PROBLEMS_KEPT = 1000

log = logging.getLogger("govwatch.events.ingest")

# The checks' SQL with the staged key count (``n_keys``) for a second parse of each record.
_KEYS_AGAIN = "len(json_keys(text))"
_ERROR_FIELD = ERROR_FIELD_SQL.replace(_KEYS_AGAIN, "n_keys")
_ERROR_MESSAGE = ERROR_MESSAGE_SQL.replace(_KEYS_AGAIN, "n_keys")


def _holds_nul(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any text holds NUL: a scan of the bytes the strings span (NumPy), not a
    substring search string by string."""
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        buffers = chunk.buffers()
        if chunk.type != pa.string() or len(buffers) != 3 or buffers[1] is None:
            if pc.any(pc.match_substring(chunk, "\x00")).as_py():
                return True
            continue
        if buffers[2] is None or not len(chunk):
            continue
        offsets = np.frombuffer(buffers[1], np.int32)
        start, end = offsets[chunk.offset], offsets[chunk.offset + len(chunk)]
        if not np.frombuffer(buffers[2], np.uint8)[start:end].all():
            return True
    return False


def file_chunk_size() -> int:
    """Records per chunk of a file import: ``GOVWATCH_IMPORT_CHUNK``, else ``CHUNK``.

    Smaller chunks hold less memory and commit more often (each chunk is one transaction).
    """
    raw = os.environ.get("GOVWATCH_IMPORT_CHUNK", "").strip()
    if not raw:
        return CHUNK
    size = int(raw) if raw.isdigit() else 0
    if not 1 <= size <= 10 * CHUNK:
        raise InputError(
            f"环境变量 GOVWATCH_IMPORT_CHUNK 应为 1 到 {10 * CHUNK} 之间的整数（每块记录数），"
            f"实为“{raw}”"
        )
    return size


@dataclass(frozen=True)
class Problem:
    source: str
    line: int
    index: int
    field: str
    message: str


@dataclass
class OpenRun:
    """An import run whose aftermath is its caller's (``aftermath=True``).

    ``keys`` are the marks the caller closes (:func:`close_run`) once what follows the rebuild
    is done: the run's own and those of the interrupted runs it took over. ``repaired`` are
    the cases of those runs it rebuilt beyond its own (``ImportReport.case_ids``): their
    aftermath is due too. Until then a crash leaves all of them to the next import.
    """

    keys: list[int] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    applied: int = 0
    duplicates: int = 0
    quarantined: int = 0
    read: int = 0
    problems: list[Problem] = field(default_factory=list)
    cases: int = 0
    token: str | None = None  # the live_pending token, when govwatch.live queued the cases
    case_ids: list[str] = field(default_factory=list)  # the cases touched (in-memory imports)
    run: OpenRun | None = None  # aftermath=True: what the caller closes (one for all parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "read": self.read,
            "cases": self.cases,
            "problems": [
                {"source": p.source, "line": p.line, "field": p.field, "message": p.message}
                for p in self.problems
            ],
        }


def _iter_path_records(paths: Sequence[Path]) -> Iterator[RawRecord]:
    for path in paths:
        if path.is_dir():
            yield from _iter_path_records(sorted(p for p in path.iterdir() if p.is_file()))
            continue
        layout = None
        if path.suffix.lower() in (
            ".csv",
            ".tsv",
            ".txt",
            ".xlsx",
            ".xlsm",
            ".jsonl",
            ".ndjson",
            ".json",
        ):
            layout = national.detect_layout(path)
        if layout:
            for source, line, record in national.iter_national([path]):
                yield RawRecord(source, line, orjson.dumps(record, default=str).decode())
        else:
            yield from read_records(path)


def _path_chunks(paths: Sequence[Path], size: int) -> Iterator[list[RawRecord] | pa.Table]:
    """The records of the files in chunks of ``size``, file by file: JSON Lines as Arrow
    tables (:func:`govwatch.formats.read_jsonl_columns`), other formats as records."""
    for path in paths:
        if path.is_dir():
            yield from _path_chunks(sorted(p for p in path.iterdir() if p.is_file()), size)
        elif jsonl_is_lines(path) and not national.detect_layout(path):
            yield from _table_chunks(str(path), read_jsonl_columns(path), size)
        else:
            yield from _chunks(_iter_path_records([path]), size)


def _table_chunks(source: str, tables: Iterable[pa.Table], size: int) -> Iterator[pa.Table]:
    """Arrow tables (line, text, problem) re-cut into chunks of ``size`` rows, with source."""
    names = pa.array([source], pa.string())
    held: list[pa.Table] = []
    rows = 0

    def cut(table: pa.Table) -> pa.Table:
        codes = pa.array(np.zeros(table.num_rows, np.int32))
        return table.add_column(0, "source", pa.DictionaryArray.from_arrays(codes, names))

    for table in tables:
        held.append(table)
        rows += table.num_rows
        if rows < size:
            continue
        whole = pa.concat_tables(held)
        start = 0
        while rows - start >= size:
            yield cut(whole.slice(start, size).combine_chunks())
            start += size
        held = [whole.slice(start)] if start < rows else []
        rows -= start
    if rows:
        yield cut(pa.concat_tables(held).combine_chunks())


def _chunks(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    chunk: list[RawRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_Chunk: TypeAlias = list[RawRecord] | pa.Table


def _read_ahead(chunks: Iterator[_Chunk]) -> Iterator[_Chunk]:
    """Read the next chunk in a thread while DuckDB (which releases the GIL) checks this one.

    At most two chunks are held at once, so memory stays bounded.
    """
    slots: queue.Queue[_Chunk | BaseException | None] = queue.Queue(maxsize=1)

    def produce() -> None:
        try:
            for chunk in chunks:
                slots.put(chunk)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)
            return
        slots.put(None)

    thread = threading.Thread(target=produce, name="govwatch-import-reader", daemon=True)
    thread.start()
    while True:
        item = slots.get()
        if item is None:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


class _Importer:
    """One import run into ``db``; stages chunks in DuckDB."""

    def __init__(
        self,
        db: Database,
        *,
        memory_cap: bool = True,
        bounds: Sequence[int] | None = None,
        aftermath: bool = False,
    ) -> None:
        self.db = db
        # True: the caller runs what follows the rebuild and closes the run (OpenRun); this
        # run then also takes over the marks of interrupted runs. False: the run's own mark
        # goes once its cases are rebuilt (what follows is left to the caller, as before).
        self.aftermath = aftermath
        self.run_key: int | None = None
        self.marked = False  # the run's mark is committed
        self.held: list[int] = []  # marks this run holds (own and taken over)
        # parts of a group import (import_parts): the first index of each; each part's
        # applied, duplicates and cases are counted apart (_tally)
        self.bounds = list(bounds) if bounds is not None else None
        self.tallies = [_Tally() for _ in self.bounds or ()]
        self.stage: duckdb.DuckDBPyConnection = (
            db.raw if db.dialect == "duckdb" else duckdb.connect(":memory:")
        )
        self.stage.execute("SET TimeZone = 'Asia/Shanghai'")
        # Bounded memory: DuckDB would otherwise cache up to 80% of RAM while loading; an
        # import needs its chunk, the id column it probes, and the pages it writes.
        # An in-memory database cannot spill: it keeps the engine's own limit.
        # A batch held in memory already (the HTTP API's group commit: memory_cap False) needs
        # no cap, and changing the instance-wide setting would squeeze the live evaluator
        # running beside it.
        in_memory = db.dialect == "duckdb" and db.url.rstrip("/").endswith(":memory:")
        capped = not in_memory and memory_cap
        self.memory_limit = self._set_memory_limit(IMPORT_MEMORY_LIMIT) if capped else None
        self.report = ImportReport()
        # every row of this run is stamped with the moment it began (real time, see
        # timeutil.wall_clock): the case rebuild reads new cases' events from there on
        self.stamp = wall_clock()
        self.position = 0
        if db.dialect == "duckdb":
            _check_id_hashes(db)
        self.touched: set[str] = set()
        self.good_kind = ""  # what _gw_good is while a chunk is applied: TABLE or VIEW
        self.columns = [f.column for f in FIELDS if f.name not in ("event_id",)]

    def _set_memory_limit(self, limit: str) -> str | None:
        if not limit:
            return None
        previous = str(
            self.stage.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        )
        self.stage.execute(f"SET memory_limit = '{limit}'")
        return previous

    # -- one chunk ------------------------------------------------------------------------
    def add_chunk(self, chunk: list[RawRecord] | pa.Table) -> None:
        if isinstance(chunk, pa.Table):
            self.add_table(chunk)
            return
        self.add_columns(
            [r.source for r in chunk],
            [r.line for r in chunk],
            [r.text for r in chunk],
            [r.problem for r in chunk],
        )

    def add_columns(
        self,
        sources: list[str],
        lines: list[int],
        texts: list[str],
        problems: Sequence[str | None] | None = None,
    ) -> None:
        """One chunk given as its columns: each record's source, line and raw text, and what
        its reader already found wrong with it (``problems``)."""
        try:
            text = pa.array(texts, pa.string())
        except (UnicodeError, pa.ArrowException):
            text = None  # bytes that were not UTF-8 (lone surrogates): judged in Python
        if text is not None and not _holds_nul(text):
            self.add_table(
                pa.table(
                    {
                        "source": pa.array(sources, pa.string()),
                        "line": pa.array(lines, pa.int64()),
                        "text": text,
                        "problem": pa.array(
                            problems if problems is not None else [None] * len(texts), pa.string()
                        ),
                    }
                )
            )
            return
        verdicts = judge_texts(texts, problems)
        self._stage(
            pa.table(
                {
                    "source": pa.array(sources, pa.string()),
                    "line": pa.array(lines, pa.int64()),
                    "text": pa.array(verdicts.texts, pa.string()),
                    "pre_field": pa.array(verdicts.fields, pa.string()),
                    "pre_msg": pa.array(verdicts.messages, pa.string()),
                    "pre_keys": pa.array(verdicts.keys, pa.int32()),
                }
            ),
            judged=True,
        )

    def add_table(self, table: pa.Table) -> None:
        """One chunk as an Arrow table (source, line, text, problem): the first stage judged
        in SQL (:mod:`govwatch.events.sql_checks`), only the records it cannot clear by
        :func:`~govwatch.events.checks.record_problem` in Python."""
        if _holds_nul(table.column("text")):  # no DuckDB text may hold NUL: as before
            self.add_columns(
                table.column("source").to_pylist(),
                table.column("line").to_pylist(),
                table.column("text").to_pylist(),
                table.column("problem").to_pylist(),
            )
            return
        self._stage(table, judged=False)

    def _stage(self, table: pa.Table, *, judged: bool) -> None:
        count = table.num_rows
        raw = table.append_column(
            "idx", pa.array(range(self.position, self.position + count), pa.int64())
        )
        self.position += count
        self.report.read += count
        con = self.stage
        con.register("_gw_raw_in", raw)
        try:
            if judged:
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _gw_raw AS SELECT idx, CAST(source AS VARCHAR) "
                    "AS source, line, text, pre_field, pre_msg, pre_keys, "
                    # orjson read an object (pre_field NULL): DuckDB's reader must take it too
                    "coalesce(pre_field IS NULL AND json_valid(text), false) AS ok, "
                    "CASE WHEN pre_field IS NULL AND json_valid(text) THEN json_keys(text) END "
                    "AS keys FROM _gw_raw_in"
                )
            else:
                self._judge(con)
        finally:
            con.unregister("_gw_raw_in")
        keys = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT k FROM (SELECT unnest(keys) AS k FROM _gw_raw WHERE ok)"
            ).fetchall()
        ]
        self._extract(keys)
        self._fill_missing_ids()
        self._quarantine()
        self._apply()
        con.execute("DROP TABLE IF EXISTS _gw_raw")
        con.execute("DROP TABLE IF EXISTS _gw_x")
        log.debug(
            "import chunk committed: %d records read, %d applied",
            self.report.read,
            self.report.applied,
        )

    def _judge(self, con: duckdb.DuckDBPyConnection) -> None:
        """Stage ``_gw_raw_in`` as ``_gw_raw``, the first stage judged as record_problem
        would: plain records in SQL, the others (few) by record_problem itself."""
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gw_raw AS SELECT idx, source, line, text, pre_field, "
            "pre_msg, CASE WHEN plain THEN CAST(len(keys) AS INTEGER) END AS pre_keys, "
            "plain AS ok, plain, keys FROM ("
            f"SELECT *, {plain_sql('text', 'keys')} AS plain FROM ("
            "SELECT idx, CAST(source AS VARCHAR) AS source, line, text, "
            "CASE WHEN problem IS NOT NULL THEN 'record' END AS pre_field, problem AS pre_msg, "
            f"CASE WHEN problem IS NULL THEN {keys_sql('text')} END AS keys "
            "FROM _gw_raw_in))"
        )
        # A key written twice: orjson counts it once. Records of a chunk share a few layouts
        # (their keys in order): each layout is looked at once, by the hash of its keys.
        repeats = [
            int(h)
            for h, keys in con.execute(
                "SELECT hash(keys) AS h, any_value(keys) FROM _gw_raw WHERE plain GROUP BY h"
            ).fetchall()
            if len(set(keys)) != len(keys)
        ]
        if repeats:
            con.execute(
                "UPDATE _gw_raw SET pre_keys = len(list_distinct(keys)) "
                "WHERE plain AND list_contains(CAST(? AS UBIGINT[]), hash(keys))",
                [repeats],
            )
        odd = con.execute(
            "SELECT idx, text FROM _gw_raw WHERE NOT plain AND pre_field IS NULL"
        ).fetchall()
        if not odd:
            return
        verdicts = judge_texts([str(r[1]) for r in odd])
        fixes = pa.table(
            {
                "idx": pa.array([int(r[0]) for r in odd], pa.int64()),
                "text": pa.array(verdicts.texts, pa.string()),
                "pre_field": pa.array(verdicts.fields, pa.string()),
                "pre_msg": pa.array(verdicts.messages, pa.string()),
                "pre_keys": pa.array(verdicts.keys, pa.int32()),
            }
        )
        con.register("_gw_fixes", fixes)
        try:
            con.execute(
                "UPDATE _gw_raw SET text = f.text, pre_field = f.pre_field, pre_msg = f.pre_msg, "
                "pre_keys = f.pre_keys, "
                "ok = coalesce(f.pre_field IS NULL AND json_valid(f.text), false), "
                "keys = CASE WHEN f.pre_field IS NULL AND json_valid(f.text) "
                "THEN json_keys(f.text) END "
                "FROM _gw_fixes f WHERE _gw_raw.idx = f.idx"
            )
        finally:
            con.unregister("_gw_fixes")

    def _extract(self, keys: list[str]) -> None:
        by_field, unknown = naming_keys(self._within_spelling_budget(keys))
        paths: list[str] = []
        exprs = []
        raws: list[str] = []  # code fields read before their spreadsheet decimals go
        for f in FIELDS:
            parts = []
            for key in by_field.get(f.name, []):
                paths.append(sql_text(json_path(key)))
                parts.append(f"NULLIF(trim(v[{len(paths)}]), '')")
            value = f"coalesce({', '.join(parts)})" if parts else "CAST(NULL AS VARCHAR)"
            read = value
            if f.name in ("kind",):
                value = f"lower({value})"
            elif f.name in ("limit_unit",):
                value = f"upper({value})"
            elif f.name == "action":
                value = f"lower({value})"
            elif f.name in (
                "applicant_type",
                "channel",
                "case_kind",
                "procedure_kind",
                "result",
                "level",
            ):
                # numbers written as 1.0 by spreadsheets are still the code 1 (the regular
                # expression only where there is a point to drop)
                value = (
                    f"CASE WHEN contains(f_{f.name}, '.') "
                    f"THEN regexp_replace(f_{f.name}, '^(\\d+)\\.0+$', '\\1') "
                    f"ELSE f_{f.name} END"
                )
                exprs.append(f"{value} AS f_{f.name}")
                raws.append(f"{read} AS f_{f.name}")
                continue
            exprs.append(f"{value} AS f_{f.name}")
        extract = f"json_extract_string(text, [{', '.join(paths)}])" if paths else "NULL"
        extra = "CAST(NULL AS VARCHAR)"
        if unknown:
            # the record's own keys that name no field: the record less the keys that do
            # (a merge patch setting them to null), so that the work does not grow with the
            # number of distinct unknown keys in the chunk
            named = {k: None for spellings in by_field.values() for k in spellings}
            patch = sql_text(orjson.dumps(named).decode())
            extra = f"nullif(CAST(json_merge_patch(text, {patch}) AS VARCHAR), '{{}}')"
        self.stage.execute(
            f"CREATE OR REPLACE TEMP TABLE _gw_x AS SELECT * EXCLUDE (n_keys, text), "
            f"{_ERROR_FIELD} AS err_field, "
            f"{_ERROR_MESSAGE} AS err_msg FROM (SELECT *, "
            + fast_timestamp_expr("f_occurred_at")
            + " AS occurred_ts, "
            + fast_timestamp_expr("f_promised_finish_at")
            + " AS promised_ts "
            f"FROM (SELECT idx, source, line, text, ok, pre_field, pre_msg, pre_keys, "
            "len(keys) AS n_keys, "
            f"{', '.join(exprs)}, "
            f"CASE WHEN ok THEN {extra} END AS extra "
            f"FROM (SELECT *, {', '.join(raws) or 'NULL AS no_codes'} FROM "
            f"(SELECT *, CASE WHEN ok THEN {extract} END AS v FROM _gw_raw))))"
        )

    def _within_spelling_budget(self, keys: list[str]) -> list[str]:
        """The chunk's keys, with at most MAX_SPELLINGS of them naming fields.

        Each spelling of a field (``case_id``, ``Case_ID``, ``SBLSH`` ...) is a path the
        extraction reads from every record of the chunk; records using spellings beyond the
        most common ones are quarantined instead (only crafted input comes near the budget).
        """
        by_field, _ = naming_keys(keys)
        named = sorted(k for spellings in by_field.values() for k in spellings)
        if len(named) <= MAX_SPELLINGS:
            return keys
        counts = self.stage.execute(
            "SELECT k, count(*) AS n FROM (SELECT unnest(json_keys(text)) AS k FROM _gw_raw "
            "WHERE ok) WHERE list_contains(?, k) GROUP BY k ORDER BY n DESC, k",
            [named],
        ).fetchall()
        excess = sorted(str(k) for k, _ in counts[MAX_SPELLINGS:])
        self.stage.execute(
            "UPDATE _gw_raw SET ok = false, pre_field = 'record', pre_msg = ? "
            "WHERE ok AND list_has_any(json_keys(text), ?)",
            [
                f"字段名的写法过多：同一批记录中指向规范字段的键有 {len(named)} 种写法，"
                f"超过 {MAX_SPELLINGS} 种；本条用了其中不常见的写法，请统一字段名（如 case_id、kind）",
                excess,
            ],
        )
        dropped = set(excess)
        return [k for k in keys if k not in dropped]

    def _fill_missing_ids(self) -> None:
        """An event without ``event_id`` is named by the SHA-256 of its canonical JSON."""
        rows = self.stage.execute(
            "SELECT x.idx, r.text FROM _gw_x x JOIN _gw_raw r ON r.idx = x.idx "
            "WHERE x.err_field IS NULL AND x.f_event_id IS NULL"
        ).fetchall()
        if not rows:
            return
        ids = pa.table(
            {
                "idx": pa.array([r[0] for r in rows], pa.int64()),
                "eid": pa.array(
                    [canonical_event_id(orjson.loads(r[1])) for r in rows], pa.string()
                ),
            }
        )
        self.stage.register("_gw_ids", ids)
        try:
            self.stage.execute(
                "UPDATE _gw_x SET f_event_id = _gw_ids.eid FROM _gw_ids WHERE _gw_x.idx = _gw_ids.idx"
            )
        finally:
            self.stage.unregister("_gw_ids")

    def _quarantine(self) -> None:
        bad = self.stage.execute(
            "SELECT x.idx, x.source, x.line, x.err_field, x.err_msg, r.text FROM _gw_x x "
            "JOIN _gw_raw r ON r.idx = x.idx WHERE x.err_field IS NOT NULL ORDER BY x.idx"
        ).fetchall()
        if not bad:
            return
        entries = []
        for idx, source, line, fld, msg, text in bad:
            message = f"{source} 第 {line} 行：{msg}"
            entries.append(quarantine.QuarantineEntry("event", source, line, fld, message, text))
            if len(self.report.problems) < MAX_PROBLEMS_KEPT or self.bounds is not None:
                self.report.problems.append(Problem(source, line, idx, fld, message))
        quarantine.add(self.db, entries)
        self.report.quarantined += len(entries)

    def _good_select(self, has_repeats: bool) -> str:
        cols = []
        for f in FIELDS:
            if f.name == "event_id":
                cols.append("f_event_id AS event_id")
            elif f.name == "occurred_at":
                cols.append(f"occurred_ts AS occurred_at, {KIND_ORDER_EXPR} AS kind_order")
            elif f.name == "promised_finish_at":
                cols.append("promised_ts AS promised_finish_at")
            elif f.name == "limit":
                cols.append("CAST(try_cast(f_limit AS DOUBLE) AS INTEGER) AS limit_days")
            elif f.name in ("decided_value", "quantity"):
                cols.append(f"try_cast(f_{f.name} AS DOUBLE) AS {f.column}")
            elif f.name == "amount":
                cols.append("CAST(try_cast(f_amount AS DOUBLE) AS DECIMAL(14, 2)) AS amount")
            elif f.name == "materials":
                cols.append("CAST(CAST(f_materials AS JSON) AS VARCHAR) AS materials")
            else:
                cols.append(f"f_{f.name} AS {f.column}")
        cols += ["extra", "source", "line AS source_line"]
        rank = "row_number() OVER (PARTITION BY f_event_id ORDER BY idx)" if has_repeats else "1"
        return (
            f"SELECT {', '.join(cols)}, idx, {rank} AS dup_rank FROM _gw_x WHERE err_field IS NULL"
        )

    def _apply(self) -> None:
        con = self.stage
        # the window that ranks repeated ids within a chunk costs a sort: only when needed
        counts = con.execute(
            "SELECT count(f_event_id), count(DISTINCT f_event_id), count(*) FROM _gw_x "
            "WHERE err_field IS NULL"
        ).fetchall()[0]
        has_repeats = counts[0] != counts[1]
        # The good rows as the tables take them: a view over _gw_x (no copy of every column;
        # each use reads only the columns it needs), a table when the ranking window of
        # repeated ids would otherwise be computed again by each use.
        self._drop_good()
        self.good_kind = "TABLE" if has_repeats else "VIEW"
        con.execute(f"CREATE TEMP {self.good_kind} _gw_good AS {self._good_select(has_repeats)}")
        total = int(counts[2])
        if not total:
            self._drop_good()
            return
        event_cols = [f.column for f in FIELDS]
        event_cols.insert(event_cols.index("occurred_at") + 1, "kind_order")
        event_cols += ["extra", "source", "source_line"]
        stamp = self.stamp
        select_events = (
            f"SELECT {', '.join(event_cols)}, {sql_timestamp(stamp)} AS ingested_at "
            "FROM _gw_good WHERE dup_rank = 1"
        )
        materials_sql = (
            "SELECT event_id, case_id, CAST(i + 1 AS INTEGER) AS seq, "
            "CASE WHEN json_type(el) = 'VARCHAR' THEN el->>'$' ELSE el->>'name' END AS name, "
            "CASE WHEN json_type(el) = 'OBJECT' THEN try_cast(el->>'provided' AS BOOLEAN) END AS provided, "
            f"{sql_timestamp(stamp)} AS ingested_at "
            "FROM (SELECT event_id, case_id, i, json_extract(materials, '$[' || CAST(i AS VARCHAR) || ']') AS el "
            "FROM (SELECT event_id, case_id, materials, "
            "unnest(range(CAST(json_array_length(materials) AS BIGINT))) AS i "
            "FROM _gw_good WHERE dup_rank = 1 AND materials IS NOT NULL))"
        )
        if self.db.dialect == "duckdb":
            # An anti-join instead of ON CONFLICT: DuckDB's conflict path is row-at-a-time
            # and eight times slower. Ids already stored are found by the 8-byte id_hash
            # column first (migration 052): a scan of it costs an eighth of one of the ids,
            # and new events (the common case) end there. The rows it finds are then compared
            # on the id itself: by their hashes as constants when few (the scan filters on
            # them before reading ids), else by a semi-join on the chunk's hashes.
            hits = [
                int(r[0])
                for r in con.execute(
                    "SELECT DISTINCT id_hash FROM events "
                    "WHERE id_hash IN (SELECT hash(event_id) FROM _gw_good)"
                ).fetchall()
            ]
            if len(hits) <= 2000:
                narrowed = f"e.id_hash IN ({', '.join(str(h) for h in hits)})"
            else:
                narrowed = "e.id_hash IN (SELECT hash(event_id) FROM _gw_good)"
            if hits:
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE _gw_seen AS SELECT DISTINCT e.event_id "
                    f"FROM events e WHERE {narrowed} AND e.event_id IN "
                    "(SELECT event_id FROM _gw_good)"
                )
            else:  # all new (the common case): nothing to look up
                con.execute("CREATE OR REPLACE TEMP TABLE _gw_seen (event_id VARCHAR)")
            self._tally()
            # materials, events and the run's mark commit together: a kill between two
            # statements of their own left materials that the re-import wrote again
            with self.db.transaction():
                self._open_mark()
                con.execute(
                    "INSERT INTO event_materials (event_id, case_id, seq, name, provided, "
                    f"ingested_at) SELECT * FROM ({materials_sql}) m "
                    "WHERE m.event_id NOT IN (SELECT event_id FROM _gw_seen)"
                ).fetchall()
                rows = con.execute(
                    f"INSERT INTO events ({', '.join(event_cols)}, ingested_at, id_hash) "
                    f"SELECT *, hash(event_id) FROM ({select_events} "
                    "AND _gw_good.event_id NOT IN (SELECT event_id FROM _gw_seen))"
                ).fetchall()
            self.marked = True
            inserted = int(rows[0][0]) if rows else 0
            con.execute("DROP TABLE IF EXISTS _gw_seen")
        else:
            inserted = self._apply_postgres(select_events, materials_sql)
        self.report.applied += inserted
        self.report.duplicates += int(total) - inserted
        self.touched.update(
            r[0]
            for r in con.execute(
                "SELECT DISTINCT case_id FROM _gw_good WHERE dup_rank = 1"
            ).fetchall()
        )
        self._drop_good()

    def _drop_good(self) -> None:
        """Drop _gw_good, whichever it is (one left by a failed import on this connection too)."""
        kinds = (
            [self.good_kind]
            if self.good_kind
            else [
                str(r[0])
                for r in self.stage.execute(
                    "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = '_gw_good' "
                    "UNION ALL SELECT 'VIEW' FROM duckdb_views() "
                    "WHERE temporary AND view_name = '_gw_good'"
                ).fetchall()
            ]
        )
        for kind in kinds:
            self.stage.execute(f"DROP {kind} IF EXISTS _gw_good")
        self.good_kind = ""

    def _apply_postgres(self, select_events: str, materials_sql: str) -> int:
        """COPY the rows whose ids the store lacks straight into the tables.

        The ids already stored are looked up through the primary key first, so the common case
        (new events) needs no staging table and no conflict handling; should another writer
        insert one of them in between, the COPY fails on the key and the chunk is redone
        through a staging table with ``ON CONFLICT DO NOTHING``.
        """
        con = self.stage
        # the chunk's ids as one text, split by the server: a good id holds no control
        # character (checks.CHECKS), so U+001F parts them (a list parameter costs a Python
        # object per id on each side)
        ids = con.execute(
            "SELECT string_agg(event_id, chr(31)) FROM _gw_good WHERE dup_rank = 1"
        ).fetchall()[0][0]
        seen = pa.table(
            {
                "event_id": pa.array(
                    [
                        r[0]
                        for r in self.db.query(
                            "SELECT event_id FROM events "
                            "WHERE event_id = ANY(string_to_array(?, chr(31)))",
                            [ids or ""],
                        )
                    ],
                    pa.string(),
                )
            }
        )
        con.register("_gw_seen_in", seen)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE _gw_seen AS SELECT event_id FROM _gw_seen_in")
        finally:
            con.unregister("_gw_seen_in")
        # Should another writer store one of these ids between this look-up and the COPY
        # (the fallback below), the total stays exact and the parts' tallies count it applied.
        self._tally()
        fresh_events = _arrow(
            con, f"{select_events} AND _gw_good.event_id NOT IN (SELECT event_id FROM _gw_seen)"
        )
        fresh_materials = _arrow(
            con,
            f"SELECT * FROM ({materials_sql}) m WHERE m.event_id NOT IN (SELECT event_id FROM _gw_seen)",
        )
        con.execute("DROP TABLE IF EXISTS _gw_seen")
        try:
            with self.db.transaction():
                self._open_mark()
                inserted = self.db.insert_arrow("events", fresh_events)
                self.db.insert_arrow("event_materials", fresh_materials)
        except psycopg.errors.UniqueViolation:
            with self.db.transaction():  # the mark was rolled back with the rows
                self._open_mark()
                inserted = self.db.insert_arrow("events", fresh_events, on_conflict_nothing=True)
                self.db.insert_arrow("event_materials", fresh_materials, on_conflict_nothing=True)
        self.marked = True
        return inserted

    def _open_mark(self) -> None:
        """Write the run's mark in the transaction of a chunk's rows (until one commits).

        On PostgreSQL the run holds the advisory lock of its key first, so that a mark seen
        by another process belongs to a live run exactly while its lock is held.
        """
        if self.marked:
            return
        if self.run_key is None:
            key = secrets.randbits(62) + 1
            if not _claim(self.db, key):  # a fresh random key: never held
                raise RuntimeError(f"import mark {key} is held already")
            self.run_key = key
            self.held.append(key)
        self.db.execute(
            "INSERT INTO import_marks (run_key, stamp, opened_at) VALUES (?, ?, ?)",
            [self.run_key, self.stamp, self.stamp],
        )

    def _tally(self) -> None:
        """Count each part's applied and duplicate records and its cases (group imports)."""
        if self.bounds is None:
            return
        for idx, case_id, rank, fresh in self.stage.execute(
            "SELECT idx, case_id, dup_rank, event_id NOT IN (SELECT event_id FROM _gw_seen) "
            "FROM _gw_good"
        ).fetchall():
            tally = self.tallies[bisect_right(self.bounds, int(idx)) - 1]
            if rank == 1 and fresh:
                tally.applied += 1
            else:
                tally.duplicates += 1
            tally.cases.add(str(case_id))  # as its own run would have (duplicates too)

    def split(self, lengths: Sequence[int]) -> list[ImportReport]:
        """The finished run's report, one per part (``Problem.index`` within the part)."""
        assert self.bounds is not None
        reports = []
        for part, (start, tally) in enumerate(zip(self.bounds, self.tallies, strict=True)):
            problems = [
                Problem(p.source, p.line, p.index - start, p.field, p.message)
                for p in self.report.problems
                if bisect_right(self.bounds, p.index) - 1 == part
            ]
            reports.append(
                ImportReport(
                    applied=tally.applied,
                    duplicates=tally.duplicates,
                    quarantined=len(problems),
                    read=lengths[part],
                    problems=problems,
                    cases=len(tally.cases),
                    case_ids=sorted(tally.cases),
                )
            )
        return reports

    def finish(self) -> ImportReport:
        """Rebuild the touched cases' state; the report names them (``case_ids``).

        What follows for those cases (clocks, rules, alerts, the live queue) is not the
        importer's business: :mod:`govwatch.live.pipeline` decides it from the report. With
        ``aftermath`` the run also rebuilds the cases of interrupted runs it takes over
        (``report.run.repaired``) and leaves its marks to the caller; without, its own mark
        goes now.
        """
        if self.stage is not self.db.raw:
            self.stage.close()
        touched = sorted(self.touched)
        stamps, legacy = self._take_over() if self.aftermath else ([], False)
        repaired: list[str] = []
        if stamps or legacy:
            found = set(cases_stamped(self.db, stamps))
            if legacy:
                found.update(cases_out_of_step(self.db))
            repaired = sorted(found - self.touched)
            log.info(
                "import repairs %d cases left by %d interrupted import runs",
                len(repaired),
                len(stamps) + int(legacy),
            )
        rebuilt = sorted(self.touched.union(repaired))
        if rebuilt:
            log.debug("import rebuilding %d cases", len(rebuilt))
            # rebuilt under the cap too (a file-backed database spills to disk), while what
            # follows runs with the connection's own limit. An interrupted run's cases have
            # their events from its stamp on (read everything for a store of before marks).
            since = None if legacy else min([self.stamp, *stamps])
            rebuild_cases(self.db, rebuilt, since=since)
        if self.stage is self.db.raw and self.memory_limit:
            self.stage.execute(f"SET memory_limit = '{self.memory_limit}'")
            self.memory_limit = None
        self.report.cases = len(touched)
        self.report.case_ids = touched
        run = OpenRun(list(self.held), repaired)
        if self.aftermath:
            self.report.run = run  # the caller's now
        else:
            close_run(self.db, run)
        self.held = []
        return self.report

    def _take_over(self) -> tuple[list[datetime], bool]:
        """Claim the marks of runs that are gone; their stamps, and whether one is the mark
        of a store of before marks (migration 057: every case is checked once)."""
        claimed = [
            int(r[0])
            for r in self.db.query("SELECT run_key FROM import_marks")
            if int(r[0]) not in self.held and _claim(self.db, int(r[0]))
        ]
        if not claimed:
            return [], False
        self.held.extend(claimed)
        # a run may have closed its mark between the look-up and the claim: read them again
        marks = ", ".join("?" for _ in claimed)
        rows = self.db.query(f"SELECT stamp FROM import_marks WHERE run_key IN ({marks})", claimed)
        stamps = sorted({r[0] for r in rows if r[0] is not None})
        return stamps, any(r[0] is None for r in rows)

    def abandon(self) -> None:
        """The run failed: its marks stay for the next import to take over; let them go."""
        try:
            if self.stage is not self.db.raw:
                self.stage.close()
            elif self.memory_limit:
                self.stage.execute(f"SET memory_limit = '{self.memory_limit}'")
                self.memory_limit = None
        except duckdb.Error:
            pass  # the failure may be the connection's own
        release_run(self.db, OpenRun(self.held))
        self.held = []


# -- import runs: the marks ---------------------------------------------------------------

# Marks held by runs of this process. On DuckDB one process holds the file, so a mark not
# listed here belongs to a run that is gone; on PostgreSQL a run of another process holds its
# mark's advisory lock while it lives.
_HELD: set[int] = set()
_HELD_LOCK = threading.Lock()


def _claim(db: Database, key: int) -> bool:
    """Hold the mark ``key`` for this run; False when a live run holds it."""
    with _HELD_LOCK:
        if key in _HELD:
            return False
        _HELD.add(key)
    if db.dialect == "postgres":
        try:
            got = bool(db.scalar("SELECT pg_try_advisory_lock(?)", [key]))
        except BaseException:
            _HELD.discard(key)
            raise
        if not got:
            _HELD.discard(key)
            return False
    return True


def drop_marks(db: Database, run: OpenRun) -> None:
    """Delete the run's marks, in the caller's transaction (with what takes their place,
    such as the live queue's rows); :func:`release_run` after it commits."""
    if run.keys:
        marks = ", ".join("?" for _ in run.keys)
        db.execute(f"DELETE FROM import_marks WHERE run_key IN ({marks})", run.keys)


def release_run(db: Database, run: OpenRun) -> None:
    """Let the run's marks go without deleting them (after :func:`drop_marks`, or when what
    follows failed: the next import takes them over)."""
    for key in run.keys:
        if db.dialect == "postgres":
            # a lost connection (DatabaseUnavailableError) took its locks along
            with contextlib.suppress(psycopg.Error, DatabaseUnavailableError):
                db.scalar("SELECT pg_advisory_unlock(?)", [key])
        with _HELD_LOCK:
            _HELD.discard(key)
    run.keys = []


def close_run(db: Database, run: OpenRun) -> None:
    """What follows the run's rebuild is done: its marks go."""
    with db.transaction():
        drop_marks(db, run)
    release_run(db, run)


@dataclass
class _Tally:
    applied: int = 0
    duplicates: int = 0
    cases: set[str] = field(default_factory=set)


def _check_id_hashes(db: Database) -> None:
    """Make ``events.id_hash`` trustworthy before an import probes it (DuckDB only).

    Rows written by something other than the importer have none; and should an upgraded
    DuckDB hash differently (the probe string's hash no longer matches), every row is
    re-hashed once. Both checks read one small column or one row.
    """
    if db.url in _HASHES_CHECKED:  # the hash function cannot change while we run
        if db.scalar("SELECT count(*) FROM events WHERE id_hash IS NULL"):
            db.execute("UPDATE events SET id_hash = hash(event_id) WHERE id_hash IS NULL")
        return
    probe = db.query("SELECT value FROM store_meta WHERE key = 'event_id_hash_probe'")
    current = str(db.scalar("SELECT CAST(hash('govwatch') AS VARCHAR)"))
    if not probe or str(probe[0][0]) != current:
        with db.transaction():
            db.execute("UPDATE events SET id_hash = hash(event_id)")
            db.execute("DELETE FROM store_meta WHERE key = 'event_id_hash_probe'")
            db.execute(
                "INSERT INTO store_meta (key, value) VALUES ('event_id_hash_probe', ?)", [current]
            )
    elif db.scalar("SELECT count(*) FROM events WHERE id_hash IS NULL"):
        db.execute("UPDATE events SET id_hash = hash(event_id) WHERE id_hash IS NULL")
    if not db.url.rstrip("/").endswith(":memory:"):  # in-memory databases are each their own
        _HASHES_CHECKED.add(db.url)


# Database files whose id hashes were checked against this DuckDB's hash() (per process).
_HASHES_CHECKED: set[str] = set()


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    table = con.sql(sql).to_arrow_table()
    return table if isinstance(table, pa.Table) else table.read_all()


def canonical_event_id(record: dict[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON: canonical field names, keys sorted, compact, UTF-8."""
    canon: dict[str, Any] = {}
    for key, value in record.items():
        name = ALIASES.get(str(key).strip().lower())
        if name is not None and value is not None and name not in canon:
            canon[name] = value
    text = orjson.dumps(canon, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()


def _import(
    db: Database,
    chunks: Iterator[_Chunk],
    *,
    memory_cap: bool = True,
    progress: Callable[[int], None] | None = None,
    aftermath: bool = False,
) -> ImportReport:
    importer = _Importer(db, memory_cap=memory_cap, aftermath=aftermath)
    try:
        for chunk in _read_ahead(chunks):
            importer.add_chunk(chunk)
            if progress is not None:
                progress(len(chunk))
        return importer.finish()
    except BaseException:
        importer.abandon()
        raise


def import_events(
    db: Database,
    paths: Sequence[Path | str],
    *,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    aftermath: bool = False,
) -> ImportReport:
    """Import event files (JSON Lines, CSV, Excel, Parquet, national tables) into ``db``.

    Only events and case state: clocks, rules and alerts of the touched cases follow through
    :func:`govwatch.live.pipeline.import_event_files`. ``progress``, when given, is called
    with the number of records read after each chunk (a terminal's progress bar).
    ``chunk_size`` None: :func:`file_chunk_size`. ``aftermath``: see :class:`OpenRun`.
    """
    files = [Path(p) for p in paths]
    for path in files:
        if not path.exists():
            raise InputError(f"文件 {path} 不存在")
    size = chunk_size or file_chunk_size()
    report = _import(db, _path_chunks(files, size), progress=progress, aftermath=aftermath)
    try:
        _record_run(db, "event", [str(p) for p in files], report)
    except BaseException:
        if report.run is not None:
            release_run(db, report.run)
        raise
    return report


def import_records(
    db: Database,
    records: Iterable[Any],
    source: str = "api",
    *,
    memory_cap: bool = True,
    aftermath: bool = False,
) -> ImportReport:
    """Import records already in memory; ``Problem.index`` is the 0-based position.

    ``memory_cap`` False keeps the connection's own memory limit (see :class:`_Importer`);
    ``aftermath``: see :class:`OpenRun` (no records: only the interrupted runs' repair).
    """

    return _import(
        db,
        _chunks(_raw_records(records, source), CHUNK),
        memory_cap=memory_cap,
        aftermath=aftermath,
    )


def import_parts(
    db: Database,
    parts: Sequence[tuple[Sequence[Any], str]],
    *,
    memory_cap: bool = True,
    aftermath: bool = False,
) -> list[ImportReport]:
    """Several callers' in-memory batches ((records, source) each) as one import run.

    The group commit of the HTTP API (:mod:`govwatch.live.group_commit`): the run's fixed
    cost (staging, the id probe, the case rebuild) is paid once for all. The
    outcome is the one importing the parts one after another would have had: a record
    repeating an earlier part's event is a duplicate of it. Returns one report per part,
    with its own applied, duplicates, quarantined records (indexes within the part) and cases;
    with ``aftermath``, each names the same :class:`OpenRun`.
    """
    if not parts:
        return []
    lengths = [len(records) for records, _ in parts]
    bounds = [sum(lengths[:n]) for n in range(len(parts))]
    if sum(lengths) > CHUNK:
        raise InputError(f"一组导入最多 {CHUNK} 条记录，实为 {sum(lengths)} 条：请分组")
    importer = _Importer(db, memory_cap=memory_cap, bounds=bounds, aftermath=aftermath)
    try:
        if sum(lengths):
            importer.add_columns(
                [source for records, source in parts for _ in records],
                [line for n in lengths for line in range(1, n + 1)],
                [_text(record) for records, _ in parts for record in records],
            )
        run = importer.finish().run
    except BaseException:
        importer.abandon()
        raise
    reports = importer.split(lengths)
    for report in reports:
        report.run = run
    return reports


def _raw_records(records: Iterable[Any], source: str) -> Iterator[RawRecord]:
    for i, record in enumerate(records):
        yield RawRecord(source, i + 1, _text(record))


def _text(record: Any) -> str:
    """An in-memory record as the raw text the importer reads (a string is taken as is)."""
    return record if isinstance(record, str) else orjson.dumps(record, default=str).decode()


def _record_run(db: Database, record_type: str, sources: list[str], report: ImportReport) -> None:
    stamp = now()
    run_id = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM import_runs")) + 1
    db.execute(
        "INSERT INTO import_runs (id, record_type, sources, applied, duplicates, quarantined, "
        "started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            record_type,
            orjson.dumps(sources).decode(),
            report.applied,
            report.duplicates,
            report.quarantined,
            stamp,
            stamp,
        ],
    )
