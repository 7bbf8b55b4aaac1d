"""Importing the item catalog: formats, aliases, validation messages, upsert; both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from govwatch.errors import ValidationError
from govwatch.items.ingest import import_catalog
from govwatch.items.model import parse_item
from govwatch.storage import Database, connect
from tests.events.formats_helpers import write_all_formats

ITEMS: list[dict[str, Any]] = [
    {
        "item_code": "11440100MB0001-001",
        "base_code": "0001",
        "name": "食品经营许可证核发",
        "item_type": "01",
        "department_code": "11440100MB2C12345X",
        "department_name": "市市场监管局",
        "region_code": "440100",
        "level": "3",
        "case_kind": "2",
        "legal_limit": 20,
        "legal_limit_unit": "W",
        "promised_limit": 10,
        "promised_limit_unit": "W",
        "steps": [
            {"name": "受理", "limit": 1, "unit": "W", "mandatory": True},
            {"name": "审查", "limit": 5, "unit": "W", "mandatory": True},
            {"name": "决定", "limit": 2, "unit": "W", "mandatory": False},
        ],
        "materials": [
            {"name": "营业执照", "required": True, "originals": 1, "copies": 0},
            {"name": "场所平面图", "required": False, "originals": 0, "copies": 1},
        ],
        "fee": {"basis": "发改价格〔2020〕1号", "unit_price": 10.0, "unit": "页"},
        "discretion": [
            {"tier": "一般", "min": 1000, "max": 5000},
            {"tier": "严重", "min": 5000, "max": 20000},
        ],
        "risk_points": [
            {
                "step": "决定",
                "level": "高",
                "description": "违规审批",
                "measure": "two_person_review",
            }
        ],
        "online": {
            "depth": 4,
            "unified_identity": True,
            "e_license": True,
            "online_payment": False,
            "delivery": True,
            "max_visits": 1,
        },
        "guide": {"conditions": "…"},
    },
    {
        "item_code": "11440100MB0002-001",
        "name": "户籍证明",
        "item_type": "20",
        "department_code": "11440100MB2C99999X",
        "region_code": "440103001",
        "case_kind": "1",
        "legal_limit": 0,
        "promised_limit": 0,
        "fee": None,
    },
]

ALIASED = [
    {
        "SXBM": ITEMS[0]["item_code"],
        "基本编码": "0001",
        "SXMC": ITEMS[0]["name"],
        "事项类型": "01",
        "实施主体编码": ITEMS[0]["department_code"],
        "实施主体": "市市场监管局",
        "XZQHDM": "440100",
        **{
            k: ITEMS[0][k]
            for k in (
                "level",
                "legal_limit_unit",
                "promised_limit_unit",
                "steps",
                "materials",
                "fee",
                "discretion",
                "risk_points",
                "online",
                "guide",
            )
        },
        "办件类型": "2",
        "法定办结时限": 20,
        "承诺办结时限": 10,
    },
    {
        "实施编码": ITEMS[1]["item_code"],
        "事项名称": "户籍证明",
        "事项类型": "20",
        "实施主体编码": ITEMS[1]["department_code"],
        "行政区划": "440103001",
        "办件类型": "1",
        "法定办结时限": 0,
        "承诺办结时限": 0,
        "fee": None,
    },
]


def _state(db: Database) -> tuple[list[tuple[Any, ...]], ...]:
    return tuple(
        db.query(f"SELECT * EXCLUDE (updated_at) FROM {t} ORDER BY 1, 2")
        if db.dialect == "duckdb" and t == "items"
        else db.query(
            f"SELECT item_code, name, legal_limit, promised_limit, case_kind, has_fee, "
            f"CAST(fee_unit_price AS FLOAT8), online_depth, max_visits, doc FROM {t} ORDER BY 1"
            if t == "items"
            else f"SELECT * FROM {t} ORDER BY 1, 2"
        )
        for t in ("items", "item_steps", "item_materials", "item_tiers", "item_risk_points")
    )


def test_every_catalog_format_and_alias_loads_to_the_same_items(
    db_url: str, tmp_path: Path
) -> None:
    files = write_all_formats(ITEMS, tmp_path / "canon", "catalog")
    files += write_all_formats(ALIASED, tmp_path / "alias", "catalog")
    yaml_path = tmp_path / "catalog.yaml"
    yaml_path.write_text(yaml.safe_dump(ITEMS, allow_unicode=True), encoding="utf-8")
    files.append(yaml_path)
    states = []
    for path in files:
        db = connect(db_url)
        try:
            for t in ("items", "item_steps", "item_materials", "item_tiers", "item_risk_points"):
                db.execute(f"DELETE FROM {t}")
            report = import_catalog(db, [path])
            assert (report.applied, report.quarantined) == (2, 0), (path, report.problems)
            states.append(_state(db))
        finally:
            db.close()
    assert all(s == states[0] for s in states)
    steps = states[0][1]
    assert [s[2] for s in steps if s[0] == ITEMS[0]["item_code"]] == ["受理", "审查", "决定"]


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"item_code": None}, "item_code", "必填"),
        ({"region_code": "44"}, "region_code", "6–9 位数字"),
        ({"item_type": "99"}, "item_type", "事项类型"),
        ({"promised_limit": 30}, "promised_limit", "不应超过法定时限"),
        ({"legal_limit_unit": "D"}, "legal_limit_unit", "W（工作日）或 N"),
        ({"steps": "[not json"}, "steps", "JSON"),
        (
            {"risk_points": [{"step": "决定", "level": "高", "measure": "pray"}]},
            "risk_points[0].measure",
            "two_person_review",
        ),
        ({"online": {"depth": 7}}, "online.depth", "0–5"),
        ({"fee": {"basis": "x"}}, "fee", "amount"),
    ],
)
def test_malformed_item_names_the_field_and_what_was_expected(
    change: dict[str, Any], field: str, fragment: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_item({**ITEMS[0], **change})
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_bad_item_is_quarantined_and_reimport_replaces_changed_items(
    db: Database, tmp_path: Path
) -> None:
    bad = {**ITEMS[1], "item_code": "X-3", "region_code": "abc"}
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(orjson.dumps(r).decode() for r in [*ITEMS, bad]), encoding="utf-8")
    report = import_catalog(db, [path])
    assert (report.applied, report.quarantined) == (2, 1)
    assert db.query("SELECT line, field FROM quarantine") == [(3, "region_code")]
    changed = {**ITEMS[1], "promised_limit": 0, "legal_limit": 5}
    path.write_text(
        "\n".join(orjson.dumps(r).decode() for r in [ITEMS[0], changed]), encoding="utf-8"
    )
    again = import_catalog(db, [path])
    assert (again.applied, again.duplicates) == (1, 1)
    assert (
        db.scalar("SELECT legal_limit FROM items WHERE item_code = ?", [ITEMS[1]["item_code"]]) == 5
    )
