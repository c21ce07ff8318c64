"""robots.txt through the same Fetcher: rules, missing files, refusals, caching, opt-out."""

from __future__ import annotations

import pytest

from syndication.errors import BlockedURLError
from tests.httpserver import FixtureServer

ROBOTS = b"""# Lokalt erhverv
User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

User-agent: syndication
Disallow: /medlemmer/
"""


def test_rules_for_our_agent_and_for_everyone_apply(http_server: FixtureServer, make_fetcher):
    http_server.add("/robots.txt", ROBOTS, headers={"Content-Type": "text/plain"})
    fetcher = make_fetcher(user_agent="syndication/0.1 (+https://example.org/bot)")

    assert fetcher.allowed(http_server.url("/2025/01/nyt-fra-landsbyen/"))
    assert not fetcher.allowed(http_server.url("/medlemmer/referat"))
    # Our own group replaces the "*" group (RFC 9309): /wp-admin/ is not ours to avoid.
    assert fetcher.allowed(http_server.url("/wp-admin/options.php"))


def test_robots_is_fetched_once_per_site_and_with_our_user_agent(http_server, make_fetcher):
    http_server.add("/robots.txt", ROBOTS)
    fetcher = make_fetcher(user_agent="syndication/0.1")
    for path in ("/a", "/b", "/medlemmer/c"):
        fetcher.allowed(http_server.url(path))
    [request] = http_server.requests_to("/robots.txt")
    assert request.header("user-agent") == "syndication/0.1"


def test_missing_robots_allows_everything(http_server: FixtureServer, make_fetcher):
    assert make_fetcher().allowed(http_server.url("/anything"))  # the server answers 404


def test_gone_robots_allows_everything(http_server: FixtureServer, make_fetcher):
    http_server.add("/robots.txt", status=410)
    assert make_fetcher().allowed(http_server.url("/anything"))


@pytest.mark.parametrize("status", [401, 403])
def test_forbidden_robots_disallows_everything(http_server: FixtureServer, make_fetcher, status: int):
    http_server.add("/robots.txt", status=status)
    assert not make_fetcher().allowed(http_server.url("/"))


def test_robots_server_error_allows(http_server: FixtureServer, make_fetcher):
    http_server.add("/robots.txt", status=500)
    assert make_fetcher().allowed(http_server.url("/page"))


def test_robots_behind_a_redirect_is_followed(http_server: FixtureServer, make_fetcher):
    http_server.redirect("/robots.txt", "/static/robots.txt", status=301)
    http_server.add("/static/robots.txt", b"User-agent: *\nDisallow: /\n")
    assert not make_fetcher().allowed(http_server.url("/page"))


def test_get_page_refuses_a_disallowed_page_without_requesting_it(http_server, make_fetcher):
    http_server.add("/robots.txt", b"User-agent: *\nDisallow: /privat/\n")
    http_server.add("/privat/side", b"<p>hemmeligt</p>")
    http_server.add("/offentlig", b"<p>velkommen</p>", headers={"Content-Type": "text/html"})
    fetcher = make_fetcher()

    with pytest.raises(BlockedURLError, match=r"robots\.txt") as caught:
        fetcher.get_page(http_server.url("/privat/side"))
    assert caught.value.url == http_server.url("/privat/side")
    assert http_server.requests_to("/privat/side") == []

    page = fetcher.get_page(http_server.url("/offentlig"))
    assert page.content == b"<p>velkommen</p>"
    assert "text/html" in (http_server.requests_to("/offentlig")[0].header("accept") or "")


def test_respect_robots_false_skips_robots_entirely(http_server: FixtureServer, make_fetcher):
    http_server.add("/robots.txt", b"User-agent: *\nDisallow: /\n")
    http_server.add("/page", b"ok")
    fetcher = make_fetcher(respect_robots=False)
    assert fetcher.get_page(http_server.url("/page")).content == b"ok"
    assert http_server.requests_to("/robots.txt") == []


def test_robots_fetch_obeys_the_politeness_interval(http_server, make_fetcher, fake_time):
    http_server.add("/robots.txt", b"User-agent: *\nAllow: /\n")
    http_server.add("/page", b"ok")
    make_fetcher(min_host_interval=3.0).get_page(http_server.url("/page"))
    assert fake_time.sleeps == [3.0]  # robots.txt, then the page three seconds later
