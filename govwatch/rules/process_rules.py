"""流程异常 (process) rules of type 过程异常: the flow of a case against its item and the law.

When each arose (``arose_at``): a missing step at the finish that lacked it; a step or event
out of order when it happened; too many supplement requests or returns at the one that went
over the limit; a pause that ran over on the first moment of the day it passed its limit.
"""

from __future__ import annotations

from govwatch.rules.model import Evidence, Param, Rule
from govwatch.rules.views import before, case_order, counted_day, not_before, order_of
from govwatch.vocabulary import FINISH_RESULT_NAMES, event_kind_name, label


def _nth(counted: str, count: str) -> str:
    """A LEFT JOIN ``nth`` to the case's ``counted`` event (views.COUNTED_SQL) numbered
    ``count`` in the case's order: the one that took a count over its limit, when ``count`` is
    the limit + 1."""
    return (
        f"LEFT JOIN gw_counted_events nth ON nth.case_id = s.case_id "
        f"AND nth.counted = '{counted}' AND nth.n = {count}"
    )


def _missing_step(ev: Evidence) -> str:
    result = label(FINISH_RESULT_NAMES, ev["result"])
    return f"办件以“{result}”办结，但缺少事项规定的必经环节“{ev['step']}”"


MISSING_STEP = Rule(
    id="missing_step",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    key="环节名称",
    description="以出证办结或准予办结的办件，缺少事项办理流程中的必经环节",
    legal_basis="事项办事指南规定的办理流程；GB/T 39046-2020 事项办理",
    evidence=("step", "result"),
    message=_missing_step,
    sql="""
SELECT s.case_id, st.name AS key, {level} AS level, s.finished_at AS arose_at,
    st.name AS step, s.result AS result
FROM gw_case s
JOIN item_steps st ON st.item_code = s.item_code AND st.mandatory = TRUE
LEFT JOIN (
    SELECT DISTINCT case_id, step FROM gw_events WHERE kind IN ('step_start', 'step_end')
) done ON done.case_id = s.case_id AND done.step = st.name
WHERE s.result IN ('0', '6') AND done.case_id IS NULL
""",
)


def _step_out_of_order(ev: Evidence) -> str:
    return (
        f"环节“{ev['step']}”（流程第 {ev['flow_seq']} 步）在其后续环节“{ev['after_step']}”"
        f"（流程第 {ev['after_flow_seq']} 步）开始之后才开始，与事项办理流程顺序不符"
    )


STEP_OUT_OF_ORDER = Rule(
    id="step_out_of_order",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    key="环节名称",
    description="环节开始的先后顺序与事项办理流程不一致（某环节在流程中位于其后的环节之后才首次开始）",
    legal_basis="事项办事指南规定的办理流程",
    evidence=("step", "flow_seq", "after_step", "after_flow_seq", "started_at"),
    message=_step_out_of_order,
    sql="""
SELECT s.case_id, x.step AS key, {level} AS level, x.started_at AS arose_at, x.step,
    x.flow_seq, x.after_step, x.after_flow_seq, x.started_at
FROM (
    SELECT f.case_id, f.step, f.started_at, st.seq AS flow_seq,
        LAG(st.seq) OVER (PARTITION BY f.case_id ORDER BY f.started_at, f.event_id)
            AS after_flow_seq,
        LAG(f.step) OVER (PARTITION BY f.case_id ORDER BY f.started_at, f.event_id)
            AS after_step
    FROM (
        SELECT q.case_id, q.step, q.occurred_at AS started_at, q.event_id
        FROM (
            SELECT case_id, step, occurred_at, event_id,
                ROW_NUMBER() OVER (PARTITION BY case_id, step ORDER BY occurred_at, event_id)
                    AS rn
            FROM gw_events WHERE kind = 'step_start' AND step IS NOT NULL
        ) q
        WHERE q.rn = 1
    ) f
    JOIN gw_case c ON c.case_id = f.case_id
    JOIN item_steps st ON st.item_code = c.item_code AND st.name = f.step
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.after_flow_seq > x.flow_seq
""",
)

_BEFORE_ACCEPT = before(order_of("e"), case_order("c", "accept"))
# ``{e}``: the alias of the event row, filled in below.
_AFTER_END = before(case_order("c", "end"), order_of("{e}"))

_ORDER_PROBLEMS = {
    "before_accept": "发生在受理之前",
    "without_request": "之前没有对应的补正告知",
    "without_start": "之前没有对应的特别程序开始",
    "without_suspend": "之前没有对应的中止",
    "after_end": "发生在办件办结或终止之后",
}


def _event_out_of_order(ev: Evidence) -> str:
    more = f"（共 {ev['count']} 次）" if int(ev["count"]) > 1 else ""
    return (
        f"“{event_kind_name(ev['kind'])}”事件（{ev['event_id']}，{ev['occurred_at']}）"
        f"{_ORDER_PROBLEMS.get(str(ev['problem']), ev['problem'])}，事件顺序不可能{more}"
    )


EVENT_OUT_OF_ORDER = Rule(
    id="event_out_of_order",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    key="事件类型",
    description=(
        "不可能的事件顺序：受理前的环节、办结或收费；无补正告知的补正收讫；无开始的特别程序结束；"
        "无中止的恢复；办结或终止后除评价、收费、更正以外的事件"
    ),
    legal_basis="GB/T 39046-2020 政务服务平台基础数据规范（办件流程）",
    evidence=("kind", "problem", "event_id", "occurred_at", "count"),
    message=_event_out_of_order,
    sql="""
SELECT s.case_id, x.kind AS key, {level} AS level, x.occurred_at AS arose_at, x.kind,
    x.problem, x.event_id, x.occurred_at, x.n AS count
FROM (
    SELECT o.*, ROW_NUMBER() OVER (PARTITION BY o.case_id, o.kind
                                   ORDER BY o.occurred_at, o.kind_order, o.event_id) AS rn,
        COUNT(*) OVER (PARTITION BY o.case_id, o.kind) AS n
    FROM (
        SELECT e.case_id, e.kind, e.event_id, e.occurred_at, e.kind_order,
            CASE
                WHEN e.kind IN ('step_start', 'step_end', 'finish', 'payment')
                     AND (c.accept_event_id IS NULL OR """
    + _BEFORE_ACCEPT
    + """)
                    THEN 'before_accept'
                WHEN c.end_event_id IS NOT NULL AND """
    + _AFTER_END.format(e="e")
    + """
                     AND e.kind NOT IN ('rating', 'payment', 'correction') THEN 'after_end'
            END AS problem
        FROM gw_events e
        JOIN gw_case c ON c.case_id = e.case_id
        WHERE e.kind NOT IN ('supplement_request', 'supplement_received', 'special_start',
                             'special_end', 'suspend', 'resume')
        UNION ALL
        SELECT r.case_id, r.kind, r.event_id, r.occurred_at, r.kind_order,
            CASE
                WHEN c.end_event_id IS NOT NULL AND """
    + _AFTER_END.format(e="r")
    + """
                    THEN 'after_end'
                WHEN r.kind = 'supplement_received' AND r.balance > 0 THEN 'without_request'
                WHEN r.kind = 'special_end' AND r.balance > 0 THEN 'without_start'
                WHEN r.kind = 'resume' AND r.balance > 0 THEN 'without_suspend'
            END AS problem
        FROM (
            SELECT p.case_id, p.kind, p.event_id, p.occurred_at, p.kind_order,
                SUM(CASE WHEN p.kind IN ('supplement_received', 'special_end', 'resume')
                         THEN 1 ELSE -1 END) OVER (
                    PARTITION BY p.case_id, p.pair ORDER BY p.occurred_at, p.kind_order, p.event_id
                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance
            FROM (
                SELECT e.case_id, e.kind, e.event_id, e.occurred_at, e.kind_order,
                    CASE WHEN e.kind IN ('supplement_request', 'supplement_received') THEN 1
                         WHEN e.kind IN ('special_start', 'special_end') THEN 2
                         ELSE 3 END AS pair
                FROM gw_events e
                WHERE e.kind IN ('supplement_request', 'supplement_received', 'special_start',
                                 'special_end', 'suspend', 'resume')
            ) p
        ) r
        JOIN gw_case c ON c.case_id = r.case_id
    ) o
    WHERE o.problem IS NOT NULL
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)


def _repeated_supplement(ev: Evidence) -> str:
    return (
        f"办件共发出 {ev['requests']} 次补正告知，超过 {ev['max_requests']} 次，"
        "未做到一次性告知需补正的全部内容"
    )


REPEATED_SUPPLEMENT = Rule(
    id="repeated_supplement",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    description="同一办件的补正告知次数超过允许的补正告知次数（默认 1 次，应一次性告知）",
    legal_basis="《中华人民共和国行政许可法》第三十二条（一次性告知）",
    params=(Param("max_requests", 1, "int", "允许的补正告知次数"),),
    evidence=("requests", "max_requests"),
    message=_repeated_supplement,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, nth.occurred_at AS arose_at,
    s.supplement_requests AS requests, {max_requests} AS max_requests
FROM gw_case s
"""
    + _nth("supplement_request", "{max_requests} + 1")
    + """
WHERE s.supplement_requests > {max_requests}
""",
)


def _special_overrun(ev: Evidence) -> str:
    state = "已进行" if ev["ended_at"] is None else "共用时"
    return (
        f"特别程序（{ev['procedure_type'] or '其他'}，{ev['start_event_id']}）自 {ev['started_at']} 起"
        f"{state} {ev['days']}{_unit(ev['unit'])}，超过其时限 {ev['limit_days']}{_unit(ev['unit'])}"
    )


def _unit(unit: object) -> str:
    return " 个自然日" if unit == "N" else " 个工作日"


# A pause ran over on the day its count of days first exceeded the limit (limit + 1 days after
# the day it started, which is not counted).
_SPECIAL_JOINS, _SPECIAL_DAY = counted_day("od", "x.unit", "x.started_on", "x.limit_days + 1")
_SUSPENSION_JOINS, _SUSPENSION_DAY = counted_day("sd", "{unit}", "p.started_on", "{max_days} + 1")

SPECIAL_PROCEDURE_OVERRUN = Rule(
    id="special_procedure_overrun",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    key="特别程序开始事件编号",
    description="特别程序（种类 2：听证、检验、检测、鉴定、专家评审等）持续时间超过其自身时限",
    legal_basis="《中华人民共和国行政许可法》第四十五条",
    time_driven=True,
    needs_clock=True,
    evidence=(
        "start_event_id",
        "procedure_type",
        "started_at",
        "ended_at",
        "limit_days",
        "unit",
        "days",
    ),
    message=_special_overrun,
    sql="""
SELECT s.case_id, x.start_event_id AS key, {level} AS level,
    """
    + not_before("x.started_at", _SPECIAL_DAY)
    + """ AS arose_at,
    x.start_event_id, e.procedure_type, x.started_at, x.ended_at, x.limit_days, x.unit, x.days
FROM (
    SELECT p.case_id, p.start_event_id, p.started_at, p.started_on, p.ended_at, p.limit_days,
        COALESCE(p.limit_unit, 'W') AS unit,
        CASE WHEN p.limit_unit = 'N' THEN p.days_n ELSE p.days_w END AS days
    FROM gw_case_pauses p WHERE p.kind = 'special' AND p.limit_days IS NOT NULL
) x
JOIN gw_case s ON s.case_id = x.case_id
LEFT JOIN gw_events e ON e.event_id = x.start_event_id
"""
    + _SPECIAL_JOINS
    + """
WHERE x.days > x.limit_days
""",
)


def _long_suspension(ev: Evidence) -> str:
    state = "至今已中止" if ev["ended_at"] is None else "中止"
    return (
        f"办件自 {ev['started_at']} 起{state} {ev['days']}{_unit(ev['unit'])}，"
        f"超过 {ev['max_days']}{_unit(ev['unit'])}"
    )


LONG_SUSPENSION = Rule(
    id="long_suspension",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    key="中止事件编号",
    description="一次中止（挂起）持续超过允许的最长中止天数（默认 30 个自然日，可设为工作日）",
    legal_basis="《中华人民共和国行政许可法》第四十五条；办件挂起管理规定",
    time_driven=True,
    needs_clock=True,
    params=(
        Param("max_days", 30, "int", "允许的最长中止天数"),
        Param("unit", "N", "unit", "天数单位：W 工作日，N 自然日"),
    ),
    evidence=("start_event_id", "started_at", "ended_at", "days", "unit", "max_days"),
    message=_long_suspension,
    sql="""
SELECT s.case_id, p.start_event_id AS key, {level} AS level,
    """
    + not_before("p.started_at", _SUSPENSION_DAY)
    + """ AS arose_at,
    p.start_event_id, p.started_at,
    p.ended_at, CASE WHEN {unit} = 'W' THEN p.days_w ELSE p.days_n END AS days,
    {unit} AS unit, {max_days} AS max_days
FROM gw_case_pauses p
JOIN gw_case s ON s.case_id = p.case_id
"""
    + _SUSPENSION_JOINS
    + """
WHERE p.kind = 'suspension'
  AND CASE WHEN {unit} = 'W' THEN p.days_w ELSE p.days_n END > {max_days}
""",
)


def _repeated_return(ev: Evidence) -> str:
    return f"办件共有 {ev['returns']} 个环节以“退回”结束，超过 {ev['max_returns']} 次"


REPEATED_RETURN = Rule(
    id="repeated_return",
    rule_class="process",
    rule_type="过程异常",
    level="yellow",
    description="以退回结束的环节超过允许的退回次数（默认 2 次）",
    legal_basis="事项办事指南规定的办理流程",
    params=(Param("max_returns", 2, "int", "允许的退回次数"),),
    evidence=("returns", "max_returns"),
    message=_repeated_return,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, nth.occurred_at AS arose_at, s.returns,
    {max_returns} AS max_returns
FROM gw_case s
"""
    + _nth("return", "{max_returns} + 1")
    + """
WHERE s.returns > {max_returns}
""",
)

RULES = (
    MISSING_STEP,
    STEP_OUT_OF_ORDER,
    EVENT_OUT_OF_ORDER,
    REPEATED_SUPPLEMENT,
    SPECIAL_PROCEDURE_OVERRUN,
    LONG_SUSPENSION,
    REPEATED_RETURN,
)
