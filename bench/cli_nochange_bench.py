"""``syndicate run`` on an unchanged feed, as cron runs it: the whole command in a subprocess.

The demo blog on loopback; a first run does the work, then each timed run finds nothing new (one
304). Figures, each the median of ``RUNS`` (``CLI_BENCH_RUNS``, default 5):

- ``cli_nochange_run_embedded_wall``: ``syndicate run -c … --json`` in a fresh process with no Prefect
  server configured (the default: the pipeline in-process, no Prefect import), start to exit;
- ``cli_nochange_pipeline_work``: the same run's own work (``orchestration.embedded.syndicate``, lock,
  stages, report) called in this warm process: what the command cannot go below;
- ``cli_nochange_run_prefect_wall``: ``syndicate run --prefect`` (the flow with its temporary
  Prefect server: the old default), fewer runs (``CLI_BENCH_PREFECT_RUNS``, default 2) as each
  costs 10 s or more.

The runs alternate (embedded, prefect, embedded …) so a load change hits both alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("CLI_BENCH_RUNS", "5"))
PREFECT_RUNS = int(os.environ.get("CLI_BENCH_PREFECT_RUNS", "2"))


def _command() -> list[str]:
    script = Path(sys.executable).with_name("syndicate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "syndication"]


def _timed_cli(config: Path, env: dict[str, str], *extra: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*_command(), "run", "-c", str(config), "--json", *extra],
        env=env,
        cwd=config.parent,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"syndicate run {' '.join(extra)} failed ({done.returncode}):\n{done.stderr}")
    if '"feeds_not_modified": 1' not in done.stdout:
        raise RuntimeError(f"not a no-change run:\n{done.stdout}")
    return seconds


def run() -> list[tuple[str, float, str]]:
    from syndication.demo import demo_dir, prepare_demo, serve_site
    from syndication.orchestration import embedded

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        shutil.copytree(demo_dir() / "site", tmp / "site")
        env = {
            **os.environ,
            "PREFECT_HOME": str(tmp / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
        env.pop("PREFECT_API_URL", None)
        with serve_site(tmp / "site") as site:
            config = prepare_demo(tmp / "work", site.base_url, outbox=tmp / "outbox")
            first = subprocess.run(
                [*_command(), "run", "-c", str(config), "--json"], env=env, capture_output=True, text=True
            )
            if first.returncode != 0:
                raise RuntimeError(f"first run failed:\n{first.stderr}")
            wall: list[float] = []
            prefect: list[float] = []
            for index in range(RUNS):
                wall.append(_timed_cli(config, env))
                if index < PREFECT_RUNS:
                    prefect.append(_timed_cli(config, env, "--prefect"))
            work: list[float] = []
            for _ in range(RUNS):
                started = time.perf_counter()
                summary = embedded.syndicate(str(config))
                work.append(time.perf_counter() - started)
                assert summary["feeds_not_modified"] == 1, summary
    results = [
        ("cli_nochange_run_embedded_wall_median", statistics.median(wall), "s"),
        ("cli_nochange_run_embedded_wall_max", max(wall), "s"),
        ("cli_nochange_pipeline_work_median", statistics.median(work), "s"),
    ]
    if prefect:
        results.append(("cli_nochange_run_prefect_wall_median", statistics.median(prefect), "s"))
    return results
