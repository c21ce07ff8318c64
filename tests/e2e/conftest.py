"""Real servers for the end-to-end tests, one of each per test session.

- ``postgres``: a private PostgreSQL cluster (``scripts/pg_up.sh``; Debian's ``postgresql``) on a free
  loopback port; every test makes its own database in it.
- ``prefect_server``: ``prefect server start`` (``scripts/prefect_up.sh``) on a free loopback port,
  its own ``PREFECT_HOME``, its database in that PostgreSQL cluster — the self-hosted team setup.

If a server cannot start, the tests that need it fail with the script's output (never a skip).
Prefect is talked to over its REST API (``PrefectAPI``) and its CLI in subprocesses, so this
process's own Prefect settings never matter.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_script(name: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / name)], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def read_env_file(output: str) -> dict[str, str]:
    path = next(line.split(" ", 1)[1] for line in output.splitlines() if line.startswith("env: "))
    values = {}
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value
    return values


# ------------------------------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    port: int
    state: Path
    admin_url: str

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database owned by the ``syndication`` role; returns its SQLAlchemy URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER syndication')
        return f"postgresql://syndication:syndication@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    port = free_port()
    # Not under pytest's tmp dirs: those are private to root, and the server runs as `postgres`.
    state = Path(f"/tmp/syndication-test-pg-{port}")
    env = {**os.environ, "PGPORT": str(port), "PG_STATE": str(state)}
    up = run_script("pg_up.sh", env)
    if up.returncode != 0:
        pytest.fail(
            f"scripts/pg_up.sh failed (exit {up.returncode}):\n{up.stdout}\n{up.stderr}", pytrace=False
        )
    # Config files may not carry the store's password: libpq (psycopg) reads it from a password
    # file, as a deployment would (~/.pgpass or PGPASSFILE).
    passfile = state / "pgpass"
    passfile.write_text(f"127.0.0.1:{port}:*:syndication:syndication\n", encoding="utf-8")
    passfile.chmod(0o600)
    os.environ["PGPASSFILE"] = str(passfile)
    try:
        yield Postgres(port, state, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        run_script("pg_down.sh", env, timeout=60)


# ---------------------------------------------------------------------------------------- Prefect


@dataclass
class PrefectServer:
    api_url: str
    home: Path
    state: Path

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a Prefect client process (CLI, worker, flow) talking to this server."""
        env = {
            **os.environ,
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # The tests read the stage lines (INFO) back from the API.
            "PREFECT_LOGGING_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("SYNDICATION_CONFIG", None)
        env.update(extra)
        return env

    def cli(self, *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 300):
        return subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            env=env or self.env(),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    # REST API, enough for the tests: flow runs, task runs, artifacts, logs, deployments.
    def post(self, path: str, body: dict[str, Any] | list[Any] | None = None) -> Any:
        response = requests.post(f"{self.api_url}{path}", json=body or {}, timeout=30)
        response.raise_for_status()
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        response = requests.get(f"{self.api_url}{path}", timeout=30)
        response.raise_for_status()
        return response.json()

    def deployment(self, name: str) -> dict[str, Any]:
        return self.get(f"/deployments/name/{name}")

    def flow_runs(self, **flow_run_filter: Any) -> list[dict[str, Any]]:
        return self.post(
            "/flow_runs/filter", {"flow_runs": flow_run_filter, "sort": "EXPECTED_START_TIME_DESC"}
        )

    def flow_run(self, run_id: str) -> dict[str, Any]:
        return self.get(f"/flow_runs/{run_id}")

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        return self.post("/task_runs/filter", {"flow_runs": {"id": {"any_": [flow_run_id]}}})

    def artifacts(self, flow_run_id: str) -> list[dict[str, Any]]:
        return self.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})

    def logs(self, flow_run_id: str) -> list[str]:
        rows = self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [flow_run_id]}}, "limit": 200})
        return [row["message"] for row in rows]

    def wait_for(self, run_id: str, timeout: float = 180) -> dict[str, Any]:
        """Poll until the flow run is in a final state (a generous bound, not a timing assumption)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.flow_run(run_id)
            if run["state"] and run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"flow run {run_id} still {run['state']} after {timeout} s")
            time.sleep(0.5)


@pytest.fixture(scope="session")
def prefect_server(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    port = free_port()
    state = tmp_path_factory.mktemp("prefect-server")
    database = postgres.create_database("prefect").replace("postgresql://", "postgresql+asyncpg://", 1)
    env = {
        **os.environ,
        "PREFECT_PORT": str(port),
        "PREFECT_STATE": str(state),
        "PYTHON": sys.executable,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": database,
        # The schedule test uses a 4-second interval: let the scheduler look every second, and
        # schedule a few runs ahead rather than an hour's worth.
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "1",
        "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS": "3",
    }
    up = run_script("prefect_up.sh", env)
    if up.returncode != 0:
        pytest.fail(
            f"scripts/prefect_up.sh failed (exit {up.returncode}):\n{up.stdout}\n{up.stderr}", pytrace=False
        )
    values = read_env_file(up.stdout)
    client_home = state / "client"
    client_home.mkdir()
    try:
        yield PrefectServer(values["PREFECT_API_URL"], client_home, state)
    finally:
        run_script("prefect_down.sh", env, timeout=60)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path
    name: str = field(default="")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(server: PrefectServer, pool: str, log: Path, **env: str) -> Worker:
    """``prefect worker start --pool POOL`` as its own process group, polling every second."""
    handle = open(log, "wb")  # noqa: SIM115 - owned by the child
    name = f"{pool}-{uuid.uuid4().hex[:6]}"
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--name", name],
        env=server.env(
            PREFECT_WORKER_QUERY_SECONDS="1",
            PREFECT_WORKER_PREFETCH_SECONDS="5",
            # Flow-run processes flush their last logs before they exit: do not wait long for it.
            PREFECT_LOGGING_TO_API_BATCH_INTERVAL="0.25",
            **env,
        ),
        cwd=log.parent,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    return Worker(process, log, name)
