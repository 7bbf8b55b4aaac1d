"""The dashboard worth opening first (issue 14 items 5, 8, 9), on each engine: its figures
against the specification of the province, its rates equal to their counts divided, and every
number a link to a list whose total is that number (a test that follows them all)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from govwatch.storage import Database
from tests.api.conftest import T0, World
from tests.api.drilldown_world import CaseSpec, Province, populate, within

TODAY = T0.date()
SINCE = TODAY - timedelta(days=29)  # the default period: the last 30 days


class _Numbers(HTMLParser):
    """Every linked number of a page (``<a data-count="N" href="…">``) and the rates shown."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("data-count") is not None:
            self.links.append((str(found["href"]), int(str(found["data-count"]))))


def _numbers(html: str) -> list[tuple[str, int]]:
    parser = _Numbers()
    parser.feed(html)
    return parser.links


def _orders(db: Database) -> None:
    """Orders in every state, to D1 and D2."""
    for n, (org, state) in enumerate(
        [("D1", "issued"), ("D1", "overdue"), ("D2", "replied"), ("D2", "issued"), ("D1", "closed")]
    ):
        db.execute(
            "INSERT INTO orders (order_id, org_code, state, version, content, issued_by, "
            "issued_at, reply_days, reply_due_on, provisional, automatic, updated_at) "
            "VALUES (?, ?, ?, 1, '请说明情况', 'sup', ?, 5, ?, FALSE, FALSE, ?)",
            [f"DB{n}", org, state, T0 - timedelta(days=9), TODAY - timedelta(days=2), T0],
        )


@pytest.fixture
def province(world: World) -> Province:
    made = populate(world.db)
    _orders(world.db)
    return made


def _cohort(
    province: Province, keep: Callable[[CaseSpec], bool], first: date = SINCE, last: date = TODAY
) -> dict[str, object]:
    """超期率 over the cases applied in first … last, 按时办结率 over those finished then."""
    overdue_ids = province.overdue_case_ids()
    applied = [c for c in province.cases if keep(c) and within(c.applied_at, first, last)]
    finished = [c for c in province.cases if keep(c) and within(c.finished_at, first, last)]
    overdue = [c for c in applied if c.case_id in overdue_ids]
    ontime = [c for c in finished if c.case_id not in overdue_ids]
    return {
        "cases": len(applied),
        "finished": len(finished),
        "overdue": len(overdue),
        "ontime": len(ontime),
        "overdue_rate": len(overdue) / len(applied) if applied else None,
        "ontime_rate": len(ontime) / len(finished) if finished else None,
    }


def _everything(_case: CaseSpec) -> bool:
    return True


def _of(department: str | None = None, region: str | None = None) -> Callable[[CaseSpec], bool]:
    return lambda c: (department in (None, c.department)) and (region in (None, c.region))


def test_rates_are_the_counts_of_the_applied_and_finished_cases_divided(
    world: World, province: Province
) -> None:
    data = world.get("supervisor", "/?format=json").json()
    assert data["filter"]["since"] == SINCE.isoformat()
    assert data["cases"] == _cohort(province, _everything)
    assert 0 < data["cases"]["overdue"] < data["cases"]["cases"]
    by_dept = {r["code"]: r for r in data["rates_by_department"]}
    for dept in ("D1", "D2"):
        expected = _cohort(province, _of(department=dept))
        assert {k: by_dept[dept][k] for k in expected} == expected, dept
        assert by_dept[dept]["overdue_rate"] == by_dept[dept]["overdue"] / by_dept[dept]["cases"]
        assert by_dept[dept]["ontime_rate"] == by_dept[dept]["ontime"] / by_dept[dept]["finished"]
    by_region = {r["code"]: r for r in data["rates_by_region"]}
    assert set(by_region) == {"330102", "330100", "330203"}
    for code, row in by_region.items():
        expected = _cohort(province, _of(region=code))
        assert {k: row[k] for k in expected} == expected, code
    for point in data["rate_trend"]:
        day = date.fromisoformat(point["day"])
        expected = _cohort(province, _everything, day, day)
        assert {k: point[k] for k in expected} == expected, day
    assert data["rate_trend"][0]["day"] == SINCE.isoformat()


def test_today_and_the_trend_count_alerts_by_when_the_anomaly_arose(
    world: World, province: Province
) -> None:
    data = world.get("supervisor", "/?format=json").json()
    arose_today = Counter(a.level for a in province.alerts if a.occurred_at.date() == TODAY)
    found_today = Counter(a.level for a in province.alerts if a.first_seen_at.date() == TODAY)
    assert arose_today != found_today, "the province tells the two moments apart"
    assert data["new_today_by_level"] == {
        lv: arose_today[lv] for lv in ("warning", "yellow", "red")
    }
    assert data["new_today"] == sum(arose_today.values())
    new_by_day = Counter(a.occurred_at.date().isoformat() for a in province.alerts)
    assert {p["day"]: p["new"] for p in data["trend"]} == {
        (SINCE + timedelta(days=i)).isoformat(): new_by_day[(SINCE + timedelta(days=i)).isoformat()]
        for i in range(30)
    }
    open_now = [
        a
        for a in province.alerts
        if a.status == "active" and a.handling not in ("closed", "dismissed")
    ]
    assert data["open_total"] == len(open_now)
    red = Counter(
        a.case.department
        for a in province.alerts
        if a.level == "red" and within(a.occurred_at, SINCE, TODAY)
    )
    assert {r["code"]: r["count"] for r in data["red_departments"]} == dict(red)
    assert data["orders"] == {"follow": 3, "overdue": 1, "replied": 1, "closed": 1}
    html = world.get("supervisor", "/").text
    assert "今日新增按<strong>异常发生时间</strong>统计" in html


def _list_total(world: World, who: str, href: str) -> int:
    if href.startswith("/desk"):
        answer = world.get(who, href + "&format=json")
        assert answer.status_code == 200, (href, answer.text)
        return int(answer.json()["total"])
    answer = world.get(who, href)
    assert answer.status_code == 200, (href, answer.text[:500])
    marker = 'data-total="'
    start = answer.text.index(marker) + len(marker)
    return int(answer.text[start : answer.text.index('"', start)])


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("supervisor", "/"),
        ("supervisor", "/?department=D1"),
        ("supervisor", "/?region=330100&since=2025-09-20&until=2025-10-09"),
        ("dept1", "/"),
    ],
)
def test_every_number_on_the_dashboard_opens_a_list_of_that_many(
    world: World, province: Province, who: str, page: str
) -> None:
    html = world.get(who, page).text
    numbers = _numbers(html)
    assert len(numbers) >= 40, "numbers, table cells and rankings all link"
    kinds = {href.split("?")[0] for href, _ in numbers}
    assert {"/alerts", "/cases"} <= kinds
    wrong = []
    for href, count in numbers:
        total = _list_total(world, who, href.replace("&amp;", "&"))
        if total != count:
            wrong.append(f"{href}: shows {count}, the list holds {total}")
    assert not wrong, "\n".join(wrong)
    assert any(count > 0 for _, count in numbers)


def test_a_department_sees_its_figures_beside_the_provinces(
    world: World, province: Province
) -> None:
    own = world.get("dept1", "/?format=json").json()
    whole = world.get("supervisor", "/?format=json").json()
    compare = own["comparison"]
    assert compare["own"]["open_total"] == own["open_total"]
    assert compare["province"]["open_total"] == whole["open_total"] > own["open_total"]
    assert compare["province"]["overdue_rate"] == whole["cases"]["overdue_rate"]
    assert compare["province"]["ontime_rate"] == whole["cases"]["ontime_rate"]
    assert compare["own"]["overdue_rate"] == _cohort(province, _of(department="D1"))["overdue_rate"]
    assert compare["province_links"] is None, "a department cannot open the province's lists"
    html = world.get("dept1", "/").text
    assert "本部门与全省对照" in html and "全省数字仅供对照" in html
    supervised = world.get("supervisor", "/?department=D1&format=json").json()["comparison"]
    assert supervised["own"] == compare["own"] and supervised["province_links"]
    assert world.get("supervisor", "/?format=json").json()["comparison"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2025-10-09&until=2025-10-01", "起始日期 2025-10-09 晚于截止日期 2025-10-01"),
        (
            "since=2024-10-01&until=2025-10-09",
            "日期范围 2024-10-01 至 2025-10-09 共 374 天，超过一年",
        ),
        ("since=2025/10/01", "起始日期“2025/10/01”不是有效日期"),
        ("until=2025-10-09&since=2025-10-10", "起始日期 2025-10-10 晚于截止日期 2025-10-09"),
    ],
)
def test_a_bad_period_is_answered_with_a_message_not_replaced(
    world: World, query: str, message: str
) -> None:
    page = world.get("supervisor", f"/?{query}")
    assert page.status_code == 422 and message in page.text
    assert "data-count" not in page.text, "no figures for a period that was not asked"
    twin = world.get("supervisor", f"/?{query}&format=json")
    assert twin.status_code == 422 and message in twin.json()["detail"]


def test_a_period_of_exactly_a_year_is_accepted(world: World) -> None:
    answer = world.get("supervisor", "/?since=2024-10-09&until=2025-10-09&format=json")
    assert answer.status_code == 200
    assert len(answer.json()["trend"]) == 366
