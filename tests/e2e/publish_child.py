"""A publish run in its own process, as a worker runs one: the ``publish`` flow against the session's
Prefect server, started when the test says so, its summary printed as JSON.

    python tests/e2e/publish_child.py CONFIG START_FILE

Prints ``ready`` once imported, waits for START_FILE to exist (so two children start together), then
runs. Test hooks (here only, never in the package):

- ``SYNDICATION_TEST_KILL_AFTER_CLAIM=N``: print ``claimed ID`` after the N-th successful ledger
  claim and hold that claim without sending, until the test kills the process with SIGKILL;
- ``SYNDICATION_TEST_PLANNED_BARRIER=DIR`` and ``SYNDICATION_TEST_PARTIES=K``: after planning, wait
  until K runs have planned, so every one of them contends for every delivery (a race by
  construction, not by luck of timing).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def hold_after_claims(count: int) -> None:
    from syndication.deliveries import ledger

    real_claim = ledger.claim
    won = 0

    def claim(store: Any, delivery_id: int, **options: Any) -> bool:
        nonlocal won
        result = real_claim(store, delivery_id, **options)
        if result:
            won += 1
            if won >= count:
                print(f"claimed {delivery_id}", flush=True)
                while True:  # the claim is committed; the send never comes
                    time.sleep(60)
        return result

    ledger.claim = claim  # type: ignore[assignment]


def wait_after_planning(barrier: Path, parties: int) -> None:
    from syndication.deliveries import stage

    real_plan = stage.plan

    def plan(*args: Any, **kwargs: Any) -> Any:
        planned = real_plan(*args, **kwargs)
        (barrier / str(os.getpid())).touch()
        while len(list(barrier.iterdir())) < parties:
            time.sleep(0.01)
        return planned

    stage.plan = plan  # type: ignore[assignment]


def main(config: str, start_file: str) -> None:
    kill_after = int(os.environ.get("SYNDICATION_TEST_KILL_AFTER_CLAIM", "0"))
    if kill_after:
        hold_after_claims(kill_after)
    barrier = os.environ.get("SYNDICATION_TEST_PLANNED_BARRIER")
    if barrier:
        wait_after_planning(Path(barrier), int(os.environ.get("SYNDICATION_TEST_PARTIES", "2")))
    from flows.publish import publish_flow

    print("ready", flush=True)
    while not Path(start_file).exists():
        time.sleep(0.01)
    print(json.dumps(publish_flow(config=config)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
