"""An app on a fresh database of either engine, seeded, with a signed-in client per reader."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.storage import Database, connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.conftest import drop_pg_schema, pg_url


@contextmanager
def signed_in(
    engine: str,
    folder: Path,
    at: datetime,
    seed: Callable[[Database], None],
    usernames: Mapping[str, str],
    password: str,
) -> Iterator[tuple[FastAPI, str, dict[str, TestClient]]]:
    """(app, database URL, client per key): each key's client signed in as its username, an
    empty username the anonymous client; the clock frozen at ``at``. The PostgreSQL schema is
    dropped afterwards."""
    url = f"duckdb:///{folder}/govwatch.duckdb" if engine == "duckdb" else pg_url()
    app = create_app(url)
    app.dependency_overrides[clock] = lambda: at
    pool = app.state.pool
    db = pool.get()
    try:
        seed(db)
    finally:
        pool.put(db)
    clients: dict[str, TestClient] = {}
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        for key, username in usernames.items():
            if not username:
                clients[key] = anonymous
                continue
            client = TestClient(app, raise_server_exceptions=False)
            answer = client.post(
                "/login", data={"username": username, "password": password}, follow_redirects=False
            )
            assert answer.status_code == 303, (key, answer.text)
            clients[key] = client
        yield app, url, clients
    if engine == "postgres":
        cleanup = connect(url, migrate=False)
        drop_pg_schema(cleanup)
        cleanup.close()
