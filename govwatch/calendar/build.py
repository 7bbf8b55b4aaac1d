"""Deriving the ``calendar`` table from covered years and their exception dates, set-based.

The same statement fills the table when a database is created (it closes migration 011) and
after an administrator loads a year (``govwatch calendar load``). It is one ``INSERT … SELECT``
over a generated run of dates, so creating an in-memory database stays fast.
"""

from __future__ import annotations

from datetime import date

from govwatch.storage import Database

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2035, 12, 31)

_DIGITS = "(VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))"

# A date is a working day when a covered year's notice says so, else Monday to Friday.
# A year that no notice covers is provisional: weekends only, and flagged on every row.
REBUILD_SQL = f"""INSERT INTO calendar (on_date, is_workday, workday_ordinal, day_ordinal,
    provisional_ordinal, next_workday, source, provisional, note)
SELECT on_date, is_workday,
    CAST(SUM(CASE WHEN is_workday THEN 1 ELSE 0 END) OVER (ORDER BY on_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER),
    CAST(ROW_NUMBER() OVER (ORDER BY on_date) AS INTEGER),
    CAST(SUM(CASE WHEN provisional THEN 1 ELSE 0 END) OVER (ORDER BY on_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS INTEGER),
    MIN(CASE WHEN is_workday THEN on_date END) OVER (ORDER BY on_date DESC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
    source, provisional, note
FROM (
    SELECT d.on_date,
        CASE WHEN y.year IS NOT NULL AND x.day_type = 'workday' THEN TRUE
             WHEN y.year IS NOT NULL AND x.day_type = 'holiday' THEN FALSE
             WHEN EXTRACT(DOW FROM d.on_date) IN (0, 6) THEN FALSE
             ELSE TRUE END AS is_workday,
        CASE WHEN y.year IS NULL THEN 'provisional' ELSE y.source END AS source,
        CASE WHEN y.year IS NULL THEN TRUE ELSE FALSE END AS provisional,
        CASE WHEN y.year IS NOT NULL THEN x.name END AS note
    FROM (
        SELECT CAST(DATE '{FIRST_DAY.isoformat()}'
            + CAST(a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n AS INTEGER) AS DATE)
            AS on_date
        FROM {_DIGITS} AS a(n), {_DIGITS} AS b(n), {_DIGITS} AS c(n),
             {_DIGITS} AS e(n), {_DIGITS} AS f(n)
    ) d
    LEFT JOIN calendar_exceptions x ON x.on_date = d.on_date
    LEFT JOIN calendar_years y ON y.year = EXTRACT(YEAR FROM d.on_date)
    WHERE d.on_date <= DATE '{LAST_DAY.isoformat()}'
) t"""


def rebuild(db: Database) -> None:
    """Recompute every row of ``calendar`` from ``calendar_years`` and ``calendar_exceptions``."""
    with db.transaction():
        db.execute("DELETE FROM calendar")
        db.execute(REBUILD_SQL)
