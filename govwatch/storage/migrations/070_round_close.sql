-- Rounds worked by the administrator on the web (issue 13 item 3): a published round can be
-- closed (stage `closed`, with who and when), and a round published before its evaluation
-- period ended says so (`published_early`, set only after the administrator confirmed it).
ALTER TABLE eval_rounds ADD COLUMN published_early BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE eval_rounds ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE eval_rounds ADD COLUMN closed_by VARCHAR(64);
