"""Bad input never stops the run: every failing item says why, and nothing is lost.

One loopback server plays a blog whose posts misbehave in every way a real one can (500, reset
connection, 50 MB page, redirect loop, windows-1252 without a header charset, a page full of
scripts), next to a malformed feed and one that never answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from syndication import pipeline
from syndication.context import RunContext
from syndication.store import Feed, Post, utcnow

PAGE = """<!DOCTYPE html><html lang="da"><head><meta charset="{charset}"><title>{title}</title>
<script>document.write('<p>reklame</p>')</script></head><body>
<nav><a href="/">Forside</a></nav>
<article class="post"><h1 class="entry-title">{title}</h1>
<div class="entry-content"><p>{body}</p>
<p onclick="alert(1)">Vi ses til mødet i forsamlingshuset på torsdag.</p>
<script>alert('x')</script></div></article>
<div id="comments"><h3>Skriv en kommentar</h3><form><textarea></textarea></form></div>
</body></html>"""


def rss(base: str, items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid isPermaLink='false'>{base}/?p={i}</guid>"
        f"<description>Kort resumé.</description></item>"
        for i, (path, title) in enumerate(items, start=1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link><language>da</language>{entries}</channel></rss>"
    ).encode()


@pytest.fixture
def hostile_blog(http_server, tmp_path: Path):
    base = http_server.url("").rstrip("/")
    items = [
        ("/posts/good/", "En god dag i landsbyen"),
        ("/posts/error/", "Serveren fejler"),
        ("/posts/huge/", "En kæmpe side"),
        ("/posts/loop/", "Omdirigeringer i ring"),
        ("/posts/latin/", "Gammel side"),
        ("/posts/reset/", "Forbindelsen afbrydes"),
    ]
    http_server.add("/feed/", body=rss(base, items), headers={"Content-Type": "application/rss+xml"})
    http_server.add("/robots.txt", body=b"User-agent: *\nDisallow: /wp-admin/\n")
    good = PAGE.format(charset="utf-8", title="En god dag i landsbyen", body="Det lokale netværk mødes igen.")
    http_server.add("/posts/good/", body=good.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
    http_server.add("/posts/error/", status=500, body=b"Internal Server Error")
    http_server.stream("/posts/huge/", total=50_000_000)
    http_server.redirect("/posts/loop/", "/posts/loop2/", status=302)
    http_server.redirect("/posts/loop2/", "/posts/loop/", status=302)
    latin = PAGE.format(
        charset="windows-1252", title="Gammel side", body="Købmanden på hjørnet får nye ejere."
    )
    http_server.add("/posts/latin/", body=latin.encode("cp1252"), headers={"Content-Type": "text/html"})
    http_server.reset("/posts/reset/")
    http_server.add(
        "/broken/feed/",
        body=b"<rss><channel><item><title>Halv",
        headers={"Content-Type": "application/rss+xml"},
    )
    http_server.stall("/stalled/feed/")
    host = http_server.url("").split("//", 1)[1].split(":", 1)[0]
    config = tmp_path / "syndication.toml"
    config.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/bad.db"
[fetch]
allow_private_hosts = ["{host}"]
min_host_interval = 0
timeout = 2
max_bytes = 2_000_000
[[feeds]]
url = "{base}/feed/"
name = "hostile"
[[feeds]]
url = "{base}/broken/feed/"
name = "broken"
[[feeds]]
url = "{base}/stalled/feed/"
name = "stalled"
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
    return config, http_server, base


def test_run_goes_on_and_every_failure_says_why(hostile_blog):
    config, _server, base = hostile_blog
    ctx = RunContext.open(config)
    summary = pipeline.syndicate(ctx)

    assert summary.feeds_polled == 3
    assert summary.feeds_failed == 2  # the broken and the stalled feed
    assert summary.entries_new == 6
    with ctx.store.session() as session:
        posts = {p.url.removeprefix(base): p for p in session.scalars(select(Post))}
        feeds = {f.name: f for f in session.scalars(select(Feed))}
    assert posts["/posts/good/"].status == "extracted"
    assert posts["/posts/latin/"].status == "extracted"
    # Each failed page waits for its next try (syndication.page_retries), with its reason.
    failures = {path: (p.error_kind, p.last_error) for path, p in posts.items() if p.status == "waiting"}
    assert set(failures) == {"/posts/error/", "/posts/huge/", "/posts/loop/", "/posts/reset/"}
    assert failures["/posts/error/"][0] == "transient" and "500" in failures["/posts/error/"][1]
    assert failures["/posts/reset/"][0] == "transient"
    assert failures["/posts/huge/"][0] == "terminal" and "2000000" in failures["/posts/huge/"][1].replace(
        ",", ""
    ).replace("_", "")
    assert "redirect" in failures["/posts/loop/"][1].lower()
    assert feeds["broken"].last_error and feeds["stalled"].last_error
    assert summary.deliveries_sent == 2 and summary.deliveries_failed == 0
    # Everything that failed is named in the run's summary too.
    assert {e.post for e in summary.errors if e.stage == "extract"} >= {f"{base}/?p=2", f"{base}/?p=6"}

    latin = (Path(ctx.settings.channels["outbox"].model_extra["path"]) / "nb").glob("*.html")
    texts = " ".join(p.read_text(encoding="utf-8") for p in latin)
    assert "ø" in texts and "Ã" not in texts
    assert "<script" not in texts and "onclick" not in texts and "reklame" not in texts
    ctx.close()


def test_transient_failures_are_retried_next_run_even_when_the_feed_is_unchanged(hostile_blog):
    config, server, base = hostile_blog
    ctx = RunContext.open(config)
    pipeline.syndicate(ctx)
    ctx.close()
    # The server recovers; the feed itself is unchanged (no validators here, so it is re-read,
    # but nothing in it is new): the failed posts are picked up from the store.
    fixed = PAGE.format(charset="utf-8", title="Serveren fejler", body="Nu virker siden igen.")
    server.add("/posts/error/", body=fixed.encode(), headers={"Content-Type": "text/html; charset=utf-8"})
    # The next run comes after the failed page's first retry wait (10 min).
    ctx = RunContext.open(config)
    with ctx.store.session() as session:
        session.execute(
            update(Post).where(Post.url == f"{base}/posts/error/").values(next_attempt_at=utcnow())
        )
    ctx.close()
    ctx = RunContext.open(config)
    summary = pipeline.syndicate(ctx)
    assert summary.entries_new == 0 and summary.entries_updated == 0
    with ctx.store.session() as session:
        post = session.scalars(select(Post).where(Post.url == f"{base}/posts/error/")).one()
        assert post.status == "extracted"
        huge = session.scalars(select(Post).where(Post.url == f"{base}/posts/huge/")).one()
        assert huge.status == "waiting"  # its own retry is not due yet: not fetched again
    assert [r.path for r in server.requests_to("/posts/huge/")] == ["/posts/huge/"]
    assert summary.deliveries_sent == 1
    ctx.close()
