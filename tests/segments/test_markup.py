"""The segment markup language: lenient tokenizing, strict escaping."""

from __future__ import annotations

from syndication.segments.markup import Token, canonical, escape, paired_ids, plain_text, tokenize, unescape


def test_tokenize_canonical_placeholders():
    assert tokenize('A <g id="1">b &amp; c</g><x id="2"/>.') == [
        Token("text", "A "),
        Token("open", "1"),
        Token("text", "b & c"),
        Token("close", ""),
        Token("empty", "2"),
        Token("text", "."),
    ]


def test_tokenize_accepts_what_engines_make_of_placeholders():
    assert [t.kind for t in tokenize("<G ID='1'>a</ g ><x id=2>< x id = \"3\" / ></x>")] == [
        "open",
        "text",
        "close",
        "empty",
        "empty",
    ]
    assert canonical(tokenize("<g id=1>a</g><x id='2'>")) == '<g id="1">a</g><x id="2"/>'


def test_anything_else_is_text():
    tokens = tokenize("a < b <p>c</p> <gx id=1> &")
    assert tokens == [Token("text", "a < b <p>c</p> <gx id=1> &")]
    assert canonical(tokens) == "a &lt; b &lt;p&gt;c&lt;/p&gt; &lt;gx id=1&gt; &amp;"


def test_only_complete_references_are_decoded():
    assert unescape("R&notes &amp; &#230;&#xF8;&aring; &bogus; &") == "R&notes & æøå &bogus; &"
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"


def test_plain_text_and_paired_ids():
    assert plain_text('Et <g id="1">link</g><x id="2"/> &lt;3') == "Et link <3"
    assert paired_ids('<g id="1">a</g><x id="2"/><g id="3"><g id="4">b</g></g>') == {"1", "3", "4"}
