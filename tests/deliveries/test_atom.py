"""The reusable Atom builder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import feedparser
import lxml.etree
import pytest

from syndication.deliveries.atom import AtomEntry, AtomFeed, AtomLink, build_atom, entry_id, rfc3339

ATOM = "{http://www.w3.org/2005/Atom}"


def _feed(**changes: object) -> AtomFeed:
    values: dict[str, object] = {
        "id": "urn:uuid:00000000-0000-5000-8000-000000000001",
        "title": "Oversatte innlegg",
        "updated": datetime(2026, 11, 20, 9, tzinfo=UTC),
        "lang": "nb",
        "links": [AtomLink("https://oversatt.example/nb/feed.atom", "self", "application/atom+xml")],
    }
    values.update(changes)
    return AtomFeed(**values)  # type: ignore[arg-type]


def _entry(**changes: object) -> AtomEntry:
    values: dict[str, object] = {
        "id": entry_id("https://lokaltliv.example/?p=412", "nb"),
        "title": "Nettverk er gull",
        "updated": datetime(2026, 11, 20, 9, tzinfo=UTC),
        "content_html": "<p>Hei</p>",
        "author": "Mette",
        "links": [AtomLink("https://oversatt.example/nb/a.html")],
        "lang": "nb",
    }
    values.update(changes)
    return AtomEntry(**values)  # type: ignore[arg-type]


def test_entry_id_is_stable_and_language_specific() -> None:
    assert entry_id("k", "nb") == entry_id("k", "nb")
    assert entry_id("k", "nb") != entry_id("k", "sv")
    assert entry_id("k", "nb") != entry_id("k2", "nb")
    # Pinned: a change here would give every entry readers already have a new id (duplicates).
    assert entry_id("https://x/?p=1", "nb") == "urn:uuid:9fa42db6-5522-5cef-9ea4-392407958f93"


def test_rfc3339_normalizes_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert rfc3339(datetime(2026, 11, 19, 8, 40, 12, tzinfo=cet)) == "2026-11-19T07:40:12Z"
    assert rfc3339(datetime(2026, 11, 19, 8, 40, 12)) == "2026-11-19T08:40:12Z"


def test_builds_a_document_feedparser_reads() -> None:
    data = build_atom(
        _feed(author="Redaksjonen"),
        [
            _entry(
                categories=["a", "a", " b ", ""],
                summary_html="<em>kort</em>",
                published=datetime(2026, 11, 19, tzinfo=UTC),
                links=[
                    AtomLink("https://oversatt.example/nb/a.html", type="text/html", hreflang="nb"),
                    AtomLink("https://lokaltliv.example/a/", "via", hreflang="da"),
                ],
            )
        ],
    )
    root = lxml.etree.fromstring(data)
    assert root.tag == f"{ATOM}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "nb"
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    entry = parsed.entries[0]
    assert [t.term for t in entry.tags] == ["a", "b"]
    assert entry.summary == "<em>kort</em>"
    assert entry.published == "2026-11-19T00:00:00Z"
    assert {link.rel for link in entry.links} == {"alternate", "via"}
    assert parsed.feed.author == "Redaksjonen"


def test_content_is_sanitized_at_the_boundary() -> None:
    data = build_atom(_feed(), [_entry(content_html='<p onclick="x()">a<script>b</script></p>')])
    content = lxml.etree.fromstring(data).find(f"{ATOM}entry/{ATOM}content")
    assert content is not None
    assert content.get("type") == "html"
    assert content.text == "<p>a</p>"


@pytest.mark.parametrize(
    ("feed_changes", "entry_changes", "message"),
    [
        ({}, {"links": [AtomLink("/nb/a.html")]}, "not an absolute URL"),
        ({}, {"links": [AtomLink("javascript:alert(1)")]}, "not an absolute URL"),
        ({}, {"id": "412"}, "not an absolute IRI"),
        ({"id": "feed"}, {}, "not an absolute IRI"),
        ({}, {"author": None}, "no author"),
    ],
)
def test_refuses_what_readers_cannot_use(
    feed_changes: dict[str, object], entry_changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_atom(_feed(**feed_changes), [_entry(**entry_changes)])
