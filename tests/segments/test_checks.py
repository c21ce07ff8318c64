"""placeholder_problems(): placeholders, links and numbers of a translation against its source."""

from __future__ import annotations

import pytest

from syndication.segments import placeholder_problems, split

SEGMENT = split(
    '<p>Læs <a href="https://example.dk/a">denne <strong>artikel</strong></a> og <em>den</em> '
    "anden<br>med <code>kode</code>.</p>"
).segments[0]


def codes(translated: str) -> list[str]:
    return [flag.code for flag in placeholder_problems(SEGMENT, translated)]


def messages(translated: str) -> str:
    return " | ".join(flag.message for flag in placeholder_problems(SEGMENT, translated))


def test_source_itself_has_no_problems():
    assert SEGMENT.source == (
        'Læs <g id="1">denne <g id="2">artikel</g></g> og <g id="3">den</g> anden<x id="4"/>med <x id="5"/>.'
    )
    assert placeholder_problems(SEGMENT, SEGMENT.source) == []


def test_reordered_siblings_are_fine():
    assert (
        codes('<g id="3">Den</g> andre<x id="4"/><x id="5"/> og <g id="1">denne <g id="2">artikkelen</g></g>')
        == []
    )


def test_missing_placeholder_and_lost_link():
    translated = 'Les denne artikkelen og <g id="3">den</g> andre<x id="4"/>med <x id="5"/>.'
    assert codes(translated) == ["placeholder_mismatch", "link_mismatch"]
    assert "missing 1 (<a href=" in messages(translated) and "2 (<strong>)" in messages(translated)
    assert "link to https://example.dk/a lost" in messages(translated)


def test_invented_duplicated_and_retyped_placeholders():
    assert "unknown 7" in messages(SEGMENT.source + '<x id="7"/>')
    assert "duplicated 3" in messages(SEGMENT.source + '<g id="3">igen</g>')
    changed = SEGMENT.source.replace('<x id="4"/>', '<g id="4"></g>')
    assert "4 (<br>) changed from <x> to <g>" in messages(changed)


def test_changed_nesting():
    moved_out = 'Les <g id="1">denne</g> <g id="2">artikkelen</g> og <g id="3">den</g><x id="4"/><x id="5"/>'
    assert "2 (<strong>) moved outside any placeholder, was inside 1" in messages(moved_out)
    moved_in = 'Les <g id="1">denne <g id="2">artikkelen</g> <x id="4"/></g> <g id="3">den</g><x id="5"/>'
    assert "4 (<br>) moved inside 1, was outside any placeholder" in messages(moved_in)


def test_unbalanced_placeholders():
    assert "1 <g> never closed" in messages(SEGMENT.source.replace("</g> og", " og", 1))
    assert "1 closing </g> without an opening" in messages(SEGMENT.source + "</g>")


def test_placeholder_emptied_of_its_words():
    emptied = 'Les <g id="1"><g id="2"></g></g> denne artikkelen og <g id="3">den</g><x id="4"/><x id="5"/>'
    assert codes(emptied) == ["placeholder_mismatch", "placeholder_mismatch", "link_mismatch"]
    assert "1 (<a href=" in messages(emptied) and "2 (<strong>) lost the words it wrapped" in messages(
        emptied
    )
    emphasis_only = SEGMENT.source.replace('<g id="3">den</g>', 'den <g id="3"> </g>')
    assert messages(emphasis_only) == "placeholder 3 (<em>) lost the words it wrapped"


def test_linked_image_counts_as_link_content():
    segment = split('<p>Se <a href="/x"><img src="i.png" alt=""></a> her</p>').segments[0]
    assert placeholder_problems(segment, 'Sjå <g id="1"><x id="2"/></g> her') == []


@pytest.mark.parametrize(
    ("source", "translated"),
    [
        ("Det koster 1.000,50 kr.", "It costs 1,000.50 kr."),
        ("Det koster 2,5 %", "Det kostar 2.5 %"),
        ("Vi var 1.000 personer", "We were 1000 people"),
        ("Kl. 14.30 den 3. maj 2024", "Kl. 14.30 den 3. mai 2024"),
        ("Over 60 kvinder og 6 borde", "6 bord og over 60 kvinner"),
        ("Se https://example.dk/2024/05 nu", "Sjå https://example.dk/ nå"),
        ("Prisen er 1\xa0000 kr.", "Prisen är 1000 kr."),
    ],
)
def test_numbers_that_agree(source, translated):
    segment = split(f"<p>{source}</p>").segments[0]
    assert placeholder_problems(segment, translated) == []


def test_numbers_that_differ():
    segment = split("<p>Der kom 60 kvinder, og 12,5 % blev.</p>").segments[0]
    [flag] = placeholder_problems(segment, "Det kom 16 kvinner, og 12,5 % ble.")
    assert flag.code == "number_mismatch"
    assert flag.message == "numbers differ; missing from the translation: 60; not in the source: 16"


def test_placeholder_ids_are_not_numbers():
    segment = split("<p>Et <b>fedt</b> ord</p>").segments[0]
    assert placeholder_problems(segment, 'One <g id="1">bold</g> word') == []
