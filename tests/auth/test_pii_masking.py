"""Masking by meaning (issue 18 item 5): personal fields in any spelling, at any depth, in
corrections; every unmasked view logged, from every face that shows a case, on both engines.

The faces that show a case's events are the page ``/cases/{id}``, its JSON twin
``/cases/{id}?format=json`` and ``GET /api/v1/cases/{id}``; there is no case export today.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from govwatch.auth.masking import mask_record, pii_field, pii_present
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.api.conftest import T0, World, seed

CASE = "C-P1"
BASE: dict[str, Any] = {"case_id": CASE, "item_code": "ITEM-D1"}
# Personal data that reaches the store only under other spellings, nested or corrected.
EVENTS: list[dict[str, Any]] = [
    {
        **BASE,
        "event_id": "p-apply",
        "kind": "apply",
        "occurred_at": "2025-09-01T09:00:00+08:00",
        "applicant_type": "1",
        "channel": "1",
        "APPLICANT-NAME": "赵六一",  # not an importer alias: kept in extra
        "Contact": {"Mobile": "13900001111", "family": [{"ID_Number": "110101198001011234"}]},
        "申请人": {"姓名": "钱七八", "证件号码": "110101198502023456"},
        "materials": [{"name": "申请书", "provided": True}],
    },
    {**BASE, "event_id": "p-accept", "kind": "accept", "occurred_at": "2025-09-01T10:00:00+08:00"},
    {
        **BASE,
        "event_id": "p-fix-name",
        "kind": "correction",
        "occurred_at": "2025-09-02T09:00:00+08:00",
        "field": "APPLICANT_NAME",
        "old": "赵六一",
        "new": "赵六",
        "reason": "录入错误",
    },
    {
        **BASE,
        "event_id": "p-fix-phone",
        "kind": "correction",
        "occurred_at": "2025-09-02T10:00:00+08:00",
        "field": "Phone",
        "value": "13600003333",  # not a canonical correction key: kept in extra
        "reason": "更正联系电话",
    },
]
RAW = (
    "赵六",
    "13900001111",
    "110101198001011234",
    "钱七八",
    "110101198502023456",
    "13600003333",
)
MASKED = ("赵**", "赵*", "139****1111", "110***********1234", "钱**", "136****3333")
ALL_FIELDS = "applicant_id,applicant_name,phone"
FACES = ("/api/v1/cases/C-P1", "/cases/C-P1?format=json", "/cases/C-P1")


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    app = create_app(db_url)
    app.dependency_overrides[clock] = lambda: T0
    pool = app.state.pool
    db = pool.get()
    tokens = seed(db, tmp_path)
    with TestClient(app) as client:
        posted = client.post(
            "/api/v1/events",
            json=EVENTS,
            headers={"Authorization": f"Bearer {tokens['source1']}"},
        )
        assert posted.status_code == 200, posted.text
        yield World(client, db, tokens)
    pool.put(db)


def strings(value: Any) -> str:
    """Every string of an answer, JSON text opened too, as one text to search."""
    if isinstance(value, dict):
        return " ".join(strings(k) + " " + strings(v) for k, v in value.items())
    if isinstance(value, list):
        return " ".join(strings(v) for v in value)
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return value + " " + strings(json.loads(value))
        except ValueError:
            return value
    return str(value)


def views(world: World) -> list[tuple[str, str, str, str]]:
    rows = world.db.query(
        "SELECT viewer, role, route, fields FROM pii_views ORDER BY viewed_at, route"
    )
    return [(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def test_evaluator_sees_every_spelling_and_depth_masked_and_nothing_is_logged(
    world: World,
) -> None:
    for face in FACES:
        answer = world.get("evaluator", face)
        assert answer.status_code == 200, answer.text
        text = answer.text if face == "/cases/C-P1" else strings(answer.json())
        leaked = [value for value in RAW if value in text]
        assert leaked == [], f"{face} shows {leaked} to the evaluator"
        if face != "/cases/C-P1":  # the page's table shows no correction values or extra
            assert answer.json()["masked"] is True
            assert all(m in text for m in MASKED), [m for m in MASKED if m not in text]
    assert views(world) == []


@pytest.mark.parametrize("who", ["admin", "supervisor", "dept1"])
def test_every_unmasked_view_is_logged_from_every_face(world: World, who: str) -> None:
    for face in FACES:
        answer = world.get(who, face)
        assert answer.status_code == 200, (who, face, answer.text)
        if face != "/cases/C-P1":
            body = answer.json()
            assert body["masked"] is False
            text = strings(body)
            assert all(value in text for value in RAW), (who, face)
    role = {"admin": "admin", "supervisor": "supervisor", "dept1": "department"}[who]
    # one row per answer, naming the face it was seen on
    assert sorted(views(world)) == sorted(
        (f"token:{who}", role, face, ALL_FIELDS) for face in FACES
    )
    # a department outside the case's scope is refused on every face, and adds no row
    for face in FACES:
        assert world.get("dept2", face).status_code == 403
    assert len(views(world)) == len(FACES)
    # the administrators' reading of the log shows the same rows
    if who == "admin":
        listed = world.get("admin", "/api/v1/pii-views").json()
        assert {(v["route"], v["fields"]) for v in listed} == {(face, ALL_FIELDS) for face in FACES}


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("APPLICANT_NAME", "applicant_name"),
        ("Applicant_Name", "applicant_name"),
        ("applicantName", "applicant_name"),
        ("申请人姓名", "applicant_name"),
        ("APPLICANT_ID", "applicant_id"),
        ("身份证号码", "applicant_id"),
        ("PHONE", "phone"),
        ("联系电话", "phone"),
        ("extra.contact.Mobile", "phone"),
        ("name", None),  # a material's or an item's name
        ("item_name", None),
    ],
)
def test_personal_fields_are_recognised_by_meaning(key: str, field: str | None) -> None:
    assert pii_field(key) == field


def test_a_correction_and_nested_json_text_are_masked_by_meaning() -> None:
    record = {
        "kind": "correction",
        "field": "APPLICANT_ID",
        "old_value": "110101199003071234",
        "new_value": "110101199003075678",
        "extra": json.dumps(
            {"value": "110101199003079999", "x": {"y": [{"TEL": "13812345678"}]}},
            ensure_ascii=False,
        ),
        "materials": '[{"name": "身份证复印件", "provided": true}]',
    }
    masked = mask_record(record)
    assert (masked["old_value"], masked["new_value"]) == (
        "110***********1234",
        "110***********5678",
    )
    extra = json.loads(masked["extra"])
    assert extra == {"value": "110***********9999", "x": {"y": [{"TEL": "138****5678"}]}}
    assert masked["materials"] == record["materials"]  # nothing personal: left as written
    assert pii_present(record) == ["applicant_id", "phone"]


def test_json_text_too_deep_to_parse_still_has_its_personal_values_masked() -> None:
    deep = "[" * 1100 + "]" * 1100
    record = {"extra": '{"phone": "13812345678", "deep": ' + deep + "}"}
    masked = mask_record(record)
    assert "13812345678" not in masked["extra"] and "138****5678" in masked["extra"]
    assert pii_present(record) == ["phone"]
