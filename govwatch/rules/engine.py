"""Running the catalog: materialise the case views, run every rule's query, build findings.

The same function serves every path: the stateless audit (whole in-memory database), the live
path (a set of cases on the operational DuckDB or PostgreSQL database) and the Spark audit
(:class:`govwatch.storage.spark.SparkExecutor`). An executor runs SQL in its engine; the
queries are the rules' own, written once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import pyarrow as pa
import sqlglot

from govwatch.errors import GovwatchError, ValidationError
from govwatch.events.cases import ingest_window
from govwatch.rules.catalog import Catalog
from govwatch.rules.model import LEVEL_RANK, Finding, Rule
from govwatch.rules.pg_batch import batch_wanted, embedded_copy
from govwatch.rules.settings import render
from govwatch.rules.views import SCOPE_TABLE, view_plan
from govwatch.storage import Database
from govwatch.storage.spark import SparkExecutor
from govwatch.timeutil import parse_timestamp

log = logging.getLogger("govwatch.rules.engine")


@dataclass(frozen=True)
class RuleFailure:
    """A rule the engine could not run in one evaluation, and the engine's reason."""

    rule: str
    custom: bool
    message: str


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


class Executor(Protocol):
    """Runs SQL on one engine: temporary views, queries, the case scope."""

    dialect: str

    def materialize(self, name: str, sql: str) -> None: ...

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def set_scope(self, case_ids: Sequence[str]) -> None: ...

    def drop(self, names: Iterable[str]) -> None: ...


class DatabaseExecutor:
    """Temporary tables on the operational DuckDB or PostgreSQL connection."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.dialect: str = db.dialect
        self.views: set[str] = set()  # names kept as views, not copied (see run)

    def materialize(self, name: str, sql: str) -> None:
        self.db.execute(f"DROP VIEW IF EXISTS {name}")
        self.db.execute(f"DROP TABLE IF EXISTS {name}")
        if name in self.views:
            self.db.execute(f"CREATE TEMPORARY VIEW {name} AS {sql}")
            return
        self.db.execute(f"CREATE TEMPORARY TABLE {name} AS {sql}")
        if self.dialect == "postgres":
            self.db.execute(f"ANALYZE {name}")

    def rows(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        if self.dialect == "duckdb":
            cur = self.db.raw.execute(sql)
            return [d[0] for d in cur.description], list(cur.fetchall())
        if getattr(self.db, "_in_tx", 0):
            # inside a transaction a failed query would abort it: a savepoint keeps the
            # failure to this rule (psycopg nests transaction() as a savepoint)
            with self.db.raw.transaction(), self.db.raw.cursor() as cur:
                cur.execute(sql)
                return [d[0] for d in cur.description or []], list(cur.fetchall())
        with self.db.raw.cursor() as cur:
            cur.execute(sql)
            return [d[0] for d in cur.description or []], list(cur.fetchall())

    def isolates(self) -> bool:
        """Whether a rule's failed query leaves the connection usable for the next rules.

        Not on DuckDB inside a transaction (an error aborts it), nor on a broken connection.
        """
        if self.dialect == "duckdb":
            return not getattr(self.db, "_in_tx", 0)
        return not (self.db.raw.closed or self.db.raw.broken)

    def set_scope(self, case_ids: Sequence[str]) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {SCOPE_TABLE}")
        self.db.execute(f"CREATE TEMPORARY TABLE {SCOPE_TABLE} (case_id VARCHAR PRIMARY KEY)")
        ids = pa.table({"case_id": pa.array(sorted(set(case_ids)), pa.string())})
        self.db.insert_arrow(SCOPE_TABLE, ids)
        if self.dialect == "postgres":
            self.db.execute(f"ANALYZE {SCOPE_TABLE}")

    def drop(self, names: Iterable[str]) -> None:
        for name in names:
            kind = "VIEW" if name in self.views else "TABLE"
            self.db.execute(f"DROP {kind} IF EXISTS {name}")


def json_value(value: Any) -> Any:
    """Evidence values as JSON-ready Python: ISO dates and times, floats for money."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return value.item()
    return value


def rule_sql(rule: Rule, catalog: Catalog, dialect: str) -> str | None:
    rendered = render(rule, catalog.settings)
    if rendered is None:
        return None
    if rule.custom and dialect == "postgres":
        return str(sqlglot.transpile(rendered.sql, read="duckdb", write="postgres")[0])
    return rendered.sql


def moment_value(value: Any, at: datetime | None = None) -> datetime | None:
    """A query's ``arose_at`` as a naive datetime to the second, never after ``at``.

    Engines hand back a datetime (DuckDB, PostgreSQL, Spark), a date, or a pandas/numpy
    timestamp; NULL stays None (the caller falls back to the moment of evaluation)."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None, microsecond=0)
    elif isinstance(value, date):
        moment = datetime.combine(value, datetime.min.time())
    else:
        return None
    if at is None:
        return moment
    limit = parse_timestamp(at)
    return moment if moment <= limit else limit


def findings_of(
    rule: Rule, names: list[str], rows: list[tuple[Any, ...]], at: datetime | None = None
) -> list[Finding]:
    """Findings from a rule's rows: ``case_id, key, level, arose_at``, then its evidence."""
    out = []
    evidence_names = names[4:]
    for row in rows:
        evidence = {n: json_value(v) for n, v in zip(evidence_names, row[4:], strict=True)}
        out.append(
            Finding(
                case_id=str(row[0]),
                rule=rule.id,
                rule_class=rule.rule_class,
                rule_type=rule.rule_type,
                level=str(row[2]),
                key="" if row[1] is None else str(row[1]),
                message=rule.message(evidence),
                evidence=evidence,
                occurred_at=moment_value(row[3], at),
            )
        )
    return out


def _isolates(executor: Executor) -> bool:
    check = getattr(executor, "isolates", None)
    return bool(check()) if check is not None else True


def run(
    executor: Executor,
    catalog: Catalog,
    at: datetime,
    case_ids: Sequence[str] | None = None,
    only: Sequence[str] | None = None,
    failures: list[RuleFailure] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    batch: bool | None = None,
) -> list[Finding]:
    """Every enabled rule of the catalog as of ``at`` (over ``case_ids`` when given).

    ``progress`` is told (rules run, rules to run) before each rule and once at the end (a
    web job's progress bar, :mod:`govwatch.live.jobs`).

    ``failures``: when given, a rule whose query fails (a custom rule dividing by zero, a cast
    that cannot convert, a setting the engine cannot bind) is skipped, logged and appended
    there, and every other rule still runs: one rule never stops supervision (the live path,
    :func:`govwatch.rules.live.evaluate_cases`). Without it the first failure is raised (the
    stateless audit, and a custom rule's dry run, which refuses such a rule).

    ``batch``: a whole-store run of every rule on a PostgreSQL store reads what the rules read
    once into an in-memory DuckDB and runs there (:mod:`govwatch.rules.pg_batch`); None lets
    :func:`~govwatch.rules.pg_batch.batch_wanted` choose by the store's size, False keeps
    PostgreSQL's own SQL. Scoped runs (the live path) and runs of some rules never do.
    """
    if (
        batch is not False
        and case_ids is None
        and only is None
        and isinstance(executor, DatabaseExecutor)
        and executor.dialect == "postgres"
        and (batch or batch_wanted(executor.db))
    ):
        with embedded_copy(executor.db, at) as memory:
            return run(DatabaseExecutor(memory), catalog, at, None, None, failures, progress)
    # Every join here is an equi-join over whole temporary tables: on PostgreSQL a misestimated
    # filter (correlated columns) must not turn one into nested loops over a million rows.
    pg = executor.db if isinstance(executor, DatabaseExecutor) else None
    pg = pg if pg is not None and pg.dialect == "postgres" else None
    if pg is not None:
        pg.execute("SET enable_nestloop = off")
    window = None
    if case_ids is None and isinstance(executor, DatabaseExecutor) and executor.dialect == "duckdb":
        # A whole-store audit on DuckDB reads the events through a view: copying ten million
        # rows costs more than each rule's own column scan of the store (PostgreSQL, whose
        # scans are dearer, and the scoped live path keep their copies).
        executor.views = {"gw_events"}
    if case_ids is not None:
        executor.set_scope(case_ids)
        if isinstance(executor, DatabaseExecutor):  # the live path: recent rows only
            window = ingest_window(executor.db, f"SELECT case_id FROM {SCOPE_TABLE}")
    custom = any(r.custom for r in catalog.rules() if only is None or r.id in only)
    ids = None if case_ids is None else sorted(set(case_ids))
    plan = view_plan(at, case_ids is not None, case_view=custom, ids=ids, since=window)
    for name, sql in plan:
        executor.materialize(name, sql)
    found: dict[tuple[str, str, str], Finding] = {}
    chosen = [r for r in catalog.rules() if only is None or r.id in only]
    try:
        for done, rule in enumerate(chosen):
            if progress is not None:
                progress(done, len(chosen))
            try:
                query = rule_sql(rule, catalog, executor.dialect)
                if query is None:
                    continue
                names, rows = executor.rows(query)
                findings = findings_of(rule, names, rows, at)
            except Exception as exc:
                if failures is None or not _isolates(executor):
                    raise
                log.error("rule %s failed and was skipped: %s", rule.id, _first_line(exc))
                failures.append(RuleFailure(rule.id, rule.custom, _first_line(exc)))
                continue
            for finding in findings:
                held = found.get(finding.identity())
                if held is None or LEVEL_RANK[finding.level] > LEVEL_RANK[held.level]:
                    found[finding.identity()] = finding
        if progress is not None:
            progress(len(chosen), len(chosen))
    finally:
        executor.drop([name for name, _ in reversed(plan)])
        if case_ids is not None:
            executor.drop([SCOPE_TABLE])
        if pg is not None:
            pg.execute("RESET enable_nestloop")
    return [found[k] for k in sorted(found)]


def dry_run(db: Database, catalog: Catalog, rule_id: str, at: datetime) -> list[Finding]:
    """What ``rule_id`` finds over every stored case as of ``at``: the check before saving.

    A rule the engine cannot run on this data (or cannot even bind, when nothing is stored
    yet) is refused with the engine's reason, as a :class:`ValidationError` on its
    expression. Divisions in custom rules are guarded (:func:`govwatch.rules.custom.compile_rule`),
    so a divisor that is zero only for cases to come is not such a reason.
    """
    try:
        return run(DatabaseExecutor(db), catalog, at, only=[rule_id])
    except GovwatchError:
        raise
    except Exception as exc:
        raise ValidationError(
            f"试运行失败：规则 {rule_id} 无法在现有数据上执行（{_first_line(exc)}），请修改表达式",
            field="expression",
        ) from exc


def audit(
    db: Database,
    at: datetime,
    catalog: Catalog | None = None,
    engine: str = "duckdb",
    *,
    batch: bool | None = None,
) -> list[Finding]:
    """The stateless audit over a loaded database, on its own engine or on Spark.

    ``batch`` (PostgreSQL only): see :func:`run`; None chooses by the store's size."""
    catalog = catalog or Catalog()
    if engine == "spark":
        with SparkExecutor.from_database(db) as spark_executor:
            return run(spark_executor, catalog, at)
    return run(DatabaseExecutor(db), catalog, at, batch=batch)
