"""``govwatch audit --engine spark --master spark://…`` on a real standalone cluster.

The test starts a master and two workers (1 core, 512 MB each) on loopback from the pyspark
installation, as a user would on a machine of their own, runs the audit there as a child
process with the tables staged as Parquet and the findings written as Parquet, and compares
them with DuckDB's findings over the same files (and with the generator's truth). The cluster
is stopped in a finalizer, which also checks that none of its Java processes is left.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.conftest import SPARK_AUDIT_TIMEOUT, skip_or_fail
from tests.rules.province import make_province

pytestmark = [pytest.mark.slow, pytest.mark.spark, SPARK_AUDIT_TIMEOUT]

CASES = 2_000
SEED = 17
START_TIMEOUT_S = 240  # a JVM starts in ~30 s on two busy cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _group_members(pgids: set[int]) -> list[int]:
    """Processes still in the cluster's process groups (its JVMs and their executors)."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) in pgids:
                left.append(int(entry.name))
        except ProcessLookupError:
            continue
    return left


@dataclass
class Cluster:
    """A standalone master and its workers, each a Java process in its own process group."""

    home: Path
    work: Path
    port: int = field(default_factory=_free_port)
    ui_port: int = field(default_factory=_free_port)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return os.environ | {
            "SPARK_HOME": str(self.home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(self.work / "logs"),
            "SPARK_DAEMON_MEMORY": "256m",
            # the master's REST submission server would take the fixed port 6066
            "SPARK_MASTER_OPTS": "-Dspark.master.rest.enabled=false",
        }

    def _start(self, name: str, *args: str) -> None:
        log = (self.work / f"{name}.log").open("wb")
        self.processes.append(
            subprocess.Popen(
                [str(self.home / "bin" / "spark-class"), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env(),
                cwd=self.work,
                start_new_session=True,  # its own group: the finalizer ends it and its children
            )
        )

    def start(self, workers: int) -> None:
        self._start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--webui-port",
            str(self.ui_port),
        )
        for n in range(workers):
            (self.work / f"worker{n}").mkdir()
            self._start(
                f"worker{n}",
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "512m",
                "--webui-port",
                str(_free_port()),
                "--work-dir",
                str(self.work / f"worker{n}"),
                self.url,
            )

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ui_port}/json/", timeout=5) as r:
            return dict(json.load(r))

    def wait_for_workers(self, count: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for p in self.processes:
                if p.poll() is not None:
                    raise AssertionError(f"a Spark process ended at start: {self.logs()}")
            try:
                if self.state()["aliveworkers"] >= count:
                    return
            except OSError:
                pass  # the master's web UI is not up yet
            time.sleep(1)
        raise AssertionError(f"{count} workers did not register in time: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"{p.name}: {p.read_text(errors='replace')[-1500:]}"
            for p in sorted(self.work.glob("*.log"))
        )

    def stop(self) -> None:
        pgids = {p.pid for p in self.processes}  # each leads its own group
        for p in reversed(self.processes):  # workers first, then the master
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)
        deadline = time.monotonic() + 60
        while _group_members(pgids) and time.monotonic() < deadline:
            time.sleep(1)  # executors end after their worker
        left = _group_members(pgids)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"Spark processes left after the cluster stopped: {left}"
        assert not [p.pid for p in self.processes if _alive(p.pid)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    try:
        import pyspark
    except ImportError:
        skip_or_fail("pyspark is not installed")
    home = Path(pyspark.__file__).parent
    running = Cluster(home, tmp_path_factory.mktemp("spark-cluster"))
    try:
        running.start(workers=2)
        running.wait_for_workers(2)
        yield running
    finally:
        running.stop()


def govwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SPARK_LOCAL_IP": "127.0.0.1", "GOVWATCH_SPARK_DRIVER_MEMORY": "1g"}
    return subprocess.run(
        [sys.executable, "-m", "govwatch.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=1500,
    )


def test_audit_on_a_two_worker_cluster_equals_the_duckdb_audit(
    cluster: Cluster, tmp_path: Path
) -> None:
    folder = make_province(tmp_path / "province", CASES, SEED)
    end_at = json.loads((folder / "meta.json").read_text())["end_at"]
    files = ["--catalog", str(folder / "catalog.jsonl"), "--events", str(folder / "events.jsonl")]
    on_duckdb = govwatch("audit", *files, "--at", end_at, cwd=tmp_path)
    assert on_duckdb.returncode == 0, on_duckdb.stderr
    stage, out = tmp_path / "stage", tmp_path / "out"
    on_spark = govwatch(
        "audit",
        *files,
        "--at",
        end_at,
        "--engine",
        "spark",
        "--master",
        cluster.url,
        "--spark-conf",
        "spark.executor.memory=512m",
        "--spark-conf",
        "spark.executor.cores=1",
        "--spark-stage",
        str(stage),
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert on_spark.returncode == 0, on_spark.stderr[-3000:]
    assert on_spark.stdout == "", "with --out the findings go to the Parquet file only"
    assert str(out / "findings.parquet") in on_spark.stderr

    expected = [json.loads(line) for line in on_duckdb.stdout.splitlines()]
    found = pq.read_table(out / "findings.parquet").to_pylist()
    for row in found:
        row["evidence"] = json.loads(row["evidence"])
    assert found == expected
    truth = {
        (t["case_id"], t["rule"], t["key"], t["level"])
        for t in map(json.loads, (folder / "truth.jsonl").read_text().splitlines())
    }
    assert {(f["case_id"], f["rule"], f["key"], f["level"]) for f in found} == truth

    # it ran on the cluster, on both workers, and left no staged Parquet behind
    apps = cluster.state()["completedapps"]
    assert [a["name"] for a in apps] == ["govwatch-audit"]
    for n in (0, 1):  # a worker keeps a folder per application it ran executors for
        assert [d.name for d in (cluster.work / f"worker{n}").iterdir()] == [apps[0]["id"]]
    assert list(stage.iterdir()) == []
