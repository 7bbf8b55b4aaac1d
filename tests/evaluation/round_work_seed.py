"""Rounds for the work tests: two departments, evaluators by account and by organisation.

``R1`` (collecting, fill deadline 2025-11-10 18:00) evaluates D1 and D2 on a filled leaf
(``channels``) and two check leaves (``guide``, ``site``); ``ev1`` is commissioned for
``guide`` only, the organisation ``EVORG`` (account ``ev2``) for ``site``. ``R2`` is
commissioned to nobody. Moment of the tests: 2025-11-05 10:00 (``AT``).
"""

from __future__ import annotations

from datetime import date, datetime

from govwatch.auth.orgs import add_org
from govwatch.auth.users import add_user
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.rounds.commission import Evaluator, commission
from govwatch.evaluation.rounds.lifecycle import UnitSpec, create_round
from govwatch.evaluation.rounds.values import Actor
from govwatch.evaluation.systems.system_file import parse_system
from govwatch.storage import Database

AT = datetime(2025, 11, 5, 10)
DEADLINE = datetime(2025, 11, 10, 18)
PASSWORD = "Work-pass-2025!"
ADMIN = Actor("w_admin", "admin")
D1 = Actor("w_d1", "department", "D1")
D2 = Actor("w_d2", "department", "D2")
EV1 = Actor("ev1", "evaluator")
EV2 = Actor("ev2", "evaluator", "EVORG")
SYSTEM = """
name: 填报核查测试体系
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
indicators:
  - {id: channels, name: 多渠道服务, points: 40, source: filled, scale: ratio}
  - {id: guide, name: 指南公布, points: 30, source: check, scale: boolean}
  - {id: site, name: 网站可用, points: 30, source: check, scale: boolean}
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n"


def seed_work(db: Database) -> None:
    add_org(db, "330000", "浙江省", "province", None, "330000", AT)
    for code, name in (("D1", "市场监管局"), ("D2", "交通运输局")):
        add_org(db, code, name, "department", "330000", None, AT)
    add_org(db, "EVORG", "某评估机构", "department", None, None, AT)
    for user, role, org in (
        ("w_admin", "admin", None),
        ("w_d1", "department", "D1"),
        ("w_d2", "department", "D2"),
        ("ev1", "evaluator", None),
        ("ev2", "evaluator", "EVORG"),
        ("ev3", "evaluator", None),
    ):
        add_user(db, user, PASSWORD, role, org, AT, display_name=f"测试{user}")
    system = parse_system(SYSTEM)
    units = [UnitSpec("D1", "市场监管局", "市级"), UnitSpec("D2", "交通运输局", "市级")]
    period = Period(date(2025, 7, 1), date(2025, 9, 30))
    for round_id in ("R1", "R2"):
        create_round(
            db,
            round_id,
            f"{round_id} 评估",
            system,
            period,
            "department",
            units,
            ADMIN,
            AT,
            fill_deadline_at=DEADLINE,
            review_days=3,
        )
        db.execute("UPDATE eval_rounds SET status = 'collecting' WHERE round_id = ?", [round_id])
    commission(db, "R1", Evaluator("user", "ev1"), ["guide"], ADMIN, AT)
    commission(db, "R1", Evaluator("org", "EVORG"), ["site"], ADMIN, AT)
