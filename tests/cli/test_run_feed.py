"""`syndicate run --feed NAME` with a name no configured feed has: an error naming the feeds there
are, before any Prefect server starts; the pipeline's poll stage refuses it too (a deployment run
with a mistyped ``feed`` parameter would otherwise report a run that found nothing new)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication import pipeline
from syndication.cli import main
from syndication.context import RunContext
from syndication.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "syndication.toml"
    result = CliRunner().invoke(
        main, ["init", "--path", str(path), "--feed", "https://landsbyen.example.dk/feed/"]
    )
    assert result.exit_code == 0, result.output
    return path


def test_run_with_an_unknown_feed_is_a_usage_error(config: Path) -> None:
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--feed", "blgo"])
    assert result.exit_code == 2
    assert "--feed 'blgo' matches no configured feed (configured: blog)" in result.output


def test_poll_of_an_unknown_feed_is_a_config_error(config: Path) -> None:
    ctx = RunContext.open(config)
    try:
        with pytest.raises(
            ConfigError, match=r"no configured feed matches 'blgo'; configured: blog \(https://landsbyen"
        ):
            pipeline.poll(ctx, feed="blgo")
        assert ctx.summary.feeds_polled == 0
    finally:
        ctx.close()
