"""裁量(收费)异常 (discretion and fees) rules: decided values against the benchmark, fees.

When each arose (``arose_at``): the finish that decided out of band; the first payment on an
item without a fee; for a fee that does not match, the finish, or the payment after it from
which the total has not matched since.
"""

from __future__ import annotations

from govwatch.rules.model import Evidence, Param, Rule
from govwatch.rules.views import before, case_order, order_of


def _discretion(ev: Evidence) -> str:
    if ev["problem"] == "unknown_tier":
        return f"办结决定采用的裁量档次“{ev['tier']}”不在该事项的裁量基准中"
    low = "不限" if ev["min_value"] is None else ev["min_value"]
    high = "不限" if ev["max_value"] is None else ev["max_value"]
    return f"办结决定值 {ev['decided_value']} 超出裁量档次“{ev['tier']}”的范围（{low} 至 {high}）"


DISCRETION_OUT_OF_BAND = Rule(
    id="discretion_out_of_band",
    rule_class="discretion",
    rule_type="裁量异常",
    level="red",
    description="办结决定值超出其裁量档次的范围，或采用了事项没有的裁量档次",
    legal_basis="行政裁量权基准制度（《国务院办公厅关于进一步规范行政裁量权基准制定和管理工作的意见》）",
    evidence=("event_id", "tier", "decided_value", "min_value", "max_value", "problem"),
    message=_discretion,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, x.occurred_at AS arose_at, x.event_id, x.tier,
    x.decided_value, x.min_value, x.max_value, x.problem
FROM (
    SELECT y.*, ROW_NUMBER() OVER (PARTITION BY y.case_id
                              ORDER BY y.occurred_at, y.kind_order, y.event_id) AS rn
    FROM (
        SELECT e.case_id, e.occurred_at, e.kind_order, e.event_id, e.tier, e.decided_value, t.min_value,
            t.max_value,
            CASE WHEN t.tier IS NULL THEN 'unknown_tier' ELSE 'out_of_band' END AS problem
        FROM gw_events e
        JOIN gw_case c ON c.case_id = e.case_id AND c.item_known = TRUE
        LEFT JOIN item_tiers t ON t.item_code = c.item_code AND t.tier = e.tier
        WHERE e.kind = 'finish' AND e.tier IS NOT NULL
          AND (t.tier IS NULL OR (e.decided_value IS NOT NULL AND (
                (t.min_value IS NOT NULL AND e.decided_value < t.min_value)
                OR (t.max_value IS NOT NULL AND e.decided_value > t.max_value))))
    ) y
) x
JOIN gw_case s ON s.case_id = x.case_id
WHERE x.rn = 1
""",
)


def _unlisted_fee(ev: Evidence) -> str:
    return f"该事项不收费，但办件有 {ev['payments']} 笔收费，合计 {ev['amount_yuan']:.2f} 元（擅自收费）"


UNLISTED_FEE = Rule(
    id="unlisted_fee",
    rule_class="discretion",
    rule_type="收费金额异常",
    level="red",
    description="对不收费的事项收取费用（擅自收费）",
    legal_basis="《中华人民共和国行政许可法》第五十八条（实施行政许可不得收取法定外费用）",
    evidence=("payments", "amount_yuan"),
    message=_unlisted_fee,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, s.first_payment_at AS arose_at, s.payments,
    s.payment_total AS amount_yuan
FROM gw_case s
WHERE s.item_known = TRUE AND s.has_fee = FALSE AND s.payments > 0
""",
)


def _fee_mismatch(ev: Evidence) -> str:
    return (
        f"办件收费合计 {ev['paid_yuan']:.2f} 元，与事项收费标准应收 {ev['expected_yuan']:.2f} 元"
        f"相差 {abs(ev['paid_yuan'] - ev['expected_yuan']):.2f} 元"
    )


_FEE_CASES = """c.item_known = TRUE AND c.has_fee = TRUE AND c.result IN ('0', '6')
      AND (c.fee_amount IS NOT NULL OR c.fee_unit_price IS NOT NULL)"""

# When a fee that does not match arose: at the finish, unless payments follow it (they may);
# then the totals are checked at the finish and after each payment that follows it, and the
# mismatch arose at the first of those points after the last one where the totals matched.
# gw_counted_events holds the payments of exactly those cases, with running totals.
_FEE_TURN = f"""SELECT u.case_id,
    MIN(CASE WHEN u.wrong = 1 AND u.rn > u.last_right THEN u.at END) AS arose_at
FROM (
    SELECT w.*, COALESCE(MAX(CASE WHEN w.wrong = 0 THEN w.rn END)
        OVER (PARTITION BY w.case_id), 0) AS last_right
    FROM (
        SELECT v.case_id, v.at,
            ROW_NUMBER() OVER (PARTITION BY v.case_id ORDER BY v.at, v.ko, v.eid) AS rn,
            CASE WHEN ABS(CAST(v.paid AS DOUBLE PRECISION) - CAST(COALESCE(s.fee_amount,
                    s.fee_unit_price * v.quantity) AS DOUBLE PRECISION))
                > {{tolerance}} + 0.000001 THEN 1 ELSE 0 END AS wrong
        FROM (
            SELECT c.case_id, c.finished_at AS at, c.finish_kind_order AS ko,
                c.finish_event_id AS eid, COALESCE(SUM(p.amount), 0) AS paid,
                COALESCE(SUM(p.quantity), 0) AS quantity
            FROM gw_case c
            LEFT JOIN gw_counted_events p ON p.case_id = c.case_id AND p.counted = 'payment'
                AND {before(order_of("p"), case_order("c", "finish"))}
            WHERE {_FEE_CASES} AND c.last_payment_at >= c.finished_at
            GROUP BY c.case_id, c.finished_at, c.finish_kind_order, c.finish_event_id
            UNION ALL
            SELECT p.case_id, p.occurred_at, p.kind_order, p.event_id, p.running_amount,
                p.running_quantity
            FROM gw_counted_events p
            JOIN gw_case c ON c.case_id = p.case_id
                AND {before(case_order("c", "finish"), order_of("p"))}
            WHERE p.counted = 'payment' AND {_FEE_CASES}
        ) v
        JOIN gw_case s ON s.case_id = v.case_id
    ) w
) u
GROUP BY u.case_id"""

# A tiny epsilon keeps float noise (quantities are FLOAT8) from turning "equal to the
# tolerance" into "more than the tolerance".
FEE_MISMATCH = Rule(
    id="fee_mismatch",
    rule_class="discretion",
    rule_type="收费金额异常",
    level="yellow",
    description="以出证办结或准予办结的办件，收费合计与事项收费标准不符（差额超过允许的收费差额）",
    legal_basis="《中华人民共和国行政许可法》第五十九条（按照法定项目和标准收费）",
    params=(Param("tolerance", 0.01, "float", "允许的差额（元）"),),
    evidence=("paid_yuan", "expected_yuan", "payments", "quantity", "tolerance"),
    message=_fee_mismatch,
    sql="""
SELECT s.case_id, '' AS key, {level} AS level, COALESCE(t.arose_at, s.finished_at) AS arose_at,
    x.paid_yuan, x.expected_yuan, s.payments, s.payment_quantity AS quantity,
    {tolerance} AS tolerance
FROM (
    SELECT c.case_id, CAST(c.payment_total AS DOUBLE PRECISION) AS paid_yuan,
        CAST(COALESCE(c.fee_amount, c.fee_unit_price * c.payment_quantity)
             AS DOUBLE PRECISION) AS expected_yuan
    FROM gw_case c
    WHERE """
    + _FEE_CASES
    + """
) x
JOIN gw_case s ON s.case_id = x.case_id
LEFT JOIN (
"""
    + _FEE_TURN
    + """
) t ON t.case_id = x.case_id
WHERE ABS(x.paid_yuan - x.expected_yuan) > {tolerance} + 0.000001
""",
)

RULES = (DISCRETION_OUT_OF_BAND, UNLISTED_FEE, FEE_MISMATCH)
