"""poll_feed against the loopback server: every outcome, and what the pipeline is told to store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syndication.feeds import FeedState, poll_feed
from syndication.fetch import Fetcher
from tests.fetch.conftest import FakeTime, loopback_settings
from tests.httpserver import FixtureServer, ReceivedRequest, Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
WORDPRESS = (FIXTURES / "wordpress-da.xml").read_bytes()
RSS_TYPE = {"Content-Type": "application/rss+xml; charset=UTF-8"}
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    time = FakeTime()
    with Fetcher(loopback_settings(max_retry_after=30), sleep=time.sleep, clock=time.clock) as fetcher:
        yield fetcher


def wordpress_feed(etag: str, last_modified: str):
    def handler(request: ReceivedRequest) -> Reply:
        if request.header("if-none-match") == etag or request.header("if-modified-since") == last_modified:
            return Reply(304, {"ETag": etag})
        return Reply(200, {**RSS_TYPE, "ETag": etag, "Last-Modified": last_modified}, WORDPRESS)

    return handler


def test_first_poll_then_not_modified(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add("/feed/", handler=wordpress_feed('"abc123"', "Tue, 14 Jan 2025 09:12:44 GMT"))
    state = FeedState(http_server.url("/feed/"))

    first = poll_feed(fetcher, state, now=NOW)

    assert first.outcome == "ok" and first.status == 200
    assert [e.entry_id for e in first.entries][:1] == ["https://landsbynet.example.dk/?p=412"]
    assert first.etag == '"abc123"' and first.last_modified == "Tue, 14 Jan 2025 09:12:44 GMT"
    assert first.error is None and first.new_url is None

    stored = FeedState(state.url, etag=first.etag, last_modified=first.last_modified)
    second = poll_feed(fetcher, stored, now=NOW)

    assert second.outcome == "not_modified" and second.status == 304
    assert list(second.entries) == [] and second.entries.problems == []
    assert (second.etag, second.last_modified) == (first.etag, first.last_modified)
    request = http_server.requests_to("/feed/")[1]
    assert request.header("if-none-match") == '"abc123"'
    assert request.header("if-modified-since") == "Tue, 14 Jan 2025 09:12:44 GMT"
    assert "application/rss+xml" in (request.header("accept") or "")


def test_feed_without_validators_stores_none(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add("/feed/", WORDPRESS, headers=RSS_TYPE)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/"), etag='"old"'), now=NOW)
    assert result.outcome == "ok"
    assert result.etag is None and result.last_modified is None  # do not resend stale validators


def test_permanent_redirect_gives_the_new_url(http_server: FixtureServer, fetcher: Fetcher):
    http_server.redirect("/?feed=rss2", "/feed/", status=301)
    http_server.add("/feed/", WORDPRESS, headers=RSS_TYPE)
    result = poll_feed(fetcher, FeedState(http_server.url("/?feed=rss2")), now=NOW)
    assert result.outcome == "ok"
    assert result.new_url == http_server.url("/feed/")
    assert len(result.entries) == 3


def test_permanent_redirect_to_a_304_still_gives_the_new_url(http_server: FixtureServer, fetcher):
    http_server.redirect("/old-feed", "/feed/", status=308)
    http_server.add("/feed/", handler=wordpress_feed('"v"', "x"))
    result = poll_feed(fetcher, FeedState(http_server.url("/old-feed"), etag='"v"'), now=NOW)
    assert result.outcome == "not_modified"
    assert result.new_url == http_server.url("/feed/")


def test_temporary_redirect_keeps_the_url(http_server: FixtureServer, fetcher: Fetcher):
    http_server.redirect("/feed/", "/feed/?cache=1", status=302)
    http_server.add("/feed/?cache=1", WORDPRESS, headers=RSS_TYPE)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "ok" and result.new_url is None


def test_410_means_gone(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add("/feed/", status=410)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/"), etag='"e"'), now=NOW)
    assert result.outcome == "gone" and result.status == 410
    assert result.error_kind == "terminal"
    assert result.error and http_server.url("/feed/") in result.error
    assert result.etag == '"e"'


def test_404_is_gone_too(http_server: FixtureServer, fetcher: Fetcher):
    # Gone is not retired: the pipeline retires a feed only after days of 404/410 (test_feed_health).
    result = poll_feed(fetcher, FeedState(http_server.url("/no-such-feed/")), now=NOW)
    assert result.outcome == "gone" and result.error_kind == "terminal" and result.status == 404
    assert result.retry_after is None
    assert result.error == (
        f"the configured URL {http_server.url('/no-such-feed/')} answered HTTP 404 Not Found: "
        "check the feed URL in the config"
    )


@pytest.mark.parametrize("retry_after", ["600", "Thu, 01 Jan 2026 12:10:00 GMT"])
def test_503_with_retry_after_schedules_the_next_poll(
    http_server: FixtureServer, retry_after: str, fake_wall_clock_fetcher
):
    http_server.add("/feed/", status=503, headers={"Retry-After": retry_after})
    result = poll_feed(fake_wall_clock_fetcher, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "error" and result.error_kind == "transient" and result.status == 503
    assert result.retry_after == NOW + timedelta(minutes=10)


@pytest.fixture
def fake_wall_clock_fetcher() -> Iterator[Fetcher]:
    time = FakeTime()
    fetcher = Fetcher(
        loopback_settings(max_retry_after=30),
        sleep=time.sleep,
        clock=time.clock,
        wall_clock=NOW.timestamp,
    )
    with fetcher:
        yield fetcher


def test_500_without_retry_after_is_transient(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add("/feed/", status=500)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "error" and result.error_kind == "transient" and result.retry_after is None


def test_connection_reset_is_transient(http_server: FixtureServer, fetcher: Fetcher):
    http_server.reset("/feed/")
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "error" and result.error_kind == "transient" and result.status is None


def test_html_page_with_200_is_an_error_not_an_empty_ok(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add(
        "/feed/", (FIXTURES / "not-a-feed.html").read_bytes(), headers={"Content-Type": "text/html"}
    )
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/"), etag='"keep"'), now=NOW)
    assert result.outcome == "error" and result.error_kind == "terminal" and result.status == 200
    assert result.error is not None
    assert http_server.url("/feed/") in result.error and "HTML page" in result.error
    assert "text/html" in result.error
    assert result.etag == '"keep"'  # a broken answer must not replace good validators


def test_empty_but_valid_feed_is_ok(http_server: FixtureServer, fetcher: Fetcher):
    empty = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Ingen opslag endnu</title></channel></rss>'
    )
    http_server.add("/feed/", empty, headers=RSS_TYPE)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "ok" and list(result.entries) == []
    assert result.entries.title == "Ingen opslag endnu"


def test_malformed_feed_is_ok_with_problems(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add("/feed/", WORDPRESS[: len(WORDPRESS) // 2], headers=RSS_TYPE)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "ok"
    assert len(result.entries) >= 1 and result.entries.notes  # read leniently: a note


def test_deferred_feed_is_not_requested(http_server: FixtureServer, fetcher: Fetcher):
    http_server.add("/feed/", WORDPRESS, headers=RSS_TYPE)
    later = NOW + timedelta(minutes=5)
    state = FeedState(http_server.url("/feed/"), etag='"e"', next_poll_after=later)

    result = poll_feed(fetcher, state, now=NOW)

    assert result.outcome == "deferred" and result.retry_after == later
    assert result.etag == '"e"'
    assert http_server.requests == []
    assert poll_feed(fetcher, state, now=later + timedelta(seconds=1)).outcome == "ok"


def test_naive_next_poll_after_is_taken_as_utc(http_server: FixtureServer, fetcher: Fetcher):
    state = FeedState(http_server.url("/feed/"), next_poll_after=datetime(2026, 1, 1, 12, 30))
    assert poll_feed(fetcher, state, now=NOW).outcome == "deferred"


def test_blocked_address_is_a_terminal_error(http_server: FixtureServer):
    with Fetcher(loopback_settings(allow_private_hosts=[])) as strict:
        result = poll_feed(strict, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "error" and result.error_kind == "terminal"
    assert result.error and "fetch.allow_private_hosts" in result.error
    assert http_server.requests == []


def test_oversized_feed_is_a_terminal_error(http_server: FixtureServer):
    http_server.stream("/feed/", total=5_000_000)
    with Fetcher(loopback_settings(max_bytes=100_000)) as small:
        result = poll_feed(small, FeedState(http_server.url("/feed/")), now=NOW)
    assert result.outcome == "error" and result.error_kind == "terminal"
    assert result.error and "fetch.max_bytes" in result.error


def test_relative_links_resolve_against_where_the_feed_really_came_from(http_server, fetcher):
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><guid>g</guid><title>t</title><link>/nyt/1</link></item></channel></rss>"
    )
    http_server.redirect("/feed", "/ny/feed", status=302)
    http_server.add("/ny/feed", feed, headers=RSS_TYPE)
    result = poll_feed(fetcher, FeedState(http_server.url("/feed")), now=NOW)
    assert result.entries[0].link == http_server.url("/nyt/1")
