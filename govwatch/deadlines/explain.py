"""Explaining one case's clock: the JSON of spec/interface.md and a day-by-day account.

The numbers come from the clock views (the same SQL the rules read); the day-by-day listing
re-reads the calendar and the pauses of this one case to say, for each date after acceptance,
whether it counted, and if not, why (weekend, a named holiday, a pause, a provisional year).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from govwatch import vocabulary
from govwatch.deadlines.views import drop_clock_views, install_clock_views
from govwatch.errors import GovwatchError
from govwatch.storage import Database
from govwatch.vocabulary import CASE_STATUS_NAMES, PAUSE_KIND_NAMES, UNIT_NAMES

WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class Explanation:
    """The clock of one case at one moment: the spec's JSON plus the rows behind it."""

    payload: dict[str, Any]
    clock: dict[str, Any]
    pauses: list[dict[str, Any]]


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _limit(row: dict[str, Any], which: str) -> dict[str, Any]:
    return {
        "limit": row[f"{which}_limit"],
        "unit": row[f"{which}_unit"],
        "deadline": _iso(row[f"{which}_deadline"]),
        "elapsed": row[f"{which}_elapsed"],
        "remaining": row[f"{which}_remaining"],
        "overdue": bool(row[f"{which}_overdue"]),
    }


def explain_case(db: Database, case_id: str, at: datetime) -> Explanation:
    """The clock of ``case_id`` at ``at``; raises when the case has no accept by then."""
    events = "(SELECT * FROM events WHERE case_id = '" + case_id.replace("'", "''") + "')"
    install_clock_views(db, at, events=events)
    try:
        rows = db.query_dicts("SELECT * FROM case_clock WHERE case_id = ?", [case_id])
        pauses = db.query_dicts(
            "SELECT * FROM case_pauses WHERE case_id = ? ORDER BY started_at, start_event_id",
            [case_id],
        )
    finally:
        drop_clock_views(db)
    if not rows:
        known = db.scalar("SELECT count(*) FROM events WHERE case_id = ?", [case_id])
        when = at.isoformat(sep=" ", timespec="minutes")
        if not known:
            raise GovwatchError(f"没有办件 {case_id} 的事件：请检查 --case 与 --events")
        raise GovwatchError(f"办件 {case_id} 在 {when} 之前没有受理（accept）事件，尚未开始计时")
    row = rows[0]
    unit = row["promised_unit"] or row["legal_unit"] or "W"
    days_key = "days_n" if unit == "N" else "days_w"
    paused_days = row["paused_days_promised"] if row["promised_unit"] else row["paused_days_legal"]
    payload = {
        "case_id": case_id,
        "status": row["status"],
        "accepted_on": _iso(row["accepted_on"]),
        "paused_days": int(paused_days if paused_days is not None else row["paused_w"] or 0),
        "provisional": bool(row["provisional"]),
        "promised": _limit(row, "promised"),
        "legal": _limit(row, "legal"),
        "pauses": [
            {
                "kind": p["kind"],
                "from": _iso(p["started_at"]),
                "to": _iso(p["ended_at"]),
                "days": p[days_key],
            }
            for p in pauses
        ],
    }
    return Explanation(payload, row, pauses)


def _limit_line(name: str, part: dict[str, Any], status: str) -> str:
    if part["limit"] is None:
        return f"{name}：事项目录中没有该时限，不计算期限"
    unit = vocabulary.label(UNIT_NAMES, part["unit"])
    deadline = part["deadline"] or "超出日历范围"
    if status == "paused":
        deadline = f"暂停中（若今日恢复计时为 {deadline}）"
    state = "已超期" if part["overdue"] else "未超期"
    return (
        f"{name}：{part['limit']} 个{unit}，期限 {deadline}，已用 {part['elapsed']}，"
        f"剩余 {part['remaining']}，{state}"
    )


def render_text(db: Database, explanation: Explanation) -> str:
    """The human-readable account, in Chinese, with the clock listed day by day."""
    p, row = explanation.payload, explanation.clock
    lines = [
        f"办件 {p['case_id']}（事项 {row['item_code']}）：{vocabulary.label(CASE_STATUS_NAMES, p['status'])}，"
        f"受理于 {p['accepted_on']}",
        _limit_line("承诺时限", p["promised"], p["status"]),
        _limit_line("法定时限", p["legal"], p["status"]),
    ]
    if row["extension_days"]:
        lines.append(f"延长审批：两个时限各加 {row['extension_days']} 天")
    for pause in p["pauses"]:
        until = pause["to"] or "未结束（计至今日）"
        lines.append(
            f"暂停（{vocabulary.label(PAUSE_KIND_NAMES, pause['kind'])}）：{pause['from']} 至 "
            f"{until}，{pause['days']} 天（开始当日仍计入，结束当日不计入）"
        )
    if p["provisional"]:
        lines.append("注意：期限涉及尚无国务院节假日安排的年份，仅按周末计算，为暂定结果")
    lines.append("")
    lines.extend(_day_lines(db, explanation))
    return "\n".join(lines)


def _day_lines(db: Database, explanation: Explanation) -> list[str]:
    row = explanation.clock
    unit = row["promised_unit"] or row["legal_unit"] or "W"
    start: date = row["accepted_on"]
    ends = [d for d in (row["promised_deadline"], row["legal_deadline"], row["clock_on"]) if d]
    end: date = max(ends)
    paused = _paused_days(explanation.pauses, start, row["clock_on"])
    cal = db.query(
        "SELECT on_date, is_workday, provisional, note, EXTRACT(DOW FROM on_date) FROM calendar "
        "WHERE on_date > ? AND on_date <= ? ORDER BY on_date",
        [start, end],
    )
    marks = {row["promised_deadline"]: "承诺期限", row["legal_deadline"]: "法定期限"}
    if row["promised_deadline"] == row["legal_deadline"]:
        marks = {row["promised_deadline"]: "承诺与法定期限"}
    out = [f"逐日计时（{vocabulary.label(UNIT_NAMES, unit)}，受理当日 {start} 不计入）："]
    count, run = 0, []
    for on, workday, provisional, note, dow in cal:
        weekend = int(dow) in (0, 6)
        counts = unit == "N" or bool(workday)
        label = f"{on} 周{WEEKDAYS[(int(dow) + 6) % 7]}"
        if on in paused and counts:
            text = f"{label} 暂停（{vocabulary.label(PAUSE_KIND_NAMES, paused[on])}），不计"
        elif not counts:
            why = f"放假（{note}）" if note and not weekend else (f"{note}" if note else "周末")
            text = f"{label} 休息日：{why}，不计"
        else:
            count += 1
            extra = "（调休上班）" if weekend and workday else ""
            if unit == "N" and not workday:
                extra = f"（{note or '周末'}，自然日照计）"
            text = f"{label} 第 {count} 天{extra}"
            if not extra and on not in marks and not provisional and on != row["clock_on"]:
                run.append(text)
                continue
        out.extend(_flush(run))
        run = []
        if provisional:
            text += "［暂定］"
        if on in marks:
            text += f"  ← {marks[on]}"
        if on == row["clock_on"] and on not in marks:
            text += "  ← 今日" if row["status"] in ("open", "paused") else "  ← 办结/终止"
        out.append("  " + text)
    out.extend(_flush(run))
    return out


def _flush(run: list[str]) -> list[str]:
    """Ordinary counted days, collapsed when there are many in a row."""
    if len(run) <= 3:
        return ["  " + r for r in run]
    return ["  " + run[0], f"  …（{len(run) - 2} 个普通计数日）", "  " + run[-1]]


def _paused_days(pauses: list[dict[str, Any]], accepted: date, clock_on: date) -> dict[date, str]:
    days: dict[date, str] = {}
    for p in pauses:
        first = max(p["started_on"], accepted) + timedelta(days=1)
        last = min(p["until_on"], clock_on)
        day = first
        while day <= last:
            days.setdefault(day, p["kind"])
            day += timedelta(days=1)
    return days
