"""Reading a State Council holiday notice as published: every date it names, rest or work.

An administrator pastes (or saves) the text of 国务院办公厅关于 YYYY 年部分节假日安排的通知 as
the government's site, a newspaper or a wire service printed it, and gets the dates it names::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。

gives 2026-01-01..03 ``holiday`` 元旦 and 2026-01-04 ``workday`` 元旦. The grammar is the one the
notices have used since 2008, read clause by clause (a clause ends at a comma, a semicolon or a
full stop):

- a clause names dates (``M月D日``, optionally ``YYYY年``; a range ``A至B`` where ``B`` may
  leave out the month and year, ``9月29日至10月6日`` and ``2018年12月30日至2019年1月1日``
  included; a list ``A、B``) and says what they are: ``上班`` makes them make-up working days,
  ``放假`` / ``补休`` / ``调休`` rest days (``1月1日放假，1月2日（星期一）补休``);
- ``与周末连休`` and ``共N天`` name no date; ``共N天`` is checked against the rest days of
  its sentence, and a weekday written beside a date (``周四``, ``星期六``) against the date, so
  a mistyped year or day fails loudly instead of shifting a holiday;
- a numbered item ``一、元旦：`` names the festival of its dates; a notice without items (a
  supplementary notice, ``关于调整2019年劳动节假期安排的通知``) takes it from its title;
- dates that are not rest or work days are skipped: ``自2025年1月1日起`` (when a rule takes
  effect), the encouragement ``鼓励……安排职工在除夕（2月9日）休息``, the signature date.

Full-width and half-width punctuation and digits are the same (NFKC), so are 周 and 星期, and
spaces and line breaks inside the text do not matter. One text may hold several notices (an
annual notice followed by its supplement): a later notice's date replaces an earlier one's.

The notice's year comes from its title (``关于2026年部分节假日安排``) or its first sentence
(``现将2026年元旦、春节……``); an annual notice *covers* that year (its dates are the whole
list of the year's exceptions), a supplement only adds or changes dates. Nothing here touches
a database: :func:`govwatch.calendar.store.load_notice` saves a parsed notice.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from govwatch.calendar.build import FIRST_DAY, LAST_DAY
from govwatch.errors import InputError

HOLIDAY = "holiday"
WORKDAY = "workday"
WEEKDAY_NAMES = "一二三四五六日"
_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}

_DATE = re.compile(
    r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日(?:\((?P<note>[^()]*)\))?"
)
_RANGE = re.compile(r"^(?:至|到|-|~|—|–)$")
_LIST = re.compile(r"^(?:、|和|及|与)$")
_WEEKDAY = re.compile(r"(?:星期|周|礼拜)([一二三四五六日天])")
_TOTAL = re.compile(r"共([0-9一二三四五六七八九十]+)天")
_TITLE = re.compile(
    r"关于(?P<adjust>调整)?(?:(?P<y>\d{4})年)?(?P<what>[^《》。,:]*?)"
    r"(?:放假安排|假期安排|调休放假|放假)?的通知"
)
_ANNOUNCE = re.compile(r"现将(?P<adjust>调整)?(?P<y>\d{4})年(?P<what>[^。,]*?)(?:放假|假期)")
_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|\([一二三四五六七八九十\d]+\)|—+|-)")
_LABEL = re.compile(r"^([^,:;。()\d]{1,24}):")
_FESTIVAL = re.compile(r"(?:节|元旦|纪念日|除夕)$")
_INLINE_ITEM = re.compile(
    r"(?<![一二三四五六七八九十])[一二三四五六七八九十]{1,2}、([^,:;。()\d\n]{1,24}):"
)
_SENTENCE_END = re.compile(r"。|(?<!\d)\.|\.(?!\d)")
_SKIP = ("鼓励", "倡导", "建议")  # encouragements name dates that stay working days
_REST_WORDS = ("放假", "补休", "调休", "休假")
_WORK_WORDS = ("上班",)


@dataclass(frozen=True)
class NoticeDay:
    """One date a notice names: a rest day (``holiday``) or a make-up working day."""

    on_date: date
    day_type: str
    name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.on_date.isoformat(), "type": self.day_type, "name": self.name or ""}


@dataclass(frozen=True)
class Notice:
    """The dates of one text (one notice, or an annual notice and its supplements).

    ``annual_years`` are the years whose whole arrangement the text gives (loading covers
    them); ``years`` every year a notice of the text is about (supplements included).
    """

    days: tuple[NoticeDay, ...]
    years: tuple[int, ...]
    annual_years: tuple[int, ...]
    titles: tuple[str, ...] = ()
    label: str = "notice"

    @property
    def holidays(self) -> int:
        return sum(1 for d in self.days if d.day_type == HOLIDAY)

    @property
    def workdays(self) -> int:
        return sum(1 for d in self.days if d.day_type == WORKDAY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "years": list(self.years),
            "annual_years": list(self.annual_years),
            "titles": list(self.titles),
            "days": [d.to_dict() for d in self.days],
        }


def decode_notice(data: bytes, where: str) -> str:
    """The text of a saved notice: UTF-8 (with or without BOM), else GB18030 (saved pages)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{where} 不是文本文件：应为 UTF-8 或 GBK 编码的通知全文")


@dataclass
class _Document:
    """What the text says so far about the notice being read."""

    year: int | None = None
    annual: bool = False
    name: str | None = None  # the festival a supplement is about, from its title
    explicit_years: list[int] = field(default_factory=list)
    days: dict[date, NoticeDay] = field(default_factory=dict)
    title: str = ""


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where
        self.docs: list[_Document] = [_Document()]
        self.name: str | None = None
        self.line = 0

    @property
    def doc(self) -> _Document:
        return self.docs[-1]

    def fail(self, message: str) -> InputError:
        return InputError(f"{self.where} 第 {self.line} 行：{message}")

    # -- context: titles, announcements, items ------------------------------------------

    def title(self, line: str) -> None:
        for m in _TITLE.finditer(line):
            what = m.group("what") or ""
            if not m.group("y") and not any(w in what for w in ("节", "假", "纪念日")):
                continue  # some other notice mentioned in passing
            if self.doc.days:  # a second notice in the same text
                self.docs.append(_Document())
            self.doc.title = m.group(0)
            if m.group("y"):
                self.doc.year = int(m.group("y"))
            self.doc.annual = "部分节假日" in what and not m.group("adjust")
            self.doc.name = None if self.doc.annual else (_festival_of(what) or None)
            self.name = self.doc.name

    def announce(self, sentence: str) -> None:
        """``现将2026年元旦、春节……`` (annual) or ``现将调整2019年劳动节放假安排`` (supplement)."""
        m = _ANNOUNCE.search(sentence)
        if m is None:
            return
        year, what = int(m.group("y")), m.group("what")
        if self.doc.year is None:
            self.doc.year = year
        if m.group("adjust"):
            if self.doc.name is None:
                self.doc.name = self.name = _festival_of(what) or None
        elif not self.doc.title and year == self.doc.year and ("元旦" in what or "春节" in what):
            self.doc.annual = True  # no title: the announcement lists the year's festivals

    def item(self, sentence: str) -> tuple[str, bool]:
        """The sentence without an item's number and festival label (remembering the festival),
        and whether it opened an item."""
        numbered = _ITEM.match(sentence)
        rest = sentence[numbered.end() :] if numbered else sentence
        label = _LABEL.match(rest)
        if label and _is_festival(label.group(1)):
            self.name = label.group(1)
            return rest[label.end() :], True
        if numbered:
            self.name = self.doc.name
            return rest, True
        return sentence, False

    # -- dates -------------------------------------------------------------------------

    def year_for(self, explicit: str | None) -> int:
        if explicit:
            return int(explicit)
        if self.doc.year is None and self.doc.explicit_years:
            self.doc.year = self.doc.explicit_years[-1]  # no title: the year the text wrote
        if self.doc.year is not None:
            return self.doc.year
        raise self.fail(
            "无法确定通知的年份：请包含通知标题（国务院办公厅关于YYYY年部分节假日安排的通知）"
            "或“现将YYYY年……”一句"
        )

    def make_date(self, y: int, m: int, d: int, text: str) -> date:
        try:
            on = date(y, m, d)
        except ValueError:
            raise self.fail(f"日期“{text}”不存在（{y}年{m}月{d}日）") from None
        if not FIRST_DAY <= on <= LAST_DAY:
            raise self.fail(f"日期 {on.isoformat()} 超出日历范围 {FIRST_DAY.year}–{LAST_DAY.year}")
        return on

    def check_weekday(self, on: date, note: str | None, text: str) -> None:
        found = _WEEKDAY.search(note or "")
        if found is None:
            return
        written = "日" if found.group(1) == "天" else found.group(1)
        actual = WEEKDAY_NAMES[on.weekday()]
        if written != actual:
            raise self.fail(
                f"“{text}”注明为周{written}，但 {on.isoformat()} 是周{actual}：请核对年份与日期"
            )

    def range_end(self, start: date, m: re.Match[str]) -> date:
        """``至`` B: B leaves out what it shares with the start (``至3日``, ``至2月4日``)."""
        d = int(m.group("d"))
        if m.group("y"):
            if m.group("m") is None:
                raise self.fail(f"“{m.group(0)}”缺少月份：应写成“YYYY年M月D日”")
            y, month = int(m.group("y")), int(m.group("m"))
        elif m.group("m"):
            y, month = start.year, int(m.group("m"))
            if (month, d) < (start.month, start.day):  # 12月30日至1月1日
                y += 1
        else:
            y, month = start.year, start.month
            if d < start.day:  # 1月30日至2日
                y, month = _next_month(start)
        end = self.make_date(y, month, d, m.group(0))
        if end < start or (end - start).days > 40:
            raise self.fail(f"日期范围 {start.isoformat()} 至 {end.isoformat()} 无效")
        return end

    def dates_of(self, clause: str) -> list[date]:
        """The dates a clause names, ranges expanded, in order (``A起`` is no date)."""
        found: list[date] = []
        previous: tuple[re.Match[str], date] | None = None
        for m in _DATE.finditer(clause):
            if clause.startswith("起", m.end()):
                previous = None
                continue
            joiner = clause[previous[0].end() : m.start()] if previous else ""
            if previous and _RANGE.match(joiner):
                start = previous[1]
                end = self.range_end(start, m)
                self.check_weekday(end, m.group("note"), m.group(0))
                found += [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
                previous = (m, end)
                continue
            if m.group("m") is None:
                raise self.fail(f"“{m.group(0)}”缺少月份：应写成“M月D日”")
            y = self.year_for(m.group("y"))
            on = self.make_date(y, int(m.group("m")), int(m.group("d")), m.group(0))
            self.check_weekday(on, m.group("note"), m.group(0))
            found.append(on)
            previous = (m, on)
        return found

    def put(self, on: date, day_type: str, text: str) -> None:
        known = self.doc.days.get(on)
        if known is not None and known.day_type != day_type:
            raise self.fail(
                f"{on.isoformat()} 在“{text}”中为{_TYPE_NAMES[day_type]}，"
                f"前文已写为{_TYPE_NAMES[known.day_type]}"
            )
        if known is None or (known.name is None and self.name):  # a lead-in named it first
            self.doc.days[on] = NoticeDay(on, day_type, self.name)

    def sentence(self, sentence: str) -> None:
        if any(word in sentence for word in _SKIP):
            return
        self.doc.explicit_years += [int(y) for y in re.findall(r"(\d{4})年", sentence)]
        self.announce(sentence)
        body, opened = self.item(sentence)
        rest_days: set[date] = set()  # named since the last 共N天
        verbless: list[str] = []  # clauses naming dates but neither rest nor work
        for clause in _clauses(body):
            if any(w in clause for w in _WORK_WORDS):
                kind: str | None = WORKDAY
            elif any(w in clause for w in _REST_WORDS):
                kind = HOLIDAY
            else:
                kind = None
            if kind is None and _DATE.search(clause):
                verbless.append(clause)  # a dateline, a signature: no rest or work day
            elif kind is not None:
                for on in self.dates_of(clause):
                    self.put(on, kind, clause)
                    if kind == HOLIDAY:
                        rest_days.add(on)
            total = _TOTAL.search(clause)
            if total and rest_days:
                if len(rest_days) != _number(total.group(1)):
                    raise self.fail(
                        f"“{sentence}”写明共 {_number(total.group(1))} 天，"
                        f"但所列放假日期为 {len(rest_days)} 天"
                    )
                rest_days = set()
        if opened and any(self.dates_of(c) for c in verbless):
            raise self.fail(f"“{sentence}”中的日期后没有“放假”“补休”或“上班”：无法判断是否上班")


def _clauses(sentence: str) -> list[str]:
    """Split at commas and semicolons outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(sentence):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch in ",;" and depth == 0:
            parts.append(sentence[start:i])
            start = i + 1
    parts.append(sentence[start:])
    return [p for p in parts if p]


_TYPE_NAMES = {HOLIDAY: "放假", WORKDAY: "上班"}


def _is_festival(label: str) -> bool:
    """``元旦``, ``中秋节、国庆节``: an item's label that names festivals."""
    return all(_FESTIVAL.search(part) for part in label.split("、") if part)


def _festival_of(what: str) -> str:
    """``调整2019年劳动节`` → 劳动节; a commemoration's title is its name."""
    text = re.sub(r"^\d{4}年", "", what.strip())
    return text.removesuffix("调休").removesuffix("假期").strip()


def _next_month(day: date) -> tuple[int, int]:
    return (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS[text[1]]
    if text.endswith("十"):
        return 10 * _CN_DIGITS[text[0]]
    if "十" in text:
        tens, ones = text.split("十")
        return 10 * _CN_DIGITS[tens] + _CN_DIGITS[ones]
    return _CN_DIGITS[text]


def _normalize(text: str) -> list[str]:
    """Half-width punctuation and digits, no spaces, a title broken over two lines joined."""
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[ \t\u00a0\u2002\u2003\u3000]+", "", text)
    text = re.sub(r"关于([^\n。]{0,40})\n+([^\n。]{0,40}的通知)", r"关于\1\2", text)
    # an item pasted on one line with what precedes it starts a line of its own
    text = _INLINE_ITEM.sub(
        lambda m: "\n" + m.group(0) if _is_festival(m.group(1)) else m.group(0), text
    )
    return text.split("\n")


def parse_notice(text: str, *, where: str = "通知", label: str = "notice") -> Notice:
    """Every date ``text`` (one or more published notices) names, in date order.

    ``where`` names the text in error messages (a file name, 粘贴的通知); ``label`` is kept as
    the source of what is loaded from it.
    """
    reader = _Reader(where)
    for number, line in enumerate(_normalize(text), start=1):
        reader.line = number
        if not line:
            continue
        reader.title(line)
        for sentence in _SENTENCE_END.split(line):
            if sentence:
                reader.sentence(sentence)
    merged: dict[date, NoticeDay] = {}
    for doc in reader.docs:  # a later notice (a supplement) replaces an earlier one's dates
        merged.update(doc.days)
    if not merged:
        raise InputError(
            f"{where} 中没有找到放假或上班的日期：应为国务院办公厅节假日安排通知的全文，"
            "如“一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。”"
        )
    docs = [d for d in reader.docs if d.days or d.title]
    years = sorted({d.year for d in docs if d.year is not None})
    annual = sorted({d.year for d in docs if d.annual and d.year is not None})
    return Notice(
        days=tuple(merged[k] for k in sorted(merged)),
        years=tuple(years),
        annual_years=tuple(annual),
        titles=tuple(d.title for d in docs if d.title),
        label=label,
    )
