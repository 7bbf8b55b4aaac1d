"""``govwatch serve``: the web app, the JSON API and the live sweeper in one process.

The sweeper is a daemon thread: every ``interval`` seconds it evaluates cases left queued for the
live evaluator (:mod:`govwatch.evaluator`; after a crash), runs the rule engine's sweep
(time-driven findings), brings the alert workflow in step (auto-close, overdue orders, red-card
orders) and delivers due webhooks. Each step's failure is logged and the loop goes on.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import click

from govwatch.alerts.notify import deliver_due
from govwatch.alerts.sync import sync_workflow
from govwatch.evaluator import evaluate_pending, pending_count
from govwatch.storage import Database, connect
from govwatch.storage.db import DEFAULT_URL, checkpoint_if_idle
from govwatch.timeutil import now

log = logging.getLogger("govwatch.sweeper")
SWEEP_SECONDS = 30.0


def _rule_sweep() -> Callable[[Database, Any], Any] | None:
    try:
        module = importlib.import_module("govwatch.rules.live")
    except ModuleNotFoundError:
        return None
    sweep: Callable[[Database, Any], Any] | None = getattr(module, "sweep", None)
    return sweep


def sweep_once(
    db: Database, queue_turn: Callable[[], AbstractContextManager[object]] = nullcontext
) -> None:
    at = now()
    rule_sweep = _rule_sweep()
    for name, step in (
        (
            "pending",
            lambda: evaluate_pending(db, queue_turn),
        ),  # cases queued but not evaluated (a crash)
        ("rules", (lambda: rule_sweep(db, at)) if rule_sweep else None),
        ("workflow", lambda: sync_workflow(db, at)),
        ("webhooks", lambda: deliver_due(db, at)),
    ):
        if step is None:
            continue
        try:
            step()
        except Exception:  # keep sweeping: one failed step must not stop supervision
            log.exception("sweeper step %s failed", name)


class Sweeper(threading.Thread):
    def __init__(self, db_url: str, interval: float = SWEEP_SECONDS) -> None:
        super().__init__(name="govwatch-sweeper", daemon=True)
        self.db_url, self.interval, self.stopped = db_url, interval, threading.Event()

    def run(self) -> None:
        db = connect(self.db_url, migrate=False)
        try:
            while not self.stopped.wait(self.interval):
                sweep_once(db)
        finally:
            db.close()

    def stop(self) -> None:
        self.stopped.set()


def serve(db_url: str, host: str, port: int, sweep_seconds: float = SWEEP_SECONDS) -> None:
    import uvicorn

    from govwatch.web.app import create_app

    app = create_app(db_url)
    sweeper: Sweeper | None = None
    if sweep_seconds > 0:
        if db_url.startswith(("postgresql://", "postgres://")):
            sweeper = Sweeper(db_url, sweep_seconds)
        else:  # DuckDB: one process holds the file, so the sweeper uses the app's pool
            sweeper = _PoolSweeper(app.state.pool, sweep_seconds)
        sweeper.start()
    click.echo(f"govwatch 已启动：http://{host}:{port}/ （API 文档 /docs）", err=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        if sweeper is not None:
            sweeper.stop()


class _PoolSweeper(Sweeper):
    def __init__(self, pool: Any, interval: float) -> None:
        super().__init__("", interval)
        self.pool = pool

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            db = self.pool.get()
            try:
                # DuckDB: a sweep evaluates like a round (and dequeues under the import turn)
                with self.pool.evaluator.evaluating():
                    sweep_once(db, self.pool.evaluator.importing)
                    # nothing queued: fold the write-ahead log into the file now, not in the
                    # middle of the next burst (storage.db.CHECKPOINT_THRESHOLD)
                    with self.pool.evaluator.importing():
                        if not pending_count(db):
                            checkpoint_if_idle(db)
            finally:
                self.pool.put(db)


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
@click.option(
    "--db",
    "db_url",
    default=DEFAULT_URL,
    show_default=True,
    envvar="GOVWATCH_DB",
    help="数据库：duckdb:///文件路径 或 postgresql://…",
)
def serve_command(host: str, port: int, sweep_seconds: float, db_url: str) -> None:
    """启动网页、JSON API 与实时巡检。"""
    serve(db_url, host, port, sweep_seconds)


def register(group: click.Group) -> None:
    group.add_command(serve_command)
