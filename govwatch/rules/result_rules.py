"""流程异常 (process) rules of types 结果异常 and 决定异常: how a case ended and why.

Each arose (``arose_at``) when the finish, termination or rejection at fault happened.
"""

from __future__ import annotations

from govwatch.rules.model import Evidence, Rule
from govwatch.vocabulary import FINISH_RESULT_NAMES, label


def _result_without_reason(ev: Evidence) -> str:
    if ev["kind"] == "terminate":
        return f"办件于 {ev['occurred_at']} 终止，但未说明理由"
    result = label(FINISH_RESULT_NAMES, ev["result"])
    return f"办件以“{result}”办结，但未说明理由"


RESULT_WITHOUT_REASON = Rule(
    id="result_without_reason",
    rule_class="process",
    rule_type="结果异常",
    level="yellow",
    description="以退回、作废、删除或补正不来办结，或终止办件，未填写理由",
    legal_basis="GB/T 39046-2020 事项办结；电子监察规则“删除、退回、作废办件无理由”",
    evidence=("kind", "result", "event_id", "occurred_at"),
    message=_result_without_reason,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, x.occurred_at AS arose_at, x.kind, x.result,
    x.event_id, x.occurred_at
FROM (
    SELECT e.case_id, e.kind, e.result, e.event_id, e.occurred_at,
        ROW_NUMBER() OVER (PARTITION BY e.case_id
            ORDER BY e.occurred_at, e.kind_order, e.event_id) AS rn
    FROM gw_events e
    WHERE ((e.kind = 'finish' AND e.result IN ('1', '2', '3', '5')) OR e.kind = 'terminate')
      AND (e.reason IS NULL OR TRIM(e.reason) = '')
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)


def _licence_missing(ev: Evidence) -> str:
    return f"办件于 {ev['occurred_at']} 以“出证办结”办结，但未登记证照编号"


LICENCE_MISSING = Rule(
    id="licence_missing",
    rule_class="process",
    rule_type="结果异常",
    level="yellow",
    description="以出证办结方式办结，但未登记证照编号",
    legal_basis="《中华人民共和国行政许可法》第三十九条、第四十四条",
    evidence=("event_id", "occurred_at"),
    message=_licence_missing,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, x.occurred_at AS arose_at, x.event_id,
    x.occurred_at
FROM (
    SELECT e.case_id, e.event_id, e.occurred_at,
        ROW_NUMBER() OVER (PARTITION BY e.case_id
            ORDER BY e.occurred_at, e.kind_order, e.event_id) AS rn
    FROM gw_events e
    WHERE e.kind = 'finish' AND e.result = '0'
      AND (e.license_no IS NULL OR TRIM(e.license_no) = '')
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)


def _adverse(ev: Evidence) -> str:
    what = "不予受理" if ev["kind"] == "reject" else "不予许可决定"
    missing = "、".join(
        name
        for name, flag in (("理由", ev["missing_reason"]), ("法律依据", ev["missing_legal_basis"]))
        if flag
    )
    return f"{ev['occurred_at']} 作出的{what}缺少{missing}"


ADVERSE_DECISION_WITHOUT_BASIS = Rule(
    id="adverse_decision_without_basis",
    rule_class="process",
    rule_type="决定异常",
    level="red",
    description="不予受理，或以不予许可办结，缺少理由或法律依据",
    legal_basis="《中华人民共和国行政许可法》第三十二条、第三十八条（说明理由、告知依据）",
    evidence=("kind", "event_id", "occurred_at", "missing_reason", "missing_legal_basis"),
    message=_adverse,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, x.occurred_at AS arose_at, x.kind, x.event_id,
    x.occurred_at, x.missing_reason, x.missing_legal_basis
FROM (
    SELECT e.case_id, e.kind, e.event_id, e.occurred_at,
        CASE WHEN e.reason IS NULL OR TRIM(e.reason) = '' THEN TRUE ELSE FALSE END
            AS missing_reason,
        CASE WHEN e.legal_basis IS NULL OR TRIM(e.legal_basis) = '' THEN TRUE ELSE FALSE END
            AS missing_legal_basis,
        ROW_NUMBER() OVER (PARTITION BY e.case_id
            ORDER BY e.occurred_at, e.kind_order, e.event_id) AS rn
    FROM gw_events e
    WHERE (e.kind = 'reject' OR (e.kind = 'finish' AND e.result = '7'))
      AND (e.reason IS NULL OR TRIM(e.reason) = ''
           OR e.legal_basis IS NULL OR TRIM(e.legal_basis) = '')
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)

RULES = (RESULT_WITHOUT_REASON, LICENCE_MISSING, ADVERSE_DECISION_WITHOUT_BASIS)
