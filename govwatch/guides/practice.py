"""The practice check: what the cases of each item show against its published guide.

Four comparisons, each a few set-based statements over ``events`` and ``event_materials``
as of a moment, in the SQL DuckDB and PostgreSQL share:

- **materials** (申请材料): a material named on an application or a supplement request
  (补正告知) that the guide does not list;
- **process** (办理流程): a step started that the guide does not list, or two listed steps
  first started in the reverse of the guide's order;
- **fees** (收费信息): the amount a case paid against the guide's fee (free: any payment);
- **basic.promised_limit** (承诺办结时限): a finished case later than the guide's promised
  limit, counted as the case clock counts (:mod:`govwatch.deadlines.views`: pauses and
  extensions added, ``W`` on working days, ``N`` moved to the next working day).

A case belongs to the item its application names (else its acceptance). An element is
contradicted when at least :data:`MIN_CASES` cases, and at least :data:`MIN_SHARE` of the
item's cases it concerns, contradict it: single cases are the supervision rules' business;
a guide that most of its cases contradict misinforms applicants. The counts come back to
Python, which applies the thresholds and writes the findings (:mod:`govwatch.guides.checks`).

The guides are written into temporary tables first (``gd_guides``, ``gd_guide_materials``,
``gd_guide_steps``); every temporary table here starts with ``gd_``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from govwatch.deadlines.views import N_KEY, clock_views
from govwatch.guides.model import GuideFee, GuideLimit, GuideStep
from govwatch.storage import Database
from govwatch.timeutil import sql_timestamp

MIN_CASES = 3
MIN_SHARE = 0.5
FEE_TOLERANCE = 0.005  # yuan: amounts are in fen


def deviates_fee(fee: GuideFee, paid: float, quantity: float) -> bool:
    """Whether a case that paid ``paid`` yuan (for ``quantity`` units) contradicts ``fee``."""
    if not fee.charged:
        return abs(paid) > FEE_TOLERANCE
    if fee.amount is not None:
        return abs(paid - fee.amount) > FEE_TOLERANCE
    return abs(paid - (fee.unit_price or 0.0) * quantity) > FEE_TOLERANCE


def over_line(bad: int, of: int) -> bool:
    return bad >= MIN_CASES and bad >= MIN_SHARE * of


@dataclass(frozen=True)
class PracticeGuide:
    """The checkable elements of one published guide (None: absent or malformed)."""

    item_code: str
    materials: tuple[str, ...] | None
    steps: tuple[GuideStep, ...] | None
    fee: GuideFee | None
    promised: GuideLimit | None


@dataclass
class Counts:
    """One item's counts for one element: cases concerned, contradicting, and details."""

    cases: int = 0
    bad: int = 0
    examples: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)


Results = dict[tuple[str, str], Counts]  # (item_code, element) -> counts

_TABLES = (
    "gd_step_problems",
    "gd_first_steps",
    "gd_case_item",
    "gd_guide_steps",
    "gd_guide_materials",
    "gd_guides",
)


# The events the case clock reads (acceptance, ends, pauses, extensions): a third of them.
CLOCK_EVENTS = (
    "(SELECT * FROM events WHERE kind IN ('accept', 'finish', 'terminate', 'reject', "
    "'special_start', 'special_end', 'supplement_request', 'supplement_received', 'suspend', "
    "'resume'))"
)


def _clock_plan(at: datetime) -> list[tuple[str, str]]:
    """The case-level clock views (not the step ones), renamed ``gd_<name>``."""
    plan = []
    for name, sql in clock_views(at, events=CLOCK_EVENTS):
        plan.append((name, sql))
        if name == "case_clock":
            break
    names = [name for name, _ in plan]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return [(f"gd_{name}", pattern.sub(lambda m: f"gd_{m.group(1)}", sql)) for name, sql in plan]


def _drop(db: Database, at: datetime) -> None:
    for name in [*_TABLES, *reversed([n for n, _ in _clock_plan(at)])]:
        db.execute(f"DROP TABLE IF EXISTS {name}")


def _load_guides(db: Database, guides: Iterable[PracticeGuide]) -> None:
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "item_code",
            "has_materials",
            "has_steps",
            "fee_charged",
            "fee_amount",
            "fee_unit_price",
            "promised_limit",
            "promised_unit",
        )
    }
    materials: dict[str, list[Any]] = {"item_code": [], "name": []}
    steps: dict[str, list[Any]] = {"item_code": [], "seq": [], "name": []}
    for g in guides:
        rows["item_code"].append(g.item_code)
        rows["has_materials"].append(g.materials is not None)
        rows["has_steps"].append(g.steps is not None)
        rows["fee_charged"].append(None if g.fee is None else g.fee.charged)
        rows["fee_amount"].append(None if g.fee is None else g.fee.amount)
        rows["fee_unit_price"].append(None if g.fee is None else g.fee.unit_price)
        rows["promised_limit"].append(None if g.promised is None else g.promised.limit)
        rows["promised_unit"].append(None if g.promised is None else g.promised.unit)
        for name in g.materials or ():
            materials["item_code"].append(g.item_code)
            materials["name"].append(name)
        for seq, step in enumerate(g.steps or ()):
            steps["item_code"].append(g.item_code)
            steps["seq"].append(seq)
            steps["name"].append(step.name)
    db.execute(
        "CREATE TEMP TABLE gd_guides (item_code VARCHAR, has_materials BOOLEAN, has_steps BOOLEAN,"
        " fee_charged BOOLEAN, fee_amount FLOAT8, fee_unit_price FLOAT8, promised_limit INTEGER,"
        " promised_unit VARCHAR)"
    )
    db.execute("CREATE TEMP TABLE gd_guide_materials (item_code VARCHAR, name VARCHAR)")
    db.execute("CREATE TEMP TABLE gd_guide_steps (item_code VARCHAR, seq INTEGER, name VARCHAR)")
    types = {
        "has_materials": pa.bool_(),
        "has_steps": pa.bool_(),
        "fee_charged": pa.bool_(),
        "fee_amount": pa.float64(),
        "fee_unit_price": pa.float64(),
        "promised_limit": pa.int32(),
        "seq": pa.int32(),
    }
    for table, data in (
        ("gd_guides", rows),
        ("gd_guide_materials", materials),
        ("gd_guide_steps", steps),
    ):
        arrow = pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in data.items()})
        db.insert_arrow(table, arrow)


def _case_items(db: Database, ts: str) -> None:
    """The cases of the guided items: the item of ``cases`` (its first application or
    acceptance), and whether it was applied for by the moment."""
    db.execute(f"""CREATE TEMP TABLE gd_case_item AS
SELECT c.case_id, c.item_code,
    CASE WHEN c.applied_at IS NOT NULL AND c.applied_at <= {ts} THEN 1 ELSE 0 END AS has_apply
FROM cases c
JOIN gd_guides g ON g.item_code = c.item_code""")


def _materials(db: Database, ts: str, out: Results) -> None:
    for code, cases in db.query(
        "SELECT c.item_code, COUNT(*) FROM gd_case_item c JOIN gd_guides g"
        " ON g.item_code = c.item_code AND g.has_materials WHERE c.has_apply = 1"
        " GROUP BY c.item_code"
    ):
        out[(code, "materials")] = Counts(int(cases))
    # names no guide lists first (few), then only their events are looked up
    rows = db.query(f"""SELECT x.item_code, x.name, COUNT(DISTINCT x.case_id) AS cases,
    MIN(x.case_id), MAX(x.case_id)
FROM (
    SELECT c.item_code, m.case_id, m.name, m.event_id
    FROM event_materials m
    JOIN gd_case_item c ON c.case_id = m.case_id AND c.has_apply = 1
    JOIN gd_guides g ON g.item_code = c.item_code AND g.has_materials
    LEFT JOIN gd_guide_materials gm ON gm.item_code = c.item_code AND gm.name = m.name
    WHERE gm.item_code IS NULL
) x
JOIN events e ON e.event_id = x.event_id
WHERE e.kind IN ('apply', 'supplement_request') AND e.occurred_at <= {ts}
GROUP BY x.item_code, x.name""")
    for code, name, cases, first, last in rows:
        counts = out.setdefault((code, "materials"), Counts())
        if not over_line(int(cases), counts.cases):
            continue
        counts.bad = max(counts.bad, int(cases))
        counts.details.append(
            {"material": name, "cases": int(cases), "examples": sorted({first, last})}
        )
        counts.examples = sorted({*counts.examples, first, last})[:5]


def _process(db: Database, ts: str, out: Results) -> None:
    # first starts as (time, step): two starts of one case at the same moment are ordered by
    # step name
    db.execute(f"""CREATE TEMP TABLE gd_first_steps AS
SELECT c.item_code, f.case_id, f.step, f.first_at, gs.seq
FROM (
    SELECT case_id, step, MIN(occurred_at) AS first_at
    FROM events WHERE kind = 'step_start' AND step IS NOT NULL AND occurred_at <= {ts}
    GROUP BY case_id, step
) f
JOIN gd_case_item c ON c.case_id = f.case_id
JOIN gd_guides g ON g.item_code = c.item_code AND g.has_steps
LEFT JOIN gd_guide_steps gs ON gs.item_code = c.item_code AND gs.name = f.step""")
    for code, cases in db.query(
        "SELECT item_code, COUNT(DISTINCT case_id) FROM gd_first_steps GROUP BY item_code"
    ):
        out[(code, "process")] = Counts(int(cases))
    problems = """
SELECT item_code, case_id, step, CAST(NULL AS VARCHAR) AS before_step FROM gd_first_steps
WHERE seq IS NULL
UNION ALL
SELECT x.item_code, x.case_id, x.step, x.before_step
FROM (
    SELECT item_code, case_id, step, seq,
        LAG(seq) OVER (PARTITION BY case_id ORDER BY first_at, step) AS before_seq,
        LAG(step) OVER (PARTITION BY case_id ORDER BY first_at, step) AS before_step
    FROM gd_first_steps WHERE seq IS NOT NULL
) x
WHERE x.before_seq > x.seq"""
    db.execute(f"CREATE TEMP TABLE gd_step_problems AS {problems}")
    for code, bad, first, last in db.query(
        "SELECT item_code, COUNT(DISTINCT case_id), MIN(case_id), MAX(case_id)"
        " FROM gd_step_problems GROUP BY item_code"
    ):
        counts = out[(code, "process")]
        counts.bad, counts.examples = int(bad), sorted({first, last})
    for code, step, before, cases in db.query(
        "SELECT item_code, step, before_step, COUNT(DISTINCT case_id) FROM gd_step_problems"
        " GROUP BY item_code, step, before_step ORDER BY item_code, 4 DESC, step, before_step"
    ):
        out[(code, "process")].details.append(
            {"step": step, "after": before, "cases": int(cases)}
            if before is not None
            else {"step": step, "cases": int(cases)}
        )
    db.execute("DROP TABLE gd_step_problems")


def _fees(db: Database, ts: str, out: Results) -> None:
    tol = FEE_TOLERANCE
    rows = db.query(f"""SELECT y.item_code, y.paid, y.bad, COUNT(*), MIN(y.case_id), MAX(y.case_id)
FROM (
    SELECT c.item_code, p.case_id, CAST(p.paid AS FLOAT8) AS paid,
        CASE WHEN g.fee_charged = FALSE THEN (ABS(p.paid) > {tol})
             WHEN g.fee_amount IS NOT NULL THEN (ABS(p.paid - g.fee_amount) > {tol})
             ELSE (ABS(p.paid - g.fee_unit_price * p.quantity) > {tol}) END AS bad
    FROM (
        SELECT case_id, CAST(SUM(COALESCE(amount, 0)) AS FLOAT8) AS paid,
            SUM(COALESCE(quantity, 0)) AS quantity
        FROM events WHERE kind = 'payment' AND occurred_at <= {ts}
        GROUP BY case_id
    ) p
    JOIN gd_case_item c ON c.case_id = p.case_id
    JOIN gd_guides g ON g.item_code = c.item_code AND g.fee_charged IS NOT NULL
) y
GROUP BY y.item_code, y.paid, y.bad""")
    for code, paid, bad, cases, first, last in rows:
        counts = out.setdefault((code, "fees"), Counts())
        counts.cases += int(cases)
        if bad:
            counts.bad += int(cases)
            counts.details.append({"paid": round(float(paid), 2), "cases": int(cases)})
            counts.examples = sorted({*counts.examples, first, last})
    for (_code, name), counts in out.items():
        if name == "fees":
            counts.details.sort(key=lambda d: (-d["cases"], d["paid"]))


def _promised(db: Database, at: datetime, out: Results) -> None:
    for name, sql in _clock_plan(at):
        db.execute(f"CREATE TEMP TABLE {name} AS {sql}")
    rows = db.query(f"""SELECT t.item_code, COUNT(*),
    SUM(CASE WHEN t.clock_on > t.deadline THEN 1 ELSE 0 END),
    MIN(CASE WHEN t.clock_on > t.deadline THEN t.case_id END),
    MAX(CASE WHEN t.clock_on > t.deadline THEN t.case_id END),
    MAX(t.elapsed), t.unit
FROM (
    SELECT s.item_code, s.case_id, s.clock_on, s.elapsed, s.unit,
        CASE WHEN s.total = 0 THEN s.accepted_on ELSE kd.next_workday END AS deadline
    FROM (
        SELECT c.item_code, k.case_id, k.accepted_on, k.clock_on, g.promised_unit AS unit,
            g.promised_limit + k.extension_days + CASE WHEN g.promised_unit = 'N'
                THEN k.paused_n ELSE k.paused_w END AS total,
            CASE WHEN g.promised_unit = 'N' THEN {N_KEY} + ca.day_ordinal
                 ELSE ca.workday_ordinal END AS base_key,
            CASE WHEN g.promised_unit = 'N' THEN cc.day_ordinal - ca.day_ordinal - k.paused_n
                 ELSE cc.workday_ordinal - ca.workday_ordinal - k.paused_w END AS elapsed
        FROM gd_case_clock k
        JOIN gd_case_item c ON c.case_id = k.case_id
        JOIN gd_guides g ON g.item_code = c.item_code AND g.promised_limit IS NOT NULL
        JOIN calendar ca ON ca.on_date = k.accepted_on
        JOIN calendar cc ON cc.on_date = k.clock_on
        WHERE k.status = 'finished'
    ) s
    LEFT JOIN gd_clock_calendar_keys kd ON kd.lookup_key = s.base_key + s.total
) t
GROUP BY t.item_code, t.unit""")
    for code, cases, bad, first, last, longest, unit in rows:
        out[(code, "basic.promised_limit")] = Counts(
            int(cases),
            int(bad or 0),
            sorted({x for x in (first, last) if x is not None}),
            [{"longest": int(longest), "unit": unit}] if longest is not None else [],
        )


def practice_counts(db: Database, at: datetime, guides: Iterable[PracticeGuide]) -> Results:
    """Per (item, element): the cases concerned and those contradicting the guide."""
    ts = sql_timestamp(at)
    out: Results = {}
    _drop(db, at)
    try:
        _load_guides(db, guides)
        _case_items(db, ts)
        _materials(db, ts, out)
        _process(db, ts, out)
        _fees(db, ts, out)
        _promised(db, at, out)
    finally:
        _drop(db, at)
    return out


def contradicted(results: Mapping[tuple[str, str], Counts]) -> dict[tuple[str, str], Counts]:
    """The (item, element) pairs over the line."""
    return {key: c for key, c in results.items() if over_line(c.bad, c.cases)}
