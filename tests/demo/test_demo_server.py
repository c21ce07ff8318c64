"""The demo server over real HTTP: substitution, exact bytes, conditional GET, WordPress-like routes."""

from __future__ import annotations

import urllib.robotparser
from collections.abc import Iterator
from pathlib import Path

import feedparser
import lxml.html
import pytest
import requests

from syndication.demo import DemoServer, demo_dir, prepare_demo, serve_site
from syndication.errors import ConfigError
from syndication.settings import load_settings

SITE = demo_dir() / "site"
NEWEST = "/netvaerk-er-guld/"
EARLIER = "/messebesoeg-i-berlin-og-landdistrikterne/"


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with serve_site(SITE) as running:
        yield running


def get(server: DemoServer, path: str, **kwargs: object) -> requests.Response:
    return requests.get(server.url(path), timeout=5, allow_redirects=False, **kwargs)  # type: ignore[arg-type]


def test_base_url_is_loopback_with_real_port(server: DemoServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:")
    assert server.port > 0


def test_feed_is_served_with_the_real_base_url(server: DemoServer) -> None:
    response = get(server, "/feed/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/rss+xml; charset=UTF-8"
    body = response.content
    assert b"{{BASE}}" not in body
    assert f"<link>{server.base_url}</link>".encode() in body
    original = (SITE / "feed" / "index.xml").read_bytes()
    assert body == original.replace(b"{{BASE}}", server.base_url.encode())


def test_feedparser_reads_the_served_feed(server: DemoServer) -> None:
    parsed = feedparser.parse(get(server, "/feed/").content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "da-DK"
    assert parsed.feed.title == "Lokalt Liv"
    newest, earlier = parsed.entries
    assert newest.id == f"{server.base_url}/?p=412"
    assert newest.link == server.url(NEWEST)
    assert newest.title == "Netværk er guld – men kun når vi giver noget af os selv"
    assert newest.author == "Mette Kjærgaard"
    assert [t.term for t in newest.tags] == ["Lokalt erhverv", "Netværk", "foreningsliv", "iværksættere"]
    content = lxml.html.fragment_fromstring(newest.content[0].value, create_parent="div")
    assert content.xpath(".//h2") and content.xpath(".//h3") and content.xpath(".//ul/li")
    assert content.xpath(".//img/@src") == [
        server.url("/wp-content/uploads/2026/11/forsamlingshus-efteraar.png")
    ]
    assert server.url(EARLIER) in content.xpath(".//a/@href")
    assert "Del dette" not in newest.content[0].value  # the feed copy has no share buttons

    assert earlier.id == f"{server.base_url}/?p=398"
    assert earlier.link == server.url(EARLIER)
    assert "content" not in earlier  # description only: the pipeline must fetch the page
    assert earlier.summary.startswith("I sidste uge var jeg sammen med en lille gruppe fra Vestjylland")
    assert newest.published_parsed > earlier.published_parsed


def _page(server: DemoServer, path: str) -> lxml.html.HtmlElement:
    response = get(server, path)
    assert response.status_code == 200
    charset = "utf-8" if "charset=UTF-8" in response.headers["Content-Type"] else "windows-1252"
    return lxml.html.fromstring(response.content.decode(charset))


def test_each_feed_guid_matches_its_pages_shortlink(server: DemoServer) -> None:
    parsed = feedparser.parse(get(server, "/feed/").content)
    for entry in parsed.entries:
        page = _page(server, urlpath(entry.link, server))
        assert page.xpath("//link[@rel='shortlink']/@href") == [entry.id]
        assert page.xpath("//link[@rel='canonical']/@href") == [entry.link]
        post_id = entry.id.rsplit("=", 1)[1]
        assert page.xpath("//main/article/@id") == [f"post-{post_id}"]


def urlpath(url: str, server: DemoServer) -> str:
    assert url.startswith(server.base_url)
    return url[len(server.base_url) :]


def test_windows_1252_page_is_served_byte_for_byte(server: DemoServer) -> None:
    response = get(server, EARLIER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html"  # no charset: only the page's meta says it
    original = (SITE / EARLIER.strip("/") / "index.html").read_bytes()
    assert response.content == original.replace(b"{{BASE}}", server.base_url.encode())
    for letter in (b"\xe6", b"\xf8", b"\xe5"):  # æ ø å as single windows-1252 bytes
        assert letter in response.content
    assert b"\x96" in response.content  # the en dash, where windows-1252 and ISO-8859-1 differ
    with pytest.raises(UnicodeDecodeError):
        response.content.decode("utf-8")
    assert "æ".encode() not in response.content
    head = response.content[: response.content.index(b"</head>")].lower()
    assert b'<meta http-equiv="content-type" content="text/html; charset=windows-1252">' in head
    assert b"<meta charset" not in head
    text = response.content.decode("windows-1252")
    assert "Et besøg på en messe i Berlin – hvad kan landdistrikterne lære?" in text


def test_conditional_get_answers_304(server: DemoServer) -> None:
    first = get(server, "/feed/")
    etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_etag = get(server, "/feed/", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["ETag"] == etag
    by_date = get(server, "/feed/", headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 304
    stale = get(server, "/feed/", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    old_date = get(server, "/feed/", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert old_date.status_code == 200
    logged = [(r.path, r.status) for r in server.requests if r.path == "/feed/"][-4:]
    assert logged == [("/feed/", 304), ("/feed/", 304), ("/feed/", 200), ("/feed/", 200)]
    assert any(r.headers.get("If-None-Match") == etag for r in server.requests)


def test_etag_changes_when_the_file_changes(tmp_path: Path) -> None:
    (tmp_path / "feed").mkdir()
    feed = tmp_path / "feed" / "index.xml"
    feed.write_bytes(b"<rss><channel><link>{{BASE}}</link></channel></rss>")
    with serve_site(tmp_path) as local:
        first = requests.get(local.url("/feed/"), timeout=5)
        feed.write_bytes(b"<rss><channel><link>{{BASE}}/ny</link></channel></rss>")
        second = requests.get(
            local.url("/feed/"), headers={"If-None-Match": first.headers["ETag"]}, timeout=5
        )
    assert second.status_code == 200
    assert second.text == f"<rss><channel><link>{local.base_url}/ny</link></channel></rss>"


def test_wordpress_routes(server: DemoServer) -> None:
    shortlink = get(server, "/?p=398")
    assert shortlink.status_code == 301
    assert shortlink.headers["Location"] == server.url(EARLIER)
    assert get(server, "/?p=999").status_code == 404
    no_slash = get(server, "/feed")
    assert no_slash.status_code == 301 and no_slash.headers["Location"] == server.url("/feed/")
    assert get(server, "/feed/?paged=2").status_code == 404
    assert get(server, "/feed/?paged=1").status_code == 200
    home = get(server, "/")
    assert home.status_code == 200 and server.url(NEWEST).encode() in home.content
    head = requests.head(server.url(NEWEST), timeout=5)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 1000


@pytest.mark.parametrize(
    "path", ["/.gitattributes", "/../syndication.toml", "/%2e%2e/syndication.toml", "/nope/"]
)
def test_nothing_outside_the_site_is_served(server: DemoServer, path: str) -> None:
    assert get(server, path).status_code == 404


def test_image_and_robots(server: DemoServer) -> None:
    image = get(server, "/wp-content/uploads/2026/11/forsamlingshus-efteraar.png")
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(get(server, "/robots.txt").text.splitlines())
    assert robots.can_fetch("syndication/0.1", server.url(NEWEST))
    assert robots.can_fetch("syndication/0.1", server.url("/feed/"))
    assert not robots.can_fetch("syndication/0.1", server.url("/wp-admin/options.php"))


def test_missing_site_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        serve_site(tmp_path / "missing")


# ------------------------------------------------------------------------------------------ config


def test_prepare_demo_writes_a_resolved_config(tmp_path: Path, server: DemoServer) -> None:
    path = prepare_demo(tmp_path / "demo", server.base_url + "/")
    assert path == tmp_path / "demo" / "syndication.toml"
    assert "{{" not in path.read_text(encoding="utf-8")
    settings = load_settings(path, environ={})
    assert [feed.url for feed in settings.feeds] == [server.url("/feed/")]
    assert settings.fetch.allow_private_hosts == ["127.0.0.1"]
    assert settings.fetch.min_host_interval == 0
    assert settings.translation.targets == ["nb", "sv"]
    assert settings.engine_for("nb") == settings.engine_for("sv") == "apertium"
    assert settings.engines["apertium"].type == "apertium"
    assert settings.review.auto_approve == ["nb", "sv"]
    outbox = settings.channels["outbox"]
    assert outbox.type == "outbox"
    extra = outbox.model_extra or {}
    assert settings.resolve_path(extra["path"]).resolve() == (tmp_path / "demo" / "outbox").resolve()
    assert settings.store_url() == f"sqlite:///{(tmp_path / 'demo' / 'syndication.db').resolve()}"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:1", "127.0.0.1:8000", 'http://127.0.0.1:1/"x', "http://"])
def test_prepare_demo_refuses_bad_base_urls(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError):
        prepare_demo(tmp_path, url)
    assert not (tmp_path / "syndication.toml").exists()
