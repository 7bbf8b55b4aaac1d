"""A generated province for the report tests: a few thousand cases, imported and supervised
(the real rule engine), the organisation tree built from the catalog.

The generator's province ends at ``meta.json``'s ``end_at``; the tests report on its last
full month and freeze time at the end moment.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import orjson

from govwatch.auth.orgs import sync_from_catalog
from govwatch.generator import generate, make_config
from govwatch.items.ingest import import_catalog
from govwatch.live.pipeline import import_event_files
from govwatch.storage import Database
from govwatch.timeutil import parse_timestamp

CASES = 3000
SEED = 15


def generate_province(workdir: Path) -> tuple[Path, datetime]:
    """Generate once per directory; return the province directory and its end moment."""
    province = workdir / "province"
    if not (province / "meta.json").exists():
        generate(make_config(CASES, SEED), province)
    meta = orjson.loads((province / "meta.json").read_bytes())
    return province, parse_timestamp(meta["end_at"])


def seed(db: Database, province: Path, end_at: datetime) -> None:
    old = os.environ.get("GOVWATCH_NOW")
    os.environ["GOVWATCH_NOW"] = end_at.isoformat()
    try:
        import_catalog(db, [province / "catalog.jsonl"])
        import_event_files(db, [province / "events.jsonl"])
        sync_from_catalog(db, end_at)
    finally:
        if old is None:
            os.environ.pop("GOVWATCH_NOW", None)
        else:
            os.environ["GOVWATCH_NOW"] = old
