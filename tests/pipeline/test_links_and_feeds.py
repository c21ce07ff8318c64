"""Through the plain pipeline, on a loopback blog with real Apertium and SQLite: the articles a post
links to (same site and allow-listed hosts only, robots.txt respected, private addresses refused,
each translated with attribution), and a feed's life (baseline, 301 moved, 410 gone: failing and
backed off)."""

from __future__ import annotations

from pathlib import Path

import feedparser
import lxml.html
from sqlalchemy import select

from syndication import pipeline
from syndication.context import RunContext
from syndication.status import status
from syndication.store import Feed, Post, Translation
from tests.httpserver import FixtureServer

PAGE = """<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>{title}</title></head>
<body><article><h1>{title}</h1><p>{body}</p><p>Vi ses i forsamlingshuset på torsdag.</p></article>
</body></html>"""


def rss(base: str, items: list[tuple[int, str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}/p{number}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={number}</guid><dc:creator>Ole Jensen</dc:creator>"
        f"<pubDate>Thu, 19 Nov 2026 07:40:12 +0000</pubDate><description>Kort nyt.</description>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item>"
        for number, title, body in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link><language>da</language>{entries}</channel></rss>"
    ).encode()


def write_config(tmp_path: Path, base: str, *, extra: str = "", feed_extra: str = "") -> Path:
    path = tmp_path / "syndication.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/links.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 3
{extra}
[[feeds]]
url = "{base}/feed/"
name = "landsbyen"
{feed_extra}
[translation]
targets = ["nb"]
[review]
auto_approve = ["nb"]
[channels.outbox]
type = "outbox"
path = "{tmp_path}/outbox"
""",
        encoding="utf-8",
    )
    return path


def run(config: Path):
    ctx = RunContext.open(config)
    try:
        return pipeline.syndicate(ctx)
    finally:
        ctx.close()


def test_linked_articles_are_fetched_politely_translated_and_attributed(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    base = http_server.url("").rstrip("/")
    port = base.rsplit(":", 1)[1]
    body = (
        f'<p>Læs om <a href="{base}/posts/gammel/">købmanden</a>, '
        f'<a href="{base}/privat/referat/">bestyrelsens referat</a>, '
        f'<a href="http://localhost:{port}/posts/anden/">en anden side</a>, '
        f'<a href="http://10.1.2.3/intranet/">intranettet</a> og '
        f'<a href="https://andet-sted.example.org/artikel/">en fremmed side</a>.</p>'
        "<p>Tak fordi du læste med.</p>"
    )
    http_server.add(
        "/feed/",
        body=rss(base, [(7, "Nyt fra landsbyen", body)]),
        headers={"Content-Type": "application/rss+xml"},
    )
    http_server.add("/robots.txt", body=b"User-agent: *\nDisallow: /privat/\n")
    for path, title, text in (
        ("/posts/gammel/", "Købmanden får nye ejere", "Købmanden på hjørnet får nye ejere til foråret."),
        ("/privat/referat/", "Referat", "Bestyrelsen mødtes i går."),
        ("/posts/anden/", "En anden side", "Denne side må ikke hentes via localhost."),
    ):
        http_server.add(
            path,
            body=PAGE.format(title=title, body=text).encode(),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
    # localhost and 10.1.2.3 are allow-listed as *link* hosts, but only 127.0.0.1 as a private
    # address: the address guard must still refuse them.
    config = write_config(
        tmp_path, base, extra='[links]\ndepth = 1\nallowed_hosts = ["localhost", "10.1.2.3"]'
    )

    summary = run(config)

    assert summary.entries_new == 1
    assert summary.linked_articles == 4  # the foreign site is neither same-site nor allow-listed
    assert summary.pages_fetched == 1 and summary.extraction_failed == 3
    assert [r.path for r in http_server.requests] == ["/feed/", "/robots.txt", "/posts/gammel/"]
    assert summary.deliveries_sent == 2  # the post and the linked article: the run went on

    ctx = RunContext.open(config)
    with ctx.store.session() as session:
        posts = {p.url: p for p in session.scalars(select(Post))}
        linked = posts[f"{base}/posts/gammel/"]
        assert linked.kind == "linked" and linked.status == "extracted"
        translation = session.scalars(select(Translation).where(Translation.post_id == linked.id)).one()
        assert translation.status == "approved"
        # Refused for now, not for good: each waits for its next try (syndication.page_retries).
        refused = {
            url: (p.error_kind, p.last_error or "") for url, p in posts.items() if p.status == "waiting"
        }
        listed = status(session)["pages"]["listed"]
    ctx.close()
    assert set(refused) == {
        f"{base}/privat/referat/",
        f"http://localhost:{port}/posts/anden/",
        "http://10.1.2.3/intranet/",
    }
    assert refused[f"{base}/privat/referat/"][0] == "terminal"
    assert "robots.txt" in refused[f"{base}/privat/referat/"][1]
    assert "loopback" in refused[f"http://localhost:{port}/posts/anden/"][1]
    assert "private address" in refused["http://10.1.2.3/intranet/"][1]
    assert all("allow_private_hosts" in refused[url][1] for url in refused if "privat/" not in url)
    # `syndicate status` names each, why, and when it is tried again.
    assert {p["url"]: p["reason"] for p in listed} == {url: why for url, (_, why) in refused.items()}
    assert all(p["next_try"].startswith(("in 9 min", "in 10 min")) for p in listed)

    folder = tmp_path / "outbox" / "nb"
    page = lxml.html.fromstring((folder / "gammel.html").read_text(encoding="utf-8"))
    assert page.xpath("//article/@class") == ["syndicated linked"]
    assert "Kjøpmannen" in page.xpath("string(//div[@class='entry-content'])")
    assert page.xpath("//p[@class='attribution']//a/@href") == [f"{base}/posts/gammel/"]
    assert page.xpath("//p[@class='linked-from']//a/@href") == [f"{base}/p7/"]
    assert len(page.xpath("//h1")) == 1  # the page's headline is the title, not body text too
    entries = feedparser.parse((folder / "feed.atom").read_bytes()).entries
    assert len(entries) == 2

    # Refused and disallowed links are not tried again before their next try is due.
    before = len(http_server.requests)
    again = run(config)
    assert [r.path for r in http_server.requests[before:]] == ["/feed/"]
    assert again.pages_fetched == 0 and again.extraction_failed == 0 and again.deliveries_sent == 0


def test_a_feed_is_baselined_then_moved_then_retired(http_server: FixtureServer, tmp_path: Path) -> None:
    base = http_server.url("").rstrip("/")

    def items(count: int) -> list[tuple[int, str, str]]:
        return [
            (n, f"Indlæg {n}", f"<p>Dette er indlæg nummer {n} om landsbyen og dens købmand.</p>")
            for n in range(count, 0, -1)
        ]

    def serve(path: str, count: int) -> None:
        http_server.add(path, body=rss(base, items(count)), headers={"Content-Type": "application/rss+xml"})

    serve("/feed/", 2)
    config = write_config(tmp_path, base, feed_extra="baseline = true")

    first = run(config)
    assert first.entries_baselined == 2 and first.entries_new == 0
    assert first.engine_calls == 0 and first.deliveries_sent == 0

    serve("/feed/", 3)
    second = run(config)
    assert second.entries_new == 1 and second.deliveries_sent == 1
    assert [p.name for p in (tmp_path / "outbox" / "nb").glob("*.html")] == ["p3.html"]

    http_server.redirect("/feed/", "/ny-feed/", status=301)
    serve("/ny-feed/", 3)
    moved = run(config)
    assert moved.feeds_failed == 0 and moved.entries_new == 0
    before = len(http_server.requests)
    run(config)
    assert [r.path for r in http_server.requests[before:]] == ["/ny-feed/"]  # straight to the new URL

    http_server.add("/ny-feed/", status=410, body=b"Gone")
    before = len(http_server.requests)
    gone = run(config)
    assert any("410" in e.message for e in gone.errors)
    # The moved URL failed, so the configured one was asked again (it still redirects there).
    assert [r.path for r in http_server.requests[before:]] == ["/ny-feed/", "/feed/", "/ny-feed/"]
    before = len(http_server.requests)
    after = run(config)  # backed off, not retired (see tests/feeds/test_feed_health.py)
    assert http_server.requests[before:] == [] and after.feeds_polled == 0

    ctx = RunContext.open(config)
    with ctx.store.session() as session:
        feed = session.scalars(select(Feed)).one()
        assert feed.url == f"{base}/feed/" and feed.current_url == f"{base}/feed/"
        assert feed.status == "failing" and "410" in (feed.last_error or "")
        shown = status(session)["feeds"][0]
        posts = {p.post_key: p.status for p in session.scalars(select(Post))}
    ctx.close()
    assert shown["status"] == "failing" and "410" in shown["last_error"] and shown["next_poll_at"]
    assert posts == {f"{base}/?p=1": "baselined", f"{base}/?p=2": "baselined", f"{base}/?p=3": "extracted"}
