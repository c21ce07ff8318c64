"""The store's pipeline lock on SQLite (a real database file and a real second process): one
``syndicate``/``backfill`` run at a time, the waiting run says who holds it, and a holder killed
with SIGKILL leaves nothing behind. (PostgreSQL: tests/e2e/test_postgres.py.)"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from syndication.errors import StoreError
from syndication.orchestration.pipeline_lock import pipeline_lock

ROOT = Path(__file__).resolve().parents[2]
BOUND = 60  # seconds: a generous bound for "eventually", never a timing assumption


class Waits(logging.Handler):
    """Collects the lock's log lines and signals the first one."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.seen.set()


@pytest.fixture
def waits() -> Iterator[Waits]:
    logger = logging.getLogger("syndication.orchestration.pipeline_lock")
    handler, level = Waits(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def contend(url: str, holder: str) -> tuple[threading.Thread, threading.Event, threading.Event]:
    """A second run in a thread: tries the lock, records when it got in, leaves when told."""
    entered, leave = threading.Event(), threading.Event()

    def run() -> None:
        with pipeline_lock(url, holder=holder, poll_seconds=0.01):
            entered.set()
            leave.wait(BOUND)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, entered, leave


def test_a_second_run_waits_names_the_holder_and_starts_when_the_first_ends(tmp_path, waits):
    url = f"sqlite:///{tmp_path}/syndication.db"
    with pipeline_lock(url, holder="backfill run 'brave-otter'"):
        thread, entered, leave = contend(url, "syndicate")
        assert waits.seen.wait(BOUND)
        assert not entered.is_set()
        [line] = waits.lines
        assert re.search(
            r"backfill run 'brave-otter' \(pid \d+ on .+\) since \d{4}-\d\d-\d\d \d\d:\d\d UTC", line
        )
        assert "waiting" in line
    assert entered.wait(BOUND)
    leave.set()
    thread.join(BOUND)
    assert (tmp_path / "syndication.db.pipeline-lock").exists()


def test_separate_stores_do_not_wait_for_each_other(tmp_path, waits):
    with pipeline_lock(f"sqlite:///{tmp_path}/a.db", holder="backfill"):
        thread, entered, leave = contend(f"sqlite:///{tmp_path}/b.db", "syndicate")
        assert entered.wait(BOUND)
        leave.set()
        thread.join(BOUND)
    assert waits.lines == []


HOLD = """
import sys, time
from syndication.orchestration.pipeline_lock import pipeline_lock
with pipeline_lock(sys.argv[1], holder="backfill"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_holder_killed_with_sigkill_releases_the_lock(tmp_path, waits):
    url = f"sqlite:///{tmp_path}/syndication.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, url],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        thread, entered, leave = contend(url, "syndicate")
        assert waits.seen.wait(BOUND) and not entered.is_set()
        assert f"backfill (pid {holder.pid} " in waits.lines[0]
        holder.send_signal(signal.SIGKILL)
        holder.wait(BOUND)
        assert entered.wait(BOUND)  # the kernel dropped the dead process's lock
        leave.set()
        thread.join(BOUND)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_an_in_memory_store_needs_no_lock_and_other_databases_are_refused():
    with pipeline_lock("sqlite:///:memory:", holder="syndicate"):
        pass
    with (
        pytest.raises(StoreError, match="SQLite and PostgreSQL"),
        pipeline_lock("mysql://db.example.dk/syndication", holder="syndicate"),
    ):
        pass
