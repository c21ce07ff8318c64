"""Fetcher against a real HTTP server on loopback: validators, redirects, errors, caps, pacing."""

from __future__ import annotations

import email.utils
import gzip

import pytest

from syndication.errors import FetchError, ResponseTooLargeError, TransientFetchError
from syndication.fetch import Fetcher
from tests.fetch.conftest import FakeTime, loopback_settings
from tests.httpserver import FixtureServer, ReceivedRequest, Reply

RSS = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title></channel></rss>'


# ------------------------------------------------------------------------------ basics and headers


def test_get_returns_body_headers_and_sends_user_agent(http_server: FixtureServer, make_fetcher):
    http_server.add("/feed", RSS, headers={"Content-Type": "application/rss+xml; charset=UTF-8"})
    fetcher = make_fetcher(user_agent="syndication/9.9 (+https://example.org/about-our-bot)")

    result = fetcher.get(http_server.url("/feed"), accept="application/rss+xml")

    assert result.status == 200
    assert result.content == RSS
    assert result.encoding == "utf-8"
    assert result.headers["content-type"] == "application/rss+xml; charset=UTF-8"
    assert result.url == result.final_url == http_server.url("/feed")
    assert result.permanent_url is None
    assert not result.not_modified
    [request] = http_server.requests_to("/feed")
    assert request.header("user-agent") == "syndication/9.9 (+https://example.org/about-our-bot)"
    assert request.header("accept") == "application/rss+xml"
    assert request.header("if-none-match") is None


def test_no_charset_in_content_type_gives_no_encoding(http_server: FixtureServer, make_fetcher):
    http_server.add("/page", b"<p>hej</p>", headers={"Content-Type": "text/html"})
    assert make_fetcher().get(http_server.url("/page")).encoding is None


def _conditional(etag: str | None, last_modified: str | None):
    """A handler that answers 304 when the client's validators match."""

    def handler(request: ReceivedRequest) -> Reply:
        matches_etag = etag is not None and request.header("if-none-match") == etag
        matches_date = last_modified is not None and request.header("if-modified-since") == last_modified
        if matches_etag or matches_date:
            return Reply(304, {"ETag": etag} if etag else {})
        headers = {"Content-Type": "application/rss+xml"}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        return Reply(200, headers, RSS)

    return handler


def test_conditional_get_round_trip_with_etag(http_server: FixtureServer, make_fetcher):
    http_server.add("/feed", handler=_conditional('W/"v1-abc"', None))
    fetcher = make_fetcher()

    first = fetcher.get(http_server.url("/feed"))
    second = fetcher.get(http_server.url("/feed"), etag=first.etag, last_modified=first.last_modified)

    assert first.status == 200 and first.etag == 'W/"v1-abc"' and first.last_modified is None
    assert second.not_modified and second.status == 304
    assert second.content == b""
    assert second.etag == 'W/"v1-abc"'
    sent = http_server.requests_to("/feed")[1]
    assert sent.header("if-none-match") == 'W/"v1-abc"'
    assert sent.header("if-modified-since") is None


def test_conditional_get_round_trip_with_last_modified(http_server: FixtureServer, make_fetcher):
    stamp = "Tue, 14 Jan 2025 09:12:44 GMT"
    http_server.add("/feed", handler=_conditional(None, stamp))
    fetcher = make_fetcher()

    first = fetcher.get(http_server.url("/feed"))
    second = fetcher.get(http_server.url("/feed"), etag=first.etag, last_modified=first.last_modified)

    assert first.last_modified == stamp and first.etag is None
    assert second.not_modified
    # The 304 repeated neither validator: the ones we sent are still current.
    assert second.last_modified == stamp
    assert http_server.requests_to("/feed")[1].header("if-modified-since") == stamp


def test_changed_resource_gets_200_and_new_validators(http_server: FixtureServer, make_fetcher):
    http_server.add("/feed", handler=_conditional('"v2"', None))
    result = make_fetcher().get(http_server.url("/feed"), etag='"v1"')
    assert result.status == 200 and result.etag == '"v2"' and result.content == RSS


# ------------------------------------------------------------------------------------ redirects


def test_permanent_redirect_chain_reports_new_url(http_server: FixtureServer, make_fetcher):
    http_server.redirect("/old", "/older-but-newer", status=301)
    http_server.redirect("/older-but-newer", http_server.url("/new"), status=308)
    http_server.add("/new", RSS)

    result = make_fetcher().get(http_server.url("/old"))

    assert result.content == RSS
    assert result.url == http_server.url("/old")
    assert result.final_url == http_server.url("/new")
    assert result.permanent_url == http_server.url("/new")


def test_temporary_redirect_is_followed_but_not_permanent(http_server: FixtureServer, make_fetcher):
    http_server.redirect("/feed", "/feed-today", status=302)
    http_server.add("/feed-today", RSS)
    result = make_fetcher().get(http_server.url("/feed"))
    assert result.final_url == http_server.url("/feed-today")
    assert result.permanent_url is None


def test_one_temporary_hop_makes_the_chain_not_permanent(http_server: FixtureServer, make_fetcher):
    http_server.redirect("/a", "/b", status=301)
    http_server.redirect("/b", "/c", status=307)
    http_server.add("/c", RSS)
    assert make_fetcher().get(http_server.url("/a")).permanent_url is None


def test_redirect_loop_is_an_error_naming_the_url(http_server: FixtureServer, make_fetcher):
    http_server.redirect("/ping", "/pong", status=302)
    http_server.redirect("/pong", "/ping", status=302)

    with pytest.raises(FetchError) as caught:
        make_fetcher().get(http_server.url("/ping"))

    assert "redirect loop" in str(caught.value)
    assert http_server.url("/ping") in str(caught.value)
    assert not caught.value.transient
    assert len(http_server.requests) == 2


def test_too_many_redirects(http_server: FixtureServer, make_fetcher):
    for hop in range(6):
        http_server.redirect(f"/hop{hop}", f"/hop{hop + 1}", status=302)
    http_server.add("/hop6", RSS)

    with pytest.raises(FetchError, match="more than 3 redirects"):
        make_fetcher(max_redirects=3).get(http_server.url("/hop0"))
    assert len(http_server.requests) == 4  # the first request and three hops, not more


def test_redirect_without_location(http_server: FixtureServer, make_fetcher):
    http_server.add("/broken", status=301)
    with pytest.raises(FetchError, match="without a Location"):
        make_fetcher().get(http_server.url("/broken"))


# -------------------------------------------------------------------------------- status mapping


@pytest.mark.parametrize(
    ("status", "error", "transient"),
    [
        (404, FetchError, False),
        (403, FetchError, False),
        (400, FetchError, False),
        (410, FetchError, False),
        (429, TransientFetchError, True),
        (500, TransientFetchError, True),
        (502, TransientFetchError, True),
    ],
)
def test_status_codes_map_onto_the_error_tree(http_server, make_fetcher, status, error, transient):
    http_server.add("/x", b"nope", status=status)
    with pytest.raises(error) as caught:
        make_fetcher().get(http_server.url("/x"))
    assert caught.value.status == status
    assert caught.value.transient is transient
    assert caught.value.url == http_server.url("/x")
    assert len(http_server.requests) == 1  # no Retry-After: no second attempt


def test_410_says_gone_for_good(http_server: FixtureServer, make_fetcher):
    http_server.add("/feed", status=410)
    with pytest.raises(FetchError, match="removed it for good") as caught:
        make_fetcher().get(http_server.url("/feed"))
    assert type(caught.value) is FetchError and caught.value.status == 410


def test_503_with_long_retry_after_seconds_is_left_for_the_next_run(
    http_server: FixtureServer, make_fetcher, fake_time: FakeTime
):
    http_server.add("/feed", status=503, headers={"Retry-After": "3600"})
    with pytest.raises(TransientFetchError) as caught:
        make_fetcher(max_retry_after=60).get(http_server.url("/feed"))
    assert caught.value.retry_after == 3600.0
    assert caught.value.status == 503
    assert fake_time.sleeps == []
    assert len(http_server.requests) == 1


def test_503_with_retry_after_http_date(http_server: FixtureServer, fake_time: FakeTime):
    wall = 1_767_225_600.0  # 2026-01-01T00:00:00Z, the fetcher's idea of "now"
    when = email.utils.formatdate(wall + 7200, usegmt=True)
    http_server.add("/feed", status=503, headers={"Retry-After": when})
    fetcher = Fetcher(
        loopback_settings(max_retry_after=60),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        wall_clock=lambda: wall,
    )
    with pytest.raises(TransientFetchError) as caught:
        fetcher.get(http_server.url("/feed"))
    assert caught.value.retry_after == 7200.0


def test_short_retry_after_is_waited_out_and_retried_once(
    http_server: FixtureServer, make_fetcher, fake_time: FakeTime
):
    answers = iter([Reply(429, {"Retry-After": "4"}), Reply(200, {}, RSS)])
    http_server.add("/feed", handler=lambda _request: next(answers))

    result = make_fetcher(max_retry_after=10).get(http_server.url("/feed"))

    assert result.content == RSS
    assert fake_time.sleeps == [4.0]
    assert len(http_server.requests) == 2
    assert result.elapsed == pytest.approx(4.0)  # the wait counts, on the injected clock


def test_second_refusal_after_waiting_is_raised(http_server: FixtureServer, make_fetcher, fake_time):
    http_server.add("/feed", status=503, headers={"Retry-After": "2"})
    with pytest.raises(TransientFetchError) as caught:
        make_fetcher(max_retry_after=10).get(http_server.url("/feed"))
    assert caught.value.retry_after == 2.0
    assert fake_time.sleeps == [2.0]
    assert len(http_server.requests) == 2


# ------------------------------------------------------------------------------ broken transports


def test_connection_reset_is_transient(http_server: FixtureServer, make_fetcher):
    http_server.reset("/feed")
    with pytest.raises(TransientFetchError, match="connection failed") as caught:
        make_fetcher().get(http_server.url("/feed"))
    assert caught.value.url == http_server.url("/feed")


def test_reset_in_the_middle_of_the_body_is_transient(http_server: FixtureServer, make_fetcher):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5000\r\n\r\n<rss>"
    http_server.reset("/feed", before=head)
    with pytest.raises(TransientFetchError):
        make_fetcher().get(http_server.url("/feed"))


def test_connection_refused_is_transient(make_fetcher):
    with FixtureServer() as server:
        url = server.url("/gone-away")
    with pytest.raises(TransientFetchError, match="connection failed"):
        make_fetcher().get(url)


def test_server_that_never_answers_times_out(http_server: FixtureServer, make_fetcher):
    http_server.stall("/slow")
    fetcher = make_fetcher(timeout=0.3)
    with pytest.raises(TransientFetchError, match=r"no response within 0\.3 s"):
        fetcher.get(http_server.url("/slow"))


def test_body_dripping_in_forever_hits_the_deadline(http_server: FixtureServer):
    # Every read gets a byte well within the read timeout, so only the total deadline can stop it.
    http_server.drip("/drip", interval=0.02)
    fetcher = Fetcher(loopback_settings(timeout=0.25, deadline=0.75))
    with pytest.raises(TransientFetchError, match=r"timed out after 0\.8 s"):
        fetcher.get(http_server.url("/drip"))
    fetcher.close()


def test_content_length_promising_more_than_arrives_is_transient(http_server, make_fetcher):
    http_server.add("/feed", handler=lambda _r: Reply(200, {}, [b"<rss>short"], content_length=5000))
    with pytest.raises(TransientFetchError, match="body interrupted"):
        make_fetcher().get(http_server.url("/feed"))


# -------------------------------------------------------------------------------------- size cap


def test_declared_oversize_body_is_refused_before_download(http_server: FixtureServer, make_fetcher):
    stats = http_server.stream("/huge", total=50_000_000, content_length="auto")
    with pytest.raises(ResponseTooLargeError, match="declares 50,000,000 bytes") as caught:
        make_fetcher(max_bytes=1_000_000).get(http_server.url("/huge"))
    assert "fetch.max_bytes" in str(caught.value)
    assert stats.done.wait(10)  # the server noticed we hung up ...
    assert not stats.finished  # ... before it could send it all
    assert stats.bytes_sent < 10_000_000


def test_undeclared_50_mb_body_is_cut_off_at_the_cap(http_server: FixtureServer, make_fetcher):
    stats = http_server.stream("/huge", total=50_000_000, content_length=None)
    with pytest.raises(ResponseTooLargeError, match="exceeded the 1,000,000 byte cap"):
        make_fetcher(max_bytes=1_000_000).get(http_server.url("/huge"))
    assert stats.done.wait(10)
    assert not stats.finished
    assert stats.bytes_sent < 10_000_000  # cap + socket buffers, not the 50 MB


def test_content_length_understating_the_body_reads_only_what_was_declared(
    http_server: FixtureServer, make_fetcher
):
    # Declares 1,000 bytes, then sends 50 MB: we read the declared 1,000 and stop.
    stats = http_server.stream("/liar", total=50_000_000, content_length=1_000)
    result = make_fetcher(max_bytes=1_000_000).get(http_server.url("/liar"))
    assert len(result.content) == 1_000
    assert stats.done.wait(10)  # the connection was closed, not kept for reuse
    assert not stats.finished


def test_gzip_bomb_is_stopped_by_the_cap_on_decompressed_bytes(http_server, make_fetcher):
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)
    assert len(bomb) < 100_000
    http_server.add("/bomb", bomb, headers={"Content-Encoding": "gzip", "Content-Type": "text/xml"})
    with pytest.raises(ResponseTooLargeError, match="exceeded"):
        make_fetcher(max_bytes=1_000_000).get(http_server.url("/bomb"))


def test_gzip_body_within_the_cap_is_decompressed(http_server: FixtureServer, make_fetcher):
    http_server.add("/feed", gzip.compress(RSS), headers={"Content-Encoding": "gzip"})
    assert make_fetcher().get(http_server.url("/feed")).content == RSS


def test_body_exactly_at_the_cap_is_accepted(http_server: FixtureServer, make_fetcher):
    http_server.add("/x", b"a" * 4096)
    assert len(make_fetcher(max_bytes=4096).get(http_server.url("/x")).content) == 4096


# ------------------------------------------------------------------------------------ politeness


def test_requests_to_one_host_are_spaced_by_the_minimum_interval(
    http_server: FixtureServer, make_fetcher, fake_time: FakeTime
):
    http_server.add("/a", b"a")
    http_server.add("/b", b"b")
    fetcher = make_fetcher(min_host_interval=2.0)

    fetcher.get(http_server.url("/a"))
    fetcher.get(http_server.url("/b"))
    fake_time.advance(0.5)  # some work happened in between
    fetcher.get(http_server.url("/a"))

    assert fake_time.sleeps == [2.0, 1.5]
    assert len(http_server.requests) == 3


def test_no_wait_once_the_interval_has_passed(http_server: FixtureServer, make_fetcher, fake_time):
    http_server.add("/a", b"a")
    fetcher = make_fetcher(min_host_interval=2.0)
    fetcher.get(http_server.url("/a"))
    fake_time.advance(5)
    fetcher.get(http_server.url("/a"))
    assert fake_time.sleeps == []


def test_other_hosts_are_not_held_up(http_server: FixtureServer, make_fetcher, fake_time: FakeTime):
    http_server.add("/a", b"a")
    fetcher = make_fetcher(min_host_interval=2.0, allow_private_hosts=["127.0.0.1", "localhost"])
    fetcher.get(http_server.url("/a"))
    fetcher.get(f"http://localhost:{http_server.port}/a")  # same server, another host name
    assert fake_time.sleeps == []
    fetcher.get(http_server.url("/a"))
    assert fake_time.sleeps == [2.0]


def test_redirect_hops_to_the_same_host_are_paced_too(http_server, make_fetcher, fake_time):
    http_server.redirect("/old", "/new", status=301)
    http_server.add("/new", RSS)
    make_fetcher(min_host_interval=1.0).get(http_server.url("/old"))
    assert fake_time.sleeps == [1.0]


def test_redirect_to_a_raw_utf8_location_is_followed(http_server: FixtureServer, make_fetcher):
    # WordPress sends Location with the slug's UTF-8 bytes unescaped.
    http_server.add(
        "/?p=412", status=301, headers={"Location": "/2025/01/fælles-indkøb/".encode().decode("latin-1")}
    )
    http_server.add("/2025/01/f%C3%A6lles-indk%C3%B8b/", RSS)
    result = make_fetcher().get(http_server.url("/?p=412"))
    assert result.content == RSS
    assert result.permanent_url == http_server.url("/2025/01/fælles-indkøb/")


def test_redirect_to_a_malformed_location(http_server: FixtureServer, make_fetcher):
    http_server.redirect("/feed", "http://[::1", status=302)
    with pytest.raises(FetchError, match="malformed Location"):
        make_fetcher().get(http_server.url("/feed"))


def test_malformed_url_is_refused_not_crashed_on(make_fetcher):
    fetcher = make_fetcher()
    with pytest.raises(FetchError):
        fetcher.get_page("http://[::1")
    with pytest.raises(FetchError):
        fetcher.get("http://exa mple.com/\x00")


def test_the_body_of_a_redirect_is_never_read(http_server: FixtureServer, make_fetcher):
    # requests' Session.send reads a redirect's whole body even with stream=True and
    # allow_redirects=False; a hostile 301 with an endless body must not get past the cap.
    stats = http_server.stream("/old", total=50_000_000, headers={"Location": "/new"}, status=301)
    http_server.add("/new", RSS)
    result = make_fetcher(max_bytes=1_000_000).get(http_server.url("/old"))
    assert result.content == RSS and result.permanent_url == http_server.url("/new")
    assert stats.done.wait(10)
    assert not stats.finished and stats.bytes_sent < 10_000_000
