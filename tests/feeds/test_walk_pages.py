"""walk_pages against the loopback server: where a walk of ``?paged=N`` pages ends, and why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from syndication.errors import FeedError
from syndication.feeds.backfill import page_url, walk_pages
from syndication.fetch import Fetcher
from tests.fetch.conftest import FakeTime, loopback_settings
from tests.httpserver import FixtureServer, Reply
from tests.synthetic_blog import SyntheticBlog

RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    time = FakeTime()
    with Fetcher(loopback_settings(), sleep=time.sleep, clock=time.clock) as fetcher:
        yield fetcher


def serve(server: FixtureServer, blog: SyntheticBlog, *, ignore_paged: bool = False) -> None:
    for number in range(1, blog.pages + 1):
        path = "/feed/" if number == 1 else f"/feed/?paged={number}"
        body = blog.feed(server.base_url, 1 if ignore_paged else number)
        server.add(path, body, headers=RSS)


def test_page_url_keeps_the_query_and_page_one_is_the_feed_itself():
    assert page_url("https://e.dk/feed/?cat=3", 1) == "https://e.dk/feed/?cat=3"
    assert page_url("https://e.dk/feed/?cat=3#x", 4) == "https://e.dk/feed/?cat=3&paged=4"


def test_walk_ends_at_the_404_after_the_last_page(http_server, fetcher):
    blog = SyntheticBlog(posts=23)
    serve(http_server, blog)  # pages 1-3; ?paged=4 is not registered: 404
    pages = list(walk_pages(fetcher, http_server.url("/feed/")))
    assert [(p.number, len(p.entries)) for p in pages] == [(1, 10), (2, 10), (3, 3)]
    assert [r.path for r in http_server.requests][-1] == "/feed/?paged=4"


def test_walk_stops_at_the_page_limit(http_server, fetcher):
    serve(http_server, SyntheticBlog(posts=50))
    pages = list(walk_pages(fetcher, http_server.url("/feed/"), pages=2))
    assert [p.number for p in pages] == [1, 2] and pages[-1].last
    assert len(http_server.requests) == 2


def test_a_site_that_ignores_paged_is_not_walked_for_ever(http_server, fetcher):
    serve(http_server, SyntheticBlog(posts=50), ignore_paged=True)
    pages = list(walk_pages(fetcher, http_server.url("/feed/")))
    assert [p.number for p in pages] == [1]
    assert len(http_server.requests) == 2  # page 2 repeated page 1: the walk ended there


def test_an_empty_page_ends_the_walk(http_server, fetcher):
    blog = SyntheticBlog(posts=10)
    serve(http_server, blog)
    http_server.add("/feed/?paged=2", SyntheticBlog(posts=0).feed(http_server.base_url, 1), headers=RSS)
    assert [p.number for p in walk_pages(fetcher, http_server.url("/feed/"))] == [1]


def test_date_range_filters_entries_and_stops_once_past_since(http_server, fetcher):
    blog = SyntheticBlog(posts=60)
    serve(http_server, blog)
    pages = list(
        walk_pages(fetcher, http_server.url("/feed/"), since=date(2026, 11, 10), until=date(2026, 11, 11))
    )
    kept = [e for p in pages for e in p.entries]
    assert {e.published.date() for e in kept} == {date(2026, 11, 10), date(2026, 11, 11)}
    assert len(kept) == 8
    # 2026-11-10 00:00 is post 42 (page 5): page 6 is never asked for.
    assert pages[-1].number == 5 and pages[-1].last
    assert len(http_server.requests) == 5


def test_a_failing_page_raises_naming_it(http_server, fetcher):
    serve(http_server, SyntheticBlog(posts=30))
    http_server.add("/feed/?paged=2", handler=lambda _r: Reply(503, {"Retry-After": "120"}, b"busy"))
    walk = walk_pages(fetcher, http_server.url("/feed/"))
    assert next(walk).number == 1
    with pytest.raises(FeedError, match="backfill stopped at page 2") as caught:
        next(walk)
    assert caught.value.url.endswith("?paged=2")


def test_a_page_that_is_not_a_feed_raises(http_server, fetcher):
    http_server.add(
        "/feed/", b"<html><body>Vedligeholdelse</body></html>", headers={"Content-Type": "text/html"}
    )
    with pytest.raises(FeedError, match="not a feed"):
        list(walk_pages(fetcher, http_server.url("/feed/")))


def test_an_empty_range_is_refused(http_server, fetcher):
    with pytest.raises(FeedError, match="range is empty"):
        list(
            walk_pages(
                fetcher,
                http_server.url("/feed/"),
                since=datetime(2026, 5, 2, tzinfo=UTC),
                until=date(2026, 5, 1),
            )
        )
