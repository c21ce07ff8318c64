"""The feed channel: per-language Atom files and pages with hreflang alternates, served over HTTP."""

from __future__ import annotations

import threading

import feedparser
import requests
from channels_support import UvicornServer, deliveries, make_context, no_sleep, write_config
from lxml import etree

from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.feed import FeedChannel, feed_routes
from syndication.deliveries.stage import deliver_approved

BASE = "https://bloggen.example/feeds"
ATOM = "{http://www.w3.org/2005/Atom}"


def context(tmp_path, store, db_url, **extra):
    config = write_config(
        tmp_path,
        db_url,
        {"feeds": {"type": "feed", "path": "public/feeds", "base_url": BASE, "title": "Bloggen", **extra}},
    )
    return make_context(store, config, {})


def test_per_language_feeds_with_hreflang_alternates(tmp_path, store, db_url, items):
    items.approve(
        "https://bloggen.example/?p=1",
        "nb",
        title="Nettverk er gull",
        html="<p>Hei <b>der</b></p>",
        excerpt="<p>Kort om nettverk</p>",
        categories=("Netværk",),
    )
    items.approve("https://bloggen.example/?p=1", "sv", title="Nätverk är guld")
    items.approve("https://bloggen.example/?p=2", "nb", title="Bare på norsk")
    deliver_approved(context(tmp_path, store, db_url), sleep=no_sleep)

    folder = tmp_path / "public" / "feeds"
    nb = feedparser.parse((folder / "nb.atom").read_bytes())
    sv = feedparser.parse((folder / "sv.atom").read_bytes())
    assert not nb.bozo and not sv.bozo
    assert nb.feed.language == "nb" and nb.feed.title == "Bloggen"
    assert {e.title for e in nb.entries} == {"Nettverk er gull", "Bare på norsk"}
    assert [e.title for e in sv.entries] == ["Nätverk är guld"]
    entry = next(e for e in nb.entries if e.title == "Nettverk er gull")
    assert entry.id == "https://bloggen.example/?p=1#nb", "stable id: source post + language"
    assert "<b>der</b>" in entry.content[0].value and "indlaeg-1" in entry.content[0].value
    assert entry.summary == "Kort om nettverk" and entry.tags[0].term == "Netværk"
    alternates = {link.get("hreflang"): link.href for link in entry.links if link.rel == "alternate"}
    assert set(alternates) == {"nb", "sv"}
    sv_page = alternates["sv"]
    sv_own = {link.get("hreflang"): link.href for link in sv.entries[0].links if link.rel == "alternate"}
    assert sv_own == alternates and sv_page.startswith(BASE + "/sv/")
    lonely = next(e for e in nb.entries if e.title == "Bare på norsk")
    assert [link.get("hreflang") for link in lonely.links if link.rel == "alternate"] == ["nb"]

    # The pages link each other both ways (hreflang only where both sides link), canonical to themselves.
    nb_page = (folder / "nb" / (alternates["nb"].rsplit("/", 1)[1])).read_text()
    sv_html = (folder / "sv" / (sv_page.rsplit("/", 1)[1])).read_text()
    assert f'<link rel="canonical" href="{alternates["nb"]}">' in nb_page
    assert f'<link rel="alternate" hreflang="sv" href="{sv_page}">' in nb_page
    assert f'<link rel="alternate" hreflang="nb" href="{alternates["nb"]}">' in sv_html
    assert '<html lang="sv">' in sv_html

    root = etree.fromstring((folder / "nb.atom").read_bytes())
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "nb"
    feed_links = {
        (link.get("rel"), link.get("hreflang")): link.get("href") for link in root.findall(f"{ATOM}link")
    }
    assert (
        feed_links[("self", None)] == f"{BASE}/nb.atom"
        and feed_links[("alternate", "sv")] == f"{BASE}/sv.atom"
    )
    assert {r.remote_url for r in deliveries(store)} >= {alternates["nb"], sv_page}


def test_updated_moves_only_on_a_real_edit_and_retraction_leaves_a_tombstone(tmp_path, store, db_url, items):
    item = items.approve("https://bloggen.example/?p=3", "nb", title="Før")
    deliver_approved(context(tmp_path, store, db_url), sleep=no_sleep)
    path = tmp_path / "public" / "feeds" / "nb.atom"
    first = feedparser.parse(path.read_bytes()).entries[0]

    channel = FeedChannel(
        ChannelContext(
            name="feeds",
            config={"path": "public/feeds", "base_url": BASE, "title": "Bloggen"},
            base_dir=tmp_path,
        )
    )
    before = path.read_bytes()
    channel.send(channel.render(item), key="again")  # the same content again: nothing changes
    assert path.read_bytes() == before

    items.edit(item, title="Etter")
    deliver_approved(context(tmp_path, store, db_url), sleep=no_sleep)
    edited = feedparser.parse(path.read_bytes()).entries
    assert [e.title for e in edited] == ["Etter"] and edited[0].id == first.id
    assert edited[0].updated >= first.updated

    items.decide(item, "rejected")
    deliver_approved(context(tmp_path, store, db_url), sleep=no_sleep)
    root = etree.fromstring(path.read_bytes())
    assert root.findall(f"{ATOM}entry") == []
    (tombstone,) = root.findall("{http://purl.org/atompub/tombstones/1.0}deleted-entry")
    assert tombstone.get("ref") == first.id
    assert not list((tmp_path / "public" / "feeds" / "nb").glob("*.html")), "the page is gone too"


def test_concurrent_sends_keep_every_entry(tmp_path, items):
    config = {"path": "feeds", "base_url": BASE}
    posts = [items.approve(f"https://bloggen.example/?p={n}", "nb", title=f"Innlegg {n}") for n in range(20)]
    channels = [FeedChannel(ChannelContext(name="feeds", config=config, base_dir=tmp_path)) for _ in range(4)]

    def worker(index: int) -> None:
        for item in posts[index::4]:
            channel = channels[index]
            channel.send(channel.render(item), key=item.post_key)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parsed = feedparser.parse((tmp_path / "feeds" / "nb.atom").read_bytes())
    assert len(parsed.entries) == 20, "the file lock keeps workers from overwriting each other"


def test_served_over_http_with_etags_and_nothing_else_reachable(tmp_path, store, db_url, items):
    items.approve("https://bloggen.example/?p=4", "nb", title="Servert")
    deliver_approved(context(tmp_path, store, db_url), sleep=no_sleep)
    server = UvicornServer(feed_routes(tmp_path / "public" / "feeds", path="/feeds"))
    try:
        response = requests.get(f"{server.url}/feeds/nb.atom", timeout=5)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "application/atom+xml"
        )
        assert feedparser.parse(response.content).entries[0].title == "Servert"
        etag = response.headers["etag"]
        again = requests.get(f"{server.url}/feeds/nb.atom", headers={"If-None-Match": etag}, timeout=5)
        assert again.status_code == 304
        page = feedparser.parse(response.content).entries[0].link.rsplit("/", 2)
        html = requests.get(f"{server.url}/feeds/{page[1]}/{page[2]}", timeout=5)
        assert html.status_code == 200 and "Servert" in html.text
        for probe in (
            "/feeds/state.json",
            "/feeds/..%2Fstate.json.atom",
            "/feeds/nb/..%2F..%2Fsyndication.html",
            "/feeds/xx.atom",
            "/feeds/.lock",
        ):
            assert requests.get(server.url + probe, timeout=5).status_code == 404, probe
    finally:
        server.stop()
