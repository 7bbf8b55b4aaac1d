"""The alert list and the case list: every filter narrows to exactly the rows it names, case
numbers by their beginning, the total and page numbers, dates refused in Chinese (issue 14
items 5 and 8), on each engine, through the API, the pages and their JSON twins."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from datetime import date
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from tests.api.conftest import T0, World
from tests.api.drilldown_world import AlertSpec, CaseSpec, Province, populate, within

TODAY = T0.date()
WEEK_AGO = date(2025, 10, 2)


@pytest.fixture
def province(world: World) -> Province:
    return populate(world.db)


def _api_alerts(world: World, who: str, query: str) -> tuple[list[str], int]:
    """Every alert id of the filtered list (all pages) and the total the API states."""
    ids: list[str] = []
    offset: int | None = 0
    total = -1
    while offset is not None:
        answer = world.get(who, f"/api/v1/alerts?{query}&limit=17&offset={offset}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids += [a["alert_id"] for a in body["items"]]
        total = body["total"]
        offset = body["next_offset"]
    return ids, total


def _api_cases(world: World, who: str, query: str) -> tuple[list[str], int]:
    ids: list[str] = []
    offset: int | None = 0
    total = -1
    while offset is not None:
        answer = world.get(who, f"/api/v1/cases?{query}&limit=13&offset={offset}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        ids += [c["case_id"] for c in body["items"]]
        total = body["total"]
        offset = body["next_offset"]
    return ids, total


ALERT_FILTERS: list[tuple[str, Callable[[AlertSpec], bool]]] = [
    ("status=active", lambda a: a.status == "active"),
    ("status=cleared", lambda a: a.status == "cleared"),
    ("level=red", lambda a: a.level == "red"),
    ("rule=step_overdue", lambda a: a.rule == "step_overdue"),
    ("rule_class=content", lambda a: a.rule_class == "content"),
    ("rule_type=" + quote("收费金额异常"), lambda a: a.rule_type == "收费金额异常"),
    ("state=appealed", lambda a: a.handling == "appealed"),
    ("state=closed", lambda a: a.handling == "closed"),
    ("state=unfinished", lambda a: a.handling not in ("closed", "dismissed")),
    ("department_code=D2", lambda a: a.case.department == "D2"),
    # a city covers its counties; region_only the city itself
    ("region_code=330100", lambda a: a.case.region in ("330100", "330102")),
    ("region_code=330100&region_only=true", lambda a: a.case.region == "330100"),
    ("region_code=330203", lambda a: a.case.region == "330203"),
    ("case_prefix=HZ", lambda a: a.case.case_id.startswith("HZ")),
    # "_" and "%" are no wildcards: HZ_1xx only, not HZ-0xx
    ("case_prefix=HZ_", lambda a: a.case.case_id.startswith("HZ_")),
    ("case_prefix=" + quote("HZ%"), lambda a: False),
    ("case_prefix=XS-23", lambda a: a.case.case_id.startswith("XS-23")),
    ("case_id=HZ-000", lambda a: a.case.case_id == "HZ-000"),
    (
        f"date_from={WEEK_AGO}&date_to={TODAY}",  # by occurrence, the default
        lambda a: within(a.occurred_at, WEEK_AGO, TODAY),
    ),
    (
        f"date_by=detected&date_from={WEEK_AGO}&date_to={WEEK_AGO}",
        lambda a: within(a.first_seen_at, WEEK_AGO, WEEK_AGO),
    ),
    (
        f"date_by=occurred&date_from={TODAY}&date_to={TODAY}",
        lambda a: within(a.occurred_at, TODAY, TODAY),
    ),
    (f"date_by=occurred&date_to={WEEK_AGO}", lambda a: a.occurred_at.date() <= WEEK_AGO),
    (f"date_by=cleared&date_from={WEEK_AGO}", lambda a: within(a.cleared_at, WEEK_AGO, TODAY)),
    (
        f"date_by=closed&date_from={WEEK_AGO}&date_to={TODAY}",
        lambda a: within(a.cleared_at, WEEK_AGO, TODAY) or within(a.closed_at, WEEK_AGO, TODAY),
    ),
    (
        "status=active&level=yellow&department_code=D1&state=unfinished",
        lambda a: (
            a.status == "active"
            and a.level == "yellow"
            and a.case.department == "D1"
            and a.handling not in ("closed", "dismissed")
        ),
    ),
]


def test_each_alert_filter_keeps_exactly_the_alerts_it_names(
    world: World, province: Province
) -> None:
    """One database for every filter (each a few requests): what each keeps, by its own
    predicate over the specification, and the total it states."""
    wrong = []
    for query, keep in ALERT_FILTERS:
        expected = {a.alert_id for a in province.alerts if keep(a)}
        ids, total = _api_alerts(world, "supervisor", query)
        if len(ids) != len(set(ids)) or set(ids) != expected or total != len(expected):
            wrong.append(f"{query}: {len(ids)} ids ({total} stated), {len(expected)} expected")
        assert len(expected) < len(province.alerts), f"{query} narrows the list"
    assert not wrong, "\n".join(wrong)


def test_filters_combine_with_the_department_scope(world: World, province: Province) -> None:
    ids, total = _api_alerts(world, "dept1", "level=red")
    expected = {
        a.alert_id for a in province.alerts if a.level == "red" and a.case.department == "D1"
    }
    assert set(ids) == expected and total == len(expected)
    # a department asking for another department's alerts gets none, and is told 0
    assert _api_alerts(world, "dept1", "department_code=D2") == ([], 0)


CASE_FILTERS: list[tuple[str, Callable[[CaseSpec], bool]]] = [
    ("case_prefix=HZ", lambda c: c.case_id.startswith("HZ")),
    ("case_prefix=HZ_", lambda c: c.case_id.startswith("HZ_")),
    ("case_prefix=XS-2", lambda c: c.case_id.startswith("XS-2")),
    ("item=ITEM-D1", lambda c: c.item == "ITEM-D1"),
    ("item=" + quote("规划"), lambda c: c.item == "ITEM-D2"),  # 建设工程规划许可
    ("department_code=D2", lambda c: c.department == "D2"),
    ("region_code=330100", lambda c: c.region in ("330100", "330102")),
    ("region_code=330100&region_only=true", lambda c: c.region == "330100"),
    ("status=finished", lambda c: c.status == "finished"),
    ("status=applied", lambda c: c.status == "applied"),
    (
        f"applied_from={WEEK_AGO}&applied_to={TODAY}",
        lambda c: within(c.applied_at, WEEK_AGO, TODAY),
    ),
    (f"applied_to={WEEK_AGO}", lambda c: c.applied_at.date() <= WEEK_AGO),
    (
        f"finished_from={WEEK_AGO}&finished_to={TODAY}",
        lambda c: within(c.finished_at, WEEK_AGO, TODAY),
    ),
]


def test_each_case_filter_keeps_exactly_the_cases_it_names(
    world: World, province: Province
) -> None:
    wrong = []
    for query, keep in CASE_FILTERS:
        expected = {c.case_id for c in province.cases if keep(c)}
        ids, total = _api_cases(world, "supervisor", query)
        if set(ids) != expected or not len(ids) == len(expected) == total:
            wrong.append(f"{query}: {len(ids)} ids ({total} stated), {len(expected)} expected")
        assert 0 < len(expected) < len(province.cases), f"{query} narrows the list"
    assert not wrong, "\n".join(wrong)


def test_timeliness_of_cases_follows_their_overdue_alerts(world: World, province: Province) -> None:
    overdue = province.overdue_case_ids()
    ids, total = _api_cases(world, "supervisor", "timing=overdue")
    assert set(ids) == overdue and total == len(overdue) > 0
    ontime = {c.case_id for c in province.cases if c.status == "finished"} - overdue
    ids, total = _api_cases(world, "supervisor", "timing=ontime")
    assert set(ids) == ontime and total == len(ontime) > 0


def test_cases_come_newest_application_first_and_pages_neither_skip_nor_repeat(
    world: World, province: Province
) -> None:
    ids, total = _api_cases(world, "supervisor", "")
    newest_first = [c.case_id for c in sorted(province.cases, key=lambda c: c.applied_at)][::-1]
    assert ids == newest_first and total == len(province.cases)
    dept_ids, dept_total = _api_cases(world, "dept1", "")
    assert set(dept_ids) == {c.case_id for c in province.cases if c.department == "D1"}
    assert dept_total == len(dept_ids)


def _page_total(html: str) -> int:
    found = re.search(r'data-total="(\d+)"', html)
    assert found, "the list states its total"
    return int(found.group(1))


def test_the_alert_page_states_the_total_and_numbers_its_pages(
    world: World, province: Province
) -> None:
    everything = len(province.alerts)
    pages = math.ceil(everything / 50)
    assert pages >= 2, "the province fills more than one page"
    html = world.get("supervisor", "/alerts?status=all&level=").text
    assert _page_total(html) == everything
    assert f"共 <strong>{everything}</strong> 条，第 1 / {pages} 页" in html
    # the page numbers carry the filter; the last page holds the rest
    assert f'href="/alerts?status=all&amp;page={pages}"' in html
    last = world.get("supervisor", f"/alerts?status=all&page={pages}").text
    assert last.count('class="badge ') == everything - 50 * (pages - 1)
    assert 'aria-current="page">' + str(pages) + "<" in last
    # the JSON twin is the API's page, with the same total
    twin = world.get("supervisor", "/alerts?status=all&page=2&format=json").json()
    assert twin["total"] == everything and twin["offset"] == 50


def test_the_alert_page_filters_by_type_prefix_and_occurrence_and_says_so(
    world: World, province: Province
) -> None:
    query = f"status=all&rule_type={quote('办理环节超期')}&case_prefix=HZ&date_from={WEEK_AGO}"
    html = world.get("supervisor", f"/alerts?{query}").text
    expected = [
        a
        for a in province.alerts
        if a.rule_type == "办理环节超期"
        and a.case.case_id.startswith("HZ")
        and a.occurred_at.date() >= WEEK_AGO
    ]
    assert _page_total(html) == len(expected) > 0
    assert "异常类型 = 办理环节超期" in html and "发生时间 = 2025-10-02 至 不限" in html
    # each row names its department, the code on hover, and when the anomaly arose
    assert '<span title="D1">市场监管局</span>' in html or '<span title="D2">规划局</span>' in html
    first = min(a.occurred_at for a in expected).strftime("%Y-%m-%d %H:%M")
    assert first in html


def test_the_case_page_states_the_total_and_numbers_its_pages(
    world: World, province: Province
) -> None:
    html = world.get("supervisor", "/cases?region=330100").text
    expected = [c for c in province.cases if c.region in ("330100", "330102")]
    assert _page_total(html) == len(expected)
    assert f"共 <strong>{len(expected)}</strong> 件" in html
    assert "区域 = 杭州市（含下级）" in html
    twin = world.get("supervisor", "/cases?region=330100&format=json").json()
    assert twin["total"] == len(expected)
    assert {c["case_id"] for c in twin["items"]} == {c.case_id for c in expected}


BAD_ALERT_DATES = [
    ("date_from=2025-10-09&date_to=2025-10-01", "开始日期 2025-10-09 晚于结束日期 2025-10-01"),
    ("date_from=2025-02-30", "开始日期“2025-02-30”不是有效日期"),
    ("date_to=yesterday", "结束日期“yesterday”不是有效日期"),
]


def test_a_bad_date_range_of_the_alert_list_is_refused_in_chinese(
    world: World, province: Province
) -> None:
    for query, message in BAD_ALERT_DATES:
        api = world.get("supervisor", f"/api/v1/alerts?{query}")
        assert api.status_code == 422 and message in api.json()["detail"], query
        page = world.get("supervisor", f"/alerts?{query}")
        assert page.status_code == 422, query
        assert f'<p class="error" role="alert">{message}' in page.text
        assert "data-total" not in page.text, "no list is shown for a range it could not use"
        twin = world.get("supervisor", f"/alerts?{query}&format=json")
        assert twin.status_code == 422 and message in twin.json()["detail"], query
        export = world.get("supervisor", f"/alerts?{query}&format=xlsx")
        assert export.status_code == 422 and message in export.json()["detail"], query


def test_a_bad_date_range_of_the_case_list_is_refused_in_chinese(
    world: World, province: Province
) -> None:
    query = "applied_from=2025-10-09&applied_to=2025-09-01"
    message = "申请日期起 2025-10-09 晚于申请日期止 2025-09-01"
    api = world.get("supervisor", f"/api/v1/cases?{query}")
    assert api.status_code == 422 and message in api.json()["detail"]
    page = world.get("supervisor", f"/cases?{query}")
    assert page.status_code == 422 and message in page.text
    assert "data-total" not in page.text


def _sheet_rows(content: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_the_filtered_lists_export_every_matching_row_with_the_filter_written(
    world: World, province: Province
) -> None:
    query = f"status=all&level=red&date_from={WEEK_AGO}&date_to={TODAY}"
    expected = [
        a for a in province.alerts if a.level == "red" and within(a.occurred_at, WEEK_AGO, TODAY)
    ]
    answer = world.get("supervisor", f"/alerts?{query}&format=xlsx")
    assert answer.status_code == 200, answer.text
    rows = _sheet_rows(answer.content)
    assert rows[0][0] == "预警列表"
    assert rows[1][0] == f"筛选条件: 条件 = 全部；级别 = 红牌；发生时间 = {WEEK_AGO} 至 {TODAY}"
    header, data = rows[4], rows[5:]
    assert header[:5] == ["级别", "规则", "异常类型", "类别", "办件编号"]
    assert len(data) == len(expected) > 0
    assert {r[4] for r in data} == {a.case.case_id for a in expected}
    occurred = header.index("发生时间")
    assert {r[occurred] for r in data} == {a.occurred_at for a in expected}, "real Excel times"
    cases = world.get("supervisor", "/cases?department=D2&status=finished&format=csv")
    lines = list(csv.reader(io.StringIO(cases.content.decode("utf-8-sig"))))
    assert lines[1] == ["筛选条件: 部门 = 规划局；状态 = 已办结"]
    finished = {
        c.case_id for c in province.cases if c.department == "D2" and c.status == "finished"
    }
    assert lines[4][0] == "办件编号" and {line[0] for line in lines[5:]} == finished
