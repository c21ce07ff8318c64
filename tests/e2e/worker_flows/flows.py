"""Flows for the worker tests (tests/e2e/test_workers.py), deployed from this folder."""

from __future__ import annotations

import time
from pathlib import Path

from prefect import flow, get_run_logger


@flow(name="held-open")
def held_open(marker: str, limit: float = 120) -> str:
    """Says it started (``marker`` gets the process id), then runs until ``marker + '.release'``
    exists (at most ``limit`` seconds): a run that is certainly in flight when the test acts."""
    import os

    Path(marker).write_text(str(os.getpid()))
    release = Path(marker + ".release")
    deadline = time.monotonic() + limit
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    outcome = "released" if release.exists() else "gave up"
    # Output after the worker may be gone: it must not kill the run (no pipe to a dead worker).
    print(f"held-open: {outcome}", flush=True)
    get_run_logger().info("held-open: %s", outcome)
    return outcome
