"""A round written directly at any stage, with results, appeals and rectifications for two units.

The visibility tests set the stage by hand so that every (role × stage) cell is checked while
results exist: a round sent back to collecting after a correction keeps its last results.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from govwatch.storage import Database

AT = datetime(2025, 11, 3, 9)
OWN = "330102"
OTHER = "330203"
# The evaluators every seeded round commissions: an account, and an organisation (any
# evaluator account of it); OUTSIDER_ORG is commissioned for nothing.
EVALUATOR = "ev_account"
EVALUATOR_ORG = "EV-ORG"
OUTSIDER_ORG = "EV-OTHER"
SYSTEM_YAML = """
name: 可见性测试体系
thresholds: {2: 60, 3: 70, 4: 80, 5: 90}
indicators:
  - {id: channels, name: 多渠道服务, points: 60, source: filled, scale: ratio}
  - {id: guide, name: 指南公布, points: 40, source: check, scale: boolean}
"""


def seed_round(
    db: Database, round_id: str, status: str, units: tuple[str, ...] = (OWN, OTHER)
) -> None:
    """A round at ``status`` with a result, an appeal and a rectification for each unit, and
    its ``guide`` leaf commissioned to :data:`EVALUATOR` and :data:`EVALUATOR_ORG`."""
    published = status in ("published", "closed")
    db.execute(
        "INSERT INTO eval_rounds (round_id, name, period_start, period_end, unit_kind, "
        "system_name, system_yaml, system_digest, status, created_by, created_at, computed_at, "
        "published_at, published_by, digest) VALUES (?, ?, ?, ?, 'region', '可见性测试体系', ?, "
        "'x', ?, 'admin', ?, ?, ?, ?, ?)",
        [
            round_id,
            f"{round_id} 评估",
            date(2025, 7, 1),
            date(2025, 9, 30),
            SYSTEM_YAML,
            status,
            AT,
            AT,
            AT if published else None,
            "admin" if published else None,
            "d" * 64 if published else None,
        ],
    )
    for rank, unit in enumerate(units, start=1):
        db.execute(
            "INSERT INTO eval_units (round_id, unit, unit_name, group_name) VALUES (?, ?, ?, '城区')",
            [round_id, unit, f"单位{unit}"],
        )
        db.execute(
            "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, "
            "group_rank, coverage, poorly_covered, points, missing, rank_low, rank_high, "
            "star_stability) VALUES (?, ?, '城区', ?, 3, ?, ?, 1.0, FALSE, ?, '[]', ?, ?, 0.9)",
            [
                round_id,
                unit,
                80.0 - rank,
                rank,
                rank,
                json.dumps({"channels": 45.0, "guide": 40.0 - rank}),
                rank,
                rank + 1,
            ],
        )
        db.execute(
            "INSERT INTO eval_appeals (appeal_id, round_id, unit, indicator, reason, submitted_by,"
            " submitted_at, status) VALUES (?, ?, ?, 'guide', '指南已公布', ?, ?, 'open')",
            [f"{round_id}-{unit}", round_id, unit, f"department:{unit}", AT],
        )
        db.execute(
            "INSERT INTO eval_rectifications (round_id, unit, indicator, points_lost, demand, "
            "status) VALUES (?, ?, 'guide', 1.0, '整改指南公布', 'open')",
            [round_id, unit],
        )
    for kind, evaluator in (("user", EVALUATOR), ("org", EVALUATOR_ORG)):
        db.execute(
            "INSERT INTO eval_commissions (round_id, evaluator_kind, evaluator, indicator, "
            "commissioned_by, commissioned_at) VALUES (?, ?, ?, 'guide', 'admin:admin', ?)",
            [round_id, kind, evaluator, AT],
        )
