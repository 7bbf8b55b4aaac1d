"""Schema migrations: numbered SQL files in ``migrations/``, applied once, in order, on any engine.

Number ranges by owner, so that parts of the system add tables without colliding:
001–009 core (items, events, cases, quarantine), 010–019 calendar and clocks, 020–029 rules and
alerts, 030–039 evaluation, 040–049 users, tokens and ledger.

A migration file may hold ``-- duckdb:`` or ``-- postgres:`` prefixed lines: such a line runs
only on that engine (for the few types that differ).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # db.py imports this module to migrate on connect
    from govwatch.storage.db import Database

_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def available() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every shipped migration, in order."""
    found = []
    for entry in resources.files("govwatch.storage.migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _for_dialect(sql: str, dialect: str) -> str:
    lines = []
    for line in sql.splitlines():
        stripped = line.lstrip()
        for engine in ("duckdb", "postgres"):
            tag = f"-- {engine}:"
            if stripped.startswith(tag):
                line = stripped[len(tag) :] if engine == dialect else ""
        lines.append(line)
    return "\n".join(lines)


def split_statements(script: str) -> list[str]:
    """Split a SQL script on semicolons that end a line (migrations keep to that style)."""
    parts = re.split(r";\s*(?:\n|$)", script)
    out = []
    for part in parts:
        lines = [ln for ln in part.splitlines() if not ln.strip().startswith("--")]
        text = "\n".join(lines).strip()
        if text:
            out.append(text)
    return out


def migrate(db: Database) -> list[int]:
    """Apply the migrations not yet applied; return their versions."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL "
        "DEFAULT CURRENT_TIMESTAMP)"
    )
    done = {int(r[0]) for r in db.query("SELECT version FROM schema_migrations")}
    applied = []
    for version, name, sql in available():
        if version in done:
            continue
        with db.transaction():
            for statement in split_statements(_for_dialect(sql, db.dialect)):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
        applied.append(version)
    return applied
