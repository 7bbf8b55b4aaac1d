"""The published holiday notices parse to the official calendar of their year, every day.

Fixtures (``fixtures/``, sources in ``fixtures/README.md``) are the texts of the State Council's
notices as published: the annual notices for 2015, 2017, 2019, 2024, 2025 and 2026, and the
supplementary notices of those years (the 2015 commemoration day, the 2019 labour-day
adjustment). The reference is the maintained ``chinesecalendar`` package, which the calendar's
official data comes from (migration 011). Loading goes through the live pipeline on both engines.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import orjson
import pytest
from click.testing import CliRunner, Result

from govwatch.calendar import is_workday
from govwatch.calendar.notice import HOLIDAY, WORKDAY, NoticeDay, parse_notice
from govwatch.calendar.store import show, status
from govwatch.cli import cli
from govwatch.deadlines import refresh_next_check
from govwatch.errors import InputError
from govwatch.events.cases import rebuild_cases
from govwatch.live.pipeline import load_calendar
from govwatch.storage import Database
from govwatch.vocabulary import HOLIDAY_NAMES
from tests.deadlines.clock_builders import add_events, add_item, event

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Every fixture, in the order the notices were published (a supplement after its annual notice).
NOTICES = [
    "notice-2015.txt",
    "notice-2015-0903.txt",
    "notice-2017.txt",
    "notice-2019.txt",
    "notice-2019-labour-day.txt",
    "notice-2024.txt",
    "notice-2025.txt",
    "notice-2026.txt",
]
YEARS = [2015, 2017, 2019, 2024, 2025, 2026]
# The government's site prints full-width punctuation; the texts as stored have half-width.
FULL_WIDTH = str.maketrans({":": "：", ",": "，", "(": "（", ")": "）", ";": "；"})

# A made-up notice in the published form, for loading a year the packaged data lacks: it is not
# a published text (no 2027 notice existed when this was written) and tests only the mechanism.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
国务院办公厅
2026年11月10日
"""


def text_of(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def official_rest(on: date) -> bool:
    return not chinese_calendar.is_workday(on)


def rest_from(days: dict[date, NoticeDay], on: date) -> bool:
    """Weekends plus the notices: what the calendar table derives for a covered year."""
    named = days.get(on)
    if named is not None:
        return named.day_type == HOLIDAY
    return on.weekday() >= 5


def every_day(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("width", ["as stored", "full-width"])
@pytest.mark.parametrize("year", YEARS)
def test_published_notices_give_the_official_calendar_every_day(year: int, width: str) -> None:
    days: dict[date, NoticeDay] = {}
    for name in NOTICES:  # a later notice's dates replace an earlier one's
        text = text_of(name)
        if width == "full-width":
            text = text.translate(FULL_WIDTH)
        days.update({d.on_date: d for d in parse_notice(text, where=name).days})
    wrong = [on for on in every_day(year) if rest_from(days, on) != official_rest(on)]
    assert wrong == [], f"{year}: rest or work differs from the official calendar on {wrong}"


@pytest.mark.parametrize("name", NOTICES)
def test_every_named_date_is_one_the_official_calendar_names(name: str) -> None:
    """No date is invented: each rest day is an official holiday, each work day a make-up day,
    and the festival is the one the notice's item names."""
    for d in parse_notice(text_of(name), where=name).days:
        official_holiday, label = chinese_calendar.get_holiday_detail(d.on_date)
        if d.day_type == WORKDAY:
            assert d.on_date in chinese_calendar.constants.workdays, d
        else:
            assert official_holiday and not chinese_calendar.is_workday(d.on_date), d
        festival = HOLIDAY_NAMES.get(str(getattr(label, "value", label)), "")
        if festival.endswith(("节", "元旦")):  # not the 2015 commemoration's short name
            assert d.name and festival in d.name, (d, festival)
        assert d.name, d


def test_a_notice_names_its_year_and_whether_it_covers_it() -> None:
    annual = parse_notice(text_of("notice-2019.txt"))
    assert annual.years == (2019,) and annual.annual_years == (2019,)
    # the 2019 notice's New Year holiday begins in 2018: it names those dates too
    assert {d.on_date for d in annual.days if d.on_date.year == 2018} == {
        date(2018, 12, 29),
        date(2018, 12, 30),
        date(2018, 12, 31),
    }
    supplement = parse_notice(text_of("notice-2019-labour-day.txt"))
    assert supplement.years == (2019,) and supplement.annual_years == ()
    assert {d.name for d in supplement.days} == {"劳动节"}
    special = parse_notice(text_of("notice-2015-0903.txt"))
    assert special.years == (2015,) and special.annual_years == ()
    assert [(d.on_date.day, d.day_type) for d in special.days] == [
        (3, HOLIDAY),
        (4, HOLIDAY),
        (5, HOLIDAY),
        (6, WORKDAY),
    ]


def test_older_and_newer_wordings_read_alike() -> None:
    """补休 and 与周末连休 (2017), 周 and 星期, 除夕 annotations, a range across months."""
    text = (
        "关于2017年部分节假日安排的通知\n"
        "一、元旦：1月1日放假，1月2日（星期一）补休。\n"
        "二、春节：1月27日（除夕）至2月2日放假调休，共7天。1月22日（周日）、2月4日（星期六）上班。\n"
        "三、国庆节：9月30日至10月8日放假，共9天。\n"
        "四、劳动节：5月1日放假，与周末连休。"
    )
    days = {d.on_date: (d.day_type, d.name) for d in parse_notice(text).days}
    assert days[date(2017, 1, 2)] == (HOLIDAY, "元旦")
    assert days[date(2017, 1, 31)] == (HOLIDAY, "春节")
    assert days[date(2017, 2, 4)] == (WORKDAY, "春节")
    assert days[date(2017, 10, 1)] == (HOLIDAY, "国庆节") and len(days) == 2 + 7 + 2 + 9 + 1
    one_line = text.replace("\n", "")  # pasted without line breaks
    assert parse_notice(one_line).days == parse_notice(text).days


def test_a_news_lead_in_before_the_notice_changes_nothing() -> None:
    """Reprints often summarise the notice first; the items still name the festivals."""
    lead = (
        "中国网12月16日讯 日前，国务院办公厅发布2019年部分节假日安排，其中元旦自2018年12月30日"
        "至2019年1月1日放假调休，共3天，春节自2月4日至10日放假调休，共7天。\n"
    )
    notice = text_of("notice-2019.txt")
    assert parse_notice(lead + notice).days == parse_notice(notice).days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一、元旦：1月1日放假。", "无法确定通知的年份"),
        ("关于2027年部分节假日安排的通知\n一、元旦：1月1日（周四）放假。", "注明为周四，但 2027-01-01 是周五"),
        ("关于2027年部分节假日安排的通知\n一、元旦：1月1日至4日放假，共3天。", "写明共 3 天，但所列放假日期为 4 天"),
        ("关于2027年部分节假日安排的通知\n一、元旦：1月1日放假。1月1日上班。", "前文已写为放假"),
        ("关于2027年部分节假日安排的通知\n一、元旦：1月1日（周五）。", "没有“放假”“补休”或“上班”"),
        ("关于2027年部分节假日安排的通知\n一、元旦：2月30日放假。", "日期“2月30日”不存在"),
        ("各地区、各部门要妥善安排好值班工作。", "没有找到放假或上班的日期"),
    ],
)  # fmt: skip
def test_a_text_that_cannot_be_read_says_where_and_what_was_expected(
    text: str, expected: str
) -> None:
    with pytest.raises(InputError, match=expected) as raised:
        parse_notice(text, where="notice.txt")
    assert str(raised.value).startswith("notice.txt")


def test_cli_notice_prints_every_date_without_saving(tmp_path: Path) -> None:
    runner = CliRunner()
    path = FIXTURES / "notice-2026.txt"
    result = runner.invoke(cli, ["calendar", "notice", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    expected = [
        f"{d.on_date.isoformat()},{d.day_type},{d.name}"
        for d in parse_notice(text_of("notice-2026.txt")).days
    ]
    assert lines == ["date,type,name", *expected]
    assert "2026-01-04,workday,元旦" in lines and "2026-10-07,holiday,国庆节" in lines
    assert "未保存" in result.stderr
    result = runner.invoke(cli, ["calendar", "notice", str(path), "--format", "json"])
    assert orjson.loads(result.stdout)[0] == {
        "date": "2026-01-01",
        "type": "holiday",
        "name": "元旦",
    }
    # a saved web page is often GBK
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes(text_of("notice-2017.txt").encode("gb18030"))
    result = runner.invoke(cli, ["calendar", "notice", str(gbk)])
    assert result.exit_code == 0 and "2017-01-02,holiday,元旦" in result.stdout


def test_cli_notice_refuses_unreadable_files_in_one_line(tmp_path: Path) -> None:
    runner = CliRunner()

    def said(result: Result) -> str:
        return result.output + str(result.exception or "")

    result = runner.invoke(cli, ["calendar", "notice", str(tmp_path / "none.txt")])
    assert result.exit_code != 0 and "无法读取通知文件" in said(result)
    assert "Traceback" not in said(result)
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30")
    result = runner.invoke(cli, ["calendar", "notice", str(binary)])
    assert result.exit_code != 0 and "不是文本文件" in said(result)


def test_loading_a_published_notice_equals_the_packaged_official_year(
    db: Database, tmp_path: Path
) -> None:
    report = load_calendar(db, parse_notice(text_of("notice-2026.txt"), label="notice-2026.txt"))
    assert report.years == [2026] and report.changed_dates == []
    assert {y.year: y.source for y in status(db)}[2026] == "notice:notice-2026.txt"
    day = {d["date"]: d for d in show(db, 2026)}
    assert day["2026-02-28"]["kind"] == "makeup_workday"
    assert day["2026-02-28"]["name"] == "春节调休上班"  # as the packaged data names them


def test_an_annual_notice_and_its_supplement_give_the_official_year(db: Database) -> None:
    for name in ("notice-2019.txt", "notice-2019-labour-day.txt"):
        load_calendar(db, parse_notice(text_of(name), label=name))
    wrong = [on for on in every_day(2019) if is_workday(db, on) == official_rest(on)]
    assert wrong == []
    # the 2019 notice's 2018 dates changed nothing and left 2018 as it was
    by_year = {y.year: y for y in status(db)}
    assert by_year[2018].source == "official" and by_year[2019].source == "notice:notice-2019.txt"
    assert not is_workday(db, date(2018, 12, 31)) and is_workday(db, date(2018, 12, 29))


def test_a_supplement_is_refused_before_its_annual_notice_and_changes_only_its_dates_after(
    db: Database,
) -> None:
    supplement = (
        "国务院办公厅关于调整2027年国庆节假期安排的通知\n"
        "经国务院批准，现将调整2027年国庆节放假安排通知如下。\n"
        "一、2027年10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。"
    )
    with pytest.raises(InputError, match="2027 年的全年节假日安排尚未导入"):
        load_calendar(db, parse_notice(supplement))
    load_calendar(db, parse_notice(NOTICE_2027.replace("9月26日（周日）、", ""), label="a.txt"))
    assert is_workday(db, date(2027, 9, 26)) is False
    report = load_calendar(db, parse_notice(supplement, label="b.txt"))
    assert report.years == [2027] and report.changed_dates == [date(2027, 9, 26)]
    assert is_workday(db, date(2027, 9, 26)) and {y.year: y.source for y in status(db)}[2027] == (
        "notice:a.txt"
    )


def test_a_later_notice_keeps_the_dates_an_earlier_notice_put_in_its_year(db: Database) -> None:
    """The 2028 notice's New Year may begin on 31 December 2027; loading 2027's own notice
    afterwards keeps that date."""
    notice_2028 = "关于2028年部分节假日安排的通知\n一、元旦：2027年12月31日（周五）至2028年1月2日放假，共3天。"
    load_calendar(db, parse_notice(notice_2028))
    load_calendar(db, parse_notice(NOTICE_2027))
    assert not is_workday(db, date(2027, 12, 31))
    assert not is_workday(db, date(2027, 10, 1)) and is_workday(db, date(2027, 10, 9))


def test_cli_load_notice_reclocks_the_open_cases_it_reaches(db_url: str, tmp_path: Path) -> None:
    from govwatch.storage import connect

    db = connect(db_url)
    try:
        add_item(db, "I20", promised=(20, "W"), legal=(20, "W"))
        add_events(db, [event("reach", "accept", "2027-09-20 10:00", item_code="I20")])
        rebuild_cases(db, None)
        refresh_next_check(db, None, at=datetime(2027, 9, 25))
        before = db.scalar("SELECT promised_deadline FROM case_deadlines WHERE case_id = 'reach'")
    finally:
        db.close()
    path = tmp_path / "notice-2027.txt"
    path.write_text(NOTICE_2027, encoding="utf-8")
    runner = CliRunner(env={"GOVWATCH_NOW": "2027-09-25T10:00:00"})
    result = runner.invoke(
        cli, ["calendar", "load", "--notice", str(path), "--db", db_url, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["years"] == [2027] and report["cases_changed"] == ["reach"]
    assert "重新计算 1 件在办办件" in result.stderr
    db = connect(db_url)
    try:
        after = db.scalar("SELECT promised_deadline FROM case_deadlines WHERE case_id = 'reach'")
        provisional = db.scalar("SELECT provisional FROM case_deadlines WHERE case_id = 'reach'")
    finally:
        db.close()
    # 20 W from Mon 20 Sep 2027: 5 weekday rest days removed, two weekend days added
    assert (before, after, provisional) == (date(2027, 10, 18), date(2027, 10, 21), False)
