-- The durable watermark of case rebuilds (issue 18): one row per import run whose events are
-- stored but whose cases may not yet be rebuilt, nor their clocks, rules and workflow brought
-- up to date. A run writes its row in the transaction of its first stored chunk (stamp = the
-- ingested_at of every event and material row it writes) and deletes it once what follows its
-- rebuild is done (govwatch/live/pipeline.py) or, for an HTTP batch, once its cases are queued
-- for the live evaluator. A row whose run is gone (killed, failed) is taken over by the next
-- import, which rebuilds the cases of the events so stamped and runs their aftermath: nothing
-- stored before the oldest row here lacks its case rebuild. On PostgreSQL a running import
-- holds the advisory lock run_key, so another process tells a live run from a dead one.
CREATE TABLE import_marks (
    run_key BIGINT PRIMARY KEY,
    stamp TIMESTAMP,
    opened_at TIMESTAMP NOT NULL
);
-- A store that already holds events may hold cases lost by an import killed before this
-- migration (cases rows missing or stale). A row without a stamp has the next import compare
-- every case's stored events with its cases row once and repair those that differ.
INSERT INTO import_marks (run_key, stamp, opened_at)
SELECT 0, NULL, CURRENT_TIMESTAMP WHERE EXISTS (SELECT 1 FROM events);
-- Materials were written by a statement of their own before their events' (DuckDB), so a kill
-- in between left materials without events, which the re-import then wrote again. Materials
-- now commit with their events; the rows left over from before go (the event's re-import
-- writes its materials again with it).
-- duckdb:DELETE FROM event_materials WHERE rowid IN (SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY event_id, seq ORDER BY rowid) AS n FROM event_materials) d WHERE d.n > 1);
DELETE FROM event_materials WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = event_materials.event_id);
