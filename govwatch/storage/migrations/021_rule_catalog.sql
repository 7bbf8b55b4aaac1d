-- The rule catalog as data (govwatch/rules/catalog.py): each saved change is a new version
-- holding the whole document (settings and custom rules), with who and when. Version 0, the
-- built-in defaults, has no row.

CREATE TABLE rule_catalog_versions (
    version INTEGER PRIMARY KEY,
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL,
    summary TEXT NOT NULL,
    doc TEXT NOT NULL
);
