"""The address guard: schemes, credentials, private addresses, and redirects towards them."""

from __future__ import annotations

import ipaddress

import pytest

from syndication.errors import BlockedURLError, TransientFetchError
from syndication.fetch import Fetcher, check_url
from syndication.fetch.guard import address_problem
from tests.fetch.conftest import loopback_settings
from tests.httpserver import FixtureServer


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/feed", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/wp-admin/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::1]/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "private"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 wrapping 10.0.0.1
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.0.1/", "non-public"),  # carrier-grade NAT
    ],
)
def test_private_and_special_addresses_are_refused(url: str, problem: str):
    with pytest.raises(BlockedURLError) as caught:
        check_url(url)
    message = str(caught.value)
    assert f"a {problem} address" in message
    assert "fetch.allow_private_hosts" in message  # says how to allow it


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "gopher://example.com/",
        "javascript:alert(1)",
        "/relative",
    ],
)
def test_only_http_and_https_are_fetched(url: str):
    with pytest.raises(BlockedURLError, match="only http and https"):
        check_url(url)


def test_urls_with_credentials_are_refused_without_echoing_the_password():
    with pytest.raises(BlockedURLError, match="credentials") as caught:
        check_url("https://editor:s3cret@example.com/feed/")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("url", ["http:///nohost", "http://example.com:99999999/"])
def test_malformed_urls_are_refused(url: str):
    with pytest.raises(BlockedURLError):
        check_url(url)


def test_public_addresses_pass():
    check_url("http://93.184.215.14/")
    check_url("https://[2606:4700:4700::1111]/")
    assert address_problem(ipaddress.ip_address("::ffff:93.184.215.14")) is None


def test_allow_list_lets_a_private_host_through():
    check_url("http://127.0.0.1:8000/feed", ["127.0.0.1"])
    check_url("http://LocalHost./feed", ["localhost"])
    check_url("http://[::1]/", ["[::1]"])


def test_every_resolved_address_must_be_public():
    # A name that resolves to one public and one private address is refused.
    def resolve(host, port, **_kw):
        return [(2, 1, 6, "", ("93.184.215.14", port)), (2, 1, 6, "", ("10.0.0.7", port))]

    with pytest.raises(BlockedURLError, match=r"resolves to 10\.0\.0\.7"):
        check_url("https://intranet-alias.example.com/", resolve=resolve)


def test_unresolvable_host_is_transient():
    def resolve(host, port, **_kw):
        raise OSError(-2, "Name or service not known")

    with pytest.raises(TransientFetchError, match="cannot resolve host"):
        check_url("https://no-such-host.example.com/", resolve=resolve)


# ------------------------------------------------------------------------- through the Fetcher


def test_fetcher_refuses_the_loopback_server_unless_allow_listed(http_server: FixtureServer):
    http_server.add("/feed", b"<rss/>")
    strict = Fetcher(loopback_settings(allow_private_hosts=[]))
    with pytest.raises(BlockedURLError, match="loopback") as caught:
        strict.get(http_server.url("/feed"))
    assert caught.value.url == http_server.url("/feed")
    assert http_server.requests == []  # refused before connecting

    allowed = Fetcher(loopback_settings())
    assert allowed.get(http_server.url("/feed")).content == b"<rss/>"
    strict.close()
    allowed.close()


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
    ],
)
def test_redirect_from_an_allowed_host_to_a_forbidden_target_is_refused(
    http_server: FixtureServer, make_fetcher, target: str
):
    http_server.redirect("/feed", target, status=302)
    with pytest.raises(BlockedURLError) as caught:
        make_fetcher().get(http_server.url("/feed"))
    assert caught.value.url == target


def test_redirect_to_another_name_for_loopback_is_checked_too(http_server: FixtureServer, make_fetcher):
    # 127.0.0.1 is allow-listed; "localhost" is not, although it is the same machine.
    http_server.redirect("/feed", f"http://localhost:{http_server.port}/other", status=301)
    http_server.add("/other", b"secret")
    with pytest.raises(BlockedURLError, match="localhost"):
        make_fetcher().get(http_server.url("/feed"))
    assert http_server.requests_to("/other") == []


def test_an_allow_listed_network_lets_names_resolving_into_it_through_and_returns_the_addresses():
    def resolve(host, port, **_kw):
        return [(2, 1, 6, "", ("10.1.2.7", port))]

    assert check_url("https://wiki.intranet.example/", ["10.1.2.0/24"], resolve=resolve) == ["10.1.2.7"]
    with pytest.raises(BlockedURLError, match=r"10\.1\.2\.7"):
        check_url("https://wiki.intranet.example/", ["10.9.0.0/16", "10.1.2.7"], resolve=resolve)
