"""Entry identity and content fingerprints."""

from __future__ import annotations

import pytest

from syndication.feeds import content_hash, entry_id, parse_feed
from syndication.feeds.identity import normalize_link, wordpress_guid


@pytest.mark.parametrize(
    ("guid", "expected"),
    [
        ("https://landsbynet.example.dk/?p=412", "https://landsbynet.example.dk/?p=412"),
        ("HTTPS://LandsbyNet.Example.DK/?p=412", "https://landsbynet.example.dk/?p=412"),
        ("  https://landsbynet.example.dk/?p=412#comments \n", "https://landsbynet.example.dk/?p=412"),
        ("https://landsbynet.example.dk?p=0412", "https://landsbynet.example.dk/?p=412"),
        ("https://landsbynet.example.dk/?post_type=event&p=55", "https://landsbynet.example.dk/?p=55"),
        ("http://landsbynet.example.dk/?p=412", "http://landsbynet.example.dk/?p=412"),  # scheme kept
        ("https://www.landsbynet.example.dk/?p=412", "https://www.landsbynet.example.dk/?p=412"),  # host kept
        ("https://net.example.dk/blog-a/?p=9", "https://net.example.dk/blog-a/?p=9"),  # multisite path kept
    ],
)
def test_wordpress_guids_are_normalized(guid: str, expected: str):
    assert wordpress_guid(guid) == expected
    assert entry_id(guid, "https://landsbynet.example.dk/some-slug/", "t", "c") == expected


@pytest.mark.parametrize(
    "guid",
    [
        "https://example.dk/?p=abc",
        "https://example.dk/?cat=3&p=2",  # some other application's ?p=
        "https://example.dk/?p=1&p=2",
        "https://example.dk/2025/01/slug/",
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "ftp://example.dk/?p=1",
        "",
        None,
    ],
)
def test_other_guids_are_not_wordpress(guid: str | None):
    assert wordpress_guid(guid) is None


def test_identity_preference_order():
    link = "https://Example.DK/nyt/opslag?utm_source=rss&id=7&utm_campaign=x#svar"
    assert entry_id("tag:example.dk,2025:7", link, "t", "c") == "tag:example.dk,2025:7"
    assert entry_id("  opaque-ID-7 ", link, "t", "c") == "opaque-ID-7"  # case kept: ids are opaque
    assert entry_id(None, link, "t", "c") == "https://example.dk/nyt/opslag?id=7"
    by_hash = entry_id(None, None, "Titel", "<p>Tekst</p>")
    assert by_hash.startswith("sha256:") and len(by_hash) == 7 + 64
    assert by_hash == entry_id("", "  ", "Titel", "<p>Tekst</p>")
    assert by_hash != entry_id(None, None, "Titel", "<p>Anden tekst</p>")


def test_normalize_link_keeps_meaningful_parameters_untouched():
    assert normalize_link("https://e.dk/s?q=%C3%A6bler&b=1#x") == "https://e.dk/s?q=%C3%A6bler&b=1"
    assert normalize_link("https://e.dk/s?utm_medium=feed") == "https://e.dk/s"


BASE = ("Købmanden i Østerby", "<p>Syv butikker samarbejder.</p>\n<p>Det virker.</p>", "https://e.dk/a/")


@pytest.mark.parametrize(
    "variant",
    [
        ("  Købmanden  i Østerby ", BASE[1], BASE[2]),
        (BASE[0], "<p>Syv  butikker\r\nsamarbejder.</p><p>Det virker.</p>", BASE[2]),
        (BASE[0], "\n\t<p>Syv butikker samarbejder.</p>\n\n  <p>Det virker.</p>\n", BASE[2]),
        (BASE[0], BASE[1], "https://E.dk/a/?utm_source=rss#top"),
    ],
)
def test_content_hash_ignores_whitespace_and_link_noise(variant):
    assert content_hash(*variant) == content_hash(*BASE)


def test_content_hash_ignores_unicode_composition():
    composed = "Gårdbutik på Ærø"
    decomposed = "Ga\u030ardbutik pa\u030a Ærø"
    assert composed != decomposed
    assert content_hash(composed, "x", None) == content_hash(decomposed, "x", None)


@pytest.mark.parametrize(
    "variant",
    [
        ("Købmanden i Vesterby", BASE[1], BASE[2]),
        (BASE[0], "<p>Otte butikker samarbejder.</p>\n<p>Det virker.</p>", BASE[2]),
        (BASE[0], '<p class="x">Syv butikker samarbejder.</p>\n<p>Det virker.</p>', BASE[2]),
        (BASE[0], BASE[1], "https://e.dk/b/"),
        (BASE[0], BASE[1], None),
    ],
)
def test_content_hash_changes_with_what_the_entry_says(variant):
    assert content_hash(*variant) != content_hash(*BASE)


def feed(body: str, updated: str = "Mon, 06 Jan 2025 08:00:00 +0000", indent: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
        f"<item>{indent}<title>Høstmarked</title>{indent}<link>https://e.dk/hoest/</link>"
        f'<guid isPermaLink="false">https://e.dk/?p=5</guid><pubDate>{updated}</pubDate>'
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item></channel></rss>"
    ).encode()


def test_an_edited_post_keeps_its_id_and_changes_its_hash():
    before = parse_feed(feed("<p>Boder fra kl. 9.</p>"), "https://e.dk/feed/")[0]
    edited = parse_feed(feed("<p>Boder fra kl. 10.</p>"), "https://e.dk/feed/")[0]
    assert edited.entry_id == before.entry_id == "https://e.dk/?p=5"
    assert edited.content_hash != before.content_hash


def test_a_re_rendered_feed_changes_neither():
    before = parse_feed(feed("<p>Boder fra kl. 9.</p>"), "https://e.dk/feed/")[0]
    again = parse_feed(
        feed("\n  <p>Boder fra\n kl. 9.</p>\n", updated="Tue, 07 Jan 2025 08:00:00 +0000", indent="\n    "),
        "https://e.dk/feed/",
    )[0]
    assert (again.entry_id, again.content_hash) == (before.entry_id, before.content_hash)
