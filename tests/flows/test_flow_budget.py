"""The ``syndicate`` flow gives its stage tasks one time budget (``fetch.run_budget``), counted
from when it holds the pipeline lock: a feed dripping its headers cannot hold the run."""

from __future__ import annotations

from pathlib import Path

from tests.drip_server import DripHeadersServer


def test_the_flow_defers_a_feed_that_outlasts_the_run_budget(prefect_harness, tmp_path: Path):
    from flows.syndicate import syndicate_flow

    with DripHeadersServer(interval=0.05) as dripping:
        config = tmp_path / "syndication.toml"
        # The request's own deadline (30 s) is far off: only the run's budget can end it.
        config.write_text(
            f"""
[store]
url = "sqlite:///{tmp_path}/flow.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
timeout = 0.5
deadline = 30
run_budget = 1
[[feeds]]
url = "{dripping.url("/feed/")}"
[translation]
targets = ["nb"]
[channels.outbox]
type = "outbox"
path = "{tmp_path}/outbox"
""",
            encoding="utf-8",
        )
        summary = syndicate_flow(config=str(config))
    # Deferred (cut in flight, or not started when the budget was already spent), not failed.
    assert summary["feeds_deferred"] == 1
    assert summary["feeds_failed"] == 0 and summary["errors"] == []
