"""廉政风险点异常 (integrity risk): the prevention measures of an item's risk points, per case.

Each measure of data.md is checked on the events of the risk point's step:

- ``two_person_review``: the step has ended (a ``step_end``) and its ``step_end`` events name
  fewer than two different handlers;
- ``separation_of_duties``: a ``step_end`` of the step is by the handler who accepted;
- ``no_conflict_of_interest``: a ``relation`` event of the case declares a handler of the step
  (the actor of one of its ``step_start``/``step_end`` events) related to the applicant;
- ``office_hours``: a ``step_end`` of the step falls on a rest day or outside 08:00–18:00;
- ``no_edit_after_finish``: a ``correction`` event comes after the case finished.

A finding arose (``arose_at``) at the first event that broke the measure: the step's end (or,
for a conflict of interest, the related handler's first event of the step), the correction.

The key is ``step + "/" + measure`` (e.g. ``决定/two_person_review``); the level follows the
risk point's level: 高 → ``high_level``, 中 → ``medium_level``, 低 → ``low_level``.
"""

from __future__ import annotations

from govwatch.rules.model import Evidence, Param, Rule
from govwatch.rules.views import before, case_order, order_of
from govwatch.vocabulary import RISK_MEASURE_NAMES, label

_DETAILS = {
    "two_person_review": "该环节仅由 1 名经办人办结",
    "separation_of_duties": "受理人 {actor} 同时办结了该环节",
    "no_conflict_of_interest": "经办人 {actor} 已申报与申请人存在关联关系",
    "office_hours": "该环节于 {occurred_at} 办结，不在工作日 08:00–18:00 之内",
    "no_edit_after_finish": "办件办结后于 {occurred_at} 更正了数据",
}


def _risk_points(measure: str) -> str:
    """The (case, risk point) pairs of one measure, with what its checks need."""
    return (
        "SELECT c.case_id, r.step, r.measure, r.level AS risk_level, c.accepted_by, "
        "c.finished_at, c.finish_kind_order, c.finish_event_id FROM gw_case c JOIN item_risk_points r ON r.item_code = c.item_code "
        f"WHERE r.measure = '{measure}'"
    )


_SECONDS = (
    "(EXTRACT(HOUR FROM e.occurred_at) * 3600 + EXTRACT(MINUTE FROM e.occurred_at) * 60"
    " + EXTRACT(SECOND FROM e.occurred_at))"
)
_PICK = "rp.case_id, rp.step, rp.measure, rp.risk_level, e.event_id, e.actor, e.occurred_at, e.kind_order"

_AFTER_FINISH = before(case_order("rp", "finish"), order_of("e"))

# One branch per measure, each joining only the events its check reads on (case, step).
# Fewer than two different handlers: the least and the greatest handler are the same (or none).
# Relations are not filtered on ``handler IS NOT NULL`` (the join drops NULLs): PostgreSQL
# multiplies the two selectivities, expects one row and picks nested loops over every event.
_BRANCHES = (
    f"""SELECT {_PICK} FROM ({_risk_points("two_person_review")}) rp
JOIN gw_events e ON e.case_id = rp.case_id AND e.step = rp.step AND e.kind = 'step_end'
JOIN (
    SELECT case_id, step, MIN(actor) AS first_actor, MAX(actor) AS last_actor
    FROM gw_events WHERE kind = 'step_end' GROUP BY case_id, step
) ends ON ends.case_id = rp.case_id AND ends.step = rp.step
WHERE ends.first_actor IS NULL OR ends.first_actor = ends.last_actor""",
    f"""SELECT {_PICK} FROM ({_risk_points("separation_of_duties")}) rp
JOIN gw_events e ON e.case_id = rp.case_id AND e.step = rp.step AND e.kind = 'step_end'
WHERE e.actor = rp.accepted_by""",
    f"""SELECT {_PICK} FROM ({_risk_points("no_conflict_of_interest")}) rp
JOIN gw_events e ON e.case_id = rp.case_id AND e.step = rp.step
JOIN (
    SELECT DISTINCT case_id, handler FROM gw_events WHERE kind = 'relation'
) rel ON rel.case_id = e.case_id AND rel.handler = e.actor
WHERE e.kind IN ('step_start', 'step_end')""",
    f"""SELECT {_PICK} FROM ({_risk_points("office_hours")}) rp
JOIN gw_events e ON e.case_id = rp.case_id AND e.step = rp.step AND e.kind = 'step_end'
LEFT JOIN calendar cal ON cal.on_date = CAST(e.occurred_at AS DATE)
WHERE cal.is_workday = FALSE OR {_SECONDS} < 28800 OR {_SECONDS} > 64800""",
    f"""SELECT {_PICK} FROM ({_risk_points("no_edit_after_finish")}) rp
JOIN gw_events e ON e.case_id = rp.case_id AND e.kind = 'correction'
WHERE rp.finish_event_id IS NOT NULL AND {_AFTER_FINISH}""",
)
_UNION = "\nUNION ALL\n".join(_BRANCHES)


def _risk(ev: Evidence) -> str:
    measure = str(ev["measure"])
    detail = _DETAILS.get(measure, "").format(actor=ev["actor"], occurred_at=ev["occurred_at"])
    return (
        f"环节“{ev['step']}”的廉政风险点（{ev['risk_level']}）防控措施"
        f"“{label(RISK_MEASURE_NAMES, measure)}”未落实：{detail}"
    )


RISK_MEASURE_VIOLATED = Rule(
    id="risk_measure_violated",
    rule_class="integrity",
    rule_type="廉政风险点异常",
    level="warning",
    graded=True,
    key="环节名称/防控措施",
    description="事项廉政风险点的防控措施在本办件中未落实；级别随风险等级：高→红牌，中→黄牌，低→预警",
    legal_basis="廉政风险防控制度；事项廉政风险点及防控措施",
    params=(
        Param("high_level", "red", "level", "风险等级“高”的告警级别"),
        Param("medium_level", "yellow", "level", "风险等级“中”的告警级别"),
        Param("low_level", "warning", "level", "风险等级“低”的告警级别"),
    ),
    evidence=("step", "measure", "risk_level", "event_id", "actor", "occurred_at"),
    message=_risk,
    sql=f"""
SELECT s.case_id, x.step || '/' || x.measure AS key,
    CASE x.risk_level WHEN '高' THEN {{high_level}} WHEN '中' THEN {{medium_level}}
         ELSE {{low_level}} END AS level,
    x.occurred_at AS arose_at, x.step, x.measure, x.risk_level, x.event_id, x.actor,
    x.occurred_at
FROM (
    SELECT v.*, ROW_NUMBER() OVER (PARTITION BY v.case_id, v.step, v.measure
                                   ORDER BY v.occurred_at, v.kind_order, v.event_id) AS rn
    FROM (
{_UNION}
    ) v
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)

RULES = (RISK_MEASURE_VIOLATED,)
