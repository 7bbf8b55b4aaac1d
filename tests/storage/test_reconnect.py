"""Lost database connections are replaced, and a PostgreSQL restart costs only what was in flight.

The fast tests kill pooled connections behind the pool's back (PostgreSQL: ``pg_terminate_backend``
on the shared server; DuckDB: the pooled cursor closed) and check that the next checkout, and
the next request, get a working connection. The slow tests start a PostgreSQL cluster of their own
(``initdb`` + ``pg_ctl`` on a free port, in a temporary directory owned by ``postgres``), run
``govwatch serve`` against it in a subprocess and restart or stop that cluster: under a load of
posted events, while the server is idle, and for long enough that requests must be refused.
DuckDB is embedded (there is no server to restart), so those run on PostgreSQL only.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from govwatch.auth.orgs import add_org
from govwatch.auth.tokens import create_token
from govwatch.items.ingest import import_catalog
from govwatch.storage import Database, DatabaseUnavailableError, connect, connection_lost
from govwatch.web.api.deps import Pool
from govwatch.web.app import create_app
from tests.conftest import skip_or_fail

NOW = "2025-10-01T12:00:00"
T0 = datetime(2025, 9, 1, 8, 0)
PG_BIN = Path(os.environ.get("GOVWATCH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
ITEM = {
    "item_code": "ITEM-R1",
    "name": "食品经营许可",
    "department_code": "D1",
    "department_name": "市场监管局",
    "region_code": "330102",
    "case_kind": "2",
    "legal_limit": 20,
    "promised_limit": 10,
    "steps": [{"name": "受理", "limit": 1}, {"name": "审查", "limit": 5}],
    "materials": [{"name": "申请书", "required": True}],
}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVWATCH_NOW", NOW)


def seed(db: Database, tmp: Path) -> tuple[str, str]:
    """An organisation tree, the item, a source token for its department and a supervisor's
    token (which reads cases); the two tokens."""
    add_org(db, "330000", "浙江省", "province", None, None, T0)
    add_org(db, "330100", "杭州市", "city", "330000", None, T0)
    add_org(db, "330102", "上城区", "county", "330100", None, T0)
    add_org(db, "D1", "上城区市场监管局", "department", "330102", "330102", T0)
    catalog = tmp / "catalog.jsonl"
    catalog.write_bytes(orjson.dumps(ITEM))
    import_catalog(db, [catalog])
    source, _ = create_token(db, "loader", "source", ["D1"], "test", T0)
    reader, _ = create_token(db, "reader", "supervisor", [], "test", T0)
    return source, reader


def case_events(case_id: str) -> list[dict[str, Any]]:
    """A case's application and acceptance (unique event ids derived from the case id)."""
    base = {"case_id": case_id, "org_code": "D1", "item_code": ITEM["item_code"]}
    return [
        {
            **base,
            "event_id": f"{case_id}-a",
            "kind": "apply",
            "occurred_at": "2025-09-01T09:00:00+08:00",
            "applicant_type": "1",
            "channel": "1",
            "materials": [{"name": "申请书", "provided": True}],
        },
        {
            **base,
            "event_id": f"{case_id}-b",
            "kind": "accept",
            "occurred_at": "2025-09-01T10:00:00+08:00",
        },
    ]


def _pg_backend(db: Database) -> int:
    return int(db.scalar("SELECT pg_backend_pid()"))


def _kill(db: Database, killer: Database | None) -> None:
    """Kill a connection behind its owner's back: the server ends its backend (PostgreSQL), or
    the cursor is closed (DuckDB, whose connections die no other way)."""
    if killer is None:
        db.raw.close()
        return
    pid = _pg_backend(db)
    assert killer.scalar("SELECT pg_terminate_backend(?)", [pid]) is True
    # the backend is gone once the server no longer lists it
    for _ in range(500):
        if not killer.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", [pid]):
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} still running after pg_terminate_backend")


# -- fast: a killed pooled connection -------------------------------------------------------------
def test_a_pooled_connection_killed_while_idle_is_replaced_on_the_next_checkout(
    db_url: str,
) -> None:
    pool = Pool(db_url)
    killer = connect(db_url, migrate=False) if db_url.startswith("postgresql") else None
    try:
        first = pool.get()
        first.execute("CREATE TABLE IF NOT EXISTS reconnect_probe (n INTEGER)")
        pid = _pg_backend(first) if killer else None
        pool.put(first)
        _kill(first, killer)
        again = pool.get()  # the pool is LIFO: without a health check, the dead one again
        assert again.scalar("SELECT count(*) FROM reconnect_probe") == 0
        if killer is not None:
            assert _pg_backend(again) != pid
        pool.put(again)
    finally:
        if killer is not None:
            killer.close()
        pool.close()


def test_requests_after_every_pooled_connection_was_killed_are_answered(
    db_url: str, tmp_path: Path
) -> None:
    """The pool's idle connections all die (as in a database restart); the next reads and the
    next posted batch are answered as if nothing had happened."""
    app = create_app(db_url)
    pool: Pool = app.state.pool
    seeding = pool.get()
    source, reader = seed(seeding, tmp_path)
    pool.put(seeding)
    headers = {"Authorization": f"Bearer {source}"}
    killer = connect(db_url, migrate=False) if db_url.startswith("postgresql") else None
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            posted = client.post("/api/v1/events", headers=headers, json=case_events("K-1"))
            assert posted.status_code == 200, posted.text
            # hold several connections at once so that the pool keeps several idle
            held = [pool.get() for _ in range(4)]
            for db in held:
                pool.put(db)
            for db in held:
                _kill(db, killer)
            for url in ("/api/v1/me", "/api/v1/cases/K-1", "/api/v1/me"):
                answer = client.get(url, headers={"Authorization": f"Bearer {reader}"})
                assert answer.status_code == 200, (url, answer.status_code, answer.text)
            posted = client.post("/api/v1/events", headers=headers, json=case_events("K-2"))
            assert posted.status_code == 200, posted.text
            assert posted.json()["applied"] == 2
    finally:
        if killer is not None:
            killer.close()


def test_a_statement_on_a_lost_connection_says_so_and_the_next_one_reconnects(
    db_url: str,
) -> None:
    """PostgreSQL: the statement that meets the lost connection raises DatabaseUnavailableError
    (a Chinese message, not a driver's error) and the next one runs on a new connection in the
    same schema. DuckDB (embedded) is not reconnected: its error is recognised as a lost
    connection and the connection reports itself lost, so that the pool replaces it."""
    db = connect(db_url)
    killer = connect(db_url, migrate=False) if db_url.startswith("postgresql") else None
    try:
        db.execute("CREATE TABLE reconnect_keys (k INTEGER PRIMARY KEY)")
        db.execute("INSERT INTO reconnect_keys VALUES (1)")
        with pytest.raises(Exception) as duplicate:
            db.execute("INSERT INTO reconnect_keys VALUES (1)")
        assert not connection_lost(duplicate.value)  # an answer of a live database
        assert db.healthy() and not db.lost
        _kill(db, killer)
        with pytest.raises(Exception) as caught:
            db.scalar("SELECT count(*) FROM reconnect_keys")
        assert connection_lost(caught.value)
        assert db.lost and not db.healthy()
        if killer is not None:
            assert isinstance(caught.value, DatabaseUnavailableError)
            assert CJK.search(str(caught.value))
            assert db.scalar("SELECT count(*) FROM reconnect_keys") == 1
            assert not db.lost
            with db.transaction():
                db.execute("INSERT INTO reconnect_keys VALUES (2)")
            assert db.scalar("SELECT count(*) FROM reconnect_keys") == 2
    finally:
        if killer is not None:
            killer.close()
        with suppress(Exception):
            db.close()


# -- slow: a PostgreSQL cluster of the test's own, restarted under a serving govwatch -------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A PostgreSQL cluster in ``root`` (owned by ``postgres`` when run as root) on ``port``."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run(
            [*as_postgres, str(PG_BIN / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{program} {' '.join(args)}: {done.stdout}{done.stderr}"

    def ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), *args)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self.ctl("-o", options, "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def restart(self) -> None:
        log = str(self.root / "server.log")
        self.ctl("-m", "fast", "-l", log, "-w", "-t", "60", "restart")

    def stop(self, mode: str = "fast") -> None:
        self.ctl("-m", mode, "-w", "-t", "60", "stop")

    def new_database(self, name: str) -> str:
        admin = connect(self.url(), migrate=False)
        try:
            admin.execute(f"CREATE DATABASE {name}")
        finally:
            admin.close()
        return self.url(name)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        skip_or_fail(f"PostgreSQL server programs are not installed in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="gw-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    own = Cluster(root, _free_port())
    try:
        own.init()
        own.start()
        yield own
    finally:
        with suppress(AssertionError):  # not running (a failed start, a test that stopped it)
            own.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Server:
    base: str
    token: str  # a source token (posts events)
    reader: str  # a supervisor's token (reads cases)
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def reading(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.reader}"}

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(url: str, tmp: Path) -> Iterator[Server]:
    """``govwatch serve`` on ``url`` (seeded first) in a subprocess, sweeping every second."""
    db = connect(url)
    token, reader = seed(db, tmp)
    db.close()
    port = _free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        command = ["serve", "--db", url, "--port", str(port), "--sweep-seconds", "1"]
        process = subprocess.Popen(
            [sys.executable, "-m", "govwatch.cli", *command],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GOVWATCH_NOW": NOW},
        )
    server = Server(f"http://127.0.0.1:{port}", token, reader, process, log)
    try:
        _until(lambda: _status(server, "/api/v1/me") == 200, 120, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _status(server: Server, path: str) -> int:
    try:
        return httpx.get(server.base + path, headers=server.reading, timeout=120).status_code
    except httpx.TransportError:
        return 0


def _until(condition: Callable[[], bool], timeout: float, server: Server | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if server is not None and server.process.poll() is not None:
            raise AssertionError(f"govwatch serve exited:\n{server.output()[-3000:]}")
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


@dataclass
class Answer:
    sent: float
    answered: float
    status: int
    what: str  # "post" or "read"
    body: dict[str, Any] | None = None
    event_ids: list[str] = field(default_factory=list)


class Load:
    """Clients posting generated events at about ``rate`` events/s, and a reader.

    Each poster sends batches of ``batch`` events (unique ids) with ``wait=false`` and, as a
    well-behaved client does, sends a batch again after a 503 or a broken connection until
    it is answered 200."""

    def __init__(self, server: Server, posters: int = 8, rate: int = 2000, batch: int = 250):
        self.server, self.posters, self.batch = server, posters, batch
        self.period = batch * posters / rate  # seconds between one poster's batches
        self.answers: list[Answer] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.stopped_at: float | None = None
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._post, args=(n,), daemon=True) for n in range(posters)
        ] + [threading.Thread(target=self._read, daemon=True)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped_at = time.monotonic()
        self.stop.set()
        for t in self._threads:
            t.join(timeout=120)

    def _given_up(self) -> bool:
        """Once stopped, a batch still unacknowledged after this long is left (a failure)."""
        return self.stopped_at is not None and time.monotonic() > self.stopped_at + 30

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def _post(self, poster: int) -> None:
        with httpx.Client(base_url=self.server.base, headers=self.server.headers, timeout=120) as c:
            number = 0
            due = time.monotonic()
            while not self.stop.is_set():
                cases = [f"R{poster}-{number}-{k}" for k in range(self.batch // 2)]
                number += 1
                events = [e for case in cases for e in case_events(case)]
                ids = [str(e["event_id"]) for e in events]
                body = orjson.dumps(events)
                while not self._given_up():  # until this batch is acknowledged
                    sent = time.monotonic()
                    try:
                        r = c.post(
                            "/api/v1/events",
                            params={"wait": "false"},
                            content=body,
                            headers={"content-type": "application/json"},
                        )
                    except httpx.TransportError as exc:
                        self._record(Answer(sent, time.monotonic(), 0, "post"))
                        self.errors.append(repr(exc))
                        time.sleep(0.2)
                        continue
                    parsed = (
                        r.json()
                        if r.headers.get("content-type", "").startswith("application/json")
                        else None
                    )
                    self._record(Answer(sent, time.monotonic(), r.status_code, "post", parsed, ids))
                    if r.status_code == 200:
                        break
                    time.sleep(float(r.headers.get("retry-after", "1")))
                due = max(due + self.period, time.monotonic() - self.period)
                self.stop.wait(max(0.0, due - time.monotonic()))

    def _read(self) -> None:
        with httpx.Client(base_url=self.server.base, headers=self.server.reading, timeout=120) as c:
            while not self.stop.is_set():
                for path in ("/api/v1/me", "/api/v1/cases/BASE-1", "/api/v1/alerts?limit=5"):
                    sent = time.monotonic()
                    try:
                        status = c.get(path).status_code
                    except httpx.TransportError:
                        status = 0
                    self._record(Answer(sent, time.monotonic(), status, "read"))
                self.stop.wait(0.05)


# After a restart has completed, answers may still be affected for this long.
WINDOW_GRACE = 5.0


@pytest.mark.slow
def test_postgresql_restarted_twice_under_load_costs_only_the_requests_in_flight(
    cluster: Cluster, tmp_path: Path
) -> None:
    url = cluster.new_database("under_load")
    with serving(url, tmp_path) as server:
        first = httpx.post(
            server.base + "/api/v1/events",
            headers=server.headers,
            json=case_events("BASE-1"),
            timeout=120,
        )
        assert first.status_code == 200, first.text
        windows: list[tuple[float, float]] = []
        with Load(server) as load:
            time.sleep(5)
            for _ in range(2):
                begun = time.monotonic()
                cluster.restart()
                windows.append((begun, time.monotonic() + WINDOW_GRACE))
                time.sleep(8)
        out = server.output()
        answers = sorted(load.answers, key=lambda a: a.sent)

        def in_window(a: Answer) -> bool:
            return any(a.answered >= start and a.sent <= end for start, end in windows)

        seen = Counter((a.what, a.status, in_window(a)) for a in answers)
        acked_events = sum(
            len(a.event_ids) for a in answers if a.what == "post" and a.status == 200
        )
        span = max(a.answered for a in answers) - min(a.sent for a in answers)
        took = sorted(a.answered - a.sent for a in answers if a.what == "post")
        print(
            f"answers (what, status, in a window): {dict(seen)}; {acked_events / span:.0f} "
            f"events/s; posts took {took[len(took) // 2]:.2f} s (median), {took[-1]:.2f} s (max); "
            f"{out.count('run again')} requests run again by the server"
        )
        assert not [k for k in seen if k[1] == 500], (seen, out[-3000:])
        outside = {k: n for k, n in seen.items() if k[1] != 200 and not k[2]}
        assert outside == {}, (seen, out[-3000:])
        after = [(a.what, a.status) for a in answers if a.sent > windows[-1][1] and a.status != 200]
        assert after == []
        posts = [a for a in answers if a.what == "post"]
        # the load really ran through both restarts (about 2,000 events/s were offered)
        assert [w for w in windows if any(w[0] <= a.sent <= w[1] for a in posts)] == windows
        assert any(a.sent > windows[-1][1] and a.status == 200 for a in posts)

        acked = [a for a in posts if a.status == 200]
        acked_ids = [i for a in acked for i in a.event_ids]
        assert len(acked_ids) == len(set(acked_ids))  # each batch acknowledged once
        for a in acked:
            assert a.body is not None
            assert a.body["applied"] + a.body["duplicates"] == len(a.event_ids), a.body
            assert a.body["quarantined"] == []
        check = connect(url, migrate=False)
        try:
            stored = [
                str(r[0])
                for r in check.query("SELECT event_id FROM events WHERE case_id LIKE 'R%'")
            ]
            materials = check.scalar(
                "SELECT count(*) FROM event_materials WHERE event_id LIKE 'R%'"
            )
            cases = check.scalar("SELECT count(*) FROM cases WHERE case_id LIKE 'R%'")
        finally:
            check.close()
        assert len(stored) == len(set(stored))
        # every acknowledged event is stored exactly once; nothing that was not posted is
        assert set(acked_ids) <= set(stored)
        posted = {i for a in posts for i in a.event_ids}
        assert set(stored) <= posted
        assert sum(a.body["applied"] for a in acked if a.body) <= len(stored)
        applies = [i for i in stored if i.endswith("-a")]
        assert materials == len(applies)  # one material row per stored application
        assert cases == len({i.rsplit("-", 1)[0] for i in stored})

        # reads answer again, and the live evaluator has evaluated after the restarts
        assert _status(server, "/api/v1/cases/BASE-1") == 200
        waited = httpx.post(
            server.base + "/api/v1/events",
            headers=server.headers,
            json=case_events("AFTER-1"),
            timeout=120,
        )
        assert waited.status_code == 200, waited.text
        _until(lambda: _drained(url), 60, server)
        _until(lambda: _sweeper_connected(url), 30, server)


def _drained(url: str) -> bool:
    """Every case queued for the live evaluator has been evaluated (the queue is empty).

    (Not the answer's X-Govwatch-Pending-Cases: on PostgreSQL the sweeper's evaluation of
    queued cases can collide with the evaluator's round, which then fails once and is retried,
    and its waiters answer with their cases still queued.)"""
    db = connect(url, migrate=False)
    try:
        return not db.scalar("SELECT count(*) FROM live_pending")
    finally:
        db.close()


def _sweeper_connected(url: str) -> bool:
    """The sweeper (a connection of its own on PostgreSQL) is connected again."""
    db = connect(url, migrate=False)
    try:
        return bool(
            db.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'govwatch sweeper' "
                "AND datname = current_database()"
            )
        )
    finally:
        db.close()


def test_an_idle_server_answers_its_next_requests_after_a_postgresql_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    url = cluster.new_database("idle")
    with serving(url, tmp_path) as server:
        first = httpx.post(
            server.base + "/api/v1/events",
            headers=server.headers,
            json=case_events("I-1"),
            timeout=120,
        )
        assert first.status_code == 200, first.text
        assert _status(server, "/api/v1/cases/I-1") == 200
        cluster.restart()  # no request meanwhile
        assert _status(server, "/api/v1/cases/I-1") == 200
        assert _status(server, "/api/v1/me") == 200
        posted = httpx.post(
            server.base + "/api/v1/events",
            headers=server.headers,
            json=case_events("I-2"),
            timeout=120,
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["applied"] == 2
        _until(lambda: _drained(url), 60, server)
        _until(lambda: _sweeper_connected(url), 30, server)


@pytest.mark.slow
def test_while_postgresql_is_down_requests_answer_503_with_retry_after_in_chinese(
    cluster: Cluster, tmp_path: Path
) -> None:
    url = cluster.new_database("down")
    with serving(url, tmp_path) as server:
        assert _status(server, "/api/v1/me") == 200
        cluster.stop()
        try:
            for method, path, body in (
                ("GET", "/api/v1/me", None),
                ("POST", "/api/v1/events", case_events("D-1")),
                ("POST", "/api/v1/login", {"username": "nobody", "password": "x"}),
            ):
                answer = httpx.request(
                    method, server.base + path, headers=server.headers, json=body, timeout=120
                )
                assert answer.status_code == 503, (path, answer.status_code, answer.text)
                assert int(answer.headers["Retry-After"]) > 0
                assert CJK.search(answer.json()["detail"]), answer.text
        finally:
            cluster.start()
        _until(lambda: _status(server, "/api/v1/me") == 200, 60, server)
        posted = httpx.post(
            server.base + "/api/v1/events",
            headers=server.headers,
            json=case_events("D-1"),
            timeout=120,
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["applied"] == 2
