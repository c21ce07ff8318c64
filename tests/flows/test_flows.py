"""End to end through the Prefect flows and the CLI that runs them (real temporary Prefect server,
the demo blog on loopback, real Apertium, SQLite, outbox files)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication.cli import main
from syndication.demo import demo_dir, prepare_demo, serve_site


@pytest.fixture
def demo_config(tmp_path: Path):
    root = tmp_path / "site"
    shutil.copytree(demo_dir() / "site", root)
    with serve_site(root) as server:
        yield prepare_demo(tmp_path / "work", server.base_url), server


def test_syndicate_flow_then_publish_flow(prefect_harness, demo_config):
    from flows.publish import publish_flow
    from flows.syndicate import syndicate_flow

    config, _server = demo_config
    first = syndicate_flow(config=str(config))
    assert first["entries_new"] == 2
    assert first["engine_calls"] == 2
    assert first["deliveries_sent"] == 4
    outbox = config.parent / "outbox"
    assert sorted(p.name for p in (outbox / "sv").glob("*.html")) == [
        "messebesoeg-i-berlin-og-landdistrikterne.html",
        "netvaerk-er-guld.html",
    ]
    again = publish_flow(config=str(config))
    assert again["deliveries_sent"] == 0 and again["deliveries_failed"] == 0


def test_cli_run_json_is_the_flow_summary(prefect_harness, demo_config):
    config, _server = demo_config
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--config", str(config), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["feeds_polled"] == 1 and summary["deliveries_sent"] == 4

    second = runner.invoke(main, ["run", "--config", str(config), "--json"], catch_exceptions=False)
    summary = json.loads(second.stdout)
    assert summary["feeds_not_modified"] == 1
    assert summary["pages_fetched"] == 0
    assert summary["engine_calls"] == 0
    assert summary["deliveries_sent"] == 0

    status = runner.invoke(main, ["status", "--config", str(config), "--json"], catch_exceptions=False)
    data = json.loads(status.stdout)
    assert data["deliveries"] == {"outbox/sent": 4}
    assert data["failures"] == []


def test_syndicate_flow_waits_while_a_backfill_holds_the_store(prefect_harness, demo_config):
    """A syndicate run never works side by side with a backfill on the same store (they would
    extract and translate the same queued posts): it waits, saying for whom, then runs."""
    import logging
    import threading

    from flows.syndicate import syndicate_flow
    from syndication.orchestration.pipeline_lock import pipeline_lock
    from syndication.settings import load_settings

    config, server = demo_config
    waiting = threading.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting" in record.getMessage() and "backfill run 'held-by-test'" in record.getMessage():
                waiting.set()

    lock_log = logging.getLogger("syndication.orchestration.pipeline_lock")
    handler = Seen()
    lock_log.addHandler(handler)
    results: list[dict] = []
    try:
        with pipeline_lock(load_settings(config).store_url(), holder="backfill run 'held-by-test'"):
            thread = threading.Thread(target=lambda: results.append(syndicate_flow(config=str(config))))
            thread.start()
            assert waiting.wait(120), "the syndicate run did not report waiting for the backfill"
            assert server.requests == []  # nothing polled, fetched or translated while it waits
        thread.join(180)
    finally:
        lock_log.removeHandler(handler)
    [summary] = results
    assert summary["entries_new"] == 2 and summary["deliveries_sent"] == 4
