"""A round with two units worked to publication through the lifecycle, for the rectification
and round-notice tests.

System (100 points): ``channels`` (filled, 40, ratio), ``service`` (filled, 30, ratio),
``guide`` (check, 30, boolean). Values:

- 330102 上城区: channels 0.5 (loses 20), service missing (loses 30: a data gap, no demand),
  guide 否 (loses 30) → demands guide (30) and channels (20); gap service (30);
- 330203 海曙区: channels 1 (loses 0), service 0.2 (loses 24), guide 是 (loses 0) → demand
  service (24).

Publication on Thursday 2025-11-13; 15 working days later (no holiday in between on the
official calendar) is Thursday 2025-12-04.
"""

from __future__ import annotations

from datetime import date, datetime

from govwatch.auth.principal import Principal
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    compute_round,
    create_round,
    open_review,
    publish_round,
)
from govwatch.evaluation.rounds.values import Actor, submit_value
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.storage import Database

SYSTEM = """
name: 整改测试体系
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
indicators:
  - {id: channels, name: 多渠道服务, points: 40, source: filled, scale: ratio}
  - {id: service, name: 服务满意度自评, points: 30, source: filled, scale: ratio}
  - {id: guide, name: 指南公布, points: 30, source: check, scale: boolean}
"""

ROUND = "2025-10"
ADMIN_ACTOR = Actor("管理员", "admin")
PUBLISHED_AT = datetime(2025, 11, 13, 10)
DUE_ON = date(2025, 12, 4)

ADMIN = Principal(name="admin1", role="admin", user_id="u-admin")
SUPERVISOR = Principal(name="sup1", role="supervisor", user_id="u-sup")
D102 = Principal(
    name="d102", role="department", org_code="330102", user_id="u-102",
    scope=frozenset({"330102"}),
)  # fmt: skip
D203 = Principal(
    name="d203", role="department", org_code="330203", user_id="u-203",
    scope=frozenset({"330203"}),
)  # fmt: skip
EVALUATOR = Principal(name="ev1", role="evaluator", user_id="u-ev")


def create(db: Database, round_id: str = ROUND, **kw: object) -> None:
    create_round(
        db,
        round_id,
        f"{round_id} 整改测试",
        parse_system(SYSTEM),
        Period(date(2025, 10, 1), date(2025, 10, 31)),
        "region",
        [UnitSpec("330102", "上城区", "城区"), UnitSpec("330203", "海曙区", "城区")],
        ADMIN_ACTOR,
        datetime(2025, 11, 3, 9),
        fill_deadline_at=datetime(2025, 11, 10, 18),
        review_days=0,
        **kw,  # type: ignore[arg-type]
    )


def publish(db: Database, round_id: str = ROUND, at: datetime = PUBLISHED_AT) -> None:
    """Fill, compute, review and publish the round as the module docstring says."""
    d102 = Actor("d102", "department", "330102")
    d203 = Actor("d203", "department", "330203")
    t = datetime(2025, 11, 5, 10)
    submit_value(db, round_id, "330102", "channels", 0.5, d102, t)
    submit_value(db, round_id, "330203", "channels", 1, d203, t)
    submit_value(db, round_id, "330203", "service", 0.2, d203, t)
    submit_value(db, round_id, "330102", "guide", "否", ADMIN_ACTOR, t, "核查")
    submit_value(db, round_id, "330203", "guide", "是", ADMIN_ACTOR, t, "核查")
    compute_round(db, round_id, ADMIN_ACTOR, datetime(2025, 11, 12, 10))
    open_review(db, round_id, ADMIN_ACTOR, datetime(2025, 11, 12, 11))
    publish_round(db, round_id, ADMIN_ACTOR, at)
