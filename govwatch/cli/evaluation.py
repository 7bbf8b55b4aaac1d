"""Command line of evaluation: ``govwatch evaluate`` (stateless) and ``govwatch evaluation …``."""

from __future__ import annotations

import click
import orjson

from govwatch.evaluation.presets import resolve_system
from govwatch.evaluation.systems.results import Evaluation, evaluate
from govwatch.evaluation.systems.robustness import DEFAULT_SEED, STABLE_SHARE
from govwatch.evaluation.systems.values import build_matrix, read_groups, read_values


def _echo_json(data: object) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode())


def stars_text(stars: int) -> str:
    return "★" * stars if stars else "—"


def print_evaluation(evaluation: Evaluation, fmt: str, *, explain: bool = False) -> None:
    ordered = evaluation.ordered()
    if fmt == "json":
        _echo_json([r.to_json(explain=explain) for r in ordered])
    elif fmt == "jsonl":
        for r in ordered:
            _echo_json(r.to_json(explain=explain))
    else:
        robust = evaluation.uncertainty_runs > 0
        head = f"{'排名':>4}  {'单位':<16}{'分组':<10}{'得分':>8}  {'星级':<6}{'组内':>4}"
        if robust:
            head += f"  {'排名区间':<10}{'星级稳定性':>8}"
        click.echo(head)
        for r in ordered:
            line = (
                f"{r.rank:>4}  {r.unit:<16}{(r.group or '-'):<10}{r.score:>8.2f}  "
                f"{stars_text(r.stars):<6}{r.group_rank:>4}"
            )
            if robust and r.rank_interval and r.star_stability is not None:
                shaky = "" if r.star_stability > STABLE_SHARE else "（不稳定）"
                line += (
                    f"  {r.rank_interval[0]}–{r.rank_interval[1]:<7}{r.star_stability:>8.0%}{shaky}"
                )
            if r.missing:
                line += f"  缺失 {len(r.missing)} 项"
            click.echo(line)
    poor = evaluation.poorly_covered()
    if poor:
        names = "、".join(r.unit for r in poor)
        click.echo(
            f"注意：{len(poor)} 个单位的指标覆盖率低于 {evaluation.system.coverage_min:.0%}"
            f"（结果不可靠）：{names}",
            err=True,
        )


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
@click.option("--format", "fmt", type=click.Choice(["table", "json", "jsonl"]), default="table")
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
    from govwatch.cli import evaluation_demand, evaluation_review  # noqa: F401  (add commands)
    from govwatch.cli.evaluation_rounds import evaluation_group

    group.add_command(evaluate_command)
    group.add_command(evaluation_group)
