"""The manual-trigger commands that run the plain pipeline: backfill and deliveries redeliver."""

from __future__ import annotations

import json

from click.testing import CliRunner

from syndication.cli import main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_backfill_command_prints_the_summary_as_json(write_config, tmp_path):
    config = write_config()
    result = invoke("backfill", "-c", str(config), "--pages", "1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["entries_new"] == 10 and data["feed_pages"] == 1 and data["deliveries_sent"] == 20
    assert len(list((tmp_path / "outbox" / "sv").glob("*.html"))) == 10


def test_backfill_command_shows_progress_on_stderr(write_config):
    result = CliRunner().invoke(main, ["backfill", "-c", str(write_config()), "--since", "2026-11-19"])
    assert result.exit_code == 0, result.output
    assert "feed pages: reading until the date range is passed" in result.output
    assert "entries    new 7" in result.output  # 19 Nov 00:00 … 20 Nov 12:00, six hours apart


def test_backfill_command_needs_pages_or_since(write_config):
    result = CliRunner().invoke(main, ["backfill", "-c", str(write_config())])
    assert result.exit_code == 2 and "give --pages N, or --since DATE" in result.output
    result = CliRunner().invoke(
        main, ["backfill", "-c", str(write_config()), "--since", "2026-05-02", "--until", "2026-05-01"]
    )
    assert result.exit_code == 2 and "--until is before --since" in result.output


def test_redeliver_command(write_config, blog, tmp_path):
    config = str(write_config())
    assert invoke("backfill", "-c", config, "--pages", "1", "--json").exit_code == 0
    post = blog.blog.items[0]
    (tmp_path / "outbox" / "nb" / f"{post.slug}.html").unlink()
    result = invoke(
        "deliveries", "redeliver", blog.url(post.path()), "--lang", "nb", "--channel", "outbox", "-c", config
    )
    assert result.exit_code == 0, result.output
    assert "delivery   sent 1, updated 0, already sent 0" in result.output
    assert "failed 0 (0 transient, 0 terminal)" in result.output
    assert (tmp_path / "outbox" / "nb" / f"{post.slug}.html").exists()
    bad = CliRunner().invoke(
        main, ["deliveries", "redeliver", "99999", "--lang", "nb", "--channel", "outbox", "-c", config]
    )
    assert bad.exit_code == 1 and "no post matches '99999'" in bad.output


def test_run_force_without_post_is_a_usage_error(write_config):
    result = CliRunner().invoke(main, ["run", "-c", str(write_config()), "--force"])
    assert result.exit_code == 2 and "--force re-translates one post" in result.output


def test_deploy_needs_a_checkout_with_prefect_yaml(tmp_path):
    result = CliRunner().invoke(main, ["deploy", "--home", str(tmp_path)])
    assert result.exit_code == 1 and f"no prefect.yaml in {tmp_path}" in result.output


def test_backfill_command_waits_for_a_run_holding_the_store(write_config, blog, tmp_path):
    """`syndicate backfill` in a terminal never works side by side with a scheduled syndicate or
    backfill run on the same store: it says whom it waits for, and starts when that run ends."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from syndication.orchestration.pipeline_lock import pipeline_lock
    from syndication.settings import load_settings

    config = write_config()
    root = Path(__file__).resolve().parents[2]
    with pipeline_lock(load_settings(config).store_url(), holder="syndicate run 'scheduled-otter'"):
        command = subprocess.Popen(
            [sys.executable, "-m", "syndication", "backfill", "-c", str(config), "--pages", "1", "--json"],
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert command.stderr is not None
        line = command.stderr.readline()
        assert "another run holds the pipeline lock (syndicate run 'scheduled-otter' (pid" in line, line
        assert blog.requests == []  # nothing read while it waits
    out, err = command.communicate(timeout=300)
    assert command.returncode == 0, err
    assert json.loads(out)["entries_new"] == 10
