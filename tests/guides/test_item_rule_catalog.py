"""The item-information rules are rules of the catalog (issue 16 item 6): listed with the others,
set like them (enable, level, parameters, for a region, a department or an item), the setting
kept in the catalog's versions and applied by the next guide check run; not run over cases."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from govwatch.errors import ValidationError
from govwatch.items.ingest import import_catalog
from govwatch.live.guide_runs import guide_check_run, item_rules_changed
from govwatch.rules.catalog import current, set_setting
from govwatch.rules.forms import overview
from govwatch.rules.item_rules import ITEM_CLASS, RULES
from govwatch.rules.settings import Scope, Setting
from govwatch.storage import Database
from tests.guides.guide_records import record

AT = datetime(2025, 3, 31, 18)


def _catalog(db: Database, tmp: Path) -> None:
    dead = record("DL001", region_code="330102")
    dead["guide"]["materials"][0]["form"] = {"url": "/downloads/DL001/gone/1-form.docx",
                                             "status": 404}  # fmt: skip
    other = record("DL002", region_code="330203")
    other["guide"]["materials"][0]["sample"] = {"url": "/downloads/DL002/gone/1-sample.pdf",
                                                "status": 404}  # fmt: skip
    path = tmp / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (dead, other)), "utf-8")
    import_catalog(db, [path])


def _dead_link_alerts(db: Database) -> dict[str, tuple[str, str]]:
    return {
        str(r[0]): (str(r[1]), str(r[2]))
        for r in db.query(
            "SELECT item_code, status, level FROM alerts WHERE rule = 'guide_dead_link'"
        )
    }


def test_item_rules_are_listed_and_set_like_every_rule(db: Database, tmp_path: Path) -> None:
    _catalog(db, tmp_path)
    listed = {r["id"]: r for r in overview(db)["rules"]}
    assert {r.id for r in RULES} <= set(listed)
    assert listed["guide_dead_link"]["class_name"] == "事项公开信息异常"
    assert listed["guide_dead_link"]["name"] == "表格样表下载链接失效"
    assert {r.id for r in current(db).rules()}.isdisjoint(r.id for r in RULES)  # not over cases
    guide_check_run(db, AT, "核查员")
    assert _dead_link_alerts(db) == {"DL001": ("active", "yellow"), "DL002": ("active", "yellow")}
    # a parameter out of its range is refused like any rule's
    with pytest.raises(ValidationError, match="1 到 100"):
        set_setting(db, Setting("guide_dead_link", params=(("min_links", 0),)), "admin", "试", AT)
    set_setting(db, Setting("guide_dead_link", Scope("region", "330203"), enabled=False),
                "admin", "该区门户迁移中", AT)  # fmt: skip
    set_setting(db, Setting("guide_dead_link", level="red"), "admin", "链接失效从严", AT)
    kept = current(db)
    assert {s.rule for s in kept.settings} == {"guide_dead_link"}  # stored, not dropped
    item_rules_changed(db, AT)
    assert _dead_link_alerts(db) == {"DL001": ("active", "red"), "DL002": ("cleared", "yellow")}
    assert (
        db.scalar(
            "SELECT COUNT(*) FROM alerts WHERE rule_class = ? AND status = 'active'", [ITEM_CLASS]
        )
        == 1
    )
