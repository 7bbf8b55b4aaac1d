"""时效异常 (timeliness) rules, read from the case clocks of :mod:`govwatch.deadlines.views`.

Each finding arose (``arose_at``) when its limit or warning point was passed: a deadline at the
first moment of the day after it, a count of days on the first moment of the day it went past
the limit (the moments :mod:`govwatch.deadlines.next_check` schedules the sweeper for).
"""

from __future__ import annotations

from govwatch.rules.model import Evidence, Param, Rule, unit_name
from govwatch.rules.views import counted_day, day_after, not_before

# The day a case's remaining promised days first fell to warn_days: limit, extensions and
# pauses, less warn_days, counted from acceptance (never before acceptance).
_WARN_JOINS, _WARN_DAY = counted_day(
    "wd",
    "c.promised_unit",
    "c.accepted_on",
    "c.promised_limit + c.extension_days + c.paused_days_promised - {warn_days}",
)
# The day a step's elapsed days first exceeded its limit: counted back from the last day its
# clock ran, so that the pauses inside the step are allowed for. A step run several times
# arose when its first overdue run ran over (the finding shows the worst run).
_STEP_JOINS, _STEP_DAY = counted_day("sd", "x.unit", "x.until_on", "x.limit_days + 1 - x.elapsed")


def _near_deadline(ev: Evidence) -> str:
    note = "（期限落入未公布假期安排的年份，为暂定）" if ev.get("provisional") else ""
    if int(ev["remaining"]) == 0:
        return f"办件承诺办结期限为今日（{ev['deadline']}），尚未办结{note}"
    return (
        f"办件距承诺办结期限 {ev['deadline']} 仅剩 {ev['remaining']}{unit_name(ev['unit'])}，"
        f"尚未办结{note}"
    )


NEAR_DEADLINE = Rule(
    id="near_deadline",
    rule_class="timeliness",
    rule_type="临近时限预警",
    level="warning",
    description="在办且未暂停计时的办件，距承诺办结期限的剩余天数在 0 至提前预警天数（默认 2 天）之间",
    legal_basis="《中华人民共和国行政许可法》第四十二条；承诺办结时限",
    params=(Param("warn_days", 2, "int", "提前预警的天数（承诺时限单位）"),),
    time_driven=True,
    needs_clock=True,
    evidence=("deadline", "elapsed", "remaining", "limit_days", "unit", "warn_days", "provisional"),
    message=_near_deadline,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level,
    """
    + not_before("c.accepted_at", _WARN_DAY)
    + """ AS arose_at,
    c.promised_deadline AS deadline,
    c.promised_elapsed AS elapsed, c.promised_remaining AS remaining,
    c.promised_limit AS limit_days, COALESCE(c.promised_unit, 'W') AS unit,
    {warn_days} AS warn_days, c.provisional
FROM gw_case_clock c
JOIN gw_case s ON s.case_id = c.case_id
"""
    + _WARN_JOINS
    + """
WHERE c.status = 'open' AND c.paused_now = FALSE
  AND c.promised_remaining >= 0 AND c.promised_remaining <= {warn_days}
""",
)


def _step_overdue(ev: Evidence) -> str:
    state = "至今尚未结束" if ev["still_open"] else "已结束"
    return (
        f"环节“{ev['step']}”时限 {ev['limit_days']}{unit_name(ev['unit'])}，已用 {ev['elapsed']}"
        f"{unit_name(ev['unit'])}，超期 {ev['days_late']}{unit_name(ev['unit'])}（{state}）"
    )


STEP_OVERDUE = Rule(
    id="step_overdue",
    rule_class="timeliness",
    rule_type="办理环节超期",
    level="yellow",
    key="环节名称",
    description="环节已用天数超过其时限（已超期结束，或仍在办理且已超期）",
    legal_basis="事项办事指南规定的环节时限",
    time_driven=True,
    needs_clock=True,
    evidence=(
        "step",
        "started_at",
        "ended_at",
        "limit_days",
        "unit",
        "elapsed",
        "days_late",
        "still_open",
    ),
    message=_step_overdue,
    sql="""
SELECT s.case_id, x.step AS key, {level} AS level, x.arose_at,
    x.step, x.started_at, x.ended_at, x.limit_days, x.unit, x.elapsed, x.days_late, x.still_open
FROM (
    SELECT y.*, ROW_NUMBER() OVER (PARTITION BY y.case_id, y.step
                                   ORDER BY y.days_late DESC, y.started_at) AS rn,
        MIN(y.run_over_at) OVER (PARTITION BY y.case_id, y.step) AS arose_at
    FROM (
        SELECT x.*, """
    + not_before("x.started_at", _STEP_DAY)
    + """ AS run_over_at
        FROM (
            SELECT k.case_id, k.step, k.started_at, k.ended_at, k.until_on, k.limit_days,
                COALESCE(k.unit, 'W') AS unit, k.elapsed, k.days_late,
                CASE WHEN k.ended_at IS NULL THEN TRUE ELSE FALSE END AS still_open
            FROM gw_step_clock k WHERE k.overdue = TRUE
        ) x
        """
    + _STEP_JOINS
    + """
    ) y
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)


def _case_overdue(ev: Evidence) -> str:
    which = "法定" if ev["legal_overdue"] else "承诺"
    deadline = ev["legal_deadline"] if ev["legal_overdue"] else ev["promised_deadline"]
    late = ev["legal_days_late"] if ev["legal_overdue"] else ev["promised_days_late"]
    unit = ev["legal_unit"] if ev["legal_overdue"] else ev["promised_unit"]
    if ev["finished_at"] is not None:
        return (
            f"办件于 {ev['finished_at']} 办结，超过{which}办结期限 {deadline}"
            f" {late}{unit_name(unit)}"
        )
    return f"办件已超过{which}办结期限 {deadline} {late}{unit_name(unit)}，仍未办结"


# Yellow arose when the promised deadline passed, red when the legal one did; when both
# deadlines give the same level (a setting), that level arose when the first of them passed.
_PROMISED_PASSED = day_after("c.promised_deadline")
_LEGAL_PASSED = day_after("c.legal_deadline")
_OVERDUE_AROSE = f"""CASE WHEN c.legal_overdue = TRUE AND c.promised_overdue = TRUE
            AND {{legal_level}} = {{promised_level}}
        THEN LEAST({_PROMISED_PASSED}, {_LEGAL_PASSED})
        WHEN c.legal_overdue = TRUE THEN {_LEGAL_PASSED}
        ELSE {_PROMISED_PASSED} END"""

CASE_OVERDUE = Rule(
    id="case_overdue",
    rule_class="timeliness",
    rule_type="办理超期异常",
    level="yellow",
    graded=True,
    description="办件超过承诺办结期限（黄牌）或法定办结期限（红牌），在办或已超期办结",
    legal_basis="《中华人民共和国行政许可法》第四十二条、第四十五条",
    params=(
        Param("promised_level", "yellow", "level", "超承诺时限的告警级别"),
        Param("legal_level", "red", "level", "超法定时限的告警级别"),
    ),
    time_driven=True,
    needs_clock=True,
    evidence=(
        "status",
        "finished_at",
        "promised_deadline",
        "promised_unit",
        "promised_days_late",
        "legal_deadline",
        "legal_unit",
        "legal_days_late",
        "legal_overdue",
        "provisional",
    ),
    message=_case_overdue,
    sql="""
SELECT s.case_id, '' AS key,
    CASE WHEN c.legal_overdue = TRUE THEN {legal_level} ELSE {promised_level} END AS level,
    """
    + _OVERDUE_AROSE
    + """ AS arose_at,
    c.status, c.finished_at, c.promised_deadline, COALESCE(c.promised_unit, 'W') AS promised_unit,
    c.promised_days_late, c.legal_deadline, COALESCE(c.legal_unit, 'W') AS legal_unit,
    c.legal_days_late, CASE WHEN c.legal_overdue = TRUE THEN TRUE ELSE FALSE END AS legal_overdue,
    c.provisional
FROM gw_case_clock c
JOIN gw_case s ON s.case_id = c.case_id
WHERE c.promised_overdue = TRUE OR c.legal_overdue = TRUE
""",
)

RULES = (NEAR_DEADLINE, STEP_OVERDUE, CASE_OVERDUE)
