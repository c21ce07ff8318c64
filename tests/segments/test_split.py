"""split(): which units come out, with which keys, placeholders and markup."""

from __future__ import annotations

import pytest

from syndication.errors import SegmentationError
from syndication.models import Segment
from syndication.segments import SplitDocument, has_words, join, normalize_html, split


def units(html: str) -> list[tuple[str, str, str]]:
    return [(s.key, s.kind, s.source) for s in split(html).segments]


def test_sentence_with_link_and_emphasis_is_one_unit_with_numbered_placeholders():
    doc = split(
        '<p>Læs <a href="https://example.dk/æble?a=1&amp;b=2">denne <strong>artikel</strong></a> '
        "om <em>netværk</em>.</p>"
    )
    assert doc.skeleton == "<p>{{syn-seg:b1}}</p>"
    [segment] = doc.segments
    assert segment == Segment(
        key="b1",
        kind="block",
        source='Læs <g id="1">denne <g id="2">artikel</g></g> om <g id="3">netværk</g>.',
        markup={"1": '<a href="https://example.dk/æble?a=1&amp;b=2">', "2": "<strong>", "3": "<em>"},
    )


def test_placeholder_numbering_restarts_per_segment():
    doc = split("<p><em>et</em> og <b>to</b></p><p><i>tre</i></p>")
    assert [s.source for s in doc.segments] == [
        '<g id="1">et</g> og <g id="2">to</g>',
        '<g id="1">tre</g>',
    ]


def test_keys_are_deterministic_and_in_document_order():
    html = (
        "<h1>Titel i brødtekst</h1><p>Et</p><figure><img src=a.jpg alt='Hund'>"
        "<figcaption>Billedtekst</figcaption></figure><ul><li>To</li></ul>"
    )
    first, second = (
        split(html, title="Overskrift", excerpt="Uddrag"),
        split(html, title="Overskrift", excerpt="Uddrag"),
    )
    assert first == second
    assert [(s.key, s.kind) for s in first.segments] == [
        ("title", "title"),
        ("excerpt", "excerpt"),
        ("b1", "block"),
        ("b2", "block"),
        ("alt1", "alt"),
        ("cap1", "caption"),
        ("b3", "block"),
    ]


def test_nested_list_text_before_and_after_is_translated_on_its_own():
    doc = split("<ul><li>Før listen<ul><li>Inde</li></ul>efter listen</li></ul>")
    assert doc.skeleton == "<ul><li>{{syn-seg:b1}}<ul><li>{{syn-seg:b2}}</li></ul>{{syn-seg:b3}}</li></ul>"
    assert [s.source for s in doc.segments] == ["Før listen", "Inde", "efter listen"]


def test_blockquote_text_or_its_paragraphs():
    assert units("<blockquote>Direkte <q>citat</q>.</blockquote>") == [
        ("b1", "block", 'Direkte <g id="1">citat</g>.')
    ]
    assert units("<blockquote>\n<p>Et.</p>\n<p>To.</p>\n</blockquote>") == [
        ("b1", "block", "Et."),
        ("b2", "block", "To."),
    ]


def test_tables_definition_lists_and_captions():
    assert units(
        "<table><caption>Tabel <em>et</em></caption><tr><th>Navn</th><td>Værdi</td><td>42</td></tr></table>"
        "<dl><dt>Ord</dt><dd>Forklaring</dd></dl>"
    ) == [
        ("cap1", "caption", 'Tabel <g id="1">et</g>'),
        ("b1", "block", "Navn"),
        ("b2", "block", "Værdi"),
        ("b3", "block", "Ord"),
        ("b4", "block", "Forklaring"),
    ]


def test_figure_alt_and_caption():
    doc = split(
        '<figure><img src="a.jpg" alt="Seks kvinder"><figcaption>Foto: <b>Lene</b></figcaption></figure>'
    )
    assert doc.skeleton == (
        '<figure><img src="a.jpg" alt="{{syn-seg:alt1}}"><figcaption>{{syn-seg:cap1}}</figcaption></figure>'
    )
    assert [(s.key, s.source) for s in doc.segments] == [
        ("alt1", "Seks kvinder"),
        ("cap1", 'Foto: <g id="1">Lene</g>'),
    ]
    joined = join(doc, {"alt1": "Seks kvinner", "cap1": 'Bilde: <g id="1">Lene</g>'})
    assert joined.html == (
        '<figure><img src="a.jpg" alt="Seks kvinner"><figcaption>Bilde: <b>Lene</b></figcaption></figure>'
    )


def test_image_inside_a_sentence_is_a_placeholder_and_its_alt_a_unit():
    doc = split('<p>Se <img src="k.png" alt="en kat"> her.</p>')
    assert doc.skeleton == "<p>{{syn-seg:b1 1=alt1}}</p>"
    assert [(s.key, s.source, dict(s.markup)) for s in doc.segments] == [
        ("b1", 'Se <x id="1"/> her.', {"1": '<img src="k.png" alt="en kat">'}),
        ("alt1", "en kat", {}),
    ]
    joined = join(doc, {"b1": 'Sjå <x id="1"/> her.', "alt1": "ei katt"})
    assert joined.html == '<p>Sjå <img src="k.png" alt="ei katt"> her.</p>'


def test_protected_content_never_reaches_a_segment():
    doc = split(
        "<pre>kode tekst</pre>"
        "<p>Kør <code>apt-get install x</code> og læs <span class='notranslate'>Navn ApS</span>.</p>"
        '<p translate="no">Ikke denne</p>'
        '<div class="a notranslate"><p>Heller ikke</p><img src="l.png" alt="Logo tekst"></div>'
        '<p>Et <img src="b.png" alt="beskyttet" translate="no"> billede.</p>'
    )
    sources = " ".join(s.source for s in doc.segments)
    for protected in (
        "kode tekst",
        "apt-get",
        "Navn ApS",
        "Ikke denne",
        "Heller ikke",
        "Logo tekst",
        "beskyttet",
    ):
        assert protected not in sources
    assert [s.source for s in doc.segments] == [
        'Kør <x id="1"/> og læs <x id="2"/>.',
        'Et <x id="1"/> billede.',
    ]
    assert doc.segments[0].markup == {
        "1": "<code>apt-get install x</code>",
        "2": '<span class="notranslate">Navn ApS</span>',
    }
    assert '<p translate="no">Ikke denne</p>' in doc.skeleton
    assert '<img src="l.png" alt="Logo tekst">' in doc.skeleton


@pytest.mark.parametrize(
    "body",
    [
        "<p>2024</p>",
        "<p>— 45,5 % (12)</p>",
        "<p>https://example.dk/side?x=1</p>",
        "<p>lene@example.dk</p>",
        "<p>&nbsp;&nbsp;</p>",
        "<p></p>",
        "<p>   </p>",
        "<p><br></p>",
        "<p>…!?</p>",
        "",
        "   ",
    ],
)
def test_runs_without_words_stay_in_the_skeleton(body):
    doc = split(body)
    assert doc.segments == []
    assert doc.skeleton == normalize_html(body)


def test_has_words():
    assert has_words("Hej") and has_words("5 km") and has_words("Ærø")
    assert not has_words("12,5 % – 3") and not has_words("www.example.dk/side") and not has_words("a@b.dk")


def test_escaping_entities_and_nbsp():
    doc = split("<p>R&amp;D: 2 &lt; 3&nbsp;og &quot;æøå&quot; &#169;</p>")
    assert doc.segments[0].source == 'R&amp;D: 2 &lt; 3\xa0og "æøå" ©'
    assert join(doc, {}).html == '<p>R&amp;D: 2 &lt; 3&nbsp;og "æøå" ©</p>'


def test_breaks_inside_are_placeholders_at_the_edges_stay_in_the_skeleton():
    doc = split("<p><br> Linje et<br>linje to <br></p>")
    assert doc.skeleton == "<p><br> {{syn-seg:b1}} <br></p>"
    assert doc.segments[0].source == 'Linje et<x id="1"/>linje to'


def test_empty_inline_elements_become_empty_placeholders_holding_the_whole_element():
    doc = split('<p><a id="top"></a>Tekst <span></span>her.</p>')
    assert doc.segments[0].source == '<x id="1"/>Tekst <x id="2"/>her.'
    assert doc.segments[0].markup == {"1": '<a id="top"></a>', "2": "<span></span>"}


def test_inline_element_holding_blocks_is_a_container():
    doc = split('<a href="https://example.dk/"><p>Afsnit i et link</p></a>')
    assert doc.skeleton == '<a href="https://example.dk/"><p>{{syn-seg:b1}}</p></a>'


def test_title_and_excerpt_are_plain_text_units():
    doc = split("<p>Brød</p>", title="  Tom & Jerry <3 ", excerpt="Kort uddrag")
    assert [(s.key, s.source) for s in doc.segments][:2] == [
        ("title", "Tom &amp; Jerry &lt;3"),
        ("excerpt", "Kort uddrag"),
    ]
    assert split("<p>x y</p>", title="2024").segment("title") is None


def test_content_that_spells_a_slot_token_gets_another_marker():
    html = "<p>Skriv {{syn-seg:b1}} i skabelonen</p><p>Anden</p>"
    doc = split(html)
    assert doc.marker == "syn-seg1"
    assert doc.skeleton == "<!--syn-seg-marker syn-seg1--><p>{{syn-seg1:b1}}</p><p>{{syn-seg1:b2}}</p>"
    assert doc.segments[0].source == "Skriv {{syn-seg:b1}} i skabelonen"
    assert join(doc, {"b2": "Andre"}).html == "<p>Skriv {{syn-seg:b1}} i skabelonen</p><p>Andre</p>"


def test_a_fake_marker_declaration_in_the_content_is_kept():
    html = "<!--syn-seg-marker syn-seg7--><p>Tekst</p>"
    doc = split(html)
    assert doc.skeleton.startswith("<!--syn-seg-marker syn-seg--><!--syn-seg-marker syn-seg7-->")
    assert join(doc, {}).html == html


def test_stored_form_skeleton_and_segments_alone_is_enough():
    """What the pipeline stores (skeleton + segment rows) joins like the original document."""
    html = '<p>Se <img src="k.png" alt="en kat"> {{syn-seg:b9}}.</p>'
    doc = split(html, title="Titel")
    stored = SplitDocument(skeleton=doc.skeleton, segments=list(doc.segments))
    translations = {"title": "Tittel", "b1": 'Sjå <x id="1"/> {{syn-seg:b9}}.', "alt1": "ei katt"}
    assert join(stored, translations) == join(doc, translations)
    assert join(stored, translations).title == "Tittel"
    assert join(stored, {}).title == "Titel"
    assert SplitDocument.from_dict(doc.to_dict()) == doc


def test_from_dict_with_missing_fields_is_a_segmentation_error():
    with pytest.raises(SegmentationError, match="incomplete"):
        SplitDocument.from_dict({"segments": []})


def test_non_string_input_is_a_segmentation_error():
    with pytest.raises(SegmentationError, match="must be str"):
        split(b"<p>bytes</p>")  # type: ignore[arg-type]


def test_whole_documents_and_xml_declarations_are_reduced_to_the_body():
    doc = split(
        '<?xml version="1.0" encoding="utf-8"?>'
        "<html><head><title>T</title></head><body><p>Hej</p></body></html>"
    )
    assert doc.skeleton == "<p>{{syn-seg:b1}}</p>"
    assert doc.segments[0].source == "Hej"


def test_control_characters_raw_or_as_references_are_dropped():
    doc = split('<p title="&#2;x">Kontrol\x01tegn&#1;og&#x7f; nul&#0;</p>&#3;')
    assert doc.skeleton == '<p title="x">{{syn-seg:b1}}</p>'
    assert doc.segments[0].source == "Kontroltegnog nul\ufffd"


def test_a_stray_end_of_body_loses_nothing():
    assert [s.source for s in split("<p>Før</p></body></html><p>Efter</p>").segments] == ["Før", "Efter"]
