"""A small province for the drill-down tests: cases and alerts written as the engine leaves them.

Forty cases over two departments and three regions (杭州市 itself, its county 上城区, and a
county of another city), applied over six weeks before T0 (2025-10-09 10:00), in every status;
each with a few alerts of several rules, levels, conditions and handling states, whose anomaly
arose (``occurred_at``) days before govwatch detected it (``first_seen_at``), some of them
today. The specification (:class:`CaseSpec`, :class:`AlertSpec`) is what the tests check
the lists and figures against, predicate by predicate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from govwatch.auth.orgs import add_org
from govwatch.storage import Database
from tests.api.conftest import T0

DEPARTMENTS = {"D1": "ITEM-D1", "D2": "ITEM-D2"}
REGIONS = ("330102", "330100", "330203")
STATUSES = ("open", "finished", "finished", "applied", "terminated", "open")
# (rule, class, type) the alerts are drawn from
RULES = (
    ("case_overdue", "timeliness", "办理超期异常"),
    ("step_overdue", "timeliness", "办理环节超期"),
    ("missing_materials", "content", "完整性异常"),
    ("unlisted_fee", "discretion", "收费金额异常"),
    ("missing_step", "process", "过程异常"),
)
LEVELS = ("warning", "yellow", "red")
WORKFLOW = (None, "open", "explained", "appealed", "rectifying", "closed", "dismissed")
TERMINAL = ("closed", "dismissed")


@dataclass(frozen=True)
class CaseSpec:
    case_id: str
    department: str
    item: str
    region: str
    applied_at: datetime
    status: str

    @property
    def finished_at(self) -> datetime | None:
        return self.applied_at + timedelta(days=3) if self.status == "finished" else None


@dataclass(frozen=True)
class AlertSpec:
    alert_id: str
    case: CaseSpec
    rule: str
    rule_class: str
    rule_type: str
    level: str
    status: str
    state: str | None  # the workflow row's state (None: no row yet)
    occurred_at: datetime
    first_seen_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    closed_at: datetime | None  # the workflow row's updated_at when terminal

    @property
    def handling(self) -> str:
        """The handling state lists show (an alert without a workflow row: by its status)."""
        if self.state is not None:
            return self.state
        return "closed" if self.status == "cleared" else "open"


@dataclass(frozen=True)
class Province:
    cases: list[CaseSpec]
    alerts: list[AlertSpec]

    def overdue_case_ids(self) -> set[str]:
        return {
            a.case.case_id for a in self.alerts if a.rule == "case_overdue" and a.status == "active"
        }


def _case_id(i: int) -> str:
    # three families of numbers: HZ-0xx, HZ_1xx (an underscore, a LIKE wildcard) and XS-2xx
    return ("HZ-0", "HZ_1", "XS-2")[i % 3] + f"{i:02d}"


def build() -> Province:
    cases = []
    for i in range(40):
        dept = "D1" if i % 2 == 0 else "D2"
        cases.append(
            CaseSpec(
                case_id=_case_id(i),
                department=dept,
                item=DEPARTMENTS[dept],
                region=REGIONS[i % 3],
                applied_at=T0 - timedelta(days=40 - i, hours=i % 5),
                status=STATUSES[i % len(STATUSES)],
            )
        )
    alerts: list[AlertSpec] = []
    n = 0
    for c in cases:
        for k in range(int(c.case_id[-1]) % 3 + 1):  # one to three alerts a case
            rule, rule_class, rule_type = RULES[(n + k) % len(RULES)]
            if rule == "case_overdue" and any(
                a.case == c and a.rule == "case_overdue" for a in alerts
            ):
                rule, rule_class, rule_type = RULES[1]
            status = "cleared" if n % 4 == 3 else "active"
            state = WORKFLOW[n % len(WORKFLOW)]
            occurred = T0 - timedelta(days=n % 33, hours=n % 7)
            seen = occurred + timedelta(days=n % 4, hours=1)
            if seen > T0:
                seen = T0
            cleared = seen + timedelta(hours=2) if status == "cleared" else None
            if cleared is not None and cleared > T0:
                cleared = T0
            alerts.append(
                AlertSpec(
                    alert_id=hashlib.sha256(f"{c.case_id}|{rule}|{k}".encode()).hexdigest(),
                    case=c,
                    rule=rule,
                    rule_class=rule_class,
                    rule_type=rule_type,
                    level=LEVELS[n % 3],
                    status=status,
                    state=state,
                    occurred_at=occurred,
                    first_seen_at=seen,
                    last_seen_at=cleared or seen,
                    cleared_at=cleared,
                    closed_at=(seen + timedelta(hours=3)) if state in TERMINAL else None,
                )
            )
            n += 1
    return Province(cases, alerts)


def populate(db: Database) -> Province:
    """Write the province (the orgs of tests.api.conftest.seed must exist)."""
    add_org(db, "330200", "宁波市", "city", "330000", None, T0)
    add_org(db, "330203", "海曙区", "county", "330200", None, T0)
    province = build()
    db.executemany(
        "INSERT INTO cases (case_id, item_code, org_code, region_code, department_code, "
        "applied_at, accepted_at, finished_at, status, event_count, first_at, last_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 2, ?, ?)",
        [
            [
                c.case_id,
                c.item,
                c.department,
                c.region,
                c.department,
                c.applied_at,
                c.applied_at + timedelta(hours=1) if c.status != "applied" else None,
                c.finished_at,
                c.status,
                c.applied_at,
                c.applied_at + timedelta(days=3),
            ]
            for c in province.cases
        ],
    )
    db.executemany(
        "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, level, status, "
        "message, evidence, catalog_version, item_code, region_code, department_code, org_code, "
        "occurred_at, first_seen_at, last_seen_at, level_changed_at, cleared_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, '测试告警', '{}', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                a.alert_id,
                a.case.case_id,
                a.rule,
                a.rule_class,
                a.rule_type,
                a.alert_id[:6],
                a.level,
                a.status,
                a.case.item,
                a.case.region,
                a.case.department,
                a.case.department,
                a.occurred_at,
                a.first_seen_at,
                a.last_seen_at,
                a.first_seen_at,
                a.cleared_at,
            ]
            for a in province.alerts
        ],
    )
    db.executemany(
        "INSERT INTO alert_workflow (alert_id, state, version, case_id, org_code, updated_at, "
        "updated_by) VALUES (?, ?, 1, ?, ?, ?, 'system')",
        [
            [a.alert_id, a.state, a.case.case_id, a.case.department, a.closed_at or a.first_seen_at]
            for a in province.alerts
            if a.state is not None
        ],
    )
    return province


def within(moment: datetime | None, first: date, last: date) -> bool:
    return moment is not None and first <= moment.date() <= last
