"""A running app for the page tests: seeded DuckDB file, the clock pinned, served on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from govwatch.storage import connect
from govwatch.web.api.deps import clock
from govwatch.web.app import create_app
from tests.web.seed import AT, PASSWORD, seed


def make_app(url: str, at: datetime = AT) -> FastAPI:
    app = create_app(url)
    app.dependency_overrides[clock] = lambda: at
    return app


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("web")
    url = f"duckdb:///{tmp}/govwatch.duckdb"
    db = connect(url)
    seed(db, Path(tmp))
    db.close()
    return url


@pytest.fixture(scope="module")
def app(seeded_url: str) -> FastAPI:
    return make_app(seeded_url)


def login(client: TestClient, role: str) -> None:
    answer = client.post(
        "/login", data={"username": f"web_{role}", "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text


@pytest.fixture(scope="module")
def server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free loopback port; yields its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
