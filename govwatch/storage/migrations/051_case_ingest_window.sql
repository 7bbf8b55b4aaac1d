-- When the first stored event of each case was ingested (events.ingested_at grows with the
-- order rows are appended). The live path reads a touched case's events only from rows
-- ingested at or after the earliest of these moments, so that DuckDB skips every older row
-- group by its min/max statistics instead of scanning the whole event store (PostgreSQL
-- finds them through events_case anyway). NULL (rows from before this column): read all.
ALTER TABLE cases ADD COLUMN first_ingested_at TIMESTAMP;
