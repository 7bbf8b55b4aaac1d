"""``govwatch demo``: a sample province, supervised and evaluated, served with demo accounts.

Steps: generate a province (deterministic per seed); import its catalog and events into a
fresh DuckDB file, which runs the clocks and the live rule catalog; build the organisation
tree and one demo account per role; turn rating events into 好差评 records; run a guide check
(办事指南核查, as the demo administrator) over the province's guides, whose injected faults
raise item-information alerts; run an ``online-service`` evaluation round over the cities
through collect → compute → review → publish, its guide and coverage points computed from
that check, and only the leaves no data computes (third-party checks without a metric,
filled forms, questionnaires) simulated deterministically; leave a second
(``supervision-performance``, departments) round in review for the evaluator; then serve.

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
from govwatch.cli.serve import serve
from govwatch.evaluation.demand.ratings import open_followups, sync_ratings_from_events
from govwatch.evaluation.metrics.definitions import Period
from govwatch.evaluation.presets import load_preset
from govwatch.evaluation.rounds.lifecycle import (
    UnitSpec,
    collect,
    compute_round,
    create_round,
    open_review,
    publish_round,
)
from govwatch.evaluation.rounds.values import Actor, submit_value
from govwatch.events.cases import count_cases
from govwatch.generator import generate, make_config
from govwatch.items.ingest import import_catalog
from govwatch.items.queries import city_codes, department_name_by_region, departments
from govwatch.live.guide_runs import guide_check_run
from govwatch.live.pipeline import import_event_files
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
        _say("4/5 办事指南核查、好差评与评估批次：采集、计算、复核、发布…")
        admin = next((a.username for a in accounts if a.role == "admin"), "演示管理员")
        rounds = _evaluate(db, end_at, admin)
        alerts = count_active_alerts(db)
        n_cases = count_cases(db)
    finally:
        db.close()
    return DemoSummary(db_url, end_at, n_cases, alerts, rounds), accounts


def _evaluate(db: Database, end_at: datetime, who: str = "演示管理员") -> tuple[str, ...]:
    # a real guide check before the rounds: their guide and coverage leaves count it
    guide_check_run(db, end_at - timedelta(days=21), who)
    sync_ratings_from_events(db)
    open_followups(db, at=end_at)
    admin, evaluator = Actor("演示管理员", "admin"), Actor("演示第三方评估机构", "evaluator")
    period = Period(date(2025, 1, 1), end_at.date(), end_at)
    rng = random.Random(2025)
    made = []
    plans = (
        ("2026-H1-online", "2026 年上半年 网上政务服务能力评估", "online-service", "city", True),
        ("2026-H1-supervision", "2026 年上半年 电子监察办理质量评估", "supervision-performance",
         "department", False),
    )  # fmt: skip
    for round_id, name, preset, kind, publish in plans:
        system = load_preset(preset)
        units = _units(db, kind)
        if not units:
            continue
        at = end_at - timedelta(days=20)
        create_round(db, round_id, name, system, period, kind,
                     [UnitSpec(u, n, g) for u, n, g in units], admin, at, review_days=0)  # fmt: skip
        collect(db, round_id, admin, at + timedelta(hours=1))
        for unit, _name, _group in units:
            for leaf in system.leaves:
                if leaf.source in ("check", "filled", "survey") and not leaf.metric:
                    value: object = (
                        rng.random() < 0.85 if leaf.scale == "boolean"
                        else round(rng.uniform(0.55, 1.0), 3)
                    )  # fmt: skip
                    actor = evaluator if leaf.source != "filled" else admin
                    submit_value(db, round_id, unit, leaf.id, value, actor,
                                 at + timedelta(hours=2), "演示数据（模拟核查结果）")  # fmt: skip
        compute_round(db, round_id, admin, at + timedelta(days=1), uncertainty=500)
        open_review(db, round_id, admin, at + timedelta(days=1, hours=1))
        if publish:
            publish_round(db, round_id, admin, at + timedelta(days=2))
        made.append(round_id)
    return tuple(made)


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
