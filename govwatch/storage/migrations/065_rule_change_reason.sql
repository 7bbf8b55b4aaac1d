-- Why a rule catalog version was saved (issue 14 item 6): the 理由 an administrator gives when
-- saving or deleting a rule setting on the rules page or through the API, shown in the change
-- history beside who, when and what changed. Versions saved before (and by the command line,
-- which asks for none) keep it empty.
ALTER TABLE rule_catalog_versions ADD COLUMN reason TEXT;
