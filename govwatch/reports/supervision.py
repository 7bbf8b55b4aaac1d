"""The supervision notice (电子监察通报) for a period and a scope.

Every number comes from one query here (docs/reports.md names them) and is recorded in the
notice's ``facts`` under a key, so tests compare the documents with independent SQL. Cases and
on-time rates are the dashboard's own figures (:func:`govwatch.alerts.dashboard.dashboard_data`
for the same period and place): 按时办结率 = 按时办结 ÷ 办结 over the cases finished in the
period; 超期率 = 超期 ÷ 受理 over the cases applied in it. Alerts count by the moment their
anomaly arose (``occurred_at`` in the period).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import orjson
import yaml

from govwatch.alerts.dashboard import PROVINCE, DashFilter, dashboard_data
from govwatch.alerts.evidence_text import sentence
from govwatch.alerts.queries import place_conditions
from govwatch.auth.masking import mask_record
from govwatch.auth.names import department_names, region_names
from govwatch.errors import InputError
from govwatch.reports.fields import check as check_template
from govwatch.reports.fields import fill as fill_template
from govwatch.reports.model import Chart, Notice, Section, Table
from govwatch.reports.period import ReportPeriod, cn_date, parse_period
from govwatch.storage import Database
from govwatch.vocabulary import ALERT_CLASS_NAMES, LEVEL_NAMES, RULE_NAMES, WORKFLOW_STATE_NAMES

# Thresholds and names the administrator may change (r15flow stores the edits).
DEFAULT_SETTINGS: Mapping[str, Any] = {
    "issuer": "省政务服务管理办公室",
    "doc_prefix": "政服监",
    "doc_serial": None,  # None: the month of a monthly notice, else 1
    "doc_number": None,  # a full 发文字号 overrides prefix and serial
    "addressees": "各市、县（市、区）政务服务管理机构，省级各有关部门",
    "praise_ontime_rate": 0.98,  # on-time rate at least this, and no red card
    "criticism_ontime_rate": 0.90,  # on-time rate below this …
    "criticism_red_per_1000": 5.0,  # … or red cards per 1,000 cases above this
    "min_cases": 20,  # units with fewer finished cases are neither praised nor criticised
    "reply_days": 10,
    "typical_cases": 3,
    "top_units": 10,
    "top_items": 10,
}
TEMPLATE_FILE = "supervision.yaml"
# The paragraphs' names as the edit form and the messages say them.
TEMPLATE_NAMES: dict[str, str] = {
    "title": "标题",
    "intro": "开头段",
    "overview": "办件总体情况段",
    "change_up": "按时办结率上升的说法",
    "change_down": "按时办结率下降的说法",
    "change_same": "按时办结率持平的说法",
    "change_none": "上期无办结时的说法",
    "alerts": "监察告警情况段",
    "alerts_none": "无告警时的说明",
    "cards": "红黄牌情况段",
    "cards_none": "无红黄牌时的说明",
    "slowest": "办理用时最长事项段",
    "slowest_none": "无办结办件时的说明",
    "orders": "督办情况段",
    "rectification": "告警整改情况段",
    "rectification_eval": "评估整改要求情况段",
    "typical_intro": "典型问题引言",
    "typical_case": "典型问题逐条",
    "typical_none": "无典型问题时的说明",
    "praise": "通报表扬段",
    "praise_none": "无表扬单位时的说明",
    "criticism": "通报批评段",
    "criticism_none": "无批评单位时的说明",
    "demands": "工作要求段",
}
LEVEL_ORDER = ("red", "yellow", "warning")
CN_NUMBERS = "一二三四五六七八九十"


@cache
def _shipped() -> Mapping[str, str]:
    text = (
        resources.files("govwatch.reports")
        .joinpath("templates", TEMPLATE_FILE)
        .read_text(encoding="utf-8")
    )
    return MappingProxyType({str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()})


def default_templates() -> dict[str, str]:
    """The paragraphs' templates as shipped (govwatch/reports/templates/supervision.yaml)."""
    return dict(_shipped())


@dataclass(frozen=True)
class Scope:
    kind: str  # "province" | "region" | "department"
    code: str
    name: str

    @property
    def region(self) -> str:
        return self.code if self.kind == "region" else ""

    @property
    def department(self) -> str:
        return self.code if self.kind == "department" else ""


def resolve_scope(db: Database, scope: str | None) -> Scope:
    """A region code (province, city, county: its subtree) or a department code; none: all."""
    code = (scope or "").strip()
    if not code:
        return Scope("province", "", "全省")
    kind = None
    if db.table_exists("orgs"):
        row = db.query("SELECT kind, region_code FROM orgs WHERE org_code = ?", [code])
        if row:
            kind = "department" if row[0][0] == "department" else "region"
            if kind == "region" and row[0][1]:
                code = str(row[0][1])
    if kind is None:
        if db.scalar("SELECT COUNT(*) FROM cases WHERE department_code = ?", [code]):
            kind = "department"
        elif db.scalar("SELECT COUNT(*) FROM cases WHERE region_code = ?", [code]) or (
            code.isdigit() and len(code) == 6
        ):
            kind = "region"
        else:
            raise InputError(
                f"通报范围“{code}”无效：应为地区代码（如 330100）或部门代码，且须在办件数据中存在"
            )
    names = region_names(db) if kind == "region" else department_names(db)
    if kind == "region" and code.endswith("0000"):
        return Scope("region", code, names.get(code, "全省"))
    return Scope(kind, code, names.get(code, code))


# --- formatting ---------------------------------------------------------------------------


def pct(value: float | None) -> str:
    """A fraction as the notice writes it: 96.35% (two decimals); 无 when undefined."""
    return "—" if value is None else f"{value * 100:.2f}%"


def pct_value(value: float | None) -> float | None:
    """The percentage the text states, as a number (96.35), for ``facts``."""
    return None if value is None else round(value * 100, 2)


def count(n: int) -> str:
    return f"{n:,}"


def _template_name(key: str) -> str:
    return TEMPLATE_NAMES.get(key, key)


def _fmt(tpl: Mapping[str, str], key: str, fields: Mapping[str, Any], **extra: Any) -> str:
    """The template ``key`` filled; its fields are written in Chinese (or, in a template saved
    before they were, by their keys) and must be among those it may use
    (:func:`govwatch.reports.fields.allowed_fields`)."""
    return fill_template(
        "supervision",
        _template_name(key),
        tpl[key],
        _shipped()[key],
        {**fields, **extra},
    )


def _cn_list(items: list[str]) -> str:
    return "、".join(items)


# --- queries --------------------------------------------------------------------------------


def _bounds(p: ReportPeriod) -> tuple[datetime, datetime]:
    return datetime.combine(p.start, time()), datetime.combine(p.end, time()) + timedelta(days=1)


def _place(db: Database, scope: Scope, alias: str) -> tuple[str, list[Any]]:
    parts, params = place_conditions(
        PROVINCE,
        alias,
        department_code=scope.department or None,
        region_code=scope.region or None,
        dialect=db.dialect,
    )
    return (" AND ".join(parts) or "1 = 1"), params


def alerts_by_kind(
    db: Database, scope: Scope, p: ReportPeriod
) -> list[tuple[str, str, str, str, int]]:
    """Alerts whose anomaly arose in the period: (class, rule, level, department, count)."""
    where, params = _place(db, scope, "a")
    start, end = _bounds(p)
    rows = db.query(
        "SELECT a.rule_class, a.rule, a.level, a.department_code, COUNT(*) FROM alerts a "
        f"WHERE a.occurred_at >= ? AND a.occurred_at < ? AND {where} "
        "GROUP BY a.rule_class, a.rule, a.level, a.department_code",
        [start, end, *params],
    )
    return [(str(c), str(r), str(lv), str(d or ""), int(n or 0)) for c, r, lv, d, n in rows]


def handling_states(db: Database, scope: Scope, p: ReportPeriod) -> dict[str, int]:
    """Alerts that arose in the period by their handling state now (the alert list's state:
    the workflow's, or closed when cleared without one, open otherwise)."""
    where, params = _place(db, scope, "a")
    start, end = _bounds(p)
    rows = db.query(
        "SELECT COALESCE(w.state, CASE WHEN a.status = 'cleared' THEN 'closed' ELSE 'open' END) "
        "AS state, COUNT(*) FROM alerts a LEFT JOIN alert_workflow w ON w.alert_id = a.alert_id "
        f"WHERE a.occurred_at >= ? AND a.occurred_at < ? AND {where} GROUP BY 1",
        [start, end, *params],
    )
    return {str(s): int(n or 0) for s, n in rows}


def slowest_items(
    db: Database, scope: Scope, p: ReportPeriod, limit: int
) -> list[tuple[str, str, str, int, float, int]]:
    """Items by the mean natural days from application to finishing of their cases finished
    in the period: (item code, item name, department code, finished, mean days, longest)."""
    where, params = _place(db, scope, "c")
    start, end = _bounds(p)
    days = "(CAST(c.finished_at AS DATE) - CAST(c.applied_at AS DATE))"
    rows = db.query(
        f"SELECT c.item_code, MAX(i.name), MAX(c.department_code), COUNT(*), AVG({days}), "
        f"MAX({days}) FROM cases c LEFT JOIN items i ON i.item_code = c.item_code "
        f"WHERE c.finished_at >= ? AND c.finished_at < ? AND c.applied_at IS NOT NULL AND {where} "
        f"GROUP BY c.item_code ORDER BY AVG({days}) DESC, c.item_code LIMIT {int(limit)}",
        [start, end, *params],
    )
    return [
        (str(code), str(name or code), str(dept or ""), int(n), round(float(avg or 0), 1), int(mx))
        for code, name, dept, n, avg, mx in rows
    ]


def order_figures(db: Database, scope: Scope, p: ReportPeriod, at: datetime) -> dict[str, int]:
    """督办 issued in the period (to the scope's departments): issued, answered (a reply
    given), overdue (no reply and past the reply date at ``at``), waiting (no reply, not due)."""
    start, end = _bounds(p)
    where, params = "", []
    if scope.department:
        where, params = " AND o.org_code = ?", [scope.department]
    elif scope.region:
        cond, values = place_conditions(
            PROVINCE, "g", department_code=None, region_code=scope.region, dialect=db.dialect
        )
        where = (
            " AND (o.org_code IN (SELECT DISTINCT g.department_code FROM cases g "
            f"WHERE {' AND '.join(cond)}) OR o.org_code IN (SELECT r.org_code FROM orgs r "
            f"WHERE {' AND '.join(cond).replace('g.', 'r.')}))"
        )
        params = [*values, *values]
    today = at.date()
    row = db.query(
        "SELECT COUNT(*), "
        "SUM(CASE WHEN o.replied_at IS NOT NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.replied_at IS NULL AND o.state <> 'closed' AND o.reply_due_on < ? "
        "THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.replied_at IS NULL AND o.state <> 'closed' AND o.reply_due_on >= ? "
        "THEN 1 ELSE 0 END) "
        f"FROM orders o WHERE o.issued_at >= ? AND o.issued_at < ?{where}",
        [today, today, start, end, *params],
    )[0]
    issued, answered, overdue, waiting = (int(v or 0) for v in row)
    return {"issued": issued, "answered": answered, "overdue": overdue, "waiting": waiting}


def evaluation_demands(db: Database, scope: Scope, p: ReportPeriod) -> dict[str, int]:
    """Rectification demands of evaluation rounds published in the period, by status."""
    if not db.table_exists("eval_rectifications"):
        return {}
    start, end = _bounds(p)
    where, params = "", []
    if scope.department:
        where, params = " AND d.unit = ?", [scope.department]
    rows = db.query(
        "SELECT d.status, COUNT(*) FROM eval_rectifications d JOIN eval_rounds r "
        "ON r.round_id = d.round_id WHERE r.published_at >= ? AND r.published_at < ?"
        f"{where} GROUP BY d.status",
        [start, end, *params],
    )
    return {str(s): int(n or 0) for s, n in rows}


def typical_alerts(db: Database, scope: Scope, p: ReportPeriod, limit: int) -> list[dict[str, Any]]:
    """The first red alerts (then yellow) that arose in the period, one per case, with their
    case's facts; evidence masked before it is put into words."""
    where, params = _place(db, scope, "a")
    start, end = _bounds(p)
    rows = db.query_dicts(
        "SELECT a.case_id, a.rule, a.level, a.message, a.evidence, a.department_code, "
        "a.item_code, c.applied_at, i.name AS item_name FROM alerts a "
        "LEFT JOIN cases c ON c.case_id = a.case_id LEFT JOIN items i ON i.item_code = a.item_code "
        f"WHERE a.occurred_at >= ? AND a.occurred_at < ? AND a.level IN ('red', 'yellow') "
        f"AND {where} ORDER BY CASE WHEN a.level = 'red' THEN 0 ELSE 1 END, a.occurred_at, "
        f"a.alert_id LIMIT {int(limit) * 10}",
        [start, end, *params],
    )
    seen: set[str] = set()
    picked: list[dict[str, Any]] = []
    for r in rows:
        if r["case_id"] in seen:
            continue
        seen.add(r["case_id"])
        try:
            evidence = orjson.loads(r["evidence"] or "{}")
        except orjson.JSONDecodeError:
            evidence = {}
        masked = mask_record(evidence if isinstance(evidence, dict) else {})
        r["finding"] = sentence(str(r["rule"]), masked, str(mask_record({"m": r["message"]})["m"]))
        picked.append(r)
        if len(picked) == limit:
            break
    return picked


# --- the notice ---------------------------------------------------------------------------


def _heading(n: int, text: str) -> str:
    return f"{CN_NUMBERS[n - 1]}、{text}"


def build_supervision_notice(
    db: Database,
    period: str | ReportPeriod,
    scope: str | None,
    at: datetime,
    settings: Mapping[str, Any] | None = None,
    templates: Mapping[str, str] | None = None,
) -> Notice:
    """The supervision notice for ``period`` over ``scope`` (None or "": the province)."""
    p = parse_period(period) if isinstance(period, str) else period
    prev = p.previous()
    cfg = {**DEFAULT_SETTINGS, **{k: v for k, v in (settings or {}).items() if v is not None}}
    tpl = {**default_templates(), **(templates or {})}
    for key, text in (templates or {}).items():  # every override, used this time or not
        if key in _shipped():
            check_template("supervision", _template_name(key), text, _shipped()[key])
    where = resolve_scope(db, scope)
    depts = department_names(db)
    facts: dict[str, float | int | str] = {"period": p.code, "scope": where.code or "全省"}

    def dash(q: ReportPeriod) -> dict[str, Any]:
        f = DashFilter(where.region, where.department, q.start, q.end)
        return dashboard_data(db, PROVINCE, f, at)

    now, before = dash(p), dash(prev)
    if now.get("empty"):
        raise InputError("数据库中尚无监察告警表，请先导入办件并运行监察规则（govwatch import）")
    cases, prev_cases = now["cases"], before["cases"]
    rate_now, rate_prev = cases["ontime_rate"], prev_cases["ontime_rate"]
    facts.update(
        cases=cases["cases"],
        finished=cases["finished"],
        ontime=cases["ontime"],
        overdue=cases["overdue"],
    )
    if rate_now is not None:
        facts["ontime_rate"] = pct_value(rate_now) or 0.0
    if cases["overdue_rate"] is not None:
        facts["overdue_rate"] = pct_value(cases["overdue_rate"]) or 0.0
    fields: dict[str, Any] = {
        "issuer": cfg["issuer"],
        "scope": where.name,
        "period": p.label,
        "start": cn_date(p.start),
        "end": cn_date(p.end),
        "prev_period": prev.label,
        "cases": count(cases["cases"]),
        "finished": count(cases["finished"]),
        "ontime": count(cases["ontime"]),
        "overdue": count(cases["overdue"]),
        "ontime_rate": pct(rate_now),
        "overdue_rate": pct(cases["overdue_rate"]),
        "prev_ontime_rate": pct(rate_prev),
        "reply_days": cfg["reply_days"],
    }
    if rate_prev is None or rate_now is None:
        change_text = _fmt(tpl, "change_none", fields)
    else:
        facts["prev_ontime_rate"] = pct_value(rate_prev) or 0.0
        delta = round((pct_value(rate_now) or 0.0) - (pct_value(rate_prev) or 0.0), 2)
        facts["ontime_change"] = delta
        fields["change"] = f"{abs(delta):.2f}"
        key = "change_same" if delta == 0 else ("change_up" if delta > 0 else "change_down")
        change_text = _fmt(tpl, key, fields)
    fields["change_text"] = change_text
    sections: list[Section] = []
    # days on which cases were finished (a day without any has no rate to draw)
    days_finished = [r for r in now["rate_trend"] if r["ontime_rate"] is not None]
    trend = Chart(
        "按时办结率趋势（按办结日期）",
        "line",
        tuple(r["day"][5:] for r in days_finished),
        (("按时办结率（%）", tuple(round(r["ontime_rate"] * 100, 2) for r in days_finished)),),
    )
    sections.append(
        Section(
            _heading(1, "总体情况"),
            (_fmt(tpl, "intro", fields), _fmt(tpl, "overview", fields)),
            charts=(trend,) if len(days_finished) > 1 else (),
        )
    )

    # alerts by class, rule and level
    kinds = alerts_by_kind(db, where, p)
    by_level = dict.fromkeys(LEVEL_ORDER, 0)
    by_class: dict[str, int] = {}
    by_rule: dict[tuple[str, str], dict[str, int]] = {}
    cards_by_dept: dict[str, dict[str, int]] = {}
    for cls, rule, level, dept, n in kinds:
        by_level[level] = by_level.get(level, 0) + n
        by_class[cls] = by_class.get(cls, 0) + n
        row = by_rule.setdefault((cls, rule), dict.fromkeys(LEVEL_ORDER, 0))
        row[level] = row.get(level, 0) + n
        if level in ("red", "yellow") and dept:
            unit_cards = cards_by_dept.setdefault(dept, {"red": 0, "yellow": 0})
            unit_cards[level] += n
    total_alerts = sum(by_level.values())
    facts.update(
        alerts=total_alerts,
        red=by_level["red"],
        yellow=by_level["yellow"],
        warning=by_level["warning"],
    )
    for cls, n in by_class.items():
        facts[f"alerts_class.{cls}"] = n
    rule_rows = sorted(by_rule.items(), key=lambda kv: (-sum(kv[1].values()), kv[0][1]))
    for (_, rule), levels in rule_rows:
        facts[f"alerts_rule.{rule}"] = sum(levels.values())
    class_table = Table(
        "监察告警分类统计",
        ("告警类别", "监察规则", "红牌", "黄牌", "预警", "合计"),
        tuple(
            (
                ALERT_CLASS_NAMES.get(cls, cls),
                RULE_NAMES.get(rule, rule),
                lv["red"],
                lv["yellow"],
                lv["warning"],
                sum(lv.values()),
            )
            for (cls, rule), lv in rule_rows
        ),
        note="按异常发生时间统计期间内产生的告警。",
    )
    if total_alerts:
        class_items = sorted(by_class.items(), key=lambda kv: (-kv[1], kv[0]))
        fields.update(
            alerts=count(total_alerts),
            red=count(by_level["red"]),
            yellow=count(by_level["yellow"]),
            warning=count(by_level["warning"]),
            class_text="，".join(
                f"{ALERT_CLASS_NAMES.get(c, c)}{count(n)}条" for c, n in class_items
            ),
            top_rules=_cn_list(
                [
                    f"“{RULE_NAMES.get(r, r)}”（{count(sum(lv.values()))}条）"
                    for (_, r), lv in rule_rows[:3]
                ]
            ),
        )
        alert_paras = (_fmt(tpl, "alerts", fields),)
        level_chart = Chart(
            "监察告警按类别与等级",
            "bar",
            tuple(ALERT_CLASS_NAMES.get(c, c) for c, _ in class_items),
            tuple(
                (
                    LEVEL_NAMES[lv],
                    tuple(
                        float(sum(n for k, _, level, _, n in kinds if k == c and level == lv))
                        for c, _ in class_items
                    ),
                )
                for lv in LEVEL_ORDER
            ),
        )
        sections.append(
            Section(_heading(2, "监察告警情况"), alert_paras, (class_table,), (level_chart,))
        )
    else:
        sections.append(Section(_heading(2, "监察告警情况"), (_fmt(tpl, "alerts_none", fields),)))

    # red and yellow cards by unit, per 1,000 cases applied in the period
    dept_rates = {r["code"]: r for r in now["rates_by_department"]}
    card_rows = []
    for dept, cards in cards_by_dept.items():
        n_cases = int(dept_rates.get(dept, {}).get("cases", 0))
        both = cards["red"] + cards["yellow"]
        per_k = round(both * 1000 / n_cases, 2) if n_cases else None
        card_rows.append((dept, cards["red"], cards["yellow"], both, n_cases, per_k))
    by_rate = sorted(card_rows, key=lambda r: (r[5] is None, -(r[5] or 0.0), -r[3], r[0]))
    count_rank = {r[0]: i + 1 for i, r in enumerate(sorted(card_rows, key=lambda r: (-r[3], r[0])))}
    top_units = int(cfg["top_units"])
    cards_table = Table(
        "各单位红黄牌情况",
        (
            "按发生率排名",
            "单位",
            "红牌",
            "黄牌",
            "红黄牌合计",
            "受理办件",
            "每千件红黄牌",
            "按数量排名",
        ),
        tuple(
            (i + 1, depts.get(d, d), red, yellow, both, n, per_k, count_rank[d])
            for i, (d, red, yellow, both, n, per_k) in enumerate(by_rate)
        ),
        note="每千件红黄牌 = 期间产生的红牌与黄牌数 ÷ 期间受理办件数 × 1000；期间无受理办件的单位不计发生率，排在最后。",
    )
    for d, _red, _yellow, both, _n, per_k in card_rows:
        facts[f"cards.{d}"] = both
        if per_k is not None:
            facts[f"cards_per_1000.{d}"] = per_k
    if card_rows:
        fields["worst_units"] = _cn_list(
            [
                f"{depts.get(d, d)}（{k:.2f}张/千件）"
                for d, _, _, _, _, k in by_rate[:3]
                if k is not None
            ]
        )
        fields["most_units"] = _cn_list(
            [
                f"{depts.get(r[0], r[0])}（{count(r[3])}张）"
                for r in sorted(card_rows, key=lambda r: (-r[3], r[0]))[:3]
            ]
        )
        cards_chart = Chart(
            "每千件办件红黄牌数（前十位）",
            "bar",
            tuple(depts.get(r[0], r[0]) for r in by_rate[:top_units]),
            (("每千件红黄牌", tuple(float(r[5] or 0) for r in by_rate[:top_units])),),
        )
        sections.append(
            Section(
                _heading(3, "红黄牌情况"),
                (_fmt(tpl, "cards", fields),),
                (cards_table,),
                (cards_chart,),
            )
        )
    else:
        sections.append(Section(_heading(3, "红黄牌情况"), (_fmt(tpl, "cards_none", fields),)))

    # the slowest items
    slow = slowest_items(db, where, p, int(cfg["top_items"]))
    for code, _, _, _, avg, _ in slow:
        facts[f"item_days.{code}"] = avg
    slow_table = Table(
        "办结用时最长的事项",
        ("事项", "实施部门", "办结件数", "平均用时（自然日）", "最长用时（自然日）"),
        tuple((name, depts.get(d, d), n, avg, mx) for _, name, d, n, avg, mx in slow),
        note="期间办结的办件，自受理日至办结日的自然日数。",
    )
    if slow:
        fields["slowest_items"] = _cn_list(
            [f"“{name}”（平均{avg:.1f}天）" for _, name, _, _, avg, _ in slow[:3]]
        )
        sections.append(
            Section(_heading(4, "办理时效情况"), (_fmt(tpl, "slowest", fields),), (slow_table,))
        )
    else:
        sections.append(Section(_heading(4, "办理时效情况"), (_fmt(tpl, "slowest_none", fields),)))

    # orders and rectification
    orders = order_figures(db, where, p, at)
    states = handling_states(db, where, p)
    pending = sum(n for s, n in states.items() if s in ("open", "explained", "appealed"))
    closed = states.get("closed", 0) + states.get("dismissed", 0)
    facts.update(
        orders_issued=orders["issued"],
        orders_answered=orders["answered"],
        orders_overdue=orders["overdue"],
        orders_waiting=orders["waiting"],
        handling_closed=closed,
        handling_rectifying=states.get("rectifying", 0),
        handling_rectified=states.get("rectified", 0),
        handling_pending=pending,
    )
    fields.update(
        orders_issued=count(orders["issued"]),
        orders_answered=count(orders["answered"]),
        orders_overdue=count(orders["overdue"]),
        orders_waiting=count(orders["waiting"]),
        closed=count(closed),
        rectifying=count(states.get("rectifying", 0)),
        rectified=count(states.get("rectified", 0)),
        pending=count(pending),
    )
    rect_paras = [_fmt(tpl, "orders", fields), _fmt(tpl, "rectification", fields)]
    demands = evaluation_demands(db, where, p)
    if demands:
        done = sum(n for s, n in demands.items() if s in ("done", "closed", "rectified", "met"))
        facts.update(demands=sum(demands.values()), demands_done=done)
        facts["demands_open"] = sum(demands.values()) - done
        fields.update(
            demands=count(sum(demands.values())),
            demands_done=count(done),
            demands_open=count(sum(demands.values()) - done),
        )
        rect_paras.append(_fmt(tpl, "rectification_eval", fields))
    state_table = Table(
        "监察告警处置情况",
        ("处置状态", "告警数"),
        tuple(
            (WORKFLOW_STATE_NAMES.get(s, s), states[s]) for s in WORKFLOW_STATE_NAMES if s in states
        ),
        note="期间产生的告警按当前处置状态统计。",
    )
    sections.append(
        Section(_heading(5, "督办与整改情况"), tuple(rect_paras), (state_table,) if states else ())
    )

    # typical cases
    typical = typical_alerts(db, where, p, int(cfg["typical_cases"]))
    if typical:
        paras = [_fmt(tpl, "typical_intro", fields)]
        for i, r in enumerate(typical, start=1):
            applied = r["applied_at"]
            paras.append(
                _fmt(
                    tpl,
                    "typical_case",
                    fields,
                    n=i,
                    department=depts.get(
                        str(r["department_code"]), str(r["department_code"] or "")
                    ),
                    item=str(r["item_name"] or r["item_code"] or ""),
                    case_id=str(r["case_id"]),
                    applied=cn_date(applied.date()) if isinstance(applied, datetime) else "—",
                    finding=str(r["finding"]).rstrip("。"),
                    level=LEVEL_NAMES.get(str(r["level"]), str(r["level"])),
                    rule=RULE_NAMES.get(str(r["rule"]), str(r["rule"])),
                )
            )
        sections.append(Section(_heading(6, "典型问题"), tuple(paras)))
    else:
        sections.append(Section(_heading(6, "典型问题"), (_fmt(tpl, "typical_none", fields),)))

    # praise and criticism
    red_by_dept = {d: c["red"] for d, c in cards_by_dept.items()}
    praised, criticised = [], []
    for r in now["rates_by_department"]:
        d, finished, rate_d = r["code"], int(r["finished"]), r["ontime_rate"]
        if finished < int(cfg["min_cases"]) or rate_d is None:
            continue
        red_k = red_by_dept.get(d, 0) * 1000 / r["cases"] if r["cases"] else 0.0
        if rate_d >= float(cfg["praise_ontime_rate"]) and red_by_dept.get(d, 0) == 0:
            praised.append(d)
        elif rate_d < float(cfg["criticism_ontime_rate"]) or red_k > float(
            cfg["criticism_red_per_1000"]
        ):
            criticised.append(d)
    praised.sort(key=lambda d: depts.get(d, d))
    criticised.sort(key=lambda d: depts.get(d, d))
    facts.update(praised=len(praised), criticised=len(criticised))
    fields.update(
        praise_rate=pct(float(cfg["praise_ontime_rate"])),
        criticism_rate=pct(float(cfg["criticism_ontime_rate"])),
        criticism_red=f"{float(cfg['criticism_red_per_1000']):g}",
    )
    judged = [
        _fmt(tpl, "praise", fields, units=_cn_list([depts.get(d, d) for d in praised]))
        if praised
        else _fmt(tpl, "praise_none", fields),
        _fmt(tpl, "criticism", fields, units=_cn_list([depts.get(d, d) for d in criticised]))
        if criticised
        else _fmt(tpl, "criticism_none", fields),
    ]
    unit_table = Table(
        "各单位办件时效情况",
        ("单位", "受理办件", "超期", "超期率", "办结", "按时办结", "按时办结率", "通报"),
        tuple(
            (
                depts.get(r["code"], r["code"]),
                r["cases"],
                r["overdue"],
                pct(r["overdue_rate"]),
                r["finished"],
                r["ontime"],
                pct(r["ontime_rate"]),
                "表扬" if r["code"] in praised else ("批评" if r["code"] in criticised else ""),
            )
            for r in sorted(
                now["rates_by_department"], key=lambda r: depts.get(r["code"], r["code"])
            )
        ),
        note=f"按时办结率 = 按时办结 ÷ 办结（期间办结的办件）；表扬：不低于{pct(float(cfg['praise_ontime_rate']))}且无红牌；批评：低于{pct(float(cfg['criticism_ontime_rate']))}或每千件红牌超过{float(cfg['criticism_red_per_1000']):g}张；办结少于{cfg['min_cases']}件的单位不评。",
    )
    for r in now["rates_by_department"]:
        if r["ontime_rate"] is not None:
            facts[f"unit_ontime_rate.{r['code']}"] = pct_value(r["ontime_rate"]) or 0.0
    sections.append(Section(_heading(7, "通报表扬与批评"), tuple(judged), (unit_table,)))
    sections.append(Section(_heading(8, "工作要求"), (_fmt(tpl, "demands", fields),)))

    serial = cfg["doc_serial"] or (p.start.month if p.kind == "month" else 1)
    doc_number = cfg["doc_number"] or f"{cfg['doc_prefix']}〔{at.year}〕{serial}号"
    attachments = tuple(
        t.title
        for s in sections
        for t in s.tables
        if t.title in (cards_table.title, slow_table.title)
    )
    return Notice(
        kind="supervision",
        issuer=str(cfg["issuer"]),
        doc_number=str(doc_number),
        title=_fmt(tpl, "title", fields),
        addressees=str(cfg["addressees"]),
        sections=tuple(sections),
        attachments=attachments,
        date=at.date(),
        facts=facts,
    )


__all__ = ["DEFAULT_SETTINGS", "build_supervision_notice", "default_templates", "resolve_scope"]
