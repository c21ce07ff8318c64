"""Placing spans and stand-ins with attention that is not a clean diagonal (as in real models).

The tiny test models copy position by position, so their attention is always exact. Real models
reorder, merge and drop words; these cases feed hand-written attention to the projection code.
"""

from __future__ import annotations

import re

from syndication.translations.inline import build_units, model_text, parse
from syndication.translations.projection import ChunkOutput, detokenize, place


def project(source: str, target_tokens: list[str], links: dict[int, int], source_tokens: list[str]):
    """``links`` maps target token → source token it attends to (one-hot attention rows)."""
    parsed = parse(source)
    [unit] = build_units(parsed, "da")
    prepared = model_text(parsed, unit)
    assert "".join(source_tokens).replace("▁", " ").strip() == prepared.text
    words: list[int] = []
    for token in source_tokens:
        words.append(len(words) and words[-1] + (1 if token.startswith("▁") else 0))
    rows = [
        [1.0 if links.get(t) == s else 0.0 for s in range(len(source_tokens))]
        for t in range(len(target_tokens))
    ]
    chunk = ChunkOutput(source_words=words, target_tokens=target_tokens, attention=rows)
    return place(parsed, prepared, [chunk], source_word_count=len(prepared.words))


def test_reordered_span_follows_its_words() -> None:
    # "I går så jeg <g>en rød bil</g>." → "Yesterday I saw a red car." (verb-second reordering)
    text, flags = project(
        'I går så jeg <g id="1">en rød bil</g>.',
        ["▁Yesterday", "▁I", "▁saw", "▁a", "▁red", "▁car", "."],
        {0: 1, 1: 3, 2: 2, 3: 4, 4: 5, 5: 6, 6: 7},
        ["▁I", "▁går", "▁så", "▁jeg", "▁en", "▁rød", "▁bil", "."],
    )
    assert text == 'Yesterday I saw <g id="1">a red car</g>.'
    assert flags == []


def test_span_moved_to_the_front() -> None:
    text, flags = project(
        'Bilen er <g id="1">rød</g>.',
        ["▁The", "▁red", "▁car", "."],
        {0: 0, 1: 2, 2: 0, 3: 3},
        ["▁Bilen", "▁er", "▁rød", "."],
    )
    assert text == 'The <g id="1">red</g> car.'
    assert flags == []


def test_scattered_alignment_is_placed_and_flagged() -> None:
    text, flags = project(
        'Vi <g id="1">ses snart</g> igen.',
        ["▁See", "▁you", "▁again", "▁soon", "."],
        {0: 1, 1: 0, 2: 3, 3: 2, 4: 4},
        ["▁Vi", "▁ses", "▁snart", "▁igen", "."],
    )
    assert text == '<g id="1">See you again soon</g>.'
    assert [f.code for f in flags] == ["placeholder_moved"]
    assert "“ses snart”" in flags[0].message


def test_span_whose_words_were_dropped_still_appears() -> None:
    text, flags = project(
        'Det er <g id="1">nu</g> klart.',
        ["▁It", "▁is", "▁clear", "."],
        {0: 0, 1: 1, 2: 3, 3: 4},
        ["▁Det", "▁er", "▁nu", "▁klart", "."],
    )
    assert text.count('<g id="1">') == 1 and text.count("</g>") == 1
    assert re.sub(r"<[^>]+>", "", text) == "It is clear."
    assert [f.code for f in flags] == ["placeholder_moved"]


def test_stand_in_changed_by_the_model_is_put_back_and_flagged() -> None:
    text, flags = project(
        'Se <x id="2"/> nederst.',
        ["▁See", "▁seven", "▁hundred", "▁below", "."],
        {0: 0, 1: 1, 2: 1, 3: 2, 4: 3},
        ["▁Se", "▁701", "▁nederst", "."],
    )
    assert '<x id="2"/>' in text
    assert text.startswith("See ")
    assert [f.code for f in flags] == ["placeholder_moved"]


def test_overlapping_siblings_are_pulled_apart() -> None:
    text, _flags = project(
        '<g id="1">Rød</g> og <g id="2">blå</g>.',
        ["▁Red-and-blue", "."],
        {0: 0, 1: 3},
        ["▁Rød", "▁og", "▁blå", "."],
    )
    # Both spans project onto the same word; the output stays well-formed.
    assert text.count("<g id=") == 2 and text.count("</g>") == 2
    depth = 0
    for tag in re.findall(r"</?g", text):
        depth += 1 if tag == "<g" else -1
        assert depth >= 0
    assert depth == 0


def test_detokenize_offsets_and_bytes() -> None:
    text, ranges = detokenize(["▁Hej", "▁ver", "den", "<0xE2>", "<0x82>", "<0xAC>", "!"])
    assert text == "Hej verden€!"
    assert [text[a:b] for a, b in ranges] == ["Hej", " ver", "den", "€", "", "", "!"]
