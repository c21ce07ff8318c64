"""parse_feed on real-shaped, broken and hostile feeds: what it reads, what it records, never raising."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syndication.feeds import parse_feed, read_feed
from syndication.feeds.parse import language_tag
from syndication.models import FeedEntries
from tests.httpserver import FixtureServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
WP_URL = "https://landsbynet.example.dk/feed/"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def all_text(entries: FeedEntries) -> str:
    """Every string parse_feed produced, to check that something did (not) get through."""
    parts = [entries.title or "", entries.link or "", *entries.problems, *entries.notes]
    for entry in entries:
        parts += [entry.entry_id, entry.title, entry.link or "", entry.guid or "", entry.author or ""]
        parts += [entry.summary_html or "", entry.content_html or "", *entry.categories]
    return "\n".join(parts)


def rss(items: str, *, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{prolog}<rss version="2.0"><channel><title>Prøve</title><link>https://prove.example.dk/</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


# ----------------------------------------------------------------------------------- good feeds


def test_wordpress_rss_with_content_encoded():
    entries = parse_feed(fixture("wordpress-da.xml"), WP_URL)

    assert entries.problems == []
    assert entries.title == "Landsbynetværket"
    assert entries.link == "https://landsbynet.example.dk"
    assert entries.lang == "da"
    assert [e.entry_id for e in entries] == [
        "https://landsbynet.example.dk/?p=412",
        "https://landsbynet.example.dk/?p=398",
        "https://landsbynet.example.dk/?p=377",
    ]
    first = entries[0]
    assert first.title == "Fælles indkøb giver købmanden i Østerby luft"
    assert first.link == "https://landsbynet.example.dk/2025/01/faelles-indkoeb-koebmanden-i-oesterby/"
    assert first.guid == "https://landsbynet.example.dk/?p=412"
    assert first.author == "Karen Højgaard"
    assert first.published == datetime(2025, 1, 14, 9, 12, 44, tzinfo=UTC)
    assert first.updated is None
    assert first.categories == ("Lokalt erhverv", "Netværk")
    assert first.lang == "da"
    assert len(first.content_hash) == 64


def test_wordpress_full_text_is_kept_and_cleaned():
    first = parse_feed(fixture("wordpress-da.xml"), WP_URL)[0]
    content = first.content_html or ""

    assert "For købmand Søren Ærenlund i Østerby" in content  # full text, not the excerpt
    assert "<h2>Hvad har de opnået?</h2>" in content
    assert "“Vi konkurrerer ikke med hinanden" in content  # &#8220; decoded
    assert '<span class="notranslate" translate="no">Dagligvare Sydfyn</span>' in content
    assert 'href="https://landsbynet.example.dk/netvaerk/dagligvarer/"' in content  # made absolute
    assert "<script" not in content and "trackVisit" not in content

    summary = first.summary_html or ""
    assert summary.startswith("Syv små dagligvarebutikker på Sydfyn")
    assert "For købmand" not in summary

    image_post = parse_feed(fixture("wordpress-da.xml"), WP_URL)[2]
    assert 'alt="Kort over gårdbutikker på Lolland"' in (image_post.content_html or "")
    assert "onerror" not in (image_post.content_html or "")


def test_atom_feed():
    parsed = read_feed(fixture("atom-da.xml"), "https://egnsraad.example.dk/atom.xml")
    entries = parsed.entries

    assert parsed.format == "atom10"
    assert entries.problems == []
    assert entries.title == "Egnsrådets nyheder" and entries.lang == "da"
    first, second = entries
    assert first.entry_id == "tag:egnsraad.example.dk,2025:vaerksted-1"
    assert first.link == "https://egnsraad.example.dk/nyheder/vaerkstedsplads-noerre-vejrup"  # xml:base
    assert first.author == "Birgitte Ålund"
    assert first.published == datetime(2025, 2, 1, 8, 30, tzinfo=UTC)
    assert first.updated == datetime(2025, 2, 3, 11, 0, tzinfo=UTC)
    assert first.categories == ("Iværksætteri", "Ungdom")
    assert first.summary_html == "Den nedlagte maskinstation er blevet til værksteder for unge under 30."
    assert (first.content_html or "").startswith("<p>Den nedlagte maskinstation")
    assert first.lang == "da"
    assert second.lang == "sv"  # entry-level xml:lang wins
    assert second.published is None and second.updated == datetime(2025, 1, 20, 8, 15, tzinfo=UTC)
    assert "<em>anropsstyrd</em>" in (second.content_html or "")


def test_rss_1_0():
    parsed = read_feed(fixture("rss1-da.rdf"), "https://foreningsliv.example.dk/rss")
    assert parsed.format == "rss10"
    first, second = parsed.entries
    assert first.title == "Forsamlingshuset sætter solceller på taget"
    assert first.entry_id == "https://foreningsliv.example.dk/2025/forsamlingshus-solceller"
    assert first.author == "Jens Bøgh"
    assert first.categories == ("Energi",)
    assert "overskudsstrømmen" in (first.content_html or "")
    assert first.updated == datetime(2025, 3, 2, 9, 0, tzinfo=UTC)  # dc:date
    assert (
        second.content_html is None and second.summary_html == "Over halvtreds nye frivillige på et halvt år."
    )
    assert parsed.entries.lang == "da"


# -------------------------------------------------------------------------------------- encodings

EXPECTED_TITLE = "Smedjen i Bøgeskov får lærlinge igen – for første gang i ti år"
EXPECTED_QUOTE = "“Vi manglede hænder, og de unge manglede en vej ind,” fortæller smedemester Åse Møller."


@pytest.mark.parametrize("name", ["rss-windows-1252.xml", "rss-iso-8859-1.xml"])
def test_single_byte_encodings_declared_in_the_prolog(name: str):
    entries = parse_feed(fixture(name), "https://erhverv.example.dk/feed")
    assert entries.problems == []
    assert entries.title == "Sønderjysk Erhvervsråd"
    assert entries[0].title == EXPECTED_TITLE
    assert EXPECTED_QUOTE in (entries[0].summary_html or "")


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("rss-utf8-declared-latin1.xml", "says ISO-8859-1 but the bytes are valid UTF-8"),
        ("rss-cp1252-declared-utf8.xml", "says UTF-8 but the bytes are not UTF-8"),
    ],
)
def test_wrongly_declared_encodings_are_read_right_and_reported(name: str, complaint: str):
    entries = parse_feed(fixture(name), "https://erhverv.example.dk/feed")
    assert entries[0].title == EXPECTED_TITLE
    assert EXPECTED_QUOTE in (entries[0].summary_html or "")
    assert any(complaint in note for note in entries.notes) and entries.problems == []


def test_http_charset_is_used_when_the_prolog_is_silent():
    data = (
        rss("<item><title>Æblemost fra Ærø</title><guid>x</guid></item>", prolog="").decode().encode("cp1252")
    )
    entries = parse_feed(data, "https://prove.example.dk/feed", content_type="text/xml; charset=windows-1252")
    assert entries[0].title == "Æblemost fra Ærø"


def test_utf16_feed_with_bom():
    data = rss("<item><title>Fællesspisning</title><guid>x</guid></item>", prolog='<?xml version="1.0"?>')
    entries = parse_feed(b"\xff\xfe" + data.decode().encode("utf-16-le"), "https://prove.example.dk/feed")
    assert entries[0].title == "Fællesspisning"


# --------------------------------------------------------------------------------- broken input


def test_truncated_feed_gives_the_entries_before_the_cut():
    data = fixture("wordpress-da.xml")
    cut = data.index("Ny bredbåndsmast".encode()) + 40
    entries = parse_feed(data[:cut], WP_URL)
    assert entries[0].entry_id == "https://landsbynet.example.dk/?p=412"
    assert "Søren Ærenlund" in (entries[0].content_html or "")
    assert any("not well-formed" in note for note in entries.notes)


@pytest.mark.parametrize(
    "data",
    [
        random.Random(1).randbytes(50_000),
        bytes(range(256)) * 64,
        b"\x00" * 10_000,
        b"\xff\xfe\x00\x00garbage",
        b"<<<<>>>>&&&&;;;;",
        b"<rss",
        b'<?xml version="1.0"?>',
        b"<!-- -->" * 512 + b"x",  # once a regex with catastrophic backtracking
        b"<" * 2_000_000,  # seconds in feedparser's lenient parser, so never handed to it
        b"&" * 2_000_000,
    ],
)
def test_garbage_never_raises_and_says_so(data: bytes):
    parsed = read_feed(data, "https://prove.example.dk/feed")
    assert not parsed.is_feed
    assert parsed.entries.problems


@pytest.mark.parametrize("data", [b"", b"   \n\t  "])
def test_empty_document(data: bytes):
    entries = parse_feed(data, "https://prove.example.dk/feed")
    assert list(entries) == []
    assert entries.problems == ["the document is empty"]


def test_html_page_is_not_a_feed():
    parsed = read_feed(fixture("not-a-feed.html"), WP_URL)
    assert not parsed.is_feed
    assert list(parsed.entries) == []
    assert any("HTML page" in problem for problem in parsed.entries.problems)


def test_a_bytes_argument_is_never_taken_for_a_file_name(tmp_path: Path):
    # feedparser.parse(b"/path") would open the file; parse_feed must treat it as the document.
    path = tmp_path / "feed.xml"
    path.write_bytes(rss("<item><title>Hemmelig</title><guid>secret-1</guid></item>"))
    parsed = read_feed(str(path).encode(), "https://prove.example.dk/feed")
    assert "Hemmelig" not in all_text(parsed.entries)
    assert not parsed.is_feed


def test_control_characters_and_leading_whitespace_do_not_force_lenient_parsing():
    data = b"\n\n  " + rss("<item><title>Tab\x0bfra\x0cWord</title><guid>x</guid></item>")
    entries = parse_feed(data, "https://prove.example.dk/feed")
    assert entries[0].title == "TabfraWord"
    assert not any("not well-formed" in note for note in entries.notes)
    assert any("whitespace before the XML declaration" in note for note in entries.notes)
    assert any("control characters" in note for note in entries.notes)
    assert entries.problems == []


def test_unreadable_date_is_dropped_and_reported():
    entries = parse_feed(
        rss("<item><title>t</title><guid>x</guid><pubDate>sidste tirsdag</pubDate></item>"), "https://p.dk/"
    )
    assert entries[0].published is None
    assert any("sidste tirsdag" in note for note in entries.notes)


def test_entries_without_guid_link_or_title():
    entries = parse_feed(fixture("missing-fields.xml"), "https://vestermark.example.dk/feed/")

    no_guid, no_link, guid_only, link_only = entries
    assert no_guid.entry_id == "https://vestermark.example.dk/referat-2025"  # link, utm_* and #fragment gone
    assert (
        no_guid.link
        == "https://vestermark.example.dk/referat-2025?utm_source=rss&utm_medium=feed#kommentarer"
    )
    assert no_link.link is None and no_link.entry_id.startswith("sha256:")
    assert guid_only.entry_id == "vestermark-opslag-17" and guid_only.title == ""
    assert link_only.entry_id == "https://vestermark.example.dk/fastelavn" and link_only.summary_html is None
    assert entries.problems == ["entry 5 skipped: no id, link, title or content"]


def test_duplicate_entries_are_kept_once():
    entries = parse_feed(fixture("duplicates.xml"), "https://midtvest.example.dk/feed/")
    assert [e.entry_id for e in entries] == [
        "https://midtvest.example.dk/?p=88",
        "https://midtvest.example.dk/?p=91",
    ]
    assert entries.problems == ["entry 2 skipped: duplicate id https://midtvest.example.dk/?p=88"]


def test_relative_guid_is_kept_as_written_whatever_the_feed_url():
    # Resolving it against the feed URL would change every id when the feed moves (301).
    data = rss("<item><title>t</title><guid>4711</guid><link>/nyt/4711</link></item>")
    old = parse_feed(data, "http://prove.example.dk/feed/")[0]
    new = parse_feed(data, "https://www.prove.example.dk/rss")[0]
    assert old.entry_id == new.entry_id == "4711"
    assert old.link == "http://prove.example.dk/nyt/4711"


def test_relative_urls_in_content_resolve_against_the_entry_link():
    html = '&lt;p&gt;&lt;a href="#note"&gt;note&lt;/a&gt; &lt;img src="/billede.jpg"&gt;&lt;/p&gt;'
    data = rss(
        f"<item><guid>g</guid><link>https://p.dk/2025/post/</link><description>{html}</description></item>"
    )
    summary = parse_feed(data, "https://p.dk/feed/")[0].summary_html or ""
    assert 'href="https://p.dk/2025/post/#note"' in summary
    assert 'src="https://p.dk/billede.jpg"' in summary


def test_non_http_links_are_dropped():
    data = rss("<item><title>t</title><guid>g</guid><link>javascript:alert(1)</link></item>")
    assert parse_feed(data, "https://p.dk/")[0].link is None


# ------------------------------------------------------------------------------------- size bounds


def big_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Opslag {n} om lokalt erhverv</title><link>https://stor.example.dk/{n}/</link>"
        f'<guid isPermaLink="false">https://stor.example.dk/?p={n}</guid>'
        f"<pubDate>Mon, 06 Jan 2025 08:00:00 +0000</pubDate><description>Kort tekst {n}.</description></item>"
        for n in range(1, count + 1)
    )
    return rss(items)


def test_five_thousand_items_are_all_read():
    entries = parse_feed(big_feed(5000), "https://stor.example.dk/feed/")
    assert len(entries) == 5000
    assert len({e.entry_id for e in entries}) == 5000
    assert entries[-1].entry_id == "https://stor.example.dk/?p=5000"
    assert entries.problems == []


def test_entry_count_is_bounded():
    entries = parse_feed(big_feed(300), "https://stor.example.dk/feed/", max_entries=100)
    assert len(entries) == 100
    assert entries.problems == ["200 entries after the first 100 skipped"]


def test_byte_size_is_bounded():
    data = big_feed(300)
    entries = parse_feed(data, "https://stor.example.dk/feed/", max_bytes=len(data) // 2)
    assert 100 < len(entries) < 300
    assert any(f"only the first {len(data) // 2:,} were read" in problem for problem in entries.problems)


# ----------------------------------------------------------------------------------------- hostile


def test_billion_laughs_is_not_expanded():
    entries = parse_feed(fixture("billion-laughs.xml"), "https://hostile.example.com/feed")
    assert [e.entry_id for e in entries] == ["laughs-1", "laughs-2"]
    assert "lollollol" not in all_text(entries)
    assert len(all_text(entries)) < 10_000
    assert any("DOCTYPE" in note for note in entries.notes)


def test_billion_laughs_on_one_line_is_not_expanded_either():
    data = fixture("billion-laughs.xml").replace(b"\n <!ENTITY", b"<!ENTITY")
    entries = parse_feed(data, "https://hostile.example.com/feed")
    assert "lollollol" not in all_text(entries)
    assert "Anden post" in [e.title for e in entries]


def test_xxe_file_entity_is_not_read(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-6b1f")
    data = rss(
        "<item><title>a &xxe;</title><guid>x</guid><description>&xxe;</description></item>",
        prolog=f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{secret}">\n]>\n',
    )
    entries = parse_feed(data, "https://hostile.example.com/feed")
    assert "TOP-SECRET" not in all_text(entries)
    assert [e.entry_id for e in entries] == ["x"]


def test_no_external_entity_or_dtd_is_fetched(http_server: FixtureServer):
    http_server.add("/evil.dtd", b'<!ENTITY leak "LEAKED-FROM-DTD">')
    http_server.add("/entity", b"LEAKED-FROM-ENTITY")
    dtd, entity = http_server.url("/evil.dtd"), http_server.url("/entity")
    hostile = [
        f'<!DOCTYPE rss SYSTEM "{dtd}">',
        f'<!DOCTYPE rss [<!ENTITY x SYSTEM "{entity}">]>',
        f'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{dtd}"> %remote;]>',
    ]
    for doctype in hostile:
        data = rss(
            "<item><title>&x; &leak;</title><guid>x</guid></item>",
            prolog=f'<?xml version="1.0"?>\n{doctype}\n',
        )
        entries = parse_feed(data, "https://hostile.example.com/feed")
        assert "LEAKED" not in all_text(entries)
    assert http_server.requests == []


def test_deeply_nested_markup_in_content_does_not_raise():
    nested = "&lt;div&gt;" * 5_000 + "dybt" + "&lt;/div&gt;" * 5_000
    entries = parse_feed(
        rss(f"<item><guid>x</guid><description>{nested}</description></item>"), "https://p.dk/"
    )
    assert len(entries) == 1


# -------------------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("da-DK", "da"),
        ("da_DK", "da"),
        ("DA", "da"),
        ("no", "nb"),
        ("nb-NO", "nb"),
        ("", None),
        ("123", None),
    ],
)
def test_language_tag(value: str, tag: str | None):
    assert language_tag(value) == tag
