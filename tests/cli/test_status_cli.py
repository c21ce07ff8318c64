"""`syndicate status` and `syndicate review` when something failed, and `--all` decisions: a small
blog on a loopback server, real Apertium (which has no Danish→German pair, so German fails the way a
missing engine pair fails for a user), real SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from syndication import pipeline
from syndication.cli import main
from syndication.context import RunContext
from tests.httpserver import FixtureServer


def rss(base: str, *, day: str = "søndag") -> bytes:
    items = "".join(
        f"<item><title>Nyt fra byen {i}</title><link>{base}/p{i}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={i}</guid><description>Kort nyt.</description>"
        f"<content:encoded><![CDATA[<p>Købmanden i landsbyen holder åbent på {day if i == 1 else 'søndag'}"
        f" nummer {i}.</p>]]></content:encoded></item>"
        for i in (1, 2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def config(http_server: FixtureServer, tmp_path: Path) -> str:
    base = http_server.url("").rstrip("/")
    http_server.add("/feed/", body=rss(base), headers={"Content-Type": "application/rss+xml"})
    http_server.add("/down/feed/", status=500, body=b"Internal Server Error")
    path = tmp_path / "syndication.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/status.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 3
[[feeds]]
url = "{base}/feed/"
name = "landsbyen"
[[feeds]]
url = "{base}/down/feed/"
name = "nede"
[translation]
targets = ["nb", "sv", "de"]
default_engine = "apertium"
[channels.outbox]
type = "outbox"
path = "{tmp_path}/outbox"
""",
        encoding="utf-8",
    )
    ctx = RunContext.open(path)
    try:
        pipeline.syndicate(ctx)
    finally:
        ctx.close()
    return str(path)


def cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    return result


def test_status_names_every_failure_and_why(config: str) -> None:
    text = cli("status", "--config", config)
    assert text.exit_code == 0, text.output
    assert "feed nede: active, last error:" in text.output and "500" in text.output
    assert "translations: de/failed 2, nb/machine_translated 2, sv/machine_translated 2" in text.output
    failure_lines = [line for line in text.output.splitlines() if line.startswith("  translate:")]
    assert len(failure_lines) == 2
    assert all("lang=de" in line and "Apertium has no da→de pair" in line for line in failure_lines)

    data = json.loads(cli("status", "--config", config, "--json").stdout)
    down = next(feed for feed in data["feeds"] if feed["name"] == "nede")
    assert down["last_status"] == 500 and "500" in down["last_error"]
    failures = [f for f in data["failures"] if f["stage"] == "translate"]
    assert {f["lang"] for f in failures} == {"de"} and len(failures) == 2
    assert all("da→de" in f["error"] for f in failures)


def test_review_shows_why_a_translation_failed(config: str, http_server: FixtureServer) -> None:
    post = http_server.url("/?p=1")
    shown = cli("review", "show", post, "--lang", "de", "--config", config)
    assert shown.exit_code == 0, shown.output
    assert "failed" in shown.output
    assert "error: Apertium has no da→de pair" in shown.output

    listed = cli("review", "list", "--status", "failed", "--config", config)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert sum("Apertium has no da→de pair" in line for line in lines) == 2

    typo = cli("review", "list", "--status", "aproved", "--config", config)
    assert typo.exit_code == 2 and "'aproved' is not one of" in typo.output


def test_approve_and_reject_all(config: str) -> None:
    both = cli("review", "approve", "1", "--all", "--config", config)
    assert both.exit_code == 2 and "not both" in both.output
    assert "approved translation" not in both.output

    approved = cli("review", "approve", "--all", "--lang", "nb", "--config", config, "--as", "kari")
    assert approved.exit_code == 0, approved.output
    assert approved.output.count("approved translation") == 2 and "(nb)" in approved.output

    rejected = cli("review", "reject", "--all", "--config", config, "--comment", "ikke nu")
    assert rejected.exit_code == 0, rejected.output
    assert rejected.output.count("rejected translation") == 2 and "(sv)" in rejected.output

    assert "nothing to review" in cli("review", "list", "--config", config).output
    data = json.loads(cli("status", "--config", config, "--json").stdout)
    # Failed German items are not "awaiting review": --all left them alone.
    assert data["translations"] == {"nb/approved": 2, "sv/rejected": 2, "de/failed": 2}

    again = cli("review", "approve", "--all", "--config", config)
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_status_counts_each_post_once_after_an_edit(config: str, http_server: FixtureServer) -> None:
    assert cli("review", "approve", "--all", "--lang", "nb", "--config", config).exit_code == 0
    base = http_server.url("").rstrip("/")
    http_server.add("/feed/", body=rss(base, day="lørdag"), headers={"Content-Type": "application/rss+xml"})
    ctx = RunContext.open(config)
    try:
        summary = pipeline.syndicate(ctx)
    finally:
        ctx.close()
    assert summary.entries_updated == 1
    data = json.loads(cli("status", "--config", config, "--json").stdout)
    # Post 1's new revision waits for review; its approved old revision is history, not a second
    # approved Norwegian item.
    assert data["translations"]["nb/approved"] == 1
    assert data["translations"]["nb/machine_translated"] == 1
    assert data["translations"]["sv/machine_translated"] == 2
    assert data["translations"]["de/failed"] == 2
