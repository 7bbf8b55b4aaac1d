"""A guide check run over what a portal publishes (a crawl's fragment), not the catalog's guides:
each item keeps its implementation-list fields and takes the portal's guide; an item the portal
does not publish counts as unpublished; the crawl's unread pages are kept in the run's counts."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from govwatch.errors import InputError
from govwatch.guides.coverage import coverage
from govwatch.guides.runs import run_guide_checks
from govwatch.items.ingest import import_catalog
from govwatch.storage import Database
from tests.guides.guide_records import record

AT = datetime(2025, 3, 31, 18)


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    return path


def test_a_crawl_run_checks_the_portal_s_guides_against_the_list(
    db: Database, tmp_path: Path
) -> None:
    # the catalog's own guides are all right
    import_catalog(
        db, [_write(tmp_path / "catalog.jsonl", [record(f"C000{n}") for n in (1, 2, 3)])]
    )
    out = tmp_path / "crawl"
    out.mkdir()
    # the portal publishes C0001 right, C0002 with another promised limit, and not C0003
    portal = [record("C0001"), record("C0002")]
    portal[1]["guide"]["promised_limit"] = 7
    _write(out / "catalog.jsonl", [{"item_code": r["item_code"], "name": r["name"],
                                    "guide": r["guide"]} for r in portal])  # fmt: skip
    (out / "summary.json").write_text(json.dumps({"unread": 1}), "utf-8")
    catalog_run = run_guide_checks(db, AT, "核查员")
    assert catalog_run.findings == 0
    run = run_guide_checks(db, AT, "核查员", source="crawl", folder=out)
    assert (run.source, run.source_ref, run.counts["unread"]) == ("crawl", str(out), 1)
    found = {
        (str(r[0]), str(r[1]), str(r[2]))
        for r in db.query(
            "SELECT item_code, element, check_kind FROM guide_findings WHERE run_id = ?",
            [run.run_id],
        )
    }
    assert found == {
        ("C0002", "basic.promised_limit", "consistency"),
        ("C0003", "guide", "completeness"),
    }
    (only,) = coverage(db, run.run_id, "i.region_code").values()
    assert (only.items, only.published, only.standard) == (3, 2, 2)
    with pytest.raises(InputError, match="guides crawl"):
        run_guide_checks(db, AT, "核查员", source="crawl", folder=tmp_path / "nothing")
