"""Named metrics computed per unit and period from the monitoring data (docs/metrics.md).

Every metric is a ratio ``numerator / denominator`` (or a count, denominator 1) computed from
a few set-based aggregate queries, one per family of source tables, written once with ``?``
placeholders for DuckDB and PostgreSQL. The queries return integer sums only; the division is
done here in Python, so both engines give bit-identical values (PostgreSQL would otherwise
divide integers as integers).

Units: ``region`` (the item's exact region code), ``province`` / ``city`` / ``county`` (the
region code truncated to 2 / 4 / 6 digits, so a city includes its counties), ``department``.
Cases belong to a period by the day they were applied for (accepted, or first seen, when there
is no ``apply``); on-time and rating-rate metrics count the cases *finished* in the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from govwatch.deadlines import install_clock_views
from govwatch.errors import InputError
from govwatch.evaluation.metrics.definitions import (
    ALERT_CLASSES,
    ALERT_LEVELS,
    METRICS,
    ONLINE_CHANNELS,
    Counts,
    MetricDef,
    MetricValue,
    Period,
    item_scope,
    put_count,
    unit_expr,
)
from govwatch.evaluation.metrics.demand import demand_counts
from govwatch.evaluation.metrics.guides import guide_counts
from govwatch.storage import Database


def _cases_in_period(alias: str = "c") -> str:
    return (
        f"COALESCE({alias}.applied_at, {alias}.accepted_at, {alias}.first_at) >= ? "
        f"AND COALESCE({alias}.applied_at, {alias}.accepted_at, {alias}.first_at) < ?"
    )


def item_counts(db: Database, kind: str, scope: Sequence[str] = ()) -> Counts:
    u = unit_expr(kind, "i")
    depth_cols = ", ".join(
        f"SUM(CASE WHEN i.online_depth = {d} THEN 1 ELSE 0 END) AS d{d}" for d in range(6)
    )
    rows = db.query_dicts(
        f"""SELECT {u} AS unit, COUNT(*) AS items, {depth_cols},
    SUM(CASE WHEN i.online_depth >= 4 THEN 1 ELSE 0 END) AS dge4,
    SUM(CASE WHEN i.unified_identity THEN 1 ELSE 0 END) AS identity,
    SUM(CASE WHEN i.e_license THEN 1 ELSE 0 END) AS e_license,
    SUM(CASE WHEN i.delivery THEN 1 ELSE 0 END) AS delivery,
    SUM(CASE WHEN i.has_fee THEN 1 ELSE 0 END) AS fee_items,
    SUM(CASE WHEN i.has_fee AND i.online_payment THEN 1 ELSE 0 END) AS fee_online,
    SUM(CASE WHEN i.max_visits IS NOT NULL THEN i.max_visits ELSE 0 END) AS visits_sum,
    SUM(CASE WHEN i.max_visits IS NOT NULL THEN 1 ELSE 0 END) AS visits_known,
    SUM(CASE WHEN i.max_visits = 0 THEN 1 ELSE 0 END) AS zero_visits,
    SUM(CASE WHEN i.legal_limit > 0 AND i.promised_limit IS NOT NULL
        THEN i.legal_limit ELSE 0 END) AS legal_sum,
    SUM(CASE WHEN i.legal_limit > 0 AND i.promised_limit IS NOT NULL
        THEN i.promised_limit ELSE 0 END) AS promised_sum,
    SUM(CASE WHEN i.case_kind = '1' THEN 1 ELSE 0 END) AS instant
FROM items i WHERE {u} IS NOT NULL{item_scope(scope, "i.item_code")} GROUP BY {u}"""
    )
    out: Counts = {}
    for r in rows:
        n = r["items"]
        unit = r["unit"]
        for d in range(6):
            put_count(out, unit, f"items.depth_share.{d}", r[f"d{d}"], n)
        put_count(out, unit, "items.count", n, 1)
        put_count(out, unit, "items.depth_ge4_share", r["dge4"], n)
        put_count(out, unit, "items.unified_identity_share", r["identity"], n)
        put_count(out, unit, "items.e_license_share", r["e_license"], n)
        put_count(out, unit, "items.delivery_share", r["delivery"], n)
        # no item with a fee: nothing lacks online payment (value 1, see docs/metrics.md)
        fee = int(r["fee_items"] or 0)
        put_count(out, unit, "items.online_payment_share", r["fee_online"] if fee else 1, fee or 1)
        put_count(out, unit, "items.avg_visits", r["visits_sum"], r["visits_known"])
        put_count(out, unit, "items.zero_visit_share", r["zero_visits"], r["visits_known"])
        legal = float(r["legal_sum"] or 0)
        put_count(
            out, unit, "items.promise_reduction", legal - float(r["promised_sum"] or 0), legal
        )
        put_count(out, unit, "items.instant_share", r["instant"], n)
    return out


def case_counts(db: Database, kind: str, period: Period, scope: Sequence[str] = ()) -> Counts:
    u = unit_expr(kind, "c")
    rows = db.query_dicts(
        f"""SELECT {u} AS unit, COUNT(*) AS cases,
    SUM(CASE WHEN c.channel IN {ONLINE_CHANNELS} THEN 1 ELSE 0 END) AS online,
    SUM(CASE WHEN c.channel = '3' THEN 1 ELSE 0 END) AS mobile,
    SUM(CASE WHEN c.channel IN {ONLINE_CHANNELS} AND i.online_depth = 5
        THEN 1 ELSE 0 END) AS full_online,
    SUM(CASE WHEN c.accepted_at IS NOT NULL AND c.accepted_at <= ? THEN 1 ELSE 0 END) AS accepted,
    SUM(CASE WHEN c.accepted_at IS NOT NULL AND c.accepted_at <= ? AND c.case_kind = '1'
        THEN 1 ELSE 0 END) AS instant,
    SUM(CASE WHEN i.max_visits IS NOT NULL THEN i.max_visits ELSE 0 END) AS visits_sum,
    SUM(CASE WHEN i.max_visits IS NOT NULL THEN 1 ELSE 0 END) AS visits_known
FROM cases c LEFT JOIN items i ON i.item_code = c.item_code
WHERE {_cases_in_period()} AND {u} IS NOT NULL{item_scope(scope, "c.item_code")}
GROUP BY {u}""",
        [period.moment, period.moment, period.start_at, period.end_before],
    )
    out: Counts = {}
    for r in rows:
        n, unit = r["cases"], r["unit"]
        put_count(out, unit, "cases.count", n, 1)
        put_count(out, unit, "cases.online_share", r["online"], n)
        put_count(out, unit, "cases.mobile_share", r["mobile"], n)
        put_count(out, unit, "cases.full_online_share", r["full_online"], n)
        put_count(out, unit, "cases.instant_share", r["instant"], r["accepted"])
        put_count(out, unit, "cases.avg_visits", r["visits_sum"], r["visits_known"])
    return out


def on_time_counts(db: Database, kind: str, period: Period, scope: Sequence[str] = ()) -> Counts:
    """Cases finished in the period, and those finished by both their promised and legal
    deadlines, from the case clocks at the period's moment (govwatch.deadlines)."""
    install_clock_views(db, period.moment)
    u = unit_expr(kind, "c")
    rows = db.query(
        f"""SELECT {u} AS unit, COUNT(*) AS finished,
    SUM(CASE WHEN k.promised_overdue OR k.legal_overdue THEN 0 ELSE 1 END) AS on_time
FROM case_clock k JOIN cases c ON c.case_id = k.case_id
WHERE k.status = 'finished' AND k.finished_at >= ? AND k.finished_at < ? AND {u} IS NOT NULL
    {item_scope(scope, "c.item_code")}
GROUP BY {u}""",
        [period.start_at, period.end_before],
    )
    out: Counts = {}
    for unit, finished, on_time in rows:
        put_count(out, unit, "cases.finished_count", finished, 1)
        put_count(out, unit, "cases.on_time_rate", on_time, finished)
    return out


def _case_totals(counts: Counts) -> dict[str, float]:
    return {unit: num for (unit, metric), (num, _) in counts.items() if metric == "cases.count"}


def alert_counts(
    db: Database, kind: str, period: Period, cases: dict[str, float], scope: Sequence[str] = ()
) -> Counts:
    """Alerts raised (active or since cleared) on the cases of the period, by class and level.

    Alerts count as known when the metrics are computed, whenever they were detected: an
    import of historical events raises its alerts at import time, after the period.
    """
    out: Counts = {}
    if not db.table_exists("alerts"):
        return out
    u = unit_expr(kind, "c")
    base = (
        f"FROM alerts a JOIN cases c ON c.case_id = a.case_id "
        f"WHERE {_cases_in_period()} AND {u} IS NOT NULL{item_scope(scope, 'c.item_code')}"
    )
    params = [period.start_at, period.end_before]
    for column, names in (("rule_class", ALERT_CLASSES), ("level", ALERT_LEVELS)):
        seen: set[tuple[str, str]] = set()
        for unit, name, n, n_cases in db.query(
            f"SELECT {u} AS unit, a.{column} AS name, COUNT(*) AS n, "
            f"COUNT(DISTINCT a.case_id) AS n_cases {base} GROUP BY {u}, a.{column}",
            params,
        ):
            if name not in names:
                continue
            seen.add((str(unit), str(name)))
            put_count(out, unit, f"alerts.count.{name}", n, 1)
            put_count(out, unit, f"alerts.rate.{name}", n_cases, cases.get(str(unit), 0))
            if name == "red":
                put_count(
                    out, unit, "alerts.red_per_1000", float(n) * 1000, cases.get(str(unit), 0)
                )
        for unit, total in cases.items():
            for name in names:
                if (unit, name) not in seen:
                    put_count(out, unit, f"alerts.count.{name}", 0, 1)
                    put_count(out, unit, f"alerts.rate.{name}", 0, total)
                    if name == "red":
                        put_count(out, unit, "alerts.red_per_1000", 0, total)
    for unit, n, n_cases in db.query(
        f"SELECT {u} AS unit, COUNT(*), COUNT(DISTINCT a.case_id) {base} GROUP BY {u}", params
    ):
        put_count(out, unit, "alerts.count", n, 1)
        put_count(out, unit, "alerts.rate", n_cases, cases.get(str(unit), 0))
    return out


def order_counts(db: Database, kind: str, period: Period) -> Counts:
    """Supervision orders (督办) issued in the period: answered by their reply date, among those
    answered or already due at the period's moment."""
    out: Counts = {}
    if not db.table_exists("orders"):
        return out
    if kind == "department":
        unit, join = "o.org_code", ""
    else:
        unit = unit_expr(kind, "r")
        join = (
            "JOIN (SELECT department_code, MIN(region_code) AS region_code FROM items "
            "GROUP BY department_code) r ON r.department_code = o.org_code"
        )
    rows = db.query(
        f"""SELECT {unit} AS unit,
    SUM(CASE WHEN o.replied_at IS NOT NULL AND o.replied_at <= ?
             AND CAST(o.replied_at AS DATE) <= o.reply_due_on THEN 1 ELSE 0 END) AS on_time,
    SUM(CASE WHEN (o.replied_at IS NOT NULL AND o.replied_at <= ?) OR o.reply_due_on < ?
        THEN 1 ELSE 0 END) AS due
FROM orders o {join}
WHERE o.issued_at >= ? AND o.issued_at < ? AND o.issued_at <= ?
GROUP BY {unit}""",
        [
            period.moment,
            period.moment,
            period.moment.date(),
            period.start_at,
            period.end_before,
            period.moment,
        ],
    )
    for u, on_time, due in rows:
        put_count(out, u, "orders.answered_on_time", on_time, due)
    return out


def compute_counts(
    db: Database,
    kind: str,
    period: Period,
    families: Iterable[str],
    scope: Sequence[str] = (),
    guide_run: str | None = None,
) -> Counts:
    """Numerators and denominators of the metric families, for items of ``scope`` types
    (``guides``: from the check run ``guide_run``, by default the latest)."""
    wanted = set(families)
    out: Counts = {}
    if "items" in wanted:
        out.update(item_counts(db, kind, scope))
    cases: dict[str, float] = {}
    if wanted & {"cases", "alerts"}:
        case_part = case_counts(db, kind, period, scope)
        cases = _case_totals(case_part)
        out.update(case_part)
    if "clock" in wanted:
        out.update(on_time_counts(db, kind, period, scope))
    if "alerts" in wanted:
        out.update(alert_counts(db, kind, period, cases, scope))
    if "orders" in wanted:
        out.update(order_counts(db, kind, period))
    if wanted & {"ratings", "survey", "callbacks"}:
        out.update(demand_counts(db, kind, period, wanted, scope))
    if "guides" in wanted:
        out.update(guide_counts(db, kind, guide_run, scope))
    return out


def compute_metrics(
    db: Database,
    kind: str,
    period: Period,
    *,
    metrics: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    item_types: Sequence[str] = (),
    guide_run: str | None = None,
) -> list[MetricValue]:
    """Values of the named metrics (default: all) for every unit with data (or ``units``).

    ``item_types`` restricts item- and case-based metrics to items of those 事项类型 codes
    (an item category, spec/evaluation.md); orders, questionnaires and call-backs are not
    tied to items and ignore it. A ratio whose denominator is 0 has no value (``None``:
    missing in evaluation). ``guides.*`` metrics count the guide check run ``guide_run`` (by
    default the latest run; none: no value).
    """
    wanted = [resolve_metric(m) for m in metrics] if metrics is not None else list(METRICS)
    counts = compute_counts(
        db, kind, period, {m.family for m in wanted}, item_types, guide_run=guide_run
    )
    names = {m.id for m in wanted}
    all_units = sorted({u for u, _ in counts}) if units is None else list(units)
    out = []
    for unit in all_units:
        for metric in sorted(names):
            num, den = counts.get((unit, metric), (0.0, 0.0))
            out.append(MetricValue(unit, metric, num / den if den else None, num, den))
    return out


def resolve_metric(metric_id: str) -> MetricDef:
    for m in METRICS:
        if m.id == metric_id:
            return m
    raise InputError(
        f"未知的指标数据项“{metric_id}”：可用的见 docs/metrics.md 或 govwatch evaluation metrics"
    )
