"""``govwatch audit`` (stateless) and ``govwatch rules list | show | set | unset | add | history``.

``rules set`` and ``rules unset`` change the catalog as the rules page and the API do: the
scope must name a region, department or item that exists, a reason is required, and the change
is versioned with who and why and ledgered (:func:`govwatch.rules.catalog.set_setting`,
:func:`~govwatch.rules.catalog.delete_setting`); the cases are re-evaluated before it answers.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pyarrow as pa
import pyarrow.parquet as pq

from govwatch.calendar.store import load_file
from govwatch.cli.options import ActAs, as_option, at_option, db_option, format_option
from govwatch.cli.progress import activity, drawing, estimate_records, progress
from govwatch.errors import GovwatchError, InputError, ValidationError
from govwatch.exports import SafeCsvWriter
from govwatch.live.pipeline import load_memory, rule_catalog_changed
from govwatch.rules import catalog as rule_catalog
from govwatch.rules.custom import CustomRuleDef
from govwatch.rules.engine import DatabaseExecutor, audit, run
from govwatch.rules.model import CLASS_NAMES, LEVEL_NAMES, Finding
from govwatch.rules.scopes import check_scope
from govwatch.rules.settings import Scope, Setting, render
from govwatch.rules.views import CASE_VIEW_COLUMNS
from govwatch.storage import (
    Database,
    SparkSettings,
    configure_spark,
    connect,
    parse_spark_conf,
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def emit_findings(findings: list[Finding], fmt: str) -> None:
    out = sys.stdout
    if fmt == "jsonl":
        for f in findings:
            out.write(_dumps(f.as_dict()) + "\n")
    elif fmt == "csv":
        # case ids, messages and evidence come from imported records: none may run as a formula
        writer = SafeCsvWriter(out, lineterminator="\n")
        writer.writerow(["case_id", "rule", "class", "type", "level", "key", "message", "evidence"])
        for f in findings:
            row = f.as_dict()
            writer.writerow([*list(row.values())[:7], _dumps(row["evidence"])])
    else:
        for f in findings:
            key = f" [{f.key}]" if f.key else ""
            out.write(f"{f.case_id}\t{LEVEL_NAMES[f.level]}\t{f.rule}{key}\t{f.message}\n")
    out.flush()


FINDINGS_PARQUET = "findings.parquet"


def write_findings_parquet(findings: list[Finding], out_dir: Path) -> Path:
    """The findings as ``OUT_DIR/findings.parquet``: one row per finding, the columns of the
    JSON Lines output, evidence as a JSON text."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [f.as_dict() for f in findings]
    names = ["case_id", "rule", "class", "type", "level", "key", "message"]
    columns = {n: pa.array([str(r[n]) for r in rows], pa.string()) for n in names}
    columns["evidence"] = pa.array([_dumps(r["evidence"]) for r in rows], pa.string())
    path = out_dir / FINDINGS_PARQUET
    pq.write_table(pa.table(columns), path)
    return path


@click.command("audit")
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="事项目录文件",
)
@click.option(
    "--events",
    "events",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="办件事件文件（可跟多个）",
)
@click.argument("more_events", nargs=-1, type=click.Path(path_type=Path))
@at_option("审计时点（默认当前时间）；之后发生的事件不计")
@click.option(
    "--calendar", "calendar_file", type=click.Path(path_type=Path), help="工作日历 CSV（date,type）"
)
@click.option(
    "--rules", "rules_file", type=click.Path(path_type=Path), help="规则目录设置文件（YAML/JSON）"
)
@click.option(
    "--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True
)
@click.option(
    "--master", help="Spark 集群地址（spark://主机:端口、yarn、k8s://…；仅 --engine spark）"
)
@click.option(
    "--spark-conf",
    "spark_conf",
    multiple=True,
    help="Spark 设置 键=值，可多次，如 spark.executor.memory=4g（仅 --engine spark）",
)
@click.option(
    "--spark-stage",
    type=click.Path(file_okay=False, path_type=Path),
    help="把数据写成 Parquet 供各执行节点读取的目录（须为各节点都能访问的存储；仅 --engine spark）",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="把发现写成 Parquet（目录下 findings.parquet），不再逐行输出",
)
@format_option(("jsonl", "csv", "table"))
def audit_cmd(
    catalogs: tuple[Path, ...],
    events: tuple[Path, ...],
    more_events: tuple[Path, ...],
    at: datetime,
    calendar_file: Path | None,
    rules_file: Path | None,
    engine: str,
    master: str | None,
    spark_conf: tuple[str, ...],
    spark_stage: Path | None,
    out_dir: Path | None,
    fmt: str,
) -> None:
    """对事件日志运行整个监察规则目录（无状态），每行输出一条发现。"""
    if engine != "spark" and (master or spark_conf or spark_stage):
        raise InputError("--master、--spark-conf 与 --spark-stage 只用于 --engine spark")
    if engine == "spark":
        configure_spark(SparkSettings(master, parse_spark_conf(spark_conf), spark_stage))
    rules = rule_catalog.load_file(rules_file) if rules_file else rule_catalog.Catalog()
    event_files = [*events, *more_events]
    total = estimate_records(event_files) if drawing() else None
    with progress("读取办件事件", total=total) as advance:
        db = load_memory(list(catalogs), event_files, progress=advance)
    try:
        if calendar_file is not None:
            load_file(db, calendar_file)
        # the rule engine runs its catalog as a few set-based statements: elapsed time only
        with activity("运行监察规则"):
            findings = audit(db, at, rules, engine=engine)
    finally:
        db.close()
    if out_dir is not None:
        click.echo(f"发现已写入 {write_findings_parquet(findings, out_dir)}", err=True)
    else:
        emit_findings(findings, fmt)
    click.echo(f"审计时点 {at.isoformat(sep=' ')}：共 {len(findings)} 条发现", err=True)


@click.group("rules")
def rules_group() -> None:
    """监察规则目录：查看、设置、新增自定义规则、变更历史。"""


def _open(db_url: str) -> Database:
    return connect(db_url)


def _rule_row(rule: Any, cat: rule_catalog.Catalog) -> dict[str, Any]:
    mine = [s.as_doc() for s in cat.settings if s.rule == rule.id]
    return {
        "id": rule.id,
        "class": rule.rule_class,
        "type": rule.rule_type,
        "level": rule.level,
        "graded": rule.graded,
        "enabled": next(
            (
                s.enabled
                for s in cat.settings
                if s.rule == rule.id and s.scope.kind == "all" and s.enabled is not None
            ),
            True,
        ),
        "params": {p.name: p.default for p in rule.params},
        "key": rule.key,
        "description": rule.description,
        "legal_basis": rule.legal_basis,
        "custom": rule.custom,
        "settings": mine,
        "catalog_version": cat.version,
    }


@rules_group.command("list")
@db_option()
@format_option()
def rules_list(db_url: str, fmt: str) -> None:
    """列出全部规则（内置 21 条与自定义规则）及其当前设置。"""
    db = _open(db_url)
    try:
        cat = rule_catalog.current(db)
    finally:
        db.close()
    rows = [_rule_row(r, cat) for r in cat.rules()]
    if fmt == "json":
        click.echo(_dumps(rows))
    elif fmt == "jsonl":
        for row in rows:
            click.echo(_dumps(row))
    else:
        click.echo(f"规则目录版本 {cat.version}", err=True)
        for row in rows:
            state = "" if row["enabled"] else "（已停用）"
            extra = "（有范围设置）" if row["settings"] else ""
            click.echo(
                f"{row['id']:32} {CLASS_NAMES[row['class']]:10} {row['type']:8} "
                f"{LEVEL_NAMES[row['level']]}{state}{extra}"
            )


@rules_group.command("show")
@click.argument("rule_id")
@db_option()
@format_option(("table", "json"))
def rules_show(rule_id: str, db_url: str, fmt: str) -> None:
    """显示一条规则：说明、依据、参数、各范围设置与查询。"""
    db = _open(db_url)
    try:
        cat = rule_catalog.current(db)
    finally:
        db.close()
    rule = cat.rule(rule_id)
    row = _rule_row(rule, cat)
    rendered = render(rule, cat.settings)
    row["sql"] = rendered.sql.strip() if rendered else None
    if fmt == "json":
        click.echo(_dumps(row))
        return
    for name in (
        "id",
        "class",
        "type",
        "level",
        "key",
        "description",
        "legal_basis",
        "params",
        "settings",
        "catalog_version",
    ):
        click.echo(f"{name}: {row[name]}")
    click.echo(f"sql:\n{row['sql']}")


def _parse_params(pairs: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    out = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"参数“{pair}”格式不对：应为 名称=值，如 warn_days=3")
        out.append((name.strip(), value.strip()))
    return tuple(out)


MANAGE_ROLES = ("admin",)  # who changes the catalog (rules.manage)
_SCOPE_HELP = "all（全局）、region:区划代码、department:部门编码 或 item:事项编码"
_REASON_HELP = "理由（必填）：为什么这样调整，记入变更记录"


def _target(db: Database, scope: Scope) -> str:
    """The name of the region, department or item the scope names; refused in Chinese when
    neither the organisation tree nor the item catalog knows its code (as the page and API)."""
    return check_scope(db, scope).name


@rules_group.command("set")
@click.argument("rule_id")
@click.option("--scope", default="all", show_default=True, help=_SCOPE_HELP)
@click.option("--enable/--disable", "enabled", default=None, help="启用或停用")
@click.option("--level", type=click.Choice(["warning", "yellow", "red"]), help="告警级别")
@click.option("--param", "params", multiple=True, help="参数，名称=值（可多次）")
@click.option("--reason", required=True, help=_REASON_HELP)
@as_option(MANAGE_ROLES, "修改规则设置", at=False)
@at_option("视为变更发生的时点（默认当前时间）")
@db_option()
def rules_set(
    rule_id: str,
    scope: str,
    enabled: bool | None,
    level: str | None,
    params: tuple[str, ...],
    reason: str,
    acting: ActAs,
    at: datetime,
    db_url: str,
) -> None:
    """启用/停用规则，或修改其级别与参数（全局或某区划、部门、事项），须写明理由。"""
    if enabled is None and level is None and not params:
        raise InputError("没有要修改的内容：请给出 --enable/--disable、--level 或 --param")
    setting = Setting(rule_id, Scope.parse(scope), enabled, level, _parse_params(params))
    db = _open(db_url)
    try:
        who = acting.operator(db).username
        name = _target(db, setting.scope)
        saved = rule_catalog.set_setting(db, setting, who, reason, at, scope_name=name)
        rule_catalog_changed(db, at)
    finally:
        db.close()
    click.echo(f"已保存为规则目录版本 {saved.version}", err=True)


@rules_group.command("unset")
@click.argument("rule_id")
@click.option("--scope", default="all", show_default=True, help=_SCOPE_HELP)
@click.option("--reason", required=True, help=_REASON_HELP)
@as_option(MANAGE_ROLES, "修改规则设置", at=False)
@at_option("视为变更发生的时点（默认当前时间）")
@db_option()
def rules_unset(
    rule_id: str, scope: str, reason: str, acting: ActAs, at: datetime, db_url: str
) -> None:
    """删除规则在某范围的调整：其设置回到更大范围的调整或规则默认值，须写明理由。"""
    parsed = Scope.parse(scope)
    db = _open(db_url)
    try:
        who = acting.operator(db).username
        rule_catalog.current(db).rule(rule_id)  # an unknown rule: refused naming it
        try:
            name = _target(db, parsed)
        except ValidationError:  # a setting saved before scopes were checked may still go
            name = ""
        saved = rule_catalog.delete_setting(db, rule_id, parsed, who, reason, at, scope_name=name)
        rule_catalog_changed(db, at)
    finally:
        db.close()
    click.echo(f"已保存为规则目录版本 {saved.version}", err=True)


@rules_group.command("add")
@click.option("--id", "rule_id", required=True)
@click.option(
    "--class",
    "rule_class",
    required=True,
    type=click.Choice(["timeliness", "process", "content", "discretion", "integrity"]),
)
@click.option("--type", "rule_type", required=True, help="异常类型，如 过程异常")
@click.option("--level", type=click.Choice(["warning", "yellow", "red"]), required=True)
@click.option("--description", required=True, help="中文说明：什么情况算异常")
@click.option("--expression", required=True, help="基于办件视图列的布尔表达式")
@click.option("--legal-basis", default="")
@click.option("--dry-run", is_flag=True, help="只检查并试运行，不保存")
@as_option(MANAGE_ROLES, "新增自定义规则", at=False)
@at_option("试运行与变更的时点（默认当前时间）")
@db_option()
def rules_add(
    rule_id: str,
    rule_class: str,
    rule_type: str,
    level: Any,
    description: str,
    expression: str,
    legal_basis: str,
    dry_run: bool,
    acting: ActAs,
    at: datetime,
    db_url: str,
) -> None:
    """新增自定义规则：先检查表达式并在现有数据上试运行，再保存。"""
    definition = CustomRuleDef(
        rule_id, rule_class, rule_type, level, description, expression, legal_basis
    )
    db = _open(db_url)
    try:
        cat = rule_catalog.current(db).with_custom(definition)
        try:
            hits = run(DatabaseExecutor(db), cat, at, only=[rule_id])
        except GovwatchError:
            raise
        except Exception as exc:
            raise InputError(
                f"试运行失败，表达式无法在数据上执行：{str(exc).splitlines()[0]}"
            ) from exc
        sample = "、".join(f.case_id for f in hits[:5])
        click.echo(
            f"试运行：{len(hits)} 个办件符合" + (f"（如 {sample}）" if hits else ""), err=True
        )
        if dry_run:
            return
        who = acting.operator(db).username
        saved = rule_catalog.save(db, cat, who, "add " + _dumps(definition.as_doc()), at)
        rule_catalog_changed(db, at)
    finally:
        db.close()
    click.echo(f"已保存为规则目录版本 {saved.version}", err=True)


@rules_group.command("history")
@db_option()
@format_option()
def rules_history(db_url: str, fmt: str) -> None:
    """规则目录的每次变更：版本、时间、变更人、内容、理由。"""
    db = _open(db_url)
    try:
        rows = rule_catalog.history(db)
        why = {v.version: v.reason for v in rule_catalog.versions(db, limit=max(len(rows), 1))}
    finally:
        db.close()
    rows = [row | {"reason": why.get(row["version"], "")} for row in rows]
    if fmt == "json":
        click.echo(_dumps(rows))
        return
    for row in rows:
        if fmt == "jsonl":
            click.echo(_dumps(row))
        else:
            reason = f"  理由：{row['reason']}" if row["reason"] else ""
            click.echo(
                f"{row['version']:4}  {row['changed_at']}  {row['changed_by']}  {row['summary']}"
                + reason
            )


@rules_group.command("columns")
def rules_columns() -> None:
    """自定义规则表达式可用的办件视图列。"""
    buf = io.StringIO()
    for name, (kind, meaning) in CASE_VIEW_COLUMNS.items():
        buf.write(f"{name:24} {kind:10} {meaning}\n")
    click.echo(buf.getvalue().rstrip())


def register(group: click.Group) -> None:
    group.add_command(audit_cmd)
    group.add_command(rules_group)
