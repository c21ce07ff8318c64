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
    result = runner.invoke(
        main, ["run", "--prefect", "--config", str(config), "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["feeds_polled"] == 1 and summary["deliveries_sent"] == 4

    second = runner.invoke(
        main, ["run", "--prefect", "--config", str(config), "--json"], catch_exceptions=False
    )
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


@pytest.fixture
def demo_config_with_a_dead_feed(demo_config):
    """The demo plus a second feed on a loopback port where nothing listens."""
    from tests.deliveries.channels.channels_support import free_port

    config, _server = demo_config
    dead = f"http://127.0.0.1:{free_port()}/feed/"
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[[feeds]]\nurl = "{dead}"\nname = "dead"\nsource_lang = "da"\n',
        encoding="utf-8",
    )
    return config, dead


def test_a_run_whose_work_partly_failed_ends_failed_with_its_summary(
    prefect_harness, demo_config_with_a_dead_feed
):
    """The demo post goes out, the dead feed fails: the flow run ends Failed (not Completed), says
    what failed, and still carries the whole summary."""
    from flows.syndicate import syndicate_flow

    config, dead = demo_config_with_a_dead_feed
    state = syndicate_flow(config=str(config), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("1 feed failed")
    summary = state.result(raise_on_failure=False)
    assert summary["deliveries_sent"] == 4 and summary["feeds_failed"] == 1
    assert [e["stage"] for e in summary["errors"]] == ["poll"]
    assert dead in (summary["errors"][0]["post"] or "") + summary["errors"][0]["message"]

    again = syndicate_flow(config=str(config), return_state=True)
    assert again.is_failed()  # still dead: every run says so, none ends Completed


def test_cli_exit_codes_say_whether_work_failed(prefect_harness, demo_config_with_a_dead_feed):
    config, _dead = demo_config_with_a_dead_feed
    runner = CliRunner()
    failed = runner.invoke(
        main, ["run", "--prefect", "--config", str(config), "--json"], catch_exceptions=False
    )
    assert failed.exit_code == 1
    summary = json.loads(failed.stdout)  # --json still prints the whole summary
    assert summary["deliveries_sent"] == 4 and len(summary["errors"]) == 1

    text = runner.invoke(main, ["run", "--prefect", "--config", str(config)], catch_exceptions=False)
    assert text.exit_code == 1
    assert "FAILED: 1 feed failed (the rest of the run went on)" in text.stderr

    published = runner.invoke(main, ["publish", "--prefect", "--config", str(config)], catch_exceptions=False)
    assert published.exit_code == 0, published.output  # nothing failed in the publish run

    broken = config.parent / "broken.toml"
    broken.write_text("[[feeds]]\nurl = 3\n", encoding="utf-8")
    usage = runner.invoke(main, ["run", "--prefect", "--config", str(broken)], catch_exceptions=False)
    assert usage.exit_code == 2, usage.output


def test_in_process_and_flow_runs_give_the_same_summaries_and_exit_codes(
    prefect_harness, tmp_path, monkeypatch
):
    """`syndicate run`/`publish` without a server (in-process) and with --prefect (the flows), on two
    stores fed by the same demo blog plus a dead feed: the same JSON and the same exit status, step
    by step (first run, no-change run, publish)."""
    from tests.deliveries.channels.channels_support import free_port

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("SYNDICATION_PREFECT", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))  # no profile naming a server
    shutil.copytree(demo_dir() / "site", tmp_path / "site")
    dead = f"http://127.0.0.1:{free_port()}/feed/"
    runner = CliRunner()
    with serve_site(tmp_path / "site") as server:
        configs = {}
        for way in ("here", "flow"):
            config = prepare_demo(tmp_path / way, server.base_url)
            config.write_text(
                config.read_text(encoding="utf-8")
                + f'\n[[feeds]]\nurl = "{dead}"\nname = "dead"\nsource_lang = "da"\n',
                encoding="utf-8",
            )
            configs[way] = str(config)
        for step, command in (("first", "run"), ("no change", "run"), ("publish", "publish")):
            here = runner.invoke(main, [command, "-c", configs["here"], "--json"], catch_exceptions=False)
            flow = runner.invoke(
                main, [command, "--prefect", "-c", configs["flow"], "--json"], catch_exceptions=False
            )
            assert here.exit_code == flow.exit_code, (step, here.output, flow.output)
            assert json.loads(here.stdout) == json.loads(flow.stdout), step
            if step == "first":
                summary = json.loads(here.stdout)
                assert (
                    here.exit_code == 1 and summary["deliveries_sent"] == 4 and summary["feeds_failed"] == 1
                )


def test_backfill_with_prefect_runs_the_flow_with_the_same_summary(prefect_harness, tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    shutil.copytree(demo_dir() / "site", tmp_path / "site")
    runner = CliRunner()
    with serve_site(tmp_path / "site") as server:
        here = prepare_demo(tmp_path / "here", server.base_url)
        flow = prepare_demo(tmp_path / "flow", server.base_url)
        args = ["--pages", "1", "--json", "--no-progress"]
        in_process = runner.invoke(main, ["backfill", "-c", str(here), *args], catch_exceptions=False)
        as_flow = runner.invoke(
            main, ["backfill", "--prefect", "-c", str(flow), *args], catch_exceptions=False
        )
    assert in_process.exit_code == as_flow.exit_code == 0, (in_process.output, as_flow.output)
    summary = json.loads(as_flow.stdout)
    assert summary["entries_new"] == 2 and summary["deliveries_sent"] == 4
    assert json.loads(in_process.stdout) == summary
