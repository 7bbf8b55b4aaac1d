"""A running app on each engine with an organisation tree, one token per role and a catalog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from govwatch.auth.orgs import add_org
from govwatch.auth.tokens import create_token
from govwatch.items.ingest import import_catalog
from govwatch.storage import Database
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app

T0 = datetime(2025, 10, 9, 10, 0)

ITEMS = [
    {
        "item_code": "ITEM-D1",
        "name": "食品经营许可",
        "department_code": "D1",
        "department_name": "市场监管局",
        "region_code": "330102",
        "case_kind": "2",
        "legal_limit": 20,
        "promised_limit": 10,
        "steps": [{"name": "受理", "limit": 1}, {"name": "审查", "limit": 5}],
        "materials": [{"name": "申请书", "required": True}],
    },
    {
        "item_code": "ITEM-D2",
        "name": "建设工程规划许可",
        "department_code": "D2",
        "department_name": "规划局",
        "region_code": "330102",
        "case_kind": "2",
        "legal_limit": 20,
        "promised_limit": 10,
    },
]


@dataclass
class World:
    client: TestClient
    db: Database
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, url: str, **kw: Any) -> httpx.Response:
        answer: httpx.Response = self.client.get(url, headers=self.headers(who), **kw)
        return answer

    def post(self, who: str, url: str, **kw: Any) -> httpx.Response:
        answer: httpx.Response = self.client.post(url, headers=self.headers(who), **kw)
        return answer


def events_for(case_id: str, item_code: str, org: str | None = None) -> list[dict[str, object]]:
    base: dict[str, object] = {"case_id": case_id}
    if org:
        base["org_code"] = org
    return [
        {
            **base,
            "event_id": f"{case_id}-a",
            "kind": "apply",
            "item_code": item_code,
            "occurred_at": "2025-09-01T09:00:00+08:00",
            "applicant_type": "1",
            "applicant_name": "张三丰",
            "applicant_id_type": "身份证",
            "applicant_id": "110101199003071234",
            "phone": "13812345678",
            "channel": "1",
            "materials": [{"name": "申请书", "provided": True}],
        },
        {
            **base,
            "event_id": f"{case_id}-b",
            "kind": "accept",
            "item_code": item_code,
            "occurred_at": "2025-09-01T10:00:00+08:00",
        },
    ]


def seed(db: Database, tmp: Path) -> dict[str, str]:
    add_org(db, "330000", "浙江省", "province", None, None, T0)
    add_org(db, "330100", "杭州市", "city", "330000", None, T0)
    add_org(db, "330102", "上城区", "county", "330100", None, T0)
    add_org(db, "D1", "上城区市场监管局", "department", "330102", "330102", T0)
    add_org(db, "D2", "上城区规划局", "department", "330102", "330102", T0)
    catalog = tmp / "catalog.jsonl"
    catalog.write_bytes(b"\n".join(orjson.dumps(i) for i in ITEMS))
    import_catalog(db, [catalog])
    tokens = {}
    for who, role, orgs in (
        ("admin", "admin", []),
        ("supervisor", "supervisor", []),
        ("dept1", "department", ["D1"]),
        ("dept2", "department", ["D2"]),
        ("evaluator", "evaluator", []),
        ("source1", "source", ["D1"]),
        ("source_all", "source", ["330000"]),
    ):
        tokens[who], _ = create_token(db, who, role, orgs, "test", T0)
    return tokens


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: T0
    pool = app.state.pool
    db = pool.get()
    tokens = seed(db, tmp_path)
    with TestClient(app) as client:
        yield World(client, db, tokens)
    pool.put(db)
