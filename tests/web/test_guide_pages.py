"""The /guides pages, the item page's findings, an item alert, and a round's evidence links
(issue 16 items 5, 6 and the demo line of "Done when"), over the app on DuckDB and PostgreSQL.

Two departments of the page tests' organisation (tests/web/seed.py: its users and tree) hold six
items whose guides are right, or carry one fault each: a malformed phone, a missing place, a dead
form link, a promised limit other than the list's, no public guide. A run checks them; a round
collects its guide values from it and is computed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.presets import load_preset
from govwatch.evaluation.rounds.lifecycle import UnitSpec, collect, compute_round, create_round
from govwatch.evaluation.rounds.values import Actor
from govwatch.items.ingest import import_catalog
from govwatch.live.guide_runs import guide_check_run
from govwatch.storage import Database, connect
from tests.conftest import drop_pg_schema, pg_url
from tests.guides.guide_records import record
from tests.web.conftest import login, make_app
from tests.web.seed import AT, PASSWORD, USERS
from tests.web.test_calendar_page import csrf
from tests.web.test_plain_chinese import code_names, offences

# Over 20 s a module on each engine: four users' password hashes, and the app's start.
pytestmark = pytest.mark.slow
ROUND = "guide-r1"


def _items() -> list[dict[str, Any]]:
    def faulty(code: str, dept: str, region: str, **guide: Any) -> dict[str, Any]:
        rec = record(code, department_code=dept, department_name=None, region_code=region)
        rec["name"] = f"指南测试事项{code[-1]}"
        rec["guide"].update(guide)
        return rec

    dead = copy.deepcopy(record()["guide"]["materials"])
    dead[0]["form"] = {"url": "/downloads/G0004/gone/1-form.docx", "status": 404}
    unpublished = faulty("G0006", "D2", "330203")
    unpublished["guide"] = {"published": False}
    missing = faulty("G0003", "D2", "330203")
    del missing["guide"]["place"]
    return [
        faulty("G0001", "D1", "330102"),
        faulty("G0002", "D1", "330102", phone="电话待定"),
        missing,
        faulty("G0004", "D1", "330102", materials=dead),
        faulty("G0005", "D2", "330203", promised_limit=8),
        unpublished,
    ]


def _build(db: Database, tmp: Path) -> None:
    add_org(db, "330000", "浙江省", "province", None, "330000", AT)
    for code, name in (("D1", "市场监管局"), ("D2", "交通运输局")):
        add_org(db, code, name, "department", "330000", None, AT)
    for role, org in USERS.items():
        add_user(db, f"web_{role}", PASSWORD, role, org, AT, display_name=f"测试{role}")
    path = tmp / "guides.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _items()), "utf-8")
    import_catalog(db, [path])
    guide_check_run(db, AT, "web_admin")
    admin = Actor("web_admin", "admin")
    create_round(db, ROUND, "办事指南专项评估", load_preset("online-service"),
                 Period(AT.date().replace(month=1, day=1), AT.date(), AT), "department",
                 [UnitSpec("D1", "市场监管局"), UnitSpec("D2", "交通运输局")], admin, AT)  # fmt: skip
    collect(db, ROUND, admin, AT)
    compute_round(db, ROUND, admin, AT)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("guide-pages")
    address = f"duckdb:///{tmp}/govwatch.duckdb" if request.param == "duckdb" else pg_url()
    db = connect(address)
    try:
        _build(db, tmp)
    finally:
        db.close()
    yield address
    if request.param == "postgres":
        db = connect(address, migrate=False)
        drop_pg_schema(db)
        db.close()


@pytest.fixture(scope="module")
def names(url: str) -> dict[str, str]:
    db = connect(url)
    try:
        return code_names(db)
    finally:
        db.close()


@pytest.fixture(scope="module")
def clients(url: str) -> Iterator[dict[str, TestClient]]:
    """One signed-in client per role, on one app (a login costs a password hash)."""
    app = make_app(url)
    out: dict[str, TestClient] = {}
    for role in USERS:
        out[role] = TestClient(app)
        login(out[role], role)
    yield out


def _token(client: TestClient) -> dict[str, str]:
    return {"csrf_token": csrf(client.get("/items").text)}


def _plain(html: str, names: dict[str, str], page: str) -> None:
    found = offences(html, names)
    assert not found, f"{page}:\n" + "\n".join(found)


def test_the_run_page_shows_coverage_whose_numbers_link_to_their_items(
    clients: dict[str, TestClient], names: dict[str, str]
) -> None:
    client = clients["supervisor"]
    page = client.get("/guides?by=department")
    assert page.status_code == 200
    _plain(page.text, names, "/guides")
    assert "第 1 次核查" in page.text and "立即核查全部事项" not in page.text
    data = client.get("/guides?by=department&format=json").json()
    d1 = next(r for r in data["coverage"] if r["unit"] == "D1")
    # D1 holds G0001 (right), G0002 (malformed phone), G0004 (dead form link)
    assert d1["items"] == 3
    assert d1["figures"]["items_published"]["counted"] == 3
    assert d1["figures"]["guide_standard"]["counted"] == 1  # only G0001
    assert d1["figures"]["forms"]["counted"] == 2  # G0004's dead link
    # every number is a link, and the list it opens holds that many items
    for href in re.findall(r'href="(/guides/items\?[^"]+)"', page.text):
        target = href.replace("&amp;", "&")
        listed = client.get(target + "&format=json").json()
        shown = re.search(rf'href="{re.escape(href)}"[^>]*>(\d+)<', page.text)
        assert shown, href
        assert listed["total"] == int(shown.group(1)), href
    assert client.get("/guides?by=department&format=xlsx").status_code == 200


def test_findings_filter_by_element_check_and_unit_with_their_evidence(
    clients: dict[str, TestClient], names: dict[str, str]
) -> None:
    client = clients["evaluator"]
    everything = client.get("/guides/findings?format=json").json()
    found = {(f["item_code"], f["element"], f["check"]) for f in everything["findings"]}
    assert {
        ("G0002", "basic.contact", "completeness"),
        ("G0003", "basic.place", "completeness"),
        ("G0004", "downloads", "completeness"),
        ("G0005", "basic.promised_limit", "consistency"),
        ("G0006", "guide", "completeness"),
    } <= found
    assert "G0001" not in {f[0] for f in found}
    forms = client.get("/guides/findings?element=forms&format=json").json()["findings"]
    assert [(f["item_code"], f["kind"], f["dead_links"]) for f in forms] == [
        ("G0004", "dead_link", 1)
    ]
    d2 = client.get("/guides/findings?check=consistency&by=department&unit=D2&format=json").json()
    assert {f["item_code"] for f in d2["findings"]} == {"G0005"}
    page = client.get("/guides/findings?by=department&unit=D1")
    assert page.status_code == 200
    _plain(page.text, names, "/guides/findings")
    assert "链接失效" in page.text and "认定不成立" in page.text  # the evaluator's form
    assert client.get("/guides/findings?format=csv").text.count("G000") >= 5


def test_an_evaluator_sets_a_finding_aside_with_a_reason(clients: dict[str, TestClient]) -> None:
    client = clients["evaluator"]
    run = client.get("/guides?format=json").json()["run"]["run_id"]
    form = {**_token(client), "run": run, "item": "G0002", "element": "basic.contact", "check": "completeness",
            "action": "override", "next": "/guides/findings?item=G0002"}  # fmt: skip
    refused = client.post("/guides/findings/review", data={**form, "reason": "  "})
    assert "未保存：请填写理由" in refused.text
    done = client.post("/guides/findings/review", data={**form, "reason": "电话已核实可接通"})
    assert done.status_code == 200 and "已将事项 G0002" in done.text
    one = client.get("/guides/findings?item=G0002&format=json").json()["findings"][0]
    assert one["review"]["action"] == "override" and one["review"]["reason"] == "电话已核实可接通"
    assert client.get("/guides/findings?reviewed=overridden&format=json").json()["total"] == 1
    # a supervisor reads but may not review
    other = clients["supervisor"]
    theirs = {**form, **_token(other), "reason": "x"}
    assert other.post("/guides/findings/review", data=theirs).status_code == 403
    back = client.post("/guides/findings/review",
                       data={**form, "action": "restore", "reason": "复核后仍不规范"})  # fmt: skip
    assert back.status_code == 200
    assert client.get("/guides/findings?reviewed=overridden&format=json").json()["total"] == 0


def test_the_round_page_links_each_guide_value_to_its_evidence(
    clients: dict[str, TestClient], names: dict[str, str]
) -> None:
    client = clients["admin"]
    page = client.get(f"/evaluations/{ROUND}")
    assert page.status_code == 200
    links = re.findall(r'href="(/guides/evidence\?[^"]+)"', page.text)
    # seven guide leaves for each of the two units
    assert len(links) == 14, links
    for href in links:
        evidence = client.get(href.replace("&amp;", "&"))
        assert evidence.status_code == 200, href
        _plain(evidence.text, names, href)
    materials = client.get(
        f"/guides/evidence?round={ROUND}&unit=D1&indicator=usability.forms&format=json"
    ).json()
    assert materials["value"] == pytest.approx(2 / 3)
    assert [f["item_code"] for f in materials["findings"]] == ["G0004"]
    published = client.get(
        f"/guides/evidence?round={ROUND}&unit=D2&indicator=visibility.items_published&format=json"
    ).json()
    assert {i["item_code"] for i in published["items"]} == {"G0006"}
    # a department sees its own unit's evidence only once it may see its result
    dept = clients["department"]
    assert dept.get(links[0].replace("&amp;", "&")).status_code == 404


def test_the_item_page_shows_its_findings_and_the_alert_its_item(
    clients: dict[str, TestClient], names: dict[str, str]
) -> None:
    client = clients["supervisor"]
    page = client.get("/items/G0004")
    assert page.status_code == 200
    _plain(page.text, names, "/items/G0004")
    assert "办事指南核查" in page.text and "链接失效" in page.text
    assert client.get("/items/G0001").text.count("未发现问题") == 1
    alerts = client.get("/api/v1/alerts?limit=200").json()
    items = [a for a in alerts["items"] if a["rule_class"] == "item_info"]
    assert {a["item_code"] for a in items} >= {"G0002", "G0003", "G0004", "G0005", "G0006"}
    dead = next(a for a in items if a["rule"] == "guide_dead_link")
    assert dead["department_code"] == "D1"
    alert = client.get(f"/alerts/{dead['alert_id']}")
    assert alert.status_code == 200
    _plain(alert.text, names, "/alerts/…")
    assert "表格样表下载链接失效" in alert.text and "事项公开信息异常" in alert.text
    assert 'href="/items/G0004"' in alert.text and "<dt>办件</dt>" not in alert.text


def test_only_the_administrator_runs_and_only_three_roles_read(
    clients: dict[str, TestClient],
) -> None:
    assert clients["department"].get("/guides").status_code == 403
    evaluator = clients["evaluator"]
    assert evaluator.post("/guides/run", data=_token(evaluator)).status_code == 403
    admin = clients["admin"]
    answer = admin.post("/guides/run", data=_token(admin))
    assert answer.status_code == 200 and "已完成第 2 次办事指南核查" in answer.text
    assert [r["seq"] for r in admin.get("/guides?format=json").json()["runs"]] == [2, 1]
