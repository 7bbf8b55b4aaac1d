"""``govwatch serve``: the web app, the JSON API and the live sweeper in one process."""

from __future__ import annotations

import click

from govwatch.cli.options import db_option
from govwatch.live.sweeper import SWEEP_SECONDS


def serve(db_url: str, host: str, port: int, sweep_seconds: float = SWEEP_SECONDS) -> None:
    import uvicorn

    from govwatch.web.app import create_app

    app = create_app(db_url)
    # the live runtime (evaluator, group commit, sweeper) lives with the app's connection pool
    app.state.pool.runtime.start_sweeper(sweep_seconds)
    click.echo(f"govwatch 已启动：http://{host}:{port}/ （API 文档 /docs）", err=True)
    uvicorn.run(app, host=host, port=port, log_level="info")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--sweep-seconds",
    default=SWEEP_SECONDS,
    show_default=True,
    type=float,
    help="后台巡检间隔（秒）；0 关闭",
)
@db_option()
def serve_command(host: str, port: int, sweep_seconds: float, db_url: str) -> None:
    """启动网页、JSON API 与实时巡检。"""
    serve(db_url, host, port, sweep_seconds)


def register(group: click.Group) -> None:
    group.add_command(serve_command)
