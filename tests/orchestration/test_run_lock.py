"""`syndicate run` and `backfill` against a store whose pipeline lock another run holds: they say
who holds it and since when, and `--no-wait` / `--wait SECONDS` end the wait with exit 1 and
nothing run (the lock is held here by the test, as a scheduled run on a worker would hold it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.cli import main
from syndication.errors import PipelineBusyError
from syndication.orchestration.pipeline_lock import pipeline_lock
from syndication.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
HOLDER = "backfill run 'brave-otter'"
BOUND = 300  # seconds: generous bound for a run with its temporary Prefect server on a busy machine


@pytest.fixture
def held(write_config):
    """A config whose store's pipeline lock is held (by this test process) while the test runs."""
    config = write_config()
    with pipeline_lock(load_settings(config).store_url(), holder=HOLDER):
        yield config


@pytest.mark.parametrize("command", [["run"], ["backfill", "--pages", "1"]])
def test_no_wait_with_the_lock_held_exits_1_naming_the_holder(held, blog, command):
    result = CliRunner().invoke(main, [*command, "-c", str(held), "--no-wait"])
    assert result.exit_code == 1, result.output
    assert re.search(
        r"another run holds the pipeline lock \(backfill run 'brave-otter' \(pid \d+ on .+\) "
        r"since \d{4}-\d\d-\d\d \d\d:\d\d UTC\); --no-wait: nothing was run",
        result.output,
    ), result.output
    assert "Traceback" not in result.output
    assert blog.requests == []  # nothing was read


def test_wait_seconds_gives_up_after_them_and_says_it_waited(held, blog):
    result = CliRunner().invoke(main, ["run", "-c", str(held), "--wait", "0.3"])
    assert result.exit_code == 1, result.output
    assert "another run holds the pipeline lock (backfill run 'brave-otter'" in result.output
    assert "waiting for it to finish" in result.output  # told while it waited
    assert re.search(r"still after [\d.]+ s \(--wait 0.3\): nothing was run", result.output), result.output
    assert blog.requests == []


def test_wait_and_no_wait_together_are_a_usage_error(write_config):
    result = CliRunner().invoke(main, ["run", "-c", str(write_config()), "--wait", "5", "--no-wait"])
    assert result.exit_code == 2 and "not both" in result.output


def test_no_wait_with_a_free_lock_runs(write_config):
    result = CliRunner().invoke(
        main, ["backfill", "-c", str(write_config()), "--pages", "1", "--no-wait", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "pipeline lock" not in result.output


def test_the_lock_shared_with_the_process_is_not_waited_for_by_its_own_flow(tmp_path):
    """The command holds the lock around its own flow run; the flow's own lock request in the same
    process goes through, while a holder that did not share it still excludes everyone."""
    url = f"sqlite:///{tmp_path}/syndication.db"
    with (
        pipeline_lock(url, holder="syndicate run (command line)", shared_with_process=True),
        pipeline_lock(url, holder="syndicate", wait=0),
    ):
        pass
    with (
        pipeline_lock(url, holder=HOLDER),
        pytest.raises(PipelineBusyError, match="brave-otter"),
        pipeline_lock(url, holder="syndicate", wait=0),
    ):
        pass


def test_run_says_whom_it_waits_for_and_starts_when_the_lock_is_free(write_config, blog, tmp_path):
    """Without --wait: the waiting line on stderr at once (before any Prefect server starts), the
    run goes ahead when the holder ends (through its flow, with a temporary Prefect server)."""
    config = write_config()
    err = tmp_path / "stderr.txt"
    with pipeline_lock(load_settings(config).store_url(), holder=HOLDER), open(err, "w") as sink:
        command = subprocess.Popen(
            [sys.executable, "-m", "syndication", "run", "-c", str(config), "--json"],
            env={**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(tmp_path / "prefect")},
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
        )
        deadline = time.monotonic() + BOUND
        while "pipeline lock" not in err.read_text() and command.poll() is None:
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        first = err.read_text()
        assert "another run holds the pipeline lock (backfill run 'brave-otter' (pid" in first, first
        assert re.search(r"since \d{4}-\d\d-\d\d \d\d:\d\d UTC", first)
        assert blog.requests == []
    out, _ = command.communicate(timeout=BOUND)
    assert command.returncode == 0, err.read_text()
    assert "the pipeline lock is free (waited " in err.read_text()
    assert '"entries_new": 10' in out, out
