"""The loopback fixture server other test packages rely on."""

from __future__ import annotations

import socket

import pytest
import requests

from tests.httpserver import FixtureServer, Reply


def test_routes_headers_and_recorded_requests(http_server: FixtureServer):
    http_server.add("/feed", b"<rss/>", headers={"Content-Type": "application/rss+xml", "ETag": '"1"'})
    response = requests.get(http_server.url("/feed?x=1"), headers={"X-Test": "ja"}, timeout=5)
    assert response.status_code == 200 and response.content == b"<rss/>"
    assert response.headers["ETag"] == '"1"'
    [request] = http_server.requests_to("/feed")
    assert request.method == "GET" and request.path == "/feed?x=1" and request.header("X-TEST") == "ja"


def test_query_specific_route_wins(http_server: FixtureServer):
    http_server.add("/feed", b"page 1")
    http_server.add("/feed?paged=2", b"page 2")
    assert requests.get(http_server.url("/feed?paged=2"), timeout=5).content == b"page 2"
    assert requests.get(http_server.url("/feed?paged=3"), timeout=5).content == b"page 1"


def test_unknown_path_is_404_and_post_bodies_are_recorded(http_server: FixtureServer):
    assert requests.get(http_server.url("/nothing"), timeout=5).status_code == 404
    http_server.add("/hook", handler=lambda request: Reply(202, {}, request.body.upper()))
    response = requests.post(http_server.url("/hook"), data=b"payload", timeout=5)
    assert response.status_code == 202 and response.content == b"PAYLOAD"
    assert http_server.requests_to("/hook")[0].body == b"payload"


def test_reset_really_resets(http_server: FixtureServer):
    http_server.reset("/x")
    with pytest.raises(requests.ConnectionError):
        requests.get(http_server.url("/x"), timeout=5)


def test_stall_holds_until_the_client_gives_up(http_server: FixtureServer):
    http_server.stall("/slow")
    with pytest.raises(requests.ReadTimeout):
        requests.get(http_server.url("/slow"), timeout=(5, 0.2))


def test_stream_counts_what_was_sent(http_server: FixtureServer):
    stats = http_server.stream("/big", total=200_000, content_length="auto")
    response = requests.get(http_server.url("/big"), timeout=5)
    assert len(response.content) == 200_000 and response.headers["Content-Length"] == "200000"
    assert stats.done.wait(5)
    assert stats.finished and stats.bytes_sent == 200_000


def test_stop_frees_the_port():
    with FixtureServer() as server:
        port = server.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
