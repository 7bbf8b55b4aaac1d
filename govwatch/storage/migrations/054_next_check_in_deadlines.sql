-- A case's next moment lives in case_deadlines only (it always was there too): an import
-- rewrites cases rows while the live evaluator clocks the same cases, and DuckDB aborts one of
-- two writers of a row. With the moment out of cases, imports and evaluation rounds write
-- disjoint tables and run side by side (govwatch/evaluator.py).
-- postgres:DROP INDEX IF EXISTS cases_next_check;
ALTER TABLE cases DROP COLUMN next_check_at;
