"""Prefect overhead: what running the pipeline as deployments on a worker costs on top of the work.

Set-up as docs/operations.md describes it: ``scripts/prefect_up.sh`` (a self-hosted server, SQLite),
the ``syndication`` process pool, ``prefect deploy --all`` from prefect.yaml, one ``prefect worker``
polling every second; the demo blog on loopback as the feed.

- **no-op syndicate run, end to end**: after a first run has done the work, ``syndicate`` runs that
  find nothing new (one 304), from "create flow run" over the API to the run's COMPLETED state, on a
  warm worker; median of ``RUNS``. For comparison the same no-op cycle as plain functions
  (``pipeline.syndicate``) and as the flow called in-process (no worker, no process start).
- **task runs**: per ``syndicate`` run (tasks per stage: the same whatever the number of posts), and
  per post in a 100-post ``backfill`` run (one task per chunk of 100 posts, plus the walk and the
  report).
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("PREFECT_BENCH_RUNS", "5"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Prefect:
    def __init__(self, state: Path) -> None:
        self.port = _free_port()
        self.state = state
        self.script_env = {
            **os.environ,
            "PREFECT_PORT": str(self.port),
            "PREFECT_STATE": str(state / "server"),
            "PYTHON": sys.executable,
            "PREFECT_UI_ENABLED": "false",
        }
        self.api = f"http://127.0.0.1:{self.port}/api"
        (state / "client").mkdir(parents=True)
        self.env = {
            **os.environ,
            "PREFECT_API_URL": self.api,
            "PREFECT_HOME": str(state / "client"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PYTHONPATH": str(ROOT),
        }

    def up(self) -> None:
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "prefect_up.sh")],
            env=self.script_env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"prefect_up.sh failed:\n{done.stdout}\n{done.stderr}")

    def down(self) -> None:
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "prefect_down.sh")], env=self.script_env, capture_output=True
        )

    def cli(self, *args: str, **extra: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "prefect", *args],
            env={**self.env, **extra},
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")

    def run(self, deployment: str, parameters: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        """Create a flow run of ``deployment`` and wait for it: (seconds, the run)."""
        found = requests.get(f"{self.api}/deployments/name/{deployment}", timeout=30).json()
        started = time.perf_counter()
        run = requests.post(
            f"{self.api}/deployments/{found['id']}/create_flow_run",
            json={"parameters": parameters or {}},
            timeout=30,
        ).json()
        while True:
            run = requests.get(f"{self.api}/flow_runs/{run['id']}", timeout=30).json()
            if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        if run["state"]["type"] != "COMPLETED":
            raise RuntimeError(f"{deployment} run ended {run['state']}")
        return seconds, run

    def task_runs(self, run_id: str) -> int:
        rows = requests.post(
            f"{self.api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [run_id]}}}, timeout=30
        ).json()
        return len(rows)


def run() -> list[tuple[str, float, str]]:
    from syndication.demo import demo_dir, prepare_demo, serve_site
    from tests.synthetic_blog import SyntheticBlog, blog_config, serve_blog

    results: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        shutil.copytree(demo_dir() / "site", tmp / "site")
        prefect = _Prefect(tmp / "prefect")
        started = time.perf_counter()
        prefect.up()
        results.append(("prefect_server_start_fresh", time.perf_counter() - started, "s"))
        worker = None
        try:
            with serve_site(tmp / "site") as site, serve_blog(SyntheticBlog(posts=100)) as blog:
                config = prepare_demo(tmp / "work", site.base_url, outbox=tmp / "outbox")
                prefect.cli("work-pool", "create", "syndication", "--type", "process")
                prefect.cli("--no-prompt", "deploy", "--all", SYNDICATION_HOME=str(ROOT))
                for name in ("syndicate/syndicate", "publish/publish"):
                    _pause_schedules(prefect, name)
                log = open(tmp / "worker.log", "wb")  # noqa: SIM115 - the worker's
                worker = subprocess.Popen(
                    [sys.executable, "-m", "prefect", "worker", "start", "--pool", "syndication"],
                    env={
                        **prefect.env,
                        "SYNDICATION_HOME": str(ROOT),
                        "SYNDICATION_CONFIG": str(config),
                        "PREFECT_WORKER_QUERY_SECONDS": "1",
                    },
                    cwd=tmp,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                first, first_run = prefect.run("syndicate/syndicate")
                results.append(("prefect_syndicate_first_run_demo_blog", first, "s"))
                results.append(
                    ("prefect_task_runs_per_syndicate_run", prefect.task_runs(first_run["id"]), "tasks")
                )
                noop = [prefect.run("syndicate/syndicate")[0] for _ in range(RUNS)]
                results.append(("prefect_noop_syndicate_deployment_run_median", statistics.median(noop), "s"))
                results.append(("prefect_noop_syndicate_deployment_run_min", min(noop), "s"))
                results.append(("noop_syndicate_plain_functions", _plain_noop(config), "s"))
                results.append(("noop_syndicate_flow_in_process", _in_process_noop(prefect, config), "s"))

                blog_toml = tmp / "blog.toml"
                blog_toml.write_text(
                    blog_config(
                        blog.base_url, store_url=f"sqlite:///{tmp}/blog.db", outbox=str(tmp / "blog-outbox")
                    )
                )
                seconds, backfill = prefect.run("backfill/backfill", {"config": str(blog_toml), "pages": 10})
                tasks = prefect.task_runs(backfill["id"])
                results.append(("prefect_backfill_100_posts_deployment_run", seconds, "s"))
                results.append(("prefect_task_runs_per_post_backfill_100", tasks / 100, "tasks/post"))
        finally:
            if worker is not None:
                os.killpg(worker.pid, 15)
                worker.wait(timeout=30)
            prefect.down()
    return results


def _pause_schedules(prefect: _Prefect, name: str) -> None:
    deployment = requests.get(f"{prefect.api}/deployments/name/{name}", timeout=30).json()
    for schedule in deployment["schedules"]:
        requests.patch(
            f"{prefect.api}/deployments/{deployment['id']}/schedules/{schedule['id']}",
            json={"active": False},
            timeout=30,
        ).raise_for_status()


def _plain_noop(config: Path) -> float:
    from syndication import pipeline
    from syndication.context import RunContext

    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        ctx = RunContext.open(config)
        try:
            summary = pipeline.syndicate(ctx)
        finally:
            ctx.close()
        times.append(time.perf_counter() - started)
        assert summary.feeds_not_modified == 1 and summary.engine_calls == 0, summary
    return statistics.median(times)


def _in_process_noop(prefect: _Prefect, config: Path) -> float:
    """The flow called in a fresh interpreter against the server (no worker), minus nothing: the
    interval is measured inside the child around the call."""
    code = (
        "import time, sys\n"
        "from flows.syndicate import syndicate_flow\n"
        "syndicate_flow(config=sys.argv[1])\n"  # warm: imports, client, first API calls
        "t = time.perf_counter(); syndicate_flow(config=sys.argv[1]); print(time.perf_counter() - t)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(config)],
        env=prefect.env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return float(done.stdout.strip().splitlines()[-1])
