"""A feed's life when it fails, through the poll stage and ``syndicate feeds`` on a loopback server
with real SQLite (issue 9): one 410 never retires a feed, a retired feed is probed and comes back,
Retry-After is capped, a moved URL is kept only while it works, lenient reads are notes, and a 304
to a request without validators is the server's error. Time is the test's clock (``poll_feeds(now=)``)
or stored timestamps: nothing sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from syndication.cli import main
from syndication.context import RunContext
from syndication.feeds.ingest import poll_feeds
from syndication.status import status
from syndication.store import Feed
from syndication.summary import RunSummary
from tests.httpserver import FixtureServer, ReceivedRequest, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=UTF-8"}
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def rss(base: str, numbers: list[int]) -> bytes:
    items = "".join(
        f"<item><title>Indlæg {n}</title><link>{base}/p{n}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={n}</guid><description>Kort nyt {n}.</description></item>"
        for n in numbers
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def base(http_server: FixtureServer) -> str:
    return http_server.url("").rstrip("/")


@pytest.fixture
def config(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "syndication.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/feeds.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 3
[[feeds]]
url = "{base}/feed/"
name = "landsbyen"
[translation]
targets = ["nb"]
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def ctx_factory(config: Path) -> Iterator[type]:
    opened: list[RunContext] = []

    class Factory:
        @staticmethod
        def poll(at: datetime) -> RunSummary:
            """One scheduled poll stage at the moment ``at``."""
            ctx = RunContext.open(config)
            opened.append(ctx)
            poll_feeds(ctx, now=lambda: at)
            return ctx.summary

        @staticmethod
        def feed() -> Feed:
            ctx = RunContext.open(config)
            opened.append(ctx)
            with ctx.store.session() as session:
                row = session.scalars(select(Feed)).one()
                session.expunge(row)
                return row

        @staticmethod
        def update(**values: object) -> None:
            ctx = RunContext.open(config)
            opened.append(ctx)
            with ctx.store.session() as session:
                row = session.scalars(select(Feed)).one()
                for key, value in values.items():
                    setattr(row, key, value)

        @staticmethod
        def status() -> dict:
            ctx = RunContext.open(config)
            opened.append(ctx)
            with ctx.store.session() as session:
                return status(session, settings=ctx.settings)["feeds"][0]

    yield Factory
    for ctx in opened:
        ctx.close()


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


# ------------------------------------------------------------------------------ 410 and retirement


def test_one_410_makes_a_feed_failing_not_retired_and_it_recovers(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    http_server.add("/feed/", body=b"Gone", status=410)
    first = ctx_factory.poll(T0)

    feed = ctx_factory.feed()
    assert feed.status == "failing" and feed.failed_polls == 1
    assert feed.next_poll_after == T0 + timedelta(hours=1)
    [error] = first.errors
    assert "HTTP 410 Gone" in error.message and "next poll in 1 h" in error.message
    assert "retired after 3 over at least 7 d" in error.message

    # Backed off: a run before the next poll asks nothing; one after it does.
    before = len(http_server.requests)
    quiet = ctx_factory.poll(T0 + timedelta(minutes=30))
    assert http_server.requests[before:] == [] and quiet.errors == [] and quiet.feeds_polled == 0

    http_server.add("/feed/", body=rss(base, [2, 1]), headers=RSS_TYPE)
    back = ctx_factory.poll(T0 + timedelta(hours=1, minutes=1))
    assert back.errors == [] and back.entries_new == 2
    feed = ctx_factory.feed()
    assert feed.status == "active" and feed.failed_polls == 0 and feed.failing_since is None
    assert feed.next_poll_after is None and feed.last_error is None


def test_a_feed_is_retired_only_after_three_polls_over_seven_days_then_probed_daily(
    http_server: FixtureServer, base: str, ctx_factory, config: Path
) -> None:
    http_server.add("/feed/", body=b"Gone", status=410)
    now, polls = T0, 0
    for _ in range(50):  # each run at the moment the feed's next poll is due
        polls += ctx_factory.poll(now).feeds_polled
        feed = ctx_factory.feed()
        if feed.status == "retired":
            break
        assert feed.status == "failing" and feed.next_poll_after is not None
        now = feed.next_poll_after
    assert feed.failed_polls == polls >= 3
    assert feed.last_polled_at - T0 >= timedelta(days=7)
    assert feed.last_polled_at - T0 < timedelta(days=8)
    assert "the feed is retired" in (feed.last_error or "")
    assert "syndicate feeds resume landsbyen" in (feed.last_error or "")

    # Listed as retired, with the next probe.
    shown = ctx_factory.status()
    assert shown["status"] == "retired" and shown["next_poll_at"] is not None
    listed = cli("feeds", "list", "--config", str(config))
    assert listed.exit_code == 0, listed.output
    assert "feed landsbyen: retired" in listed.output and "next probe:" in listed.output

    # Between probes: no request, no error, but counted as retired in the run's summary.
    retired_at = feed.last_polled_at
    before = len(http_server.requests)
    skipped = ctx_factory.poll(retired_at + timedelta(hours=12))
    assert http_server.requests[before:] == [] and skipped.errors == [] and skipped.feeds_retired == 1

    # A probe a day later that still gets 410: stays retired, not an error of every run.
    probe = ctx_factory.poll(retired_at + timedelta(days=1))
    assert len(http_server.requests) == before + 1
    assert probe.errors == [] and probe.feeds_retired == 1 and ctx_factory.feed().status == "retired"

    # The feed is back: the next daily probe sees it and it is active again, entries and all.
    http_server.add("/feed/", body=rss(base, [3]), headers=RSS_TYPE)
    back = ctx_factory.poll(retired_at + timedelta(days=2, minutes=1))
    assert back.errors == [] and back.entries_new == 1
    assert ctx_factory.feed().status == "active"


def test_resume_brings_a_retired_feed_back_on_the_next_run(
    http_server: FixtureServer, base: str, ctx_factory, config: Path
) -> None:
    http_server.add("/feed/", body=rss(base, [1]), headers=RSS_TYPE)
    ctx_factory.poll(T0)
    ctx_factory.update(
        status="retired",
        failed_polls=3,
        failing_since=T0,
        next_poll_after=T0 + timedelta(days=1),
        last_error="gone for days",
    )
    before = len(http_server.requests)
    assert ctx_factory.poll(T0 + timedelta(hours=1)).feeds_retired == 1
    assert http_server.requests[before:] == []

    resumed = cli("feeds", "resume", "landsbyen", "--config", str(config))
    assert resumed.exit_code == 0, resumed.output
    assert "was retired; it is active again" in resumed.output
    feed = ctx_factory.feed()
    assert (feed.status, feed.failed_polls, feed.next_poll_after) == ("active", 0, None)

    http_server.add("/feed/", body=rss(base, [2, 1]), headers=RSS_TYPE)
    after = ctx_factory.poll(T0 + timedelta(hours=2))
    assert len(http_server.requests) == before + 1 and after.entries_new == 1 and after.errors == []


def test_feeds_commands_name_the_configured_feeds_for_an_unknown_name(config: Path) -> None:
    result = cli("feeds", "resume", "landsbyn", "--config", str(config))
    assert result.exit_code == 2
    assert "no configured feed matches 'landsbyn'; configured: landsbyen (" in result.output


# ----------------------------------------------------------------------------------- Retry-After


def test_a_huge_retry_after_is_capped_shown_in_human_units_and_poll_now_clears_it(
    http_server: FixtureServer, base: str, ctx_factory, config: Path
) -> None:
    http_server.add("/feed/", status=429, headers={"Retry-After": "999999999"})
    summary = ctx_factory.poll(T0)

    feed = ctx_factory.feed()
    assert feed.next_poll_after == T0 + timedelta(hours=6)
    [error] = summary.errors
    assert "asks us to wait at least 365 d" in error.message
    assert "waiting 6 h at most (polling.retry_after_cap)" in error.message
    assert "e+" not in error.message
    assert ctx_factory.status()["next_poll_at"] == (T0 + timedelta(hours=6)).isoformat()

    # Deferred: the next runs within the 6 h ask nothing.
    before = len(http_server.requests)
    assert ctx_factory.poll(T0 + timedelta(hours=5)).feeds_polled == 0
    assert http_server.requests[before:] == []

    # poll-now asks at once, whatever the deferral, and clears it. (The stored deferral is moved
    # far ahead so that the command, which runs on the real clock, is still inside it.)
    real_now = datetime.now(UTC)
    ctx_factory.update(last_polled_at=real_now, next_poll_after=real_now + timedelta(hours=5))
    listed = cli("feeds", "list", "--config", str(config))
    assert "next poll: in 4 h 59 min" in listed.output or "next poll: in 5 h" in listed.output
    http_server.add("/feed/", body=rss(base, [1]), headers=RSS_TYPE)
    now = cli("feeds", "poll-now", "landsbyen", "--config", str(config))
    assert now.exit_code == 0, now.output
    assert "1 new and 0 updated entries" in now.output
    assert len(http_server.requests) == before + 1
    feed = ctx_factory.feed()
    assert feed.next_poll_after is None and feed.status == "active"


def test_a_year_long_deferral_stored_before_the_cap_is_cut_to_it(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    http_server.add("/feed/", body=rss(base, [1]), headers=RSS_TYPE)
    ctx_factory.poll(T0)
    ctx_factory.update(next_poll_after=T0 + timedelta(days=365))
    before = len(http_server.requests)
    assert ctx_factory.poll(T0 + timedelta(hours=5)).feeds_polled == 0
    assert ctx_factory.poll(T0 + timedelta(days=1, minutes=1)).feeds_polled == 1
    assert len(http_server.requests) == before + 1


def test_poll_now_on_a_failing_feed_reports_the_failure_and_exits_1(
    http_server: FixtureServer, ctx_factory, config: Path
) -> None:
    http_server.add("/feed/", body=b"Gone", status=410)
    ctx_factory.poll(T0)
    with config.open("a", encoding="utf-8") as extra:  # another feed: poll-now reports only its own
        extra.write(f'[[feeds]]\nurl = "{http_server.url("/andet/")}"\nname = "andet"\n')
    real_now = datetime.now(UTC)  # the command runs on the real clock
    ctx_factory.update(last_polled_at=real_now, next_poll_after=real_now + timedelta(hours=1))
    listed = cli("feeds", "list", "--config", str(config))
    assert "feed landsbyen: failing" in listed.output and "next poll: in 59 min" in listed.output
    before = len(http_server.requests)
    result = cli("feeds", "poll-now", f"{http_server.url('/feed/')}", "--config", str(config), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["outcome"] == "gone" and data["status"] == 410
    assert data["state"]["status"] == "failing" and data["state"]["failed_polls"] == 2
    assert data["state"]["name"] == "landsbyen" and data["summary"]["feeds_polled"] == 1
    assert "2 such answers in a row" in data["state"]["last_error"]
    assert [r.path for r in http_server.requests[before:]] == ["/feed/"]


# ------------------------------------------------------------------------------------ sticky 301


def test_a_moved_url_that_fails_falls_back_to_the_configured_one_in_the_same_run(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    http_server.redirect("/feed/", "/ny-feed/", status=301)
    http_server.add("/ny-feed/", body=rss(base, [1]), headers=RSS_TYPE)
    ctx_factory.poll(T0)
    assert ctx_factory.feed().current_url == f"{base}/ny-feed/"

    # The move is undone on the server: the new URL goes 404, the configured one works again.
    http_server.add("/ny-feed/", body=b"Not Found", status=404)
    http_server.add("/feed/", body=rss(base, [2, 1]), headers=RSS_TYPE)
    summary = ctx_factory.poll(T0 + timedelta(minutes=30))

    assert summary.errors == [] and summary.entries_new == 1
    feed = ctx_factory.feed()
    assert feed.current_url == f"{base}/feed/" and feed.status == "active"
    [note] = [n["note"] for n in feed.notes or []]
    assert f"{base}/ny-feed/" in note and f"{base}/feed/" in note and "404" in note
    assert [r.path for r in http_server.requests[-2:]] == ["/ny-feed/", "/feed/"]


def test_when_both_urls_fail_the_error_names_both_and_blames_only_the_configured_one(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    http_server.redirect("/feed/", "/ny-feed/", status=301)
    http_server.add("/ny-feed/", body=rss(base, [1]), headers=RSS_TYPE)
    ctx_factory.poll(T0)
    http_server.add("/ny-feed/", body=b"Not Found", status=404)
    http_server.add("/feed/", body=b"Not Found", status=404)

    [error] = ctx_factory.poll(T0 + timedelta(minutes=30)).errors

    moved, configured = f"{base}/ny-feed/", f"{base}/feed/"
    assert f"the feed's moved URL {moved} (the configured URL {configured} redirected there)" in error.message
    assert f"the configured URL {configured} answered HTTP 404 Not Found: check the feed URL" in error.message
    assert error.message.count("check") == 1  # never about the URL that is not in the config
    assert ctx_factory.feed().current_url == configured


def test_a_redirect_to_a_dead_url_is_not_blamed_on_the_configured_url(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    http_server.redirect("/feed/", "/ny-feed/", status=301)
    http_server.add("/ny-feed/", body=b"Not Found", status=404)
    [error] = ctx_factory.poll(T0).errors
    where = f"{base}/ny-feed/ (where the configured URL {base}/feed/ redirects)"
    assert f"{where} answered HTTP 404" in error.message
    assert "check" not in error.message


def test_a_moved_url_that_times_out_is_left_for_the_configured_one_next_run(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    http_server.redirect("/feed/", "/ny-feed/", status=301)
    http_server.add("/ny-feed/", body=rss(base, [1]), headers=RSS_TYPE)
    ctx_factory.poll(T0)
    http_server.add("/ny-feed/", handler=lambda _r: Reply(503, {}, b"busy"))
    [error] = ctx_factory.poll(T0 + timedelta(minutes=30)).errors
    assert f"{base}/ny-feed/" in error.message
    assert f"the configured URL {base}/feed/ is polled again next time" in error.message
    assert ctx_factory.feed().current_url == f"{base}/feed/"


# ---------------------------------------------------------------------------------- notes vs errors


@pytest.mark.parametrize(
    ("document", "note"),
    [
        ((FIXTURES / "rss-utf8-declared-latin1.xml").read_bytes(), "encoding:"),
        ((FIXTURES / "billion-laughs.xml").read_bytes(), "DOCTYPE with entity declarations removed"),
    ],
)
def test_a_repaired_feed_is_a_note_on_the_feed_not_an_error_of_the_run(
    http_server: FixtureServer, ctx_factory, config: Path, document: bytes, note: str
) -> None:
    http_server.add("/feed/", body=document, headers={"Content-Type": "application/rss+xml"})
    summary = ctx_factory.poll(T0)
    assert summary.errors == [] and summary.feeds_failed == 0 and summary.entries_new >= 1
    shown = ctx_factory.status()
    assert any(note in n for n in shown["notes"]) and shown["last_error"] is None
    listed = cli("feeds", "list", "--config", str(config))
    assert f"  note: {note}" in listed.output
    text = cli("status", "--config", str(config))
    assert f"  note: {note}" in text.output


def test_a_lenient_read_is_a_note_but_a_lost_entry_stays_an_error(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    body = rss(base, [2, 1]).replace(b"</channel></rss>", b"<item><title></title></item></channel></rss>")
    body = body.replace(b"<title>Indl\xc3\xa6g 2</title>", b"<title>Indl\xc3\xa6g 2 & co</title>")
    http_server.add("/feed/", body=body, headers=RSS_TYPE)
    summary = ctx_factory.poll(T0)
    assert summary.entries_new == 2
    assert [e.message for e in summary.errors] == ["entry 3 skipped: no id, link, title or content"]
    assert any("read leniently" in n["note"] for n in ctx_factory.feed().notes or [])


# ------------------------------------------------------------------------- 304 without validators


def test_a_304_to_a_request_without_validators_is_the_servers_error(
    http_server: FixtureServer, ctx_factory
) -> None:
    def handler(request: ReceivedRequest) -> Reply:
        return Reply(304)

    http_server.add("/feed/", handler=handler)
    summary = ctx_factory.poll(T0)
    assert summary.feeds_not_modified == 0 and summary.feeds_failed == 1
    [error] = summary.errors
    assert "304 Not Modified to a request without validators" in error.message
    assert http_server.url("/feed/") in error.message
    assert http_server.requests_to("/feed/")[0].header("if-none-match") is None
    assert "without validators" in (ctx_factory.feed().last_error or "")


def test_a_304_to_our_validators_is_still_not_modified(
    http_server: FixtureServer, base: str, ctx_factory
) -> None:
    def handler(request: ReceivedRequest) -> Reply:
        if request.header("if-none-match") == '"v1"':
            return Reply(304)
        return Reply(200, {**RSS_TYPE, "ETag": '"v1"'}, rss(base, [1]))

    http_server.add("/feed/", handler=handler)
    ctx_factory.poll(T0)
    again = ctx_factory.poll(T0 + timedelta(minutes=30))
    assert again.feeds_not_modified == 1 and again.errors == []
