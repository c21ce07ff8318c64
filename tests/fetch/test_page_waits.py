"""Retry-After on pages is waited for once per host per fetcher (one run), not once per page:
a site in maintenance answering ``503 Retry-After: 30`` to every page cost 30 s per page."""

from __future__ import annotations

import pytest

from syndication.errors import TransientFetchError
from syndication.fetch import Fetcher
from tests.fetch.conftest import FakeTime, loopback_settings
from tests.httpserver import FixtureServer

MAINTENANCE = {"Retry-After": "30", "Content-Type": "text/html"}


def test_pages_of_a_host_in_maintenance_cost_one_wait(
    http_server: FixtureServer, fake_time: FakeTime
) -> None:
    for path in ("/robots.txt", "/a/", "/b/", "/c/"):
        http_server.add(path, status=503, body=b"maintenance", headers=MAINTENANCE)
    fetcher = Fetcher(loopback_settings(), sleep=fake_time.sleep, clock=fake_time.clock)

    for path in ("/a/", "/b/", "/c/"):
        with pytest.raises(TransientFetchError) as info:
            fetcher.get_page(http_server.url(path))
        assert info.value.status == 503 and info.value.retry_after == 30

    assert fake_time.sleeps == [30.0]  # robots.txt's wait was the host's one
    assert [len(http_server.requests_to(p)) for p in ("/robots.txt", "/a/", "/b/", "/c/")] == [2, 1, 1, 1]


def test_a_page_after_a_successful_wait_is_not_waited_for_again(
    http_server: FixtureServer, fake_time: FakeTime
) -> None:
    answers = iter([503, 200])

    def flaky(_request):
        from tests.httpserver import Reply

        status = next(answers, 503)
        return Reply(status, MAINTENANCE if status == 503 else {"Content-Type": "text/html"}, b"<p>ok</p>")

    http_server.add("/a/", handler=flaky)
    http_server.add("/b/", status=503, body=b"later", headers=MAINTENANCE)
    fetcher = Fetcher(loopback_settings(respect_robots=False), sleep=fake_time.sleep, clock=fake_time.clock)

    assert fetcher.get_page(http_server.url("/a/")).status == 200
    with pytest.raises(TransientFetchError):
        fetcher.get_page(http_server.url("/b/"))
    assert fake_time.sleeps == [30.0]
    assert len(http_server.requests_to("/b/")) == 1


def test_feeds_keep_their_wait_per_request(http_server: FixtureServer, fake_time: FakeTime) -> None:
    # Plain get (feeds) is unchanged: each feed may wait once inside the run.
    http_server.add("/feed/", status=503, body=b"later", headers=MAINTENANCE)
    fetcher = Fetcher(loopback_settings(), sleep=fake_time.sleep, clock=fake_time.clock)
    for _ in range(2):
        with pytest.raises(TransientFetchError):
            fetcher.get(http_server.url("/feed/"))
    assert fake_time.sleeps == [30.0, 30.0]
