"""``govwatch demo``: a sample province, supervised and evaluated, served with demo accounts.

Steps: generate a province (deterministic per seed); import its catalog and events into a
fresh DuckDB file, which runs the clocks and the live rule catalog; build the organisation
tree and one demo account per role; turn rating events into 好差评 records; run a guide check
(办事指南核查, as the demo administrator) over the province's guides, whose injected faults
raise item-information alerts; run an ``online-service`` evaluation round over the cities
through collect → compute → review → publish, its guide and coverage points computed from
that check, and only the leaves no data computes (third-party checks without a metric,
filled forms, questionnaires) simulated deterministically, the checks entered by the
commissioned ``demo_evaluator``; leave a second (``supervision-performance``, departments)
round under review with a few departments' appeals submitted and the demo department's still
open; then serve. Each round's name says its period, and every period ends before the clock.

The clock is pinned (``GOVWATCH_NOW``) to the province's end moment, so that what the pages
show ("today", near-deadline cases, open pauses) is the province as it stood then.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import click
import orjson

from govwatch.alerts.queries import count_active_alerts
from govwatch.auth.demo import DemoAccount, create_demo_users
from govwatch.auth.orgs import rename_org, sync_from_catalog
from govwatch.auth.principal import Principal
from govwatch.cli.serve import serve
from govwatch.evaluation.demand.ratings import open_followups, sync_ratings_from_events
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.presets import load_preset
from govwatch.evaluation.rounds.commission import EVALUATOR_SOURCES, Evaluator, commission
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    collect,
    compute_round,
    create_round,
    open_review,
    publish_round,
    submit_appeal,
)
from govwatch.evaluation.rounds.values import Actor, submit_value
from govwatch.evaluation.systems.system import IndicatorSystem
from govwatch.events.cases import count_cases
from govwatch.generator import generate, make_config
from govwatch.items.ingest import import_catalog
from govwatch.items.queries import city_codes, department_name_by_region, departments
from govwatch.live.guide_runs import guide_check_run
from govwatch.live.pipeline import import_event_files
from govwatch.reports.workflow import issue_demo_notices
from govwatch.storage import Database, connect
from govwatch.timeutil import parse_timestamp
from govwatch.vocabulary import ITEM_LEVEL_NAMES

DEMO_DIR = Path("demo-data")


@dataclass(frozen=True)
class DemoSummary:
    db_url: str
    end_at: datetime
    cases: int
    alerts: int
    rounds: tuple[str, ...]


def _say(message: str) -> None:
    click.echo(message, err=True)


def build(cases: int, seed: int, workdir: Path = DEMO_DIR) -> tuple[DemoSummary, list[DemoAccount]]:
    """Generate, import, supervise and evaluate; return the summary and the demo accounts."""
    province = workdir / "province"
    if province.exists():
        shutil.rmtree(province)
    _say(f"1/5 生成示例省份：{cases} 个办件（种子 {seed}）…")
    generate(make_config(cases, seed), province)
    meta = orjson.loads((province / "meta.json").read_bytes())
    end_at = parse_timestamp(meta["end_at"])
    os.environ["GOVWATCH_NOW"] = end_at.isoformat()
    db_path = workdir / "govwatch.duckdb"
    for suffix in ("", ".wal"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db_url = f"duckdb:///{db_path}"
    db = connect(db_url)
    try:
        _say("2/5 导入事项目录与办件事件，计算时限并运行监察规则…")
        import_catalog(db, [province / "catalog.jsonl"])
        import_event_files(db, [province / "events.jsonl"])
        _say("3/5 建立组织机构与演示账号…")
        sync_from_catalog(db, end_at)
        _name_regions(db)
        accounts = create_demo_users(db, end_at)
        _say("4/5 办事指南核查、好差评与评估批次：采集、计算、复核、发布；印发通报…")
        admin = next((a.username for a in accounts if a.role == "admin"), "演示管理员")
        department = next((a.org_code for a in accounts if a.role == "department"), None)
        rounds = _evaluate(db, end_at, admin, department)
        # the results used: last month's supervision notice and the published round's
        # evaluation notice, issued to the units' inboxes (签收 waits for them)
        issue_demo_notices(db, end_at, Principal(admin, "admin"))
        alerts = count_active_alerts(db)
        n_cases = count_cases(db)
    finally:
        db.close()
    return DemoSummary(db_url, end_at, n_cases, alerts, rounds), accounts


@dataclass(frozen=True)
class RoundPlan:
    """One demo round: its name says its period, which ends before the demo's clock."""

    round_id: str
    name: str
    preset: str
    unit_kind: str
    period: tuple[date, date]
    publish: bool


# The province's data run from 2025-01-01 to the demo's clock (2026-06-30 22:00): the published
# round covers 2025's second half and is published in June 2026; the round under review covers
# 2026's first quarter, its review window still open at the clock.
PLANS = (
    RoundPlan("2025-H2-online", "2025 年下半年 网上政务服务能力评估", "online-service", "city",
              (date(2025, 7, 1), date(2025, 12, 31)), True),
    RoundPlan("2026-Q1-supervision", "2026 年第一季度 电子监察办理质量评估",
              "supervision-performance", "department", (date(2026, 1, 1), date(2026, 3, 31)), False),
)  # fmt: skip
REVIEW_DAYS = 5  # working days: the window opened two days before the clock is still open
APPEALS = 2  # appeals the demo submits for other departments; the demo department's is left open


def _evaluate(
    db: Database, end_at: datetime, who: str = "演示管理员", department: str | None = None
) -> tuple[str, ...]:
    """Publish one round and leave one under review with appeals open (some submitted, the
    demo department's still possible), so that every role has something to do."""
    # a real guide check before the rounds: their guide and coverage leaves count it
    guide_check_run(db, end_at - timedelta(days=21), who)
    sync_ratings_from_events(db)
    open_followups(db, at=end_at)
    admin, evaluator = Actor(who, "admin"), Actor("demo_evaluator", "evaluator")
    rng = random.Random(2025)
    made = []
    for plan in PLANS:
        system = load_preset(plan.preset)
        units = _units(db, plan.unit_kind)
        if not units:
            continue
        start, end = plan.period
        period = Period(start, end)
        # the published round was worked in June; the one under review in the last days
        at = end_at - timedelta(days=20 if plan.publish else 4)
        create_round(db, plan.round_id, plan.name, system, period, plan.unit_kind,
                     [UnitSpec(u, n, g) for u, n, g in units], admin, at,
                     review_days=0 if plan.publish else REVIEW_DAYS)  # fmt: skip
        checked = [
            leaf.id
            for leaf in system.leaves
            if leaf.source in EVALUATOR_SOURCES and not leaf.metric
        ]
        if checked and _has_user(db, evaluator.name):
            commission(db, plan.round_id, Evaluator("user", evaluator.name), checked, admin, at)
        collect(db, plan.round_id, admin, at + timedelta(hours=1))
        for unit, _name, _group in units:
            for leaf in system.leaves:
                if leaf.source in ("check", "filled", "survey") and not leaf.metric:
                    value: object = (
                        rng.random() < 0.85 if leaf.scale == "boolean"
                        else round(rng.uniform(0.55, 1.0), 3)
                    )  # fmt: skip
                    actor = evaluator if leaf.id in checked else admin
                    submit_value(db, plan.round_id, unit, leaf.id, value, actor,
                                 at + timedelta(hours=2), "演示数据（模拟核查结果）")  # fmt: skip
        compute_round(db, plan.round_id, admin, at + timedelta(days=1), uncertainty=500)
        open_review(db, plan.round_id, admin, at + timedelta(days=1, hours=1))
        if plan.publish:
            publish_round(db, plan.round_id, admin, at + timedelta(days=2))
        else:
            _appeal(db, plan.round_id, system, units, department, at + timedelta(days=2))
        made.append(plan.round_id)
    return tuple(made)


def _has_user(db: Database, username: str) -> bool:
    return bool(db.query("SELECT 1 FROM users WHERE username = ?", [username]))


def _appeal(
    db: Database,
    round_id: str,
    system: IndicatorSystem,
    units: list[tuple[str, str | None, str | None]],
    department: str | None,
    at: datetime,
) -> None:
    """Appeals by a few departments against the indicator each lost most on; the demo
    department's own appeal is left for the visitor to make."""
    lost = {
        str(r[0]): orjson.loads(r[1]) if r[1] else {}
        for r in db.query("SELECT unit, points FROM eval_results WHERE round_id = ?", [round_id])
    }
    leaves = {leaf.id: leaf for leaf in system.leaves}
    others = [u for u, _n, _g in units if u != department][:APPEALS]
    for unit in others:
        earned = lost.get(unit, {})
        worst = max(leaves.values(), key=lambda leaf: leaf.points - float(earned.get(leaf.id, 0)))
        submit_appeal(db, round_id, unit,
                      f"“{worst.name}”得分偏低：本单位已按要求整改并补充材料，请复核。",
                      Actor(f"{unit} 填报员", "department", unit), at, indicator=worst.id)  # fmt: skip


def _region_names(db: Database) -> dict[str, str]:
    """Names of divisions, read off the names of their departments (临川市公安局 → 临川市)."""
    names: dict[str, str] = {}
    for code, text in department_name_by_region(db).items():
        if code.endswith("0000"):
            match = re.match(r"^(.+?省)", text)
        elif code.endswith("00"):
            match = re.match(r"^(.+?市)", text)
        else:
            match = re.match(r"^.+?市(.+?(?:区|县|市))", text)
        if match:
            names[code] = match.group(1)
    return names


def _name_regions(db: Database) -> None:
    for code, name in _region_names(db).items():
        rename_org(db, code, name)


def _units(db: Database, kind: str) -> list[tuple[str, str | None, str | None]]:
    """Cities (grouped by the province's economic zones) or departments (grouped by level)."""
    if kind == "city":
        units = city_codes(db)
        names = _region_names(db)
        return [
            (u, names.get(u), "一类地区" if i % 2 == 0 else "二类地区") for i, u in enumerate(units)
        ]
    # Departments are grouped by the level of their items; the demo province has three.
    groups = {lv: ITEM_LEVEL_NAMES[lv] for lv in ("2", "3", "4")}
    return [(code, name, groups.get(level, "其他")) for code, name, level in departments(db)]


@click.command("demo")
@click.option("--cases", type=int, default=20_000, show_default=True, help="示例省份的办件数量")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--no-serve", is_flag=True, help="只准备数据，不启动网站")
def demo_command(cases: int, seed: int, host: str, port: int, no_serve: bool) -> None:
    """生成示例省份，运行电子监察与评估，启动网站并打印演示账号。"""
    summary, accounts = build(cases, seed)
    _say(
        f"5/5 完成：{summary.cases} 个办件，{summary.alerts} 条有效预警，"
        f"评估批次 {', '.join(summary.rounds)}；演示时钟固定在 {summary.end_at:%Y-%m-%d %H:%M}"
    )
    click.echo(
        f"\n网址：http://{host}:{port}/    登录：http://{host}:{port}/login    "
        f"公开页：http://{host}:{port}/public"
    )
    click.echo("演示账号（仅供演示，每次运行重新生成密码）：")
    for account in accounts:
        kind = "API 令牌" if account.kind == "token" else "密码"
        org = f"  （{account.org_code}）" if account.org_code else ""
        click.echo(f"  {account.role:<11} {account.username:<16} {kind}：{account.secret}{org}")
    if no_serve:
        return
    serve(summary.db_url, host, port)


def register(group: click.Group) -> None:
    group.add_command(demo_command)
