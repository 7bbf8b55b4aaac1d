"""Storage: one schema on DuckDB (embedded, default) and PostgreSQL."""

from __future__ import annotations

from govwatch.storage.db import Database, connect, connect_memory

__all__ = ["Database", "connect", "connect_memory"]
