"""Reading and correcting the calendar: which years are covered, one year's days, loading a year.

Two ways bring in a new State Council notice (or correct one). ``load_notice`` saves the text
of the notice as published, parsed by :mod:`govwatch.calendar.notice`; ``load_file`` a CSV of
``date,type`` rows, type ``holiday`` (a rest day) or ``workday`` (a make-up working day), where
every year the file names becomes covered by exactly the file's dates. Either way the calendar
is rebuilt and the report says which dates changed. What follows for the open cases whose
clocks the changed dates reach (their rules, alerts and stored deadlines) is decided by
:func:`govwatch.live.pipeline.load_calendar`, which every face calls.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from govwatch import timeutil
from govwatch.calendar.build import FIRST_DAY, LAST_DAY, rebuild
from govwatch.calendar.notice import Notice
from govwatch.errors import InputError
from govwatch.storage import Database

DAY_TYPES = {"holiday": "holiday", "workday": "workday", "休": "holiday", "班": "workday"}
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class YearStatus:
    year: int
    covered: bool
    source: str
    workdays: int
    holidays: int
    makeup_workdays: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "covered": self.covered,
            "provisional": not self.covered,
            "source": self.source,
            "workdays": self.workdays,
            "holidays": self.holidays,
            "makeup_workdays": self.makeup_workdays,
        }


@dataclass(frozen=True)
class LoadReport:
    """What a load changed; the case counts are filled by what follows it (govwatch.live)."""

    years: list[int]
    dates: int
    changed_dates: list[date]  # working day or not, or provisional or not, changed
    cases_recomputed: int = 0  # open cases re-clocked
    cases_changed: list[str] = field(default_factory=list)  # those whose deadlines moved
    workday_changed: list[date] = field(default_factory=list)  # working day or not changed

    def to_dict(self) -> dict[str, Any]:
        return {
            "years": self.years,
            "dates": self.dates,
            "changed_dates": [d.isoformat() for d in self.changed_dates],
            "workday_changed_dates": [d.isoformat() for d in self.workday_changed],
            "cases_recomputed": self.cases_recomputed,
            "cases_changed": self.cases_changed,
        }


def status(db: Database) -> list[YearStatus]:
    """Every year of the table, covered or provisional, with its counts."""
    rows = db.query(
        "SELECT EXTRACT(YEAR FROM c.on_date) AS y, MIN(c.source), "
        "SUM(CASE WHEN c.is_workday THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN x.day_type = 'holiday' AND NOT c.provisional THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN x.day_type = 'workday' AND NOT c.provisional THEN 1 ELSE 0 END), "
        "MIN(CASE WHEN c.provisional THEN 1 ELSE 0 END) "
        "FROM calendar c LEFT JOIN calendar_exceptions x ON x.on_date = c.on_date "
        "GROUP BY EXTRACT(YEAR FROM c.on_date) ORDER BY 1"
    )
    return [
        YearStatus(int(y), not int(p), str(src), int(w), int(h), int(m))
        for y, src, w, h, m, p in rows
    ]


def show(db: Database, year: int) -> list[dict[str, Any]]:
    """One row per date of ``year``: working day or not, why, and where it came from."""
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise InputError(f"年份 {year} 超出日历范围：应在 {FIRST_DAY.year} 至 {LAST_DAY.year} 之间")
    rows = db.query(
        "SELECT on_date, is_workday, source, provisional, note, EXTRACT(DOW FROM on_date) "
        "FROM calendar WHERE on_date >= ? AND on_date <= ? ORDER BY on_date",
        [date(year, 1, 1), date(year, 12, 31)],
    )
    out = []
    for on, workday, source, provisional, note, dow in rows:
        weekend = int(dow) in (0, 6)
        if workday:
            kind = "makeup_workday" if weekend else "workday"
        else:
            kind = "holiday" if note and not provisional else "weekend"
        out.append(
            {
                "date": on.isoformat(),
                "weekday": "周" + WEEKDAYS[(int(dow) + 6) % 7],
                "is_workday": bool(workday),
                "kind": kind,
                "name": note,
                "source": source,
                "provisional": bool(provisional),
            }
        )
    return out


def parse_file(path: Path) -> list[tuple[date, str, str | None]]:
    """Rows of a ``date,type[,name]`` CSV (a header line is optional)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"无法读取日历文件 {path}：{exc.strerror}") from exc
    found: dict[date, tuple[date, str, str | None]] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not any(cells) or (number == 1 and cells[0].lower() in ("date", "日期")):
            continue
        if len(cells) < 2:
            raise InputError(f"{path} 第 {number} 行：应为“日期,类型”两列，如 2027-10-01,holiday")
        try:
            on = timeutil.parse_date(cells[0])
        except InputError as exc:
            raise InputError(f"{path} 第 {number} 行：{exc}") from exc
        kind = DAY_TYPES.get(cells[1].lower())
        if kind is None:
            raise InputError(
                f"{path} 第 {number} 行：类型“{cells[1]}”无效，应为 holiday（放假）或 "
                "workday（调休上班）"
            )
        if not FIRST_DAY <= on <= LAST_DAY:
            raise InputError(f"{path} 第 {number} 行：日期 {on} 超出日历范围 2000–2035")
        found[on] = (on, kind, (cells[2] or None) if len(cells) > 2 else None)
    if not found:
        raise InputError(f"{path} 中没有日期：应为 CSV，每行“日期,类型”")
    return sorted(found.values())


def load_file(db: Database, path: Path) -> LoadReport:
    """Cover the years ``path`` names with its dates; the report names the dates changed."""
    rows = parse_file(path)
    years = sorted({on.year for on, _, _ in rows})
    return _load(db, rows, years, f"file:{path.name}", keep_adjacent=False)


def load_notice(db: Database, notice: Notice) -> LoadReport:
    """Save a parsed State Council notice (:mod:`govwatch.calendar.notice`).

    An annual notice covers its year: the year's exceptions become the notice's dates, except
    the dates another year's notice put there (the 2019 notice names 29–31 December 2018),
    which stay. Its own dates in a neighbouring year replace what that year had on those dates
    only. A supplementary notice (an adjustment) changes the dates it names in a year that is
    already covered; for a year not covered yet it is refused, since loading the year's annual
    notice afterwards would replace it.
    """
    covered = {y.year for y in status(db) if y.covered}
    for year in notice.years:
        if year not in notice.annual_years and year not in covered:
            raise InputError(
                f"{year} 年的全年节假日安排尚未导入：请先导入《国务院办公厅关于{year}年部分节假日"
                "安排的通知》，再导入这份调整通知"
            )
    rows = [
        (
            d.on_date,
            d.day_type,
            (d.name if d.day_type == "holiday" else f"{d.name or ''}调休上班") or None,
        )
        for d in notice.days
    ]
    report = _load(
        db, rows, list(notice.annual_years), f"notice:{notice.label}", keep_adjacent=True
    )
    return replace(report, years=report.years or list(notice.years))


# Exceptions a notice names outside the years it covers (a neighbouring year's last days) carry
# this source prefix, so that loading the neighbouring year's own notice keeps them.
ADJACENT_PREFIX = "notice-adjacent:"


def _load(
    db: Database,
    rows: list[tuple[date, str, str | None]],
    years: list[int],
    source: str,
    *,
    keep_adjacent: bool,
) -> LoadReport:
    """Replace the exceptions of ``years`` (and of every date ``rows`` names) and rebuild."""
    touched = sorted({*years, *(on.year for on, _, _ in rows)})
    outside = ADJACENT_PREFIX + source.partition(":")[2]
    before = _snapshot(db, touched)
    with db.transaction():
        for year in years:
            keep = f" AND source NOT LIKE '{ADJACENT_PREFIX}%'" if keep_adjacent else ""
            db.execute(
                f"DELETE FROM calendar_exceptions WHERE on_date >= ? AND on_date <= ?{keep}",
                [date(year, 1, 1), date(year, 12, 31)],
            )
            db.execute("DELETE FROM calendar_years WHERE year = ?", [year])
            db.execute("INSERT INTO calendar_years (year, source) VALUES (?, ?)", [year, source])
        named = sorted({on for on, _, _ in rows})
        for i in range(0, len(named), 500):
            chunk = named[i : i + 500]
            db.execute(
                "DELETE FROM calendar_exceptions WHERE on_date IN "
                f"({', '.join('?' for _ in chunk)})",
                list(chunk),
            )
        data = pa.table(
            {
                "on_date": pa.array([r[0] for r in rows], pa.date32()),
                "day_type": pa.array([r[1] for r in rows], pa.string()),
                "name": pa.array([r[2] for r in rows], pa.string()),
                "source": pa.array(
                    [source if r[0].year in years else outside for r in rows], pa.string()
                ),
            }
        )
        db.insert_arrow("calendar_exceptions", data)
        rebuild(db)
    after = _snapshot(db, touched)
    changed = sorted(d for d in after if after[d] != before.get(d))
    flipped = [d for d in changed if d in before and after[d][0] != before[d][0]]
    return LoadReport(years, len(rows), changed, workday_changed=flipped)


def _snapshot(db: Database, years: list[int]) -> dict[date, tuple[bool, bool]]:
    out: dict[date, tuple[bool, bool]] = {}
    for year in years:
        for on, workday, provisional in db.query(
            "SELECT on_date, is_workday, provisional FROM calendar "
            "WHERE on_date >= ? AND on_date <= ?",
            [date(year, 1, 1), date(year, 12, 31)],
        ):
            out[on] = (bool(workday), bool(provisional))
    return out
