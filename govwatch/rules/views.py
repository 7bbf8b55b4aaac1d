"""The canonical case views every rule reads, as of a moment and for a set of cases.

The views are materialised once per evaluation (temporary tables on DuckDB and PostgreSQL,
cached temporary views on Spark) and then read by every rule:

- ``gw_events``: the events that occurred at or before the moment, with ``seq``, their rank
  in the case's order ``(occurred_at, kind_order, event_id)``.
- ``gw_event_materials``: the materials those events name, with the event's kind and ``seq``.
- ``gw_case``: one row per case, the facts the rules share (its item, scope, key events).
- ``gw_counted_events``: the events some rules count, numbered in each case's order, with
  running totals (:data:`COUNTED_SQL`).
- ``gw_case_pauses``, ``gw_case_clock``, ``gw_step_clock``: the case clocks of
  :mod:`govwatch.deadlines.views` (``case_pauses``, ``case_clock``, ``step_clock``), computed
  over ``gw_events`` and renamed so that they never meet a permanent table of the same name.
- ``gw_case_view``: ``gw_case`` with the clock columns: the documented columns custom rules
  may use (:data:`CASE_VIEW_COLUMNS`).

SQL here is written once in the subset DuckDB and PostgreSQL share; :mod:`govwatch.storage.spark`
transpiles it for Spark.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from govwatch.deadlines.views import clock_views
from govwatch.events.cases import window_sql
from govwatch.timeutil import sql_timestamp

SCOPE_TABLE = "gw_scope"


# The event columns the rules and the clock views read (not free text, not raw materials):
# a narrower copy of a million-case event log is several times faster to build.
EVENT_COLUMNS = (
    "event_id",
    "case_id",
    "item_code",
    "kind",
    "kind_order",
    "occurred_at",
    "actor",
    "org_code",
    "applicant_type",
    "applicant_id",
    "channel",
    "case_kind",
    "promised_finish_at",
    "reason",
    "legal_basis",
    "step",
    "action",
    "procedure_kind",
    "procedure_type",
    "limit_days",
    "limit_unit",
    "result",
    "license_no",
    "tier",
    "decided_value",
    "amount",
    "quantity",
    "handler",
)


# Up to this many case ids, a scope is written as a literal IN list: the engine filters the
# scan itself (and DuckDB can use an ART index on events.case_id, when one exists, for it).
LITERAL_SCOPE_MAX = 2000


def scope_filter(column: str, scoped: bool, ids: Sequence[str] | None = None) -> str:
    """``column IN (…)`` for a scope: the ids themselves when few are given, else the table."""
    if not scoped:
        return ""
    if ids is not None and 0 < len(ids) <= LITERAL_SCOPE_MAX:
        quoted = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
        return f"{column} IN ({quoted})"
    return f"{column} IN (SELECT case_id FROM {SCOPE_TABLE})"


def events_sql(
    at: datetime, scoped: bool, ids: Sequence[str] | None = None, since: datetime | None = None
) -> str:
    """The events as of ``at``: a narrow copy, no window function.

    A case's order is ``(occurred_at, kind_order, event_id)``; rules compare those columns
    (:func:`before`) instead of a rank, which would cost a sort of every event. ``since``
    (:func:`govwatch.events.cases.ingest_window`) narrows a scoped read to recent rows.
    """
    scope = f" AND {scope_filter('e.case_id', scoped, ids)}" if scoped else ""
    window = window_sql(since, "e.ingested_at")
    cols = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
    return f"SELECT {cols} FROM events e WHERE e.occurred_at <= {sql_timestamp(at)}{scope}{window}"


def before(a: tuple[str, str, str], b: tuple[str, str, str]) -> str:
    """SQL: event ``a`` comes before event ``b`` in the case order; each is the expressions
    ``(occurred_at, kind_order, event_id)``. NULL (not true) when either is missing."""
    (at, ak, ai), (bt, bk, bi) = a, b
    return f"({at} < {bt} OR ({at} = {bt} AND ({ak} < {bk} OR ({ak} = {bk} AND {ai} < {bi}))))"


def order_of(alias: str) -> tuple[str, str, str]:
    """The order columns of an event row of ``gw_events`` (or a copy) called ``alias``."""
    return (f"{alias}.occurred_at", f"{alias}.kind_order", f"{alias}.event_id")


def day_after(date_sql: str) -> str:
    """SQL: the first moment after the date ``date_sql`` (its next midnight), as a timestamp.

    A deadline is kept at any moment of its date (spec/time.md), so it has passed at the
    first moment of the next day: the moment a case or an order becomes overdue."""
    return f"CAST({date_sql} + 1 AS TIMESTAMP)"


def counted_day(name: str, unit: str, start_on: str, days: str) -> tuple[str, str]:
    """LEFT JOINs, and the SQL moment they give: the first moment of the first date ``d`` with
    ``days(start_on, d) = days`` in ``unit`` (``'N'`` natural days, anything else working days).

    This is the date on which a count of days reaches ``days`` (spec/time.md: the start date
    is not counted), found on the calendar by ordinal as :mod:`govwatch.deadlines.next_check`
    finds the moments the sweeper waits for, so that a finding's moment is the moment the
    sweeper raises it. ``name`` prefixes the three calendar aliases the joins introduce; the
    moment is NULL where the calendar has no such date (clamp it with :func:`not_before`).
    """
    joins = (
        f"LEFT JOIN calendar {name}_s ON {name}_s.on_date = {start_on}\n"
        f"LEFT JOIN calendar {name}_n ON {name}_n.day_ordinal = "
        f"CASE WHEN {unit} = 'N' THEN {name}_s.day_ordinal + {days} END\n"
        f"LEFT JOIN calendar {name}_w ON {name}_w.workday_ordinal = "
        f"CASE WHEN {unit} = 'N' THEN NULL ELSE {name}_s.workday_ordinal + {days} END "
        f"AND {name}_w.is_workday = TRUE"
    )
    return joins, f"CAST(COALESCE({name}_n.on_date, {name}_w.on_date) AS TIMESTAMP)"


def not_before(start: str, moment: str) -> str:
    """SQL: ``moment``, but never before ``start`` (and ``start`` when ``moment`` is NULL).

    A count that is reached at once (a warning period longer than the limit, a date the
    calendar does not hold) arose when its clock started."""
    return f"GREATEST({start}, COALESCE({moment}, {start}))"


def case_order(alias: str, kind: str) -> tuple[str, str, str]:
    """The order columns of a case's first ``kind`` event (accept, finish, end) in ``gw_case``."""
    at = {"accept": "accepted_at", "finish": "finished_at"}.get(kind, f"{kind}_at")
    return (f"{alias}.{at}", f"{alias}.{kind}_kind_order", f"{alias}.{kind}_event_id")


def event_materials_sql(
    scoped: bool, ids: Sequence[str] | None = None, since: datetime | None = None
) -> str:
    """The materials the events of ``gw_events`` name (scoped by case first, when scoped)."""
    scope = (
        f" WHERE {scope_filter('m.case_id', scoped, ids)}{window_sql(since, 'm.ingested_at')}"
        if scoped
        else ""
    )
    return (
        "SELECT m.case_id, m.event_id, m.seq AS material_seq, m.name, m.provided, e.kind, "
        f"e.occurred_at, e.kind_order FROM event_materials m "
        f"JOIN gw_events e ON e.event_id = m.event_id{scope}"
    )


# The fields of the first event of each of these kinds, kept per case.
FIRST_KINDS = ("apply", "accept", "finish", "terminate", "reject")
FIRST_COLUMNS = (
    "event_id",
    "item_code",
    "org_code",
    "channel",
    "applicant_type",
    "applicant_id",
    "case_kind",
    "actor",
    "promised_finish_at",
    "result",
    "occurred_at",
)


def _first(kind: str, column: str) -> str:
    return f"MAX(CASE WHEN kind = '{kind}' THEN {column} END)"


# An accept before the first apply; the first finish before the first terminate (the end).
_ACCEPT_FIRST = before(
    ("b.accepted_at", "b.accept_kind_order", "b.accept_event_id"),
    ("b.applied_at", "b.apply_kind_order", "b.apply_event_id"),
)
_FINISH_ENDS = (
    "b.finish_event_id IS NOT NULL AND (b.terminate_event_id IS NULL OR "
    + before(
        ("b.finished_at", "b.finish_kind_order", "b.finish_event_id"),
        ("b.terminated_at", "b.terminate_kind_order", "b.terminate_event_id"),
    )
    + ")"
)

# Two narrow passes: counts over every event of the case, and the fields of the first event of
# each key kind, ranked among the few events of those kinds only.
CASE_SQL = f"""
SELECT a.case_id,
    a.item_code,
    CASE WHEN i.item_code IS NULL THEN FALSE ELSE TRUE END AS item_known,
    i.name AS item_name,
    COALESCE(i.region_code, '') AS region_code,
    COALESCE(i.department_code, '') AS department_code,
    a.org_code, a.channel, a.applicant_type, a.applicant_id,
    COALESCE(a.accept_case_kind, i.case_kind) AS case_kind,
    a.accepted_by, a.accept_event_id, a.promised_finish_at, a.result,
    a.apply_event_id, a.finish_event_id, a.terminate_event_id, a.reject_event_id,
    a.accept_kind_order, a.finish_kind_order,
    a.applied_at, a.accepted_at, a.finished_at, a.terminated_at, a.rejected_at,
    a.end_at, a.end_kind_order, a.end_event_id,
    CASE WHEN a.finish_event_id IS NOT NULL THEN 'finished'
         WHEN a.terminate_event_id IS NOT NULL THEN 'terminated'
         WHEN a.reject_event_id IS NOT NULL THEN 'rejected'
         WHEN a.accept_event_id IS NOT NULL THEN 'open'
         ELSE 'applied' END AS status,
    a.event_count, a.supplement_requests, a.returns, a.payments, a.payment_total,
    a.payment_quantity,
    i.has_fee, i.fee_amount, i.fee_unit_price,
    a.first_at, a.last_at, a.first_payment_at, a.last_payment_at
FROM (
    SELECT b.*,
        CASE WHEN {_ACCEPT_FIRST} OR b.apply_item IS NULL THEN b.accept_item
             ELSE b.apply_item END AS item_code,
        COALESCE(b.apply_org, b.accept_org) AS org_code,
        CASE WHEN {_FINISH_ENDS} THEN b.finished_at ELSE b.terminated_at END AS end_at,
        CASE WHEN {_FINISH_ENDS} THEN b.finish_kind_order ELSE b.terminate_kind_order END
            AS end_kind_order,
        CASE WHEN {_FINISH_ENDS} THEN b.finish_event_id ELSE b.terminate_event_id END
            AS end_event_id
    FROM (
        SELECT n.*, f.apply_event_id, f.accept_event_id, f.finish_event_id,
            f.terminate_event_id, f.reject_event_id, f.accept_kind_order,
            f.finish_kind_order, f.terminate_kind_order, f.apply_kind_order,
            f.apply_item, f.accept_item, f.apply_org, f.accept_org, f.channel,
            f.applicant_type, f.applicant_id, f.accept_case_kind, f.accepted_by,
            f.promised_finish_at, f.result, f.applied_at, f.accepted_at,
            f.finished_at, f.terminated_at, f.rejected_at
        FROM (
            SELECT case_id,
                COUNT(*) AS event_count,
                SUM(CASE WHEN kind = 'supplement_request' THEN 1 ELSE 0 END)
                    AS supplement_requests,
                SUM(CASE WHEN kind = 'step_end' AND action = 'return' THEN 1 ELSE 0 END)
                    AS returns,
                SUM(CASE WHEN kind = 'payment' THEN 1 ELSE 0 END) AS payments,
                SUM(CASE WHEN kind = 'payment' THEN COALESCE(amount, 0) ELSE 0 END)
                    AS payment_total,
                SUM(CASE WHEN kind = 'payment' THEN COALESCE(quantity, 0) ELSE 0 END)
                    AS payment_quantity,
                MIN(occurred_at) AS first_at,
                MAX(occurred_at) AS last_at,
                MIN(CASE WHEN kind = 'payment' THEN occurred_at END) AS first_payment_at,
                MAX(CASE WHEN kind = 'payment' THEN occurred_at END) AS last_payment_at
            FROM gw_events GROUP BY case_id
        ) n
        LEFT JOIN (
            SELECT case_id,
                {_first("apply", "event_id")} AS apply_event_id,
                {_first("accept", "event_id")} AS accept_event_id,
                {_first("finish", "event_id")} AS finish_event_id,
                {_first("terminate", "event_id")} AS terminate_event_id,
                {_first("reject", "event_id")} AS reject_event_id,
                {_first("apply", "kind_order")} AS apply_kind_order,
                {_first("accept", "kind_order")} AS accept_kind_order,
                {_first("finish", "kind_order")} AS finish_kind_order,
                {_first("terminate", "kind_order")} AS terminate_kind_order,
                {_first("apply", "item_code")} AS apply_item,
                {_first("accept", "item_code")} AS accept_item,
                {_first("apply", "org_code")} AS apply_org,
                {_first("accept", "org_code")} AS accept_org,
                {_first("apply", "channel")} AS channel,
                {_first("apply", "applicant_type")} AS applicant_type,
                {_first("apply", "applicant_id")} AS applicant_id,
                {_first("accept", "case_kind")} AS accept_case_kind,
                {_first("accept", "actor")} AS accepted_by,
                {_first("accept", "promised_finish_at")} AS promised_finish_at,
                {_first("finish", "result")} AS result,
                {_first("apply", "occurred_at")} AS applied_at,
                {_first("accept", "occurred_at")} AS accepted_at,
                {_first("finish", "occurred_at")} AS finished_at,
                {_first("terminate", "occurred_at")} AS terminated_at,
                {_first("reject", "occurred_at")} AS rejected_at
            FROM (
                SELECT case_id, kind, kind_order, {", ".join(FIRST_COLUMNS)},
                    ROW_NUMBER() OVER (PARTITION BY case_id, kind ORDER BY occurred_at, event_id)
                        AS kind_rank
                FROM gw_events
                WHERE kind IN ({", ".join(f"'{k}'" for k in FIRST_KINDS)})
            ) k
            WHERE k.kind_rank = 1
            GROUP BY case_id
        ) f ON f.case_id = n.case_id
    ) b
) a
LEFT JOIN items i ON i.item_code = a.item_code
"""

# The events rules count, numbered per case and ``counted`` kind in the case's order, with
# running totals: supplement requests and returns (which one took repeated_supplement or
# repeated_return over its limit), and the payments of the cases paid at or after their finish
# (when fee_mismatch's totals stopped matching). One narrow scan of gw_events serves the three
# rules; the rows are few (the payments of other cases are not needed).
COUNTED_SQL = """
SELECT x.case_id, x.counted, x.occurred_at, x.kind_order, x.event_id, x.amount, x.quantity,
    ROW_NUMBER() OVER (PARTITION BY x.case_id, x.counted
        ORDER BY x.occurred_at, x.kind_order, x.event_id) AS n,
    SUM(x.amount) OVER (PARTITION BY x.case_id, x.counted
        ORDER BY x.occurred_at, x.kind_order, x.event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_amount,
    SUM(x.quantity) OVER (PARTITION BY x.case_id, x.counted
        ORDER BY x.occurred_at, x.kind_order, x.event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running_quantity
FROM (
    SELECT e.case_id,
        CASE WHEN e.kind = 'step_end' THEN 'return' ELSE e.kind END AS counted,
        e.occurred_at, e.kind_order, e.event_id,
        COALESCE(e.amount, 0) AS amount, COALESCE(e.quantity, 0) AS quantity
    FROM gw_events e
    WHERE e.kind = 'supplement_request' OR (e.kind = 'step_end' AND e.action = 'return')
       OR (e.kind = 'payment' AND e.case_id IN (
           SELECT c.case_id FROM gw_case c WHERE c.last_payment_at >= c.finished_at))
) x
"""

CLOCK_COLUMNS = (
    "paused_now",
    "provisional",
    "promised_limit",
    "promised_unit",
    "promised_deadline",
    "promised_elapsed",
    "promised_remaining",
    "promised_overdue",
    "promised_days_late",
    "legal_limit",
    "legal_unit",
    "legal_deadline",
    "legal_elapsed",
    "legal_remaining",
    "legal_overdue",
    "legal_days_late",
    "extension_days",
    "paused_days_promised",
    "paused_days_legal",
)


def case_view_sql() -> str:
    cols = ", ".join(f"c.{name}" for name in CLOCK_COLUMNS)
    return f"SELECT s.*, {cols} FROM gw_case s LEFT JOIN gw_case_clock c ON c.case_id = s.case_id"


# Columns of gw_case_view that custom rules may use: name -> (type, meaning).
CASE_VIEW_COLUMNS: dict[str, tuple[str, str]] = {
    "case_id": ("text", "办件编号"),
    "item_code": ("text", "事项实施编码（首个申请或受理事件的事项）"),
    "item_known": ("boolean", "事项是否在目录中"),
    "item_name": ("text", "事项名称"),
    "region_code": ("text", "行政区划代码"),
    "department_code": ("text", "实施主体编码"),
    "org_code": ("text", "办理单位"),
    "channel": ("text", "申请渠道（A.5）"),
    "applicant_type": ("text", "申请者类型（A.4）"),
    "case_kind": ("text", "办件类型：1 即办件，2 承诺件"),
    "accepted_by": ("text", "受理人"),
    "promised_finish_at": ("timestamp", "受理时承诺的办结时间"),
    "result": ("text", "办结结果代码"),
    "status": ("text", "状态：applied、open、finished、terminated、rejected"),
    "applied_at": ("timestamp", "申请时间"),
    "accepted_at": ("timestamp", "受理时间"),
    "finished_at": ("timestamp", "办结时间"),
    "terminated_at": ("timestamp", "终止时间"),
    "rejected_at": ("timestamp", "不予受理时间"),
    "event_count": ("integer", "事件数"),
    "supplement_requests": ("integer", "补正告知次数"),
    "returns": ("integer", "退回次数"),
    "payments": ("integer", "收费笔数"),
    "payment_total": ("number", "收费合计（元）"),
    "payment_quantity": ("number", "收费数量合计"),
    "has_fee": ("boolean", "事项是否收费"),
    "fee_amount": ("number", "事项固定收费金额（元）"),
    "fee_unit_price": ("number", "事项单价（元）"),
    "first_at": ("timestamp", "首个事件时间"),
    "last_at": ("timestamp", "最后事件时间"),
    "paused_now": ("boolean", "当前是否暂停计时"),
    "provisional": ("boolean", "期限是否落入未公布假期安排的年份"),
    "promised_limit": ("integer", "承诺时限"),
    "promised_unit": ("text", "承诺时限单位 W/N"),
    "promised_deadline": ("date", "承诺办结期限"),
    "promised_elapsed": ("integer", "承诺时限已用天数"),
    "promised_remaining": ("integer", "承诺时限剩余天数"),
    "promised_overdue": ("boolean", "是否超承诺时限"),
    "promised_days_late": ("integer", "超承诺时限天数"),
    "legal_limit": ("integer", "法定时限"),
    "legal_unit": ("text", "法定时限单位 W/N"),
    "legal_deadline": ("date", "法定办结期限"),
    "legal_elapsed": ("integer", "法定时限已用天数"),
    "legal_remaining": ("integer", "法定时限剩余天数"),
    "legal_overdue": ("boolean", "是否超法定时限"),
    "legal_days_late": ("integer", "超法定时限天数"),
    "extension_days": ("integer", "延长审批天数"),
    "paused_days_promised": ("integer", "暂停天数（承诺时限单位）"),
    "paused_days_legal": ("integer", "暂停天数（法定时限单位）"),
}


def rename_relations(sql: str, renames: dict[str, str]) -> str:
    """Rename whole-word relation names (the clock views' names are unique words)."""
    if not renames:
        return sql
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, renames)) + r")\b")
    return pattern.sub(lambda m: renames[m.group(1)], sql)


def view_plan(
    at: datetime,
    scoped: bool,
    *,
    case_view: bool = True,
    ids: Sequence[str] | None = None,
    since: datetime | None = None,
) -> list[tuple[str, str]]:
    """(name, select) of every view, in dependency order, in the SQL DuckDB and PostgreSQL share.

    ``gw_case_view`` (a wide copy only custom rules read) is left out when ``case_view`` is
    False.

    The clock views read ``gw_events`` and are renamed ``gw_<name>`` so that they never meet
    the deadlines command's own temporary views of the same names on a shared connection.
    """
    plan = [
        ("gw_events", events_sql(at, scoped, ids, since)),
        ("gw_event_materials", event_materials_sql(scoped, ids, since)),
        ("gw_case", CASE_SQL),
        ("gw_counted_events", COUNTED_SQL),
    ]
    views = clock_views(at, events="gw_events")
    renames = {name: f"gw_{name}" for name, _ in views}
    for name, sql in views:
        plan.append((f"gw_{name}", rename_relations(sql, renames)))
    if case_view:
        plan.append(("gw_case_view", case_view_sql()))
    return plan
