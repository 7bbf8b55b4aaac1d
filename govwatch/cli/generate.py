"""``govwatch generate``: write a synthetic province into a directory."""

from __future__ import annotations

import sys
import time

import click
import orjson

from govwatch.cli.progress import progress
from govwatch.generator.config import DEFAULT_RATE, make_config, parse_rate_overrides
from govwatch.generator.writer import generate


@click.command("generate")
@click.option("--cases", "cases", type=int, required=True, help="办件数量")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="随机种子（同一种子生成相同文件）"
)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="输出目录")
@click.option("--violation-rate", type=float, default=DEFAULT_RATE, show_default=True,
              help="每条规则的违规比例（每个办件至多违反一条规则）")  # fmt: skip
@click.option("--rule-rate", "rule_rates", multiple=True, metavar="RULE=RATE",
              help="单条规则的违规比例，可重复，如 --rule-rate near_deadline=0.02")  # fmt: skip
@click.option("--compact-time-share", type=float, default=0.0, show_default=True,
              help="以 YYYYMMDDhhmmss 格式书写 occurred_at 的事件比例")  # fmt: skip
@click.option(
    "--workers", type=int, default=0, show_default=True, help="工作进程数（0 为 CPU 核数）"
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl"]),
    default="table",
    show_default=True,
)
def generate_command(
    cases: int,
    seed: int,
    out_dir: str,
    violation_rate: float,
    rule_rates: tuple[str, ...],
    compact_time_share: float,
    workers: int,
    fmt: str,
) -> None:
    """生成一个合成省份：事项目录、办件事件、应报告的监察结果（truth）与 meta.json。"""
    config = make_config(
        cases,
        seed,
        violation_rate,
        parse_rate_overrides(rule_rates),
        compact_time_share,
        workers=workers,
    )
    started = time.perf_counter()
    with progress("生成合成省份", total=cases, unit="件") as advance:
        summary = generate(config, out_dir, progress=advance)
    seconds = time.perf_counter() - started
    if fmt in ("json", "jsonl"):
        sys.stdout.write(orjson.dumps({
            "out": str(summary.out_dir), "items": summary.items, "cases": summary.cases,
            "events": summary.events, "findings": summary.findings, "bytes": summary.bytes_written,
            "seconds": round(seconds, 3),
        }).decode() + "\n")  # fmt: skip
        return
    click.echo(
        f"已生成 {summary.items} 个事项、{summary.cases} 个办件、{summary.events} 条事件、"
        f"{summary.findings} 条应报告的监察结果，写入 {summary.out_dir}（用时 {seconds:.1f} 秒）",
        err=True,
    )


def register(group: click.Group) -> None:
    group.add_command(generate_command)
