-- The working-day calendar (spec/time.md): one row per date with cumulative ordinals, so that
-- "days(a, b)" in either unit is a subtraction of two joined ordinals on every engine.
--
-- calendar_years: the years a holiday notice covers (official data or an administrator's file).
-- calendar_exceptions: the dates such a notice names: `holiday` (a rest day, including the
-- weekdays bridged to a holiday) or `workday` (a make-up working day on a weekend, 调休上班).
-- calendar: derived from the two above by govwatch.calendar.store.rebuild (and by migration
-- 011 when a database is created); never edited by hand.

CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    source VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE calendar_exceptions (
    on_date DATE PRIMARY KEY,
    day_type VARCHAR NOT NULL,
    name VARCHAR,
    source VARCHAR NOT NULL
);

-- workday_ordinal: working days from the start of the table up to and including on_date.
-- day_ordinal: dates from the start of the table up to and including on_date.
-- provisional_ordinal: provisional dates up to and including on_date (a range holds a
-- provisional date when the difference of its ends' ordinals, or its first date, says so).
-- next_workday: the first working day on or after on_date (for the natural-day rule).
CREATE TABLE calendar (
    on_date DATE PRIMARY KEY,
    is_workday BOOLEAN NOT NULL,
    workday_ordinal INTEGER NOT NULL,
    day_ordinal INTEGER NOT NULL,
    provisional_ordinal INTEGER NOT NULL,
    next_workday DATE,
    source VARCHAR NOT NULL,
    provisional BOOLEAN NOT NULL,
    note VARCHAR
);
CREATE INDEX calendar_workday_ordinal ON calendar (workday_ordinal);
CREATE INDEX calendar_day_ordinal ON calendar (day_ordinal);
