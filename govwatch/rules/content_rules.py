"""内容异常 (content) rules: completeness (完整性异常) and consistency (一致性异常).

Each arose (``arose_at``) when the event at fault happened: the acceptance without a required
material or with a late promise, the first event naming an unknown item or a material beyond
the guide.
"""

from __future__ import annotations

from govwatch.rules.model import Evidence, Rule, unit_name
from govwatch.vocabulary import event_kind_name


def _missing_materials(ev: Evidence) -> str:
    return (
        f"办件已于 {ev['accepted_at']} 受理，但事项要求的必要材料“{ev['material']}”"
        "既未在申请时提交，也未经补正收讫"
    )


MISSING_MATERIALS = Rule(
    id="missing_materials",
    rule_class="content",
    rule_type="完整性异常",
    level="yellow",
    key="材料名称",
    description="办件已受理，但事项要求的必要材料既未在申请时提交，也未在之后补正收讫",
    legal_basis="《中华人民共和国行政许可法》第三十二条（申请材料齐全方可受理）",
    evidence=("material", "accepted_at"),
    message=_missing_materials,
    sql="""
SELECT s.case_id, m.name AS key, {level} AS level, s.accepted_at AS arose_at,
    m.name AS material, s.accepted_at
FROM gw_case s
JOIN item_materials m ON m.item_code = s.item_code AND m.required = TRUE
LEFT JOIN (
    SELECT DISTINCT case_id, name FROM gw_event_materials
    WHERE (kind = 'apply' AND provided = TRUE) OR kind = 'supplement_received'
) got ON got.case_id = s.case_id AND got.name = m.name
WHERE s.accept_event_id IS NOT NULL AND got.case_id IS NULL
""",
)


def _unknown_item(ev: Evidence) -> str:
    return f"事件（{ev['event_id']}，{ev['kind']}）的事项编码“{ev['item_code']}”不在事项目录中" + (
        f"（共 {ev['count']} 个事件）" if int(ev["count"]) > 1 else ""
    )


UNKNOWN_ITEM = Rule(
    id="unknown_item",
    rule_class="content",
    rule_type="一致性异常",
    level="yellow",
    description="事件的事项编码不在事项目录中（每个办件一条）",
    legal_basis="政务服务事项目录管理；GB/T 39046-2020 事项管理",
    evidence=("item_code", "event_id", "kind", "count"),
    message=_unknown_item,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, x.occurred_at AS arose_at, x.item_code,
    x.event_id, x.kind, x.n AS count
FROM (
    SELECT e.case_id, e.item_code, e.event_id, e.kind, e.occurred_at,
        ROW_NUMBER() OVER (PARTITION BY e.case_id
                           ORDER BY e.occurred_at, e.kind_order, e.event_id) AS rn,
        COUNT(*) OVER (PARTITION BY e.case_id) AS n
    FROM gw_events e LEFT JOIN items i ON i.item_code = e.item_code
    WHERE e.item_code IS NOT NULL AND i.item_code IS NULL
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)


def _beyond_guide(ev: Evidence) -> str:
    what = event_kind_name(ev["event_kind"])
    return f"{what}（{ev['event_id']}）要求的材料“{ev['material']}”不在该事项办事指南的材料清单中"


MATERIALS_BEYOND_GUIDE = Rule(
    id="materials_beyond_guide",
    rule_class="content",
    rule_type="一致性异常",
    level="yellow",
    key="材料名称",
    description="申请或补正告知中出现事项材料清单以外的材料（要求提供办事指南之外的材料）",
    legal_basis="《中华人民共和国行政许可法》第三十一条（不得要求提交无关材料）",
    evidence=("material", "event_kind", "event_id"),
    message=_beyond_guide,
    sql="""
SELECT s.case_id, x.name AS key, {level} AS level, x.occurred_at AS arose_at,
    x.name AS material, x.kind AS event_kind, x.event_id
FROM (
    SELECT em.case_id, em.name, em.kind, em.event_id, em.occurred_at,
        ROW_NUMBER() OVER (PARTITION BY em.case_id, em.name
            ORDER BY em.occurred_at, em.kind_order, em.event_id, em.material_seq) AS rn
    FROM gw_event_materials em WHERE em.kind IN ('apply', 'supplement_request')
) x
JOIN gw_case s ON s.case_id = x.case_id AND s.item_known = TRUE
LEFT JOIN item_materials m ON m.item_code = s.item_code AND m.name = x.name
WHERE x.rn = 1 AND m.item_code IS NULL
""",
)


def _promise_mismatch(ev: Evidence) -> str:
    return (
        f"受理时承诺的办结时间 {ev['promised_finish_at']} 晚于按事项承诺时限"
        f"（{ev['limit_days']}{unit_name(ev['unit'])}）计算的办结期限 {ev['promised_deadline']}"
    )


# The deadline at acceptance, before any pause or extension: for W the working day whose
# ordinal is the acceptance date's plus L; for N the first working day on or after A + L.
PROMISE_MISMATCH = Rule(
    id="promise_mismatch",
    rule_class="content",
    rule_type="一致性异常",
    level="warning",
    description="受理事件的承诺办结时间晚于按事项承诺时限计算的办结期限",
    legal_basis="事项承诺办结时限；《中华人民共和国行政许可法》第四十二条",
    needs_clock=True,
    evidence=("event_id", "promised_finish_at", "promised_deadline", "limit_days", "unit"),
    message=_promise_mismatch,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, s.accepted_at AS arose_at, x.event_id,
    x.promised_finish_at, x.deadline AS promised_deadline, x.limit_days, x.unit
FROM (
    SELECT a.case_id, a.event_id, a.promised_finish_at, a.limit_days, a.unit,
        CASE WHEN a.limit_days = 0 THEN a.accepted_on
             WHEN a.unit = 'N' THEN dn.next_workday
             ELSE dw.on_date END AS deadline
    FROM (
        SELECT g.case_id, g.accept_event_id AS event_id, g.promised_finish_at,
            CAST(g.accepted_at AS DATE) AS accepted_on,
            c.promised_limit AS limit_days, COALESCE(c.promised_unit, 'W') AS unit,
            ca.workday_ordinal AS a_w, ca.day_ordinal AS a_d
        FROM gw_case g
        JOIN gw_case_clock c ON c.case_id = g.case_id
        JOIN calendar ca ON ca.on_date = CAST(g.accepted_at AS DATE)
        WHERE g.promised_finish_at IS NOT NULL AND c.promised_limit IS NOT NULL
    ) a
    LEFT JOIN calendar dn ON dn.day_ordinal = a.a_d + a.limit_days
    LEFT JOIN calendar dw ON dw.workday_ordinal = a.a_w + a.limit_days AND dw.is_workday = TRUE
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE CAST(x.promised_finish_at AS DATE) > x.deadline
""",
)

RULES = (MISSING_MATERIALS, UNKNOWN_ITEM, MATERIALS_BEYOND_GUIDE, PROMISE_MISMATCH)
