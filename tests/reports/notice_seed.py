"""Two published rounds of one indicator system (the second compared with the first), a round
under review, an organisation tree of three departments, for the notice and appraisal tests."""

from __future__ import annotations

import json
from datetime import date, datetime

from govwatch.auth.principal import Principal
from govwatch.storage import Database

AT = datetime(2026, 12, 7, 10)  # a Monday, after both rounds' publication
SYSTEM = "通报测试体系"
SYSTEM_YAML = f"""
name: {SYSTEM}
thresholds: {{2: 60, 3: 70, 4: 80, 5: 90}}
indicators:
  - id: service
    name: 服务能力
    children:
      - {{id: channels, name: 多渠道服务, points: 40, source: filled, scale: ratio}}
      - {{id: online, name: 网上办理, points: 20, source: filled, scale: ratio}}
  - id: openness
    name: 公开透明
    children:
      - {{id: guide, name: 指南公布, points: 40, source: check, scale: boolean}}
"""
DEPTS = {"D1": "市场监管局", "D2": "人社局", "D3": "公安局"}
GROUPS = {"D1": "市直", "D2": "市直", "D3": "公安"}
LEAF_NAMES = {"channels": "多渠道服务", "online": "网上办理", "guide": "指南公布"}
# earned points per (round, unit): channels, online, guide
POINTS = {
    "R1": {"D1": (30.0, 15.0, 40.0), "D2": (35.0, 10.0, 20.0), "D3": (20.0, 20.0, 40.0)},
    "R2": {"D1": (36.0, 18.0, 40.0), "D2": (30.0, 12.0, 40.0), "D3": (25.0, 14.5, 20.0)},
    "R3": {"D1": (10.0, 10.0, 10.0), "D2": (11.0, 11.0, 11.0), "D3": (12.0, 12.0, 12.0)},
}
ADMIN = Principal("admin1", "admin", user_id="u-admin")
SUPERVISOR = Principal("sup1", "supervisor", user_id="u-sup")


def department(code: str) -> Principal:
    return Principal(f"user-{code}", "department", org_code=code, user_id=f"u-{code}",
                     scope=frozenset({code}))  # fmt: skip


def _stars(score: float) -> int:
    return max([s for s, t in ((2, 60), (3, 70), (4, 80), (5, 90)) if score >= t], default=0)


def seed(db: Database) -> None:
    at = datetime(2026, 1, 1)
    db.execute(
        "INSERT INTO orgs (org_code, name, kind, parent_code, region_code, created_at) "
        "VALUES ('330000', '浙江省', 'province', NULL, '330000', ?), "
        "('330100', '杭州市', 'city', '330000', '330100', ?)",
        [at, at],
    )
    for code, name in DEPTS.items():
        db.execute(
            "INSERT INTO orgs (org_code, name, kind, parent_code, region_code, created_at) "
            "VALUES (?, ?, 'department', '330100', '330100', ?)",
            [code, name, at],
        )
    rounds = {
        "R1": ("2026年上半年评估", date(2026, 1, 1), date(2026, 6, 30), "published", None),
        "R2": ("2026年第三季度评估", date(2026, 7, 1), date(2026, 9, 30), "published", "R1"),
        "R3": ("2026年第四季度评估", date(2026, 10, 1), date(2026, 12, 31), "review", "R2"),
    }
    for rid, (name, start, end, status, prev) in rounds.items():
        published = status == "published"
        moment = datetime(end.year, end.month, end.day, 9) if published else None
        db.execute(
            "INSERT INTO eval_rounds (round_id, name, period_start, period_end, unit_kind, "
            "system_name, system_yaml, system_digest, status, previous_round_id, created_by, "
            "created_at, computed_at, published_at, published_by, digest) "
            "VALUES (?, ?, ?, ?, 'department', ?, ?, 'x', ?, ?, 'admin', ?, ?, ?, ?, ?)",
            [rid, name, start, end, SYSTEM, SYSTEM_YAML, status, prev, at, at, moment,
             "admin" if published else None, "d" * 64 if published else None],
        )  # fmt: skip
        scored = {u: sum(p) for u, p in POINTS[rid].items()}
        order = sorted(scored, key=lambda u: (-scored[u], u))
        for unit in DEPTS:
            group = GROUPS[unit]
            in_group = sorted((u for u in order if GROUPS[u] == group), key=order.index)
            ch, on, gu = POINTS[rid][unit]
            db.execute(
                "INSERT INTO eval_units (round_id, unit, unit_name, group_name) VALUES (?, ?, ?, ?)",
                [rid, unit, DEPTS[unit], group],
            )
            db.execute(
                "INSERT INTO eval_results (round_id, unit, group_name, score, stars, rank, "
                "group_rank, coverage, poorly_covered, points, missing) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1.0, FALSE, ?, '[]')",
                [rid, unit, group, scored[unit], _stars(scored[unit]), order.index(unit) + 1,
                 in_group.index(unit) + 1,
                 json.dumps({"channels": ch, "online": on, "guide": gu})],
            )  # fmt: skip
            lost = sorted(
                ((40 - ch, "channels"), (20 - on, "online"), (40 - gu, "guide")), reverse=True
            )
            for points_lost, indicator in lost[:2]:
                if points_lost > 0:
                    db.execute(
                        "INSERT INTO eval_rectifications (round_id, unit, indicator, "
                        "points_lost, demand, status) VALUES (?, ?, ?, ?, ?, 'open')",
                        [
                            rid,
                            unit,
                            indicator,
                            points_lost,
                            f"“{LEAF_NAMES[indicator]}”失分 {points_lost:.2f}，请分析原因并限期整改",
                        ],
                    )


# cases per department in 2026: (cases, of them overdue with a red case_overdue alert,
# yellow alerts of another rule), and orders: (issued, replied late or unanswered past due)
CASES = {"D1": (10, 2, 0), "D2": (20, 1, 2), "D3": (8, 0, 0)}
ORDERS = {"D1": (1, 0), "D2": (2, 1)}


def seed_cases(db: Database) -> None:
    """Cases applied and finished in 2026, overdue and card alerts, orders (appraisal tests)."""
    n = 0
    for dept, (cases, overdue, yellow) in CASES.items():
        for i in range(cases):
            n += 1
            case_id, applied = f"C{n:04d}", datetime(2026, 3, 1 + i, 9)
            finished = datetime(2026, 4, 1 + i, 9)
            db.execute(
                "INSERT INTO cases (case_id, item_code, region_code, department_code, applied_at, "
                "finished_at, status, event_count, first_at, last_at) "
                "VALUES (?, 'I1', '330100', ?, ?, ?, 'finished', 2, ?, ?)",
                [case_id, dept, applied, finished, applied, finished],
            )
            alerts = []
            if i < overdue:
                alerts.append(("case_overdue", "red"))
            if i < yellow:
                alerts.append(("repeated_supplement", "yellow"))
            for rule, level in alerts:
                db.execute(
                    "INSERT INTO alerts (alert_id, case_id, rule, rule_class, rule_type, key, "
                    "level, status, message, evidence, catalog_version, region_code, "
                    "department_code, org_code, first_seen_at, last_seen_at, level_changed_at, "
                    "occurred_at) VALUES (?, ?, ?, 'timeliness', 'x', '', ?, 'active', '超期', "
                    "'{}', 1, '330100', ?, ?, ?, ?, ?, ?)",
                    [f"A-{case_id}-{rule}", case_id, rule, level, dept, dept, finished,
                     finished, finished, finished],
                )  # fmt: skip
    k = 0
    for dept, (issued, late) in ORDERS.items():
        for i in range(issued):
            k += 1
            replied = None if i < late else datetime(2026, 5, 2, 9)
            db.execute(
                "INSERT INTO orders (order_id, org_code, state, version, content, issued_by, "
                "issued_at, reply_days, reply_due_on, replied_at, updated_at) "
                "VALUES (?, ?, ?, 1, '请说明', 'sup1', ?, 5, ?, ?, ?)",
                [f"O{k}", dept, "issued" if replied is None else "replied",
                 datetime(2026, 5, 1, 9), date(2026, 5, 8), replied, datetime(2026, 5, 1, 9)],
            )  # fmt: skip
