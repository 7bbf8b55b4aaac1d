"""Command line of evaluation: ``govwatch evaluate`` (stateless) and ``govwatch evaluation …``."""

from __future__ import annotations

import click

# The round, demand-side and review commands attach themselves to ``evaluation_group``.
from govwatch.cli import evaluation_demand, evaluation_review  # noqa: F401
from govwatch.cli.evaluation_rounds import evaluation_group, print_evaluation
from govwatch.cli.options import format_option
from govwatch.evaluation.presets import resolve_system
from govwatch.evaluation.systems.results import evaluate
from govwatch.evaluation.systems.robustness import DEFAULT_SEED
from govwatch.evaluation.systems.values import build_matrix, read_groups, read_values


@click.command("evaluate")
@click.option(
    "--system",
    "system_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="指标体系 YAML 文件",
)
@click.option(
    "--values",
    "values_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="指标值：CSV 或 JSONL，列 unit, indicator, value",
)
@click.option(
    "--groups",
    "groups_path",
    type=click.Path(dir_okay=False),
    help="分组：CSV 或 JSONL，列 unit, group",
)
@click.option(
    "--uncertainty",
    type=click.IntRange(min=0),
    default=0,
    help="权重扰动次数（每个叶子权重 ±20%），给出排名区间与星级稳定性",
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="扰动的随机种子")
@click.option("--explain", is_flag=True, help="输出覆盖率、各一级指标得分与最可提升的指标")
@format_option()
def evaluate_command(
    system_path: str,
    values_path: str,
    groups_path: str | None,
    uncertainty: int,
    seed: int,
    explain: bool,
    fmt: str,
) -> None:
    """按指标体系对各单位评分、评星、排名（无需数据库）。"""
    system = resolve_system(system_path)
    records = read_values(values_path)
    groups = read_groups(groups_path) if groups_path else None
    matrix = build_matrix(system, records, groups)
    result = evaluate(system, matrix, uncertainty=uncertainty, seed=seed)
    print_evaluation(result, fmt, explain=explain)


def register(group: click.Group) -> None:
    group.add_command(evaluate_command)
    group.add_command(evaluation_group)
