-- Materials carry their event's ingestion moment too, so that the live path reads the
-- materials of the touched cases from recent row groups only, as it does their events
-- (migration 051). Rows stored before this column take their event's moment.
ALTER TABLE event_materials ADD COLUMN ingested_at TIMESTAMP;
-- duckdb:UPDATE event_materials SET ingested_at = e.ingested_at FROM events e WHERE e.event_id = event_materials.event_id;
-- postgres:UPDATE event_materials m SET ingested_at = e.ingested_at FROM events e WHERE e.event_id = m.event_id;
