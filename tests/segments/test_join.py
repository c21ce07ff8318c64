"""join(): round trips, translations with placeholders in new places, and broken translations."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from syndication.segments import join, normalize_html, render_segment, split

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.html"))


def lxml_view(html: str) -> str:
    """An independent serialization (libxml2's) to check that ours changes nothing in the tree."""
    root = lxml_html.fragment_fromstring(html, create_parent="div")
    return lxml_html.tostring(root, encoding="unicode")


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_round_trip_on_fixtures(path):
    html = path.read_text(encoding="utf-8")
    doc = split(html, title="Netværk er guld", excerpt="Et kort uddrag")
    joined = join(doc, {})
    assert joined.html == normalize_html(html)
    assert lxml_view(joined.html) == lxml_view(html)
    assert normalize_html(joined.html) == joined.html
    assert (joined.title, joined.excerpt) == ("Netværk er guld", "Et kort uddrag")
    # Handing every source back as its own translation is the same as no translation at all.
    assert join(doc, {s.key: s.source for s in doc.segments}).html == joined.html


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_segment_slot_is_filled(path):
    doc = split(path.read_text(encoding="utf-8"))
    translated = join(doc, {s.key: f"OVERSAT-{s.key}" for s in doc.segments}).html
    for segment in doc.segments:
        assert f"OVERSAT-{segment.key}" in translated
    assert "{{" + doc.marker + ":" not in translated


def test_translated_placeholders_bring_the_original_tags_back_where_the_translation_puts_them():
    doc = split('<p>Den <a href="https://example.dk/a?x=1&amp;y=2">store</a> <em>hund</em> løber.</p>')
    joined = join(doc, {"b1": 'The <g id="2">dog</g> that is <g id="1">big</g> runs.'})
    assert joined.html == (
        '<p>The <em>dog</em> that is <a href="https://example.dk/a?x=1&amp;y=2">big</a> runs.</p>'
    )


def test_translated_text_is_escaped_for_html():
    doc = split("<p>R&amp;D &lt;3</p>")
    assert join(doc, {"b1": "R&amp;D &lt;3 &amp; æøå\xa0ok"}).html == "<p>R&amp;D &lt;3 &amp; æøå&nbsp;ok</p>"
    # Raw markup an engine or editor typed is text, never HTML.
    assert join(doc, {"b1": "<script>alert(1)</script> & mere"}).html == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; mere</p>"
    )


def test_missing_translation_blank_or_non_string_falls_back_to_source():
    doc = split("<p>Et</p><p>To</p><p>Tre</p>")
    joined = join(doc, {"b1": "One", "b2": "   ", "b3": None})  # type: ignore[dict-item]
    assert joined.html == "<p>One</p><p>To</p><p>Tre</p>"


SOURCE = (
    '<p>Læs <a href="https://example.dk/">denne <strong>artikel</strong></a> med <code>x&lt;y</code>.</p>'
)


@pytest.mark.parametrize(
    ("translation", "expected"),
    [
        # a link lost: words kept, the inline code (content) is not lost
        ("Les denne artikkelen med.", "Les denne artikkelen med. <code>x&lt;y</code>"),
        # duplicated: only the first is restored
        (
            'Les <g id="1">denne</g> <g id="1">artikkelen</g> <x id="3"/><x id="3"/>.',
            '<a href="https://example.dk/">denne</a> artikkelen <code>x&lt;y</code>.',
        ),
        # invented ids and kinds that do not match are dropped with their closing tag
        (
            'Les <g id="9">denne</g> <x id="1"/><g id="3">artikkelen</g> <x id="3"/>.',
            "denne artikkelen <code>x&lt;y</code>.",
        ),
        # wrongly nested and never closed: closed at the end, still well formed
        (
            'Les <g id="2">denne <g id="1">artikkelen <x id="3"/>',
            '<strong>denne <a href="https://example.dk/">artikkelen <code>x&lt;y</code></a></strong>',
        ),
        # stray closings are ignored
        (
            '</g>Les</g> <g id="1">denne</g></g>.<x id="3"/>',
            'Les <a href="https://example.dk/">denne</a>.<code>',
        ),
        # lenient placeholder spelling from neural engines
        (
            "Les <g id='1' >denne</ g> <x id=3>.",
            '<a href="https://example.dk/">denne</a> <code>x&lt;y</code>.',
        ),
    ],
)
def test_broken_placeholders_never_corrupt_the_html(translation, expected):
    doc = split(SOURCE)
    html = join(doc, {"b1": translation}).html
    assert expected in html
    assert normalize_html(html) == html  # well formed: reparsing changes nothing
    assert lxml_view(html) == lxml_view(normalize_html(html))


def test_a_link_inside_a_link_keeps_only_the_outer_one():
    doc = split('<p><a href="/a">et</a> og <a href="/b">to</a></p>')
    html = join(doc, {"b1": '<g id="1">et og <g id="2">to</g></g>'}).html
    assert html == '<p><a href="/a">et og to</a></p>'
    assert normalize_html(html) == html


def test_render_segment_restores_one_segment():
    doc = split('<p>Se <img src="k.png" alt="kat"> <b>nu</b></p>')
    segment = doc.segments[0]
    assert render_segment(segment, segment.source) == 'Se <img src="k.png" alt="kat"> <b>nu</b>'
    assert render_segment(segment, '<g id="2">Nå</g> <x id="1"/>', alts={"1": 'katt "x"'}) == (
        '<b>Nå</b> <img src="k.png" alt="katt &quot;x&quot;">'
    )


def test_alt_translations_keep_surrounding_whitespace_and_are_attribute_escaped():
    doc = split('<img src="a.png" alt=" Hund &amp; kat ">')
    assert doc.segments[0].source == "Hund &amp; kat"
    assert join(doc, {"alt1": 'Hund &amp; "katt" <g id="1">x</g>'}).html == (
        '<img src="a.png" alt=" Hund &amp; &quot;katt&quot; x ">'
    )


def test_title_and_excerpt_translations_are_plain_text():
    doc = split("<p>x y</p>", title="Tom &amp; Jerry", excerpt="Uddrag")
    joined = join(doc, {"title": "Tom &amp; Jerry <g id='1'>igen</g>", "excerpt": "Utdrag"})
    assert (joined.title, joined.excerpt) == ("Tom & Jerry igen", "Utdrag")
    assert join(split("<p>x</p>"), {"title": "Ingen titel"}).title is None
