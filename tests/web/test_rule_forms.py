"""Rule settings as forms (issue 14 item 6), on both engines.

The scope is a region, department or item the organisation tree or the item catalog knows: an
unknown one is refused in Chinese by the page and the API, and nothing is saved. Parameters are
typed fields with their unit and allowed range; a value out of range is refused with a Chinese
message beside its field. A setting can be deleted (with a reason): what it set returns to the
default, alerts follow, and the history says who (by name), when (no ``T``), what changed
(field: old → new) and why. A save answers before its re-evaluation runs (the job is held
queued), and the job's summary counts exactly the alerts the re-evaluation raised, cleared,
re-levelled and reopened. What the page says holds at an item is what the engine applied.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from govwatch.auth.orgs import add_org
from govwatch.auth.tokens import create_token
from govwatch.rules.catalog import current
from govwatch.rules.registry import DEFAULT_RULES
from govwatch.storage import Database, connect
from tests.web.conftest import login, make_app
from tests.web.seed import AT, seed

# The seed's items sit in 330102 (A1, department D1) and 330203 (B1, department D2); the tree
# gets the cities and counties by name.
REGIONS = (
    ("330100", "杭州市", "city", "330000"),
    ("330102", "上城区", "county", "330100"),
    ("330200", "宁波市", "city", "330000"),
    ("330203", "海曙区", "county", "330200"),
)
UNKNOWN = {
    "region": ("999999", "行政区划“999999”不存在"),
    "department": ("NO_SUCH_DEPT", "部门“NO_SUCH_DEPT”不存在"),
    "item": ("NO_SUCH_ITEM", "事项“NO_SUCH_ITEM”不在事项目录中"),
}
Snapshot = dict[str, tuple[str, str]]


def seed_tree(db: Database, tmp: Path) -> None:
    seed(db, tmp)
    for code, name, kind, parent in REGIONS:
        add_org(db, code, name, kind, parent, code, AT)


@dataclass
class Admin:
    app: FastAPI
    client: TestClient
    db: Database  # the app's pooled connection (reads only)
    token: str  # the session's CSRF token
    api: dict[str, str]  # an API token's header

    def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        answer: httpx.Response = self.client.post(
            url, data={**data, "csrf_token": self.token}, follow_redirects=False
        )
        return answer

    def versions(self) -> int:
        return int(self.db.scalar("SELECT count(*) FROM rule_catalog_versions"))

    def alerts(self) -> Snapshot:
        rows = self.db.query("SELECT alert_id, status, level FROM alerts")
        return {str(a): (str(s), str(lv)) for a, s, lv in rows}

    def done(self, job_id: str) -> dict[str, Any]:
        assert self.app.state.jobs.wait(job_id, timeout=300)
        job: dict[str, Any] = self.client.get(f"/api/v1/jobs/{job_id}").json()
        assert job["status"] == "done", job
        return job


@pytest.fixture
def admin(db_url: str, tmp_path: Path) -> Iterator[Admin]:
    db = connect(db_url)
    try:
        seed_tree(db, tmp_path)
        token, _ = create_token(db, "api_admin", "admin", [], "test", AT)
    finally:
        db.close()
    app = make_app(db_url)
    with TestClient(app) as client:
        login(client, "admin")
        page = client.get("/rules/near_deadline").text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found
        pool = app.state.pool
        db = pool.get()
        try:
            yield Admin(app, client, db, found.group(1), {"Authorization": f"Bearer {token}"})
        finally:
            pool.put(db)


def job_of(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    found = re.search(r"[?&]job=([0-9a-f]+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="e-{field}"[^>]*>([^<]*)<', html)
    assert found, f"no message element for {field}"
    return unescape(found.group(1))


def visible_text(html: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes, no script."""
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def changed(before: Snapshot, after: Snapshot) -> dict[str, int]:
    """What happened to the alerts between two snapshots, counted as the engine names it."""
    counts = {"raised": 0, "cleared": 0, "level": 0, "reopened": 0}
    for alert, (status, level) in after.items():
        old = before.get(alert)
        if old is None:
            counts["raised"] += status == "active"
        elif old[0] == "active" and status == "cleared":
            counts["cleared"] += 1
        elif old[0] == "cleared" and status == "active":
            counts["reopened"] += 1
        elif status == "active" and old[1] != level:
            counts["level"] += 1
    return counts


# -- the scope: known regions, departments and items only ---------------------------------------


def test_the_scope_is_offered_by_name_and_an_unknown_one_is_refused_on_the_page_and_the_api(
    admin: Admin,
) -> None:
    page = admin.client.get("/rules/near_deadline").text
    # the tree of regions by name, the code in parentheses, each county under its city
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', page)
    labels = [text for _, text in options]
    assert "浙江省（330000）" in labels
    assert labels.index("　杭州市（330100）") < labels.index("　　上城区（330102）")
    assert '<option value="D1">市场监管局（D1）</option>' in page
    assert '<option value="市场监管局许可A1（A1）">' in page
    for kind, (code, message) in UNKNOWN.items():
        form = {"rule": "near_deadline", "scope_kind": kind, kind: code, "p.warn_days": "3",
                "reason": "试点"}  # fmt: skip
        answer = admin.post("/rules/setting", form)
        assert answer.status_code == 400, (kind, answer.status_code)
        assert message in field_error(answer.text, "scope")
        api = admin.client.put(
            "/api/v1/rules/settings",
            json={
                "rule": "near_deadline",
                "scope": f"{kind}:{code}",
                "params": {"warn_days": 3},
                "reason": "试点",
            },
            headers=admin.api,
        )
        assert api.status_code == 400, api.text
        assert message in api.json()["detail"]
    assert admin.versions() == 0, "nothing was saved"
    assert admin.client.get("/api/v1/rules", headers=admin.api).json()["settings"] == []
    # the same scopes by name: saved, and named in the notice
    for kind, value, title in (
        ("region", "330102", "行政区划 上城区（330102）"),
        ("department", "D1", "部门 市场监管局（D1）"),
        ("item", "市场监管局许可A1（A1）", "事项 市场监管局许可A1（A1）"),
    ):
        form = {"rule": "near_deadline", "scope_kind": kind, kind: value, "p.warn_days": "3",
                "reason": "试点"}  # fmt: skip
        answer = admin.post("/rules/setting", form)
        admin.done(job_of(answer))
        page = admin.client.get(answer.headers["location"]).text
        assert f"已保存规则“临近办结时限”（{title}）的设置" in page
    assert admin.versions() == 3
    # the item list is searched by code prefix or by a word of the name
    search = "/api/v1/rules/scopes/items"
    found = admin.client.get(search, params={"q": "B"}, headers=admin.api).json()
    assert found == [{"code": "B1", "name": "交通运输局许可B1", "label": "交通运输局许可B1（B1）"}]
    found = admin.client.get(search, params={"q": "许可"}, headers=admin.api).json()
    assert [i["code"] for i in found] == ["A1", "B1"]
    assert admin.client.get(search, params={"q": "%"}, headers=admin.api).json() == []


# -- typed parameters ---------------------------------------------------------------------------------


def test_a_parameter_out_of_its_range_is_refused_with_a_chinese_message_beside_its_field(
    admin: Admin,
) -> None:
    page = admin.client.get("/rules/near_deadline").text
    field = re.search(r'<input type="number" id="f-warn_days"[^>]*>', page)
    assert field, "warn_days is a number field"
    assert 'min="0"' in field.group(0) and 'max="365"' in field.group(0)
    assert 'step="1"' in field.group(0)
    assert "预警提前天数（天）" in visible_text(page)
    for value, note in (("400", "，超出允许范围"), ("-1", "，超出允许范围"), ("2.5", "")):
        answer = admin.post(
            "/rules/setting",
            {"rule": "near_deadline", "scope_kind": "all", "p.warn_days": value, "reason": "试点"},
        )
        assert answer.status_code == 400
        expected = f"应为 0 到 365 之间的整数（单位：天），收到“{value}”{note}"
        assert field_error(answer.text, "warn_days") == expected
        assert 'aria-invalid="true"' in answer.text
    api = admin.client.put(
        "/api/v1/rules/settings",
        json={"rule": "fee_mismatch", "params": {"tolerance": 2_000_000}, "reason": "试点"},
        headers=admin.api,
    )
    assert api.status_code == 400
    assert api.json()["detail"] == (
        "规则“收费金额不符”的参数“允许的收费差额”（tolerance）应为 0 到 1000000 之间的数"
        "（单位：元），收到“2000000”，超出允许范围"
    )
    # enumerations are chosen by their Chinese names
    suspension = admin.client.get("/rules/long_suspension").text
    assert re.search(
        r'<select id="f-unit" name="p.unit"[^>]*><option value="">不变</option>'
        r'<option value="W">工作日</option><option value="N">自然日</option>',
        suspension,
    )
    assert "允许的最长中止天数（天）" in visible_text(suspension)
    assert "默认 30个自然日" in visible_text(suspension)
    overdue = admin.client.get("/rules/case_overdue").text
    assert '<option value="red">红牌</option>' in overdue
    assert 'id="f-level"' not in overdue, "a graded rule's level is set by its parameters"
    # a missing reason is refused beside its field, nothing saved
    answer = admin.post(
        "/rules/setting", {"rule": "near_deadline", "scope_kind": "all", "p.warn_days": "3"}
    )
    assert answer.status_code == 400
    assert field_error(answer.text, "reason") == "请填写理由：为什么这样调整（会记入变更记录）"
    assert admin.versions() == 0


# -- delete, history ---------------------------------------------------------------------------------


def test_deleting_a_setting_restores_the_default_and_the_history_says_who_when_what_and_why(
    admin: Admin,
) -> None:
    initial = admin.alerts()
    form = {"rule": "step_overdue", "scope_kind": "region", "region": "330102", "enabled": "off",
            "reason": "该区环节时限另行考核"}  # fmt: skip
    admin.done(job_of(admin.post("/rules/setting", form)))
    off = admin.alerts()
    assert changed(initial, off)["cleared"] == 3  # C1, C2 and C3 sit in 330102
    page = admin.client.get("/rules/step_overdue?scope=region:330102").text
    assert "当前：停用（行政区划 上城区（330102）的设置）" in visible_text(page)
    # refused without a reason: nothing deleted
    delete = {"rule": "step_overdue", "scope": "region:330102"}
    answer = admin.post("/rules/setting/delete", {**delete, "reason": " "})
    assert answer.status_code == 400 and "请填写理由" in answer.text
    assert len(current(admin.db).settings) == 1
    answer = admin.post("/rules/setting/delete", {**delete, "reason": "考核办法已统一"})
    job = admin.done(job_of(answer))
    assert current(admin.db).settings == ()
    assert admin.alerts() == {a: ("active", lv) for a, (_, lv) in initial.items()}
    assert job["summary"]["reopened"] == 3
    page = admin.client.get(answer.headers["location"]).text
    text = visible_text(page)
    assert "已删除规则“办理环节超期”（行政区划 上城区（330102））的调整（版本 2）" in text
    assert "当前：默认 启用" in text
    assert "尚未做任何调整" in text
    # the history: who by name, when without T, what changed, why
    history = page.split('id="h-history"')[1]
    rows = re.findall(r'<tr id="version-(\d+)">(.*?)</tr>', history, re.S)
    assert [v for v, _ in rows] == ["2", "1"]
    latest, first = (visible_text("<main>" + r + "</main>") for _, r in rows)
    assert "2025-10-27 10:00" in latest and "T10:00" not in history
    assert "测试admin" in latest and "web_admin" not in latest  # the account only on hover
    assert "办理环节超期 （行政区划 上城区（330102））：启用状态 停用 → 未单独设置" in latest
    assert "考核办法已统一" in latest
    assert "启用状态 未单独设置 → 停用" in first and "该区环节时限另行考核" in first
    api = admin.client.get("/api/v1/rules/changes?rule=step_overdue", headers=admin.api).json()
    assert [(v["version"], v["reason"], v["person"]) for v in api] == [
        (2, "考核办法已统一", "测试admin"),
        (1, "该区环节时限另行考核", "测试admin"),
    ]
    assert api[0]["changes"] == [
        {"rule": "办理环节超期", "rule_id": "step_overdue", "scope": "行政区划 上城区（330102）",
         "field": "启用状态", "old": "停用", "new": "未单独设置"}
    ]  # fmt: skip
    # both ledgered with the reason
    ledger = admin.db.query("SELECT payload FROM ledger WHERE kind = 'catalog.change' ORDER BY seq")
    payloads = [json.loads(p) for (p,) in ledger]
    assert [p["reason"] for p in payloads] == ["该区环节时限另行考核", "考核办法已统一"]
    assert payloads[1]["deleted"] == {"rule": "step_overdue", "scope": "region:330102",
                                      "enabled": False}  # fmt: skip
    # nothing left to delete: 404 on the page and the API
    assert admin.post("/rules/setting/delete", {**delete, "reason": "再删"}).status_code == 404
    gone = admin.client.delete(
        "/api/v1/rules/settings",
        params={"rule": "step_overdue", "scope": "region:330102", "reason": "再删"},
        headers=admin.api,
    )
    assert gone.status_code == 404 and "没有单独的调整" in gone.json()["detail"]


def test_the_api_deletes_a_setting_with_a_reason_and_names_its_job(admin: Admin) -> None:
    body = {"rule": "case_overdue", "params": {"legal_level": "yellow"}, "reason": "先黄牌"}
    saved = admin.client.put("/api/v1/rules/settings", json=body, headers=admin.api)
    assert saved.status_code == 200, saved.text
    admin.done(saved.headers["X-Govwatch-Job"])
    levels = admin.db.query("SELECT DISTINCT level FROM alerts WHERE rule = 'case_overdue'")
    assert levels == [("yellow",)]
    refused = admin.client.delete(
        "/api/v1/rules/settings", params={"rule": "case_overdue"}, headers=admin.api
    )
    assert refused.status_code == 400 and "请填写理由" in refused.json()["detail"]
    answer = admin.client.delete(
        "/api/v1/rules/settings",
        params={"rule": "case_overdue", "scope": "all", "reason": "恢复红牌", "wait": "true"},
        headers=admin.api,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"] == []
    job = admin.client.get(f"/api/v1/jobs/{answer.headers['X-Govwatch-Job']}", headers=admin.api)
    assert job.json()["status"] == "done" and job.json()["summary"]["level"] == 3
    assert job.json()["subject"] == "规则“办件超期”（全局）"


# -- the job: answered first, summary equal to what happened --------------------------------------


def test_a_save_answers_before_its_job_runs_and_the_summary_counts_what_the_job_did(
    admin: Admin,
) -> None:
    forms = (
        # C3 (330102) had one supplement notice: allowing none raises an alert
        {"rule": "repeated_supplement", "scope_kind": "region", "region": "330102",
         "p.max_requests": "0", "reason": "该区补正须一次告知"},
        # C1, C2 and C3's step_overdue cleared
        {"rule": "step_overdue", "scope_kind": "region", "region": "330102", "enabled": "off",
         "reason": "该区环节时限另行考核"},
        # past the legal limit is a yellow card: C1, C3 and C5 re-levelled
        {"rule": "case_overdue", "scope_kind": "all", "p.legal_level": "yellow",
         "reason": "超法定时限先发黄牌"},
    )  # fmt: skip
    seen = []
    for form in forms:
        before = admin.alerts()
        with admin.app.state.jobs.hold():  # the job may not start: the answer must not wait
            answer = admin.post("/rules/setting", form)
            job_id = job_of(answer)
            queued = admin.client.get(f"/api/v1/jobs/{job_id}").json()
            assert queued["status"] == "queued"
            assert admin.alerts() == before, "nothing re-evaluated yet"
            page = admin.client.get(answer.headers["location"]).text
            assert f'data-job="{job_id}"' in page and 'data-status="queued"' in page
        job = admin.done(job_id)
        happened = changed(before, admin.alerts())
        assert {k: job["summary"][k] for k in happened} == happened
        page = admin.client.get(answer.headers["location"]).text
        assert 'data-status="done"' in page
        assert job["summary_text"] in visible_text(page)
        seen.append(happened)
    assert seen == [
        {"raised": 1, "cleared": 0, "level": 0, "reopened": 0},
        {"raised": 0, "cleared": 3, "level": 0, "reopened": 0},
        {"raised": 0, "cleared": 0, "level": 3, "reopened": 0},
    ]


def test_what_the_page_says_holds_at_an_item_is_what_the_engine_applied(admin: Admin) -> None:
    for kind, value, days in (
        ("all", "", "30"),
        ("region", "330102", "9"),
        ("department", "D1", "4"),
    ):
        form = {"rule": "near_deadline", "scope_kind": kind, "p.warn_days": days, "reason": "试点"}
        if value:
            form[kind] = value
        admin.done(job_of(admin.post("/rules/setting", form)))
    held = admin.client.get(
        "/rules/near_deadline/effective", params={"scope_kind": "item", "item": "A1"}
    ).json()
    assert held["title"] == "事项 市场监管局许可A1（A1）"
    assert held["fields"]["warn_days"] == {
        "text": "4 天", "default": False, "source": "部门 市场监管局（D1）", "shown": "4 天", "own": ""
    }  # fmt: skip
    rows = admin.db.query(
        "SELECT evidence FROM alerts WHERE rule = 'near_deadline' AND case_id = 'C2'"
    )
    assert json.loads(rows[0][0])["warn_days"] == 4  # C2: item A1 of D1 in 330102
    other = admin.client.get(
        "/rules/near_deadline/effective", params={"scope_kind": "item", "item": "B1"}
    ).json()
    assert other["fields"]["warn_days"]["text"] == "30 天"
    assert other["fields"]["warn_days"]["source"] == "全局"
    unknown = admin.client.get(
        "/rules/near_deadline/effective", params={"scope_kind": "region", "region": "999999"}
    )
    assert unknown.status_code == 400 and "不存在" in unknown.json()["message"]


# -- the list in Chinese, exports ---------------------------------------------------------------------


def test_the_rule_list_speaks_chinese_and_exports_the_catalog_and_history(admin: Admin) -> None:
    for form in (
        {"rule": "near_deadline", "scope_kind": "region", "region": "330102", "p.warn_days": "3",
         "enabled": "off", "reason": "试点"},
        {"rule": "fee_mismatch", "scope_kind": "all", "p.tolerance": "0.5", "reason": "允许找零误差"},
    ):  # fmt: skip
        admin.done(job_of(admin.post("/rules/setting", form)))
    page = admin.client.get("/rules").text
    text = visible_text(page)
    ids = {r.id for r in DEFAULT_RULES}
    assert not [i for i in ids if re.search(rf"\b{i}\b", text)], "rule ids only in titles"
    assert "{'" not in text and "warn_days" not in text and "tolerance" not in text
    row = page.split('id="rule-near_deadline"')[1].split("</tr>")[0]
    row_text = visible_text("<main>" + row + "</main>")
    assert "临近办结时限" in row_text and "时效异常" in row_text
    assert "行政区划 上城区（330102）：停用；预警提前天数 3 天" in row_text
    assert "默认 2 天" in row_text  # nothing for everything changes it
    fee = visible_text("<main>" + page.split('id="rule-fee_mismatch"')[1].split("</tr>")[0])
    assert "允许的收费差额： 0.5 元" in fee and "默认" not in fee.split("允许")[1]
    assert "全局：允许的收费差额 0.5 元" in fee
    # exports: the catalog and the history, with Chinese headers
    book = load_workbook(io.BytesIO(admin.client.get("/rules?format=xlsx").content))
    sheet = [[c for c in row] for row in book.active.iter_rows(values_only=True)]
    header = sheet.index(next(r for r in sheet if r and r[0] == "规则"))
    by_name = {r[0]: r for r in sheet[header + 1 :]}
    assert by_name["收费金额不符"][5] == "允许的收费差额 0.5 元"
    assert by_name["临近办结时限"][6] == "行政区划 上城区（330102）：停用；预警提前天数 3 天"
    csv = admin.client.get("/rules?format=csv&export=history").content.decode("utf-8-sig")
    assert "版本,时间,人员,账号,规则,范围,调整项,原值,新值,理由" in csv
    assert (
        "2,2025-10-27 10:00,测试admin,web_admin,收费金额不符,全局,允许的收费差额,默认 0.01 元,0.5 元,允许找零误差"
        in csv
    )
