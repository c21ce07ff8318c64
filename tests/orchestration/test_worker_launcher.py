"""``scripts/worker.sh`` and its launcher, without a Prefect server: which command it runs, and a
clear refusal when no server is named (the whole stop behaviour: tests/e2e/test_workers.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from syndication.orchestration.worker import worker_command

ROOT = Path(__file__).resolve().parents[2]


def test_the_worker_command_defaults_to_the_syndication_pool(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SYNDICATION_POOL", raising=False)
    prefect = [sys.executable, "-m", "prefect", "worker", "start"]
    assert worker_command(["--name", "a"]) == [*prefect, "--pool", "syndication", "--name", "a"]
    assert worker_command(["--pool", "other"]) == [*prefect, "--pool", "other"]
    assert worker_command(["--pool=other"]) == [*prefect, "--pool=other"]
    monkeypatch.setenv("SYNDICATION_POOL", "night")
    assert worker_command([]) == [*prefect, "--pool", "night"]


def test_worker_sh_without_a_prefect_server_says_what_to_set(tmp_path: Path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PYTHON": sys.executable,
    }
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "worker.sh")], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "no Prefect server: set PREFECT_API_URL" in result.stderr
