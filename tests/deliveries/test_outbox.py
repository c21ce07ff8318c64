"""The outbox channel against real files in tmp_path; feeds read back with feedparser and lxml."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.etree
import lxml.html
import pytest

from syndication.deliveries.atom import entry_id
from syndication.deliveries.channel import Channel, ChannelContext
from syndication.deliveries.outbox import OutboxChannel, file_url, preferred_slug, slugify
from syndication.errors import ConfigError, TerminalDeliveryError
from syndication.models import ApprovedTranslation, Image, Receipt
from syndication.registry import CHANNEL_GROUP, load

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
POST_KEY = "https://lokaltliv.example/?p=412"
SOURCE_URL = "https://lokaltliv.example/netvaerk-er-guld/"


def make_item(**changes: object) -> ApprovedTranslation:
    item = ApprovedTranslation(
        translation_id=7,
        post_key=POST_KEY,
        revision="rev-1",
        lang="nb",
        source_lang="da",
        source_url=SOURCE_URL,
        source_title="Netværk er guld",
        title="Nettverk er gull",
        html="<h2>Fra kaffemøte til kompanjongskap</h2><p>Vi <strong>bygger</strong> relasjoner "
        '<a href="https://lokaltliv.example/messebesoeg/">på messen</a>.</p><ul><li>Sparring</li></ul>',
        excerpt="Det er forskjell på å <em>samle kontakter</em> og å bygge relasjoner.",
        author="Mette Kjærgaard",
        published=datetime(2026, 11, 19, 7, 40, 12, tzinfo=UTC),
        approved_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        site_name="Lokalt Liv",
        categories=("Nettverk", "Lokalt næringsliv"),
        tags=("gründere",),
        featured_image=Image(
            "https://lokaltliv.example/wp-content/uploads/hus.png", "Et rødt forsamlingshus"
        ),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def make_channel(tmp_path: Path, **config: object) -> OutboxChannel:
    settings: dict[str, object] = {"path": "outbox", **config}
    return OutboxChannel(ChannelContext(name="outbox", config=settings, base_dir=tmp_path))


def publish(channel: OutboxChannel, item: ApprovedTranslation, key: str | None = None):
    return channel.send(channel.render(item), key=key or f"{item.post_key}|{item.revision}|{item.lang}")


def read_feed(path: Path) -> lxml.etree._Element:
    return lxml.etree.fromstring(path.read_bytes())


def entries(feed: lxml.etree._Element) -> list[lxml.etree._Element]:
    return feed.findall(f"{ATOM}entry")


def text(element: lxml.etree._Element, tag: str) -> str:
    found = element.find(f"{ATOM}{tag}")
    assert found is not None, tag
    return found.text or ""


def html_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.html"))


# ------------------------------------------------------------------------------------------- basics


def test_outbox_is_a_registered_channel(tmp_path: Path) -> None:
    factory = load(CHANNEL_GROUP, "outbox")
    channel = factory(ChannelContext(name="outbox", config={"path": "outbox"}, base_dir=tmp_path))
    assert isinstance(channel, Channel)
    assert channel.at_most_once is False
    assert channel.targets(make_item()) == [""]


def test_send_writes_a_standalone_document(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    receipt = publish(channel, make_item())

    path = tmp_path / "outbox" / "nb" / "netvaerk-er-guld.html"
    assert receipt.meta["path"] == str(path)
    assert receipt.remote_id == "nb/netvaerk-er-guld"
    assert receipt.remote_url == file_url(path)
    assert receipt.remote_url.startswith("file://localhost/")
    raw = path.read_bytes()
    assert raw.startswith(b"<!DOCTYPE html>")
    doc = lxml.html.fromstring(raw.decode("utf-8"))
    assert doc.get("lang") == "nb"
    assert doc.xpath("//meta/@charset") == ["utf-8"]
    assert doc.findtext(".//title") == "Nettverk er gull"
    assert doc.xpath("//h1/text()") == ["Nettverk er gull"]
    content = doc.xpath('//div[@class="entry-content"]')[0]
    assert content.xpath(".//h2/text()") == ["Fra kaffemøte til kompanjongskap"]
    assert content.xpath(".//a/@href") == ["https://lokaltliv.example/messebesoeg/"]
    assert doc.xpath('//p[@class="excerpt"]/em/text()') == ["samle kontakter"]
    assert doc.xpath("//figure//img/@alt") == ["Et rødt forsamlingshus"]
    attribution = doc.xpath('//p[@class="attribution"]')[0]
    assert attribution.text_content().startswith(
        "Opprinnelig publisert på dansk på Lokalt Liv av Mette Kjærgaard, 19. november 2026:"
    )
    assert attribution.xpath(".//a/@href") == [SOURCE_URL]
    # No base_url configured: no canonical (a file:// canonical would say nothing true).
    assert doc.xpath('//link[@rel="canonical"]') == []


def test_feed_has_stable_absolute_localized_entries(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    feed_path = tmp_path / "outbox" / "nb" / "feed.atom"

    feed = read_feed(feed_path)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get(XML_LANG) == "nb"
    assert text(feed, "updated") == "2026-11-20T09:00:00Z"
    (entry,) = entries(feed)
    assert entry.get(XML_LANG) == "nb"
    assert text(entry, "id") == entry_id(POST_KEY, "nb")
    assert text(entry, "id").startswith("urn:uuid:")
    assert text(entry, "updated") == "2026-11-20T09:00:00Z"
    links = {link.get("rel"): link for link in entry.findall(f"{ATOM}link")}
    assert links["alternate"].get("href") == file_url(tmp_path / "outbox" / "nb" / "netvaerk-er-guld.html")
    assert links["via"].get("href") == SOURCE_URL
    assert links["via"].get("hreflang") == "da"
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None and self_link.get("href") == file_url(feed_path)
    for href in feed.xpath("//*[local-name()='link']/@href"):
        assert urlsplit(href).scheme in ("file", "https"), href
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == [
        "Nettverk",
        "Lokalt næringsliv",
        "gründere",
    ]
    content = lxml.html.fragment_fromstring(text(entry, "content"), create_parent="div")
    assert content.xpath(".//strong/text()") == ["bygger"]
    assert "Opprinnelig publisert på dansk" in content.text_content()

    parsed = feedparser.parse(feed_path.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "nb"
    (fp_entry,) = parsed.entries
    assert fp_entry.id == entry_id(POST_KEY, "nb")
    assert fp_entry.title == "Nettverk er gull"
    assert fp_entry.author == "Mette Kjærgaard"
    assert fp_entry.link == file_url(tmp_path / "outbox" / "nb" / "netvaerk-er-guld.html")
    assert "relasjoner" in fp_entry.content[0].value
    assert fp_entry.summary.startswith("Det er forskjell")


def test_base_url_gives_canonical_and_http_links(tmp_path: Path) -> None:
    channel = make_channel(tmp_path, base_url="https://oversatt.example/outbox/")
    receipt = publish(channel, make_item())

    assert receipt.remote_url == "https://oversatt.example/outbox/nb/netvaerk-er-guld.html"
    doc = lxml.html.fromstring((tmp_path / "outbox/nb/netvaerk-er-guld.html").read_bytes())
    assert doc.xpath('//link[@rel="canonical"]/@href') == [
        "https://oversatt.example/outbox/nb/netvaerk-er-guld.html"
    ]
    parsed = feedparser.parse((tmp_path / "outbox/nb/feed.atom").read_bytes())
    assert parsed.entries[0].link == "https://oversatt.example/outbox/nb/netvaerk-er-guld.html"
    assert parsed.feed.links[0].href == "https://oversatt.example/outbox/nb/feed.atom"


def test_render_is_pure(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    payload = channel.render(make_item())
    assert not (tmp_path / "outbox").exists()
    assert payload.channel == "outbox"
    assert payload.content_type == "text/html; charset=utf-8"
    assert "nb/netvaerk-er-guld.html" in payload.summary
    assert b"Nettverk er gull" in payload.body
    json.dumps(dict(payload.meta))  # a ledger can store it as JSON
    assert channel.render(make_item()) == payload


# ----------------------------------------------------------------------------- idempotence, updates


def test_same_key_twice_leaves_one_file_and_one_entry(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    payload = channel.render(make_item())
    first = channel.send(payload, key="k-1")
    feed_before = (tmp_path / "outbox/nb/feed.atom").read_bytes()
    second = channel.send(payload, key="k-1")

    assert first == second
    assert html_files(tmp_path / "outbox/nb") == ["netvaerk-er-guld.html"]
    assert (tmp_path / "outbox/nb/feed.atom").read_bytes() == feed_before
    assert len(entries(read_feed(tmp_path / "outbox/nb/feed.atom"))) == 1


def test_update_replaces_file_and_bumps_updated_but_keeps_id(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    feed_path = tmp_path / "outbox/nb/feed.atom"
    (before,) = entries(read_feed(feed_path))

    edited = make_item(
        revision="rev-2",
        html="<p>Helt ny tekst om nettverk.</p>",
        approved_at=datetime(2026, 11, 22, 8, 30, tzinfo=UTC),
    )
    receipt = publish(channel, edited)

    assert html_files(tmp_path / "outbox/nb") == ["netvaerk-er-guld.html"]
    body = (tmp_path / "outbox/nb/netvaerk-er-guld.html").read_text(encoding="utf-8")
    assert "Helt ny tekst om nettverk." in body
    assert "kompanjongskap" not in body
    assert receipt.meta["revision"] == "rev-2"
    feed = read_feed(feed_path)
    (after,) = entries(feed)
    assert text(after, "id") == text(before, "id")
    assert text(after, "updated") == "2026-11-22T08:30:00Z"
    assert text(after, "published") == text(before, "published")
    assert text(feed, "updated") == "2026-11-22T08:30:00Z"
    assert "Helt ny tekst" in text(after, "content")


def test_new_revision_bumps_updated_even_with_an_older_approval_time(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    # A clock behind the first approval too: <updated> still moves forward.
    channel._clock = lambda: datetime(2026, 1, 2, tzinfo=UTC)
    publish(
        channel,
        make_item(revision="rev-2", html="<p>Rettet.</p>", approved_at=datetime(2026, 1, 1, tzinfo=UTC)),
    )
    (entry,) = entries(read_feed(tmp_path / "outbox/nb/feed.atom"))
    assert text(entry, "updated") == "2026-11-20T09:00:01Z"


def test_edit_of_an_approved_item_is_dated_when_it_goes_out(tmp_path: Path) -> None:
    # An editor corrects a translation that was approved and sent: its approval time stays, but
    # the entry changed now, and readers sort and refresh by <updated>.
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    channel._clock = lambda: datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    publish(channel, make_item(title="Nettverk er gull, rettet"), key="after-edit")
    feed = read_feed(tmp_path / "outbox/nb/feed.atom")
    (entry,) = entries(feed)
    assert text(entry, "title") == "Nettverk er gull, rettet"
    assert text(entry, "updated") == "2026-11-25T14:30:00Z"
    assert text(entry, "published") == "2026-11-20T09:00:00Z"
    assert text(feed, "updated") == "2026-11-25T14:30:00Z"


def test_resend_of_unchanged_content_under_new_key_does_not_bump(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item(), key="a")
    publish(channel, make_item(approved_at=datetime(2026, 12, 1, tzinfo=UTC)), key="b")
    (entry,) = entries(read_feed(tmp_path / "outbox/nb/feed.atom"))
    assert text(entry, "updated") == "2026-11-20T09:00:00Z"


def test_newest_entry_first_and_languages_apart(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    publish(
        channel,
        make_item(
            post_key="https://lokaltliv.example/?p=398",
            source_url="https://lokaltliv.example/messebesoeg-i-berlin/",
            title="Messebesøk i Berlin",
            approved_at=datetime(2026, 11, 21, tzinfo=UTC),
        ),
    )
    publish(channel, make_item(lang="sv", title="Nätverk är guld"))

    nb = feedparser.parse((tmp_path / "outbox/nb/feed.atom").read_bytes())
    assert [e.title for e in nb.entries] == ["Messebesøk i Berlin", "Nettverk er gull"]
    sv = feedparser.parse((tmp_path / "outbox/sv/feed.atom").read_bytes())
    assert [e.title for e in sv.entries] == ["Nätverk är guld"]
    assert sv.entries[0].id == entry_id(POST_KEY, "sv") != entry_id(POST_KEY, "nb")
    assert sv.feed.title == "Översatta inlägg"
    doc = lxml.html.fromstring((tmp_path / "outbox/sv/netvaerk-er-guld.html").read_bytes())
    assert doc.get("lang") == "sv"
    assert (
        doc.xpath('//p[@class="attribution"]')[0]
        .text_content()
        .startswith("Ursprungligen publicerad på danska på Lokalt Liv av Mette Kjærgaard, 19 november 2026:")
    )


# -------------------------------------------------------------------------------------------- retract


def test_retract_removes_file_and_entry(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    receipt = publish(channel, make_item())
    other = make_item(
        post_key="https://lokaltliv.example/?p=398", source_url="https://lokaltliv.example/messe/"
    )
    publish(channel, other)

    channel.retract(receipt)

    folder = tmp_path / "outbox/nb"
    assert html_files(folder) == ["messe.html"]
    ids = [text(e, "id") for e in entries(read_feed(folder / "feed.atom"))]
    assert ids == [entry_id(other.post_key, "nb")]
    channel.retract(receipt)  # already gone: nothing to do, no error
    assert html_files(folder) == ["messe.html"]


def test_retract_action_payload_removes_the_post(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    payload = channel.render(make_item(action="retract"))
    assert payload.body == b""
    receipt = channel.send(payload, key="retract-1")
    assert receipt.meta["retracted"] is True
    assert html_files(tmp_path / "outbox/nb") == []
    assert entries(read_feed(tmp_path / "outbox/nb/feed.atom")) == []


def test_republish_after_retract_uses_same_id(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    channel.retract(publish(channel, make_item()))
    publish(channel, make_item(revision="rev-2"))
    (entry,) = entries(read_feed(tmp_path / "outbox/nb/feed.atom"))
    assert text(entry, "id") == entry_id(POST_KEY, "nb")


# ---------------------------------------------------------------------------------------------- slugs


def test_slugs_are_transliterated_stable_and_unique(tmp_path: Path) -> None:
    assert slugify("Æbler og pærer på Ærø!") == "aebler-og-paerer-paa-aeroe"
    assert slugify("Straße über Köln") == "strasse-ueber-koeln"
    assert preferred_slug("https://x.example/?p=5", "Æbler på Ærø", "k") == "aebler-paa-aeroe"
    assert preferred_slug("https://x.example/2026/11/netv%C3%A6rk/", "t", "k") == "netvaerk"
    assert preferred_slug("https://x.example/side.php", "t", "k") == "side"
    assert preferred_slug("https://x.example/", "!!!", "k").startswith("post-")

    channel = make_channel(tmp_path)
    first = publish(channel, make_item())
    second = publish(
        channel,
        make_item(
            post_key="https://andet.example/?p=9", source_url="https://andet.example/netvaerk-er-guld/"
        ),
    )
    assert (first.meta["slug"], second.meta["slug"]) == ("netvaerk-er-guld", "netvaerk-er-guld-2")
    # The source renamed its URL: the post keeps its file.
    renamed = publish(channel, make_item(revision="rev-2", source_url="https://lokaltliv.example/nyt-navn/"))
    assert renamed.meta["slug"] == "netvaerk-er-guld"
    assert html_files(tmp_path / "outbox/nb") == ["netvaerk-er-guld-2.html", "netvaerk-er-guld.html"]


def test_previous_receipt_keeps_the_file_when_the_index_is_lost(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    first = publish(channel, make_item(source_url="https://lokaltliv.example/gammelt-navn/"))
    (tmp_path / "outbox/nb/.index.json").unlink()
    payload = channel.render(make_item(revision="rev-2", source_url="https://lokaltliv.example/nyt-navn/"))
    receipt = channel.send(payload, key="k-2", previous=first)
    assert receipt.meta["slug"] == "gammelt-navn"
    assert html_files(tmp_path / "outbox/nb") == ["gammelt-navn.html"]


def test_canonical_follows_a_deduplicated_slug(tmp_path: Path) -> None:
    channel = make_channel(tmp_path, base_url="https://oversatt.example")
    publish(channel, make_item())
    publish(
        channel,
        make_item(post_key="https://andet.example/?p=1", source_url="https://andet.example/netvaerk-er-guld"),
    )
    doc = lxml.html.fromstring((tmp_path / "outbox/nb/netvaerk-er-guld-2.html").read_bytes())
    assert doc.xpath('//link[@rel="canonical"]/@href') == [
        "https://oversatt.example/nb/netvaerk-er-guld-2.html"
    ]


# ------------------------------------------------------------------------------------ linked articles


def test_linked_article_names_its_source_and_the_linking_post(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    linked = make_item(
        kind="linked",
        post_key="https://lokaltliv.example/messebesoeg/",
        source_url="https://lokaltliv.example/messebesoeg/",
        title="Messebesøk i Berlin",
        author=None,
        site_name="Lokalt Liv",
        published=datetime(2026, 10, 29, 15, 22, tzinfo=UTC),
        linked_from=(SOURCE_URL,),
    )
    publish(channel, linked)
    doc = lxml.html.fromstring((tmp_path / "outbox/nb/messebesoeg.html").read_bytes())
    attribution = doc.xpath('//p[@class="attribution"]')[0]
    assert attribution.text_content().startswith(
        "Opprinnelig publisert på dansk på Lokalt Liv, 29. oktober 2026:"
    )
    assert attribution.xpath(".//a/@href") == ["https://lokaltliv.example/messebesoeg/"]
    linked_from = doc.xpath('//p[@class="linked-from"]')[0]
    assert linked_from.text_content().startswith("Lenket fra")
    assert linked_from.xpath(".//a/@href") == [SOURCE_URL]
    (entry,) = entries(read_feed(tmp_path / "outbox/nb/feed.atom"))
    assert "Lenket fra" in text(entry, "content")
    author = entry.find(f"{ATOM}author/{ATOM}name")
    assert author is not None and author.text == "Lokalt Liv"


# ----------------------------------------------------------------------------------- hostile content


HOSTILE = make_item(
    title='<script>alert("t")</script>Nyhet <img src=x onerror=alert(1)>',
    author='Eve <script>alert("a")</script>" onmouseover="alert(2)',
    site_name="<b onclick=alert(3)>Site</b>",
    excerpt='Kort <a href="javascript:alert(4)" onclick="x()">lenke</a>',
    html=(
        '<p onclick="steal()">Tekst<script>alert(5)</script></p>'
        '<img src="https://x.example/a.png" onerror="alert(6)">'
        '<a href="javascript:alert(7)">klikk</a><iframe src="https://evil.example/"></iframe>'
        '<p style="position:fixed">stil</p><form action="https://evil.example/"><input name=a></form>'
    ),
    categories=("<script>kat</script>",),
)


def _assert_inert(doc: lxml.html.HtmlElement) -> None:
    assert doc.xpath("//script | //iframe | //form | //input | //object | //embed") == []
    for element in doc.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert "javascript:" not in value.lower(), (element.tag, name, value)
            assert name != "style", element.tag


def test_hostile_content_is_neutralised_in_the_document(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    receipt = publish(channel, HOSTILE)
    raw = Path(receipt.meta["path"]).read_text(encoding="utf-8")
    assert "<script" not in raw.lower()
    doc = lxml.html.fromstring(raw)
    _assert_inert(doc)
    assert doc.findtext(".//title") == "Nyhet"
    assert "Tekst" in doc.xpath('//div[@class="entry-content"]')[0].text_content()
    # The author's markup is shown as text, never parsed as markup.
    assert (
        'Eve <script>alert("a")</script>" onmouseover="alert(2)'
        in doc.xpath('//p[@class="attribution"]')[0].text_content()
    )


def test_hostile_content_is_neutralised_in_the_feed(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, HOSTILE)
    feed = read_feed(tmp_path / "outbox/nb/feed.atom")
    (entry,) = entries(feed)
    assert text(entry, "title") == "Nyhet"
    for tag in ("content", "summary"):
        fragment = lxml.html.fragment_fromstring(text(entry, tag), create_parent="div")
        _assert_inert(fragment)
    assert "Tekst" in text(entry, "content")
    author = entry.find(f"{ATOM}author/{ATOM}name")
    assert author is not None and author.text == HOSTILE.author  # a text node: inert in any reader


def test_characters_xml_cannot_carry_do_not_break_the_feed(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item(title="Nett\x00verk\x1b", html="<p>a\x07b\ufffe</p>", author="M\x01"))
    parsed = feedparser.parse((tmp_path / "outbox/nb/feed.atom").read_bytes())
    assert not parsed.bozo
    assert parsed.entries[0].title == "Nettverk"
    assert "<p>ab</p>" in parsed.entries[0].content[0].value


# -------------------------------------------------------------------------------------------- errors


def test_language_tag_cannot_escape_the_outbox(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    with pytest.raises(TerminalDeliveryError) as caught:
        channel.render(make_item(lang="../../etc"))
    assert caught.value.post == POST_KEY
    assert caught.value.channel == "outbox"
    assert not (tmp_path / "outbox").exists()


def test_damaged_index_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    index = tmp_path / "outbox/nb/.index.json"
    index.write_text("{not json", encoding="utf-8")
    document = (tmp_path / "outbox/nb/netvaerk-er-guld.html").read_bytes()
    with pytest.raises(TerminalDeliveryError, match=r"\.index\.json is damaged") as caught:
        publish(channel, make_item(revision="rev-2", html="<p>Ny</p>"))
    assert caught.value.lang == "nb"
    assert (tmp_path / "outbox/nb/netvaerk-er-guld.html").read_bytes() == document
    assert index.read_text(encoding="utf-8") == "{not json"


def test_foreign_payload_is_refused(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    payload = replace(channel.render(make_item()), channel="webhook")
    with pytest.raises(TerminalDeliveryError, match="not rendered by this outbox"):
        channel.send(payload, key="k")


@pytest.mark.parametrize(
    "config", [{"path": ""}, {"path": 3}, {"path": "outbox", "base_url": "oversatt.example/ud"}]
)
def test_bad_config_is_a_config_error(tmp_path: Path, config: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        OutboxChannel(ChannelContext(name="outbox", config=config, base_dir=tmp_path))


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    channel = OutboxChannel(
        ChannelContext(name="outbox", config={"path": "o"}, base_dir=tmp_path, dry_run=True)
    )
    receipt = channel.send(channel.render(make_item()), key="k")
    assert receipt.meta["dry_run"] is True
    assert receipt.remote_id == "nb/netvaerk-er-guld"
    assert not (tmp_path / "o").exists()


def test_written_files_are_readable_and_no_temp_files_remain(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    publish(channel, make_item())
    folder = tmp_path / "outbox/nb"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".index.json",
        ".lock",
        "feed.atom",
        "netvaerk-er-guld.html",
    ]
    assert (folder / "feed.atom").stat().st_mode & 0o044 == 0o044


def test_retract_with_a_bare_receipt_finds_the_post_by_file_name(tmp_path: Path) -> None:
    channel = make_channel(tmp_path)
    receipt = publish(channel, make_item())
    channel.retract(Receipt(channel="outbox", key=receipt.key, remote_id=receipt.remote_id))
    assert html_files(tmp_path / "outbox/nb") == []
    with pytest.raises(TerminalDeliveryError, match="retract by hand"):
        channel.retract(Receipt(channel="outbox", key="k"))


def test_concurrent_senders_do_not_lose_entries(tmp_path: Path) -> None:
    def sender(worker: int) -> None:
        channel = make_channel(tmp_path)  # one channel object per thread, like separate workers
        for n in range(8):
            publish(
                channel,
                make_item(
                    post_key=f"https://lokaltliv.example/?p={worker}{n:02d}",
                    source_url=f"https://lokaltliv.example/indlaeg-{worker}-{n}/",
                ),
            )

    threads = [threading.Thread(target=sender, args=(w,)) for w in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(html_files(tmp_path / "outbox/nb")) == 24
    assert len(entries(read_feed(tmp_path / "outbox/nb/feed.atom"))) == 24


def test_configured_feed_title(tmp_path: Path) -> None:
    channel = make_channel(tmp_path, title="Lokalt Liv på {lang} {x}")
    publish(channel, make_item())
    assert (
        feedparser.parse((tmp_path / "outbox/nb/feed.atom").read_bytes()).feed.title == "Lokalt Liv på nb {x}"
    )
