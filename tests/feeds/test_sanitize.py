from __future__ import annotations

from syndication.feeds.sanitize import clean_html, html_to_text


def test_dangerous_markup_goes_and_translation_hints_stay():
    dirty = (
        '<p class="notranslate" translate="no" lang="da" onclick="steal()">Østerby Brugs</p>'
        '<a href="javascript:alert(1)">klik</a><iframe src="https://evil.example/"></iframe>'
        "<style>p{display:none}</style><script>alert(1)</script><form><input name=q></form>"
    )
    clean = clean_html(dirty)
    assert clean.startswith('<p class="notranslate" translate="no" lang="da">Østerby Brugs</p>')
    for gone in ("onclick", "javascript", "iframe", "display:none", "alert", "<form", "<input"):
        assert gone not in clean


def test_relative_urls_need_a_usable_base():
    assert clean_html('<a href="/x">x</a>', base="https://e.dk/a/") == '<a href="https://e.dk/x">x</a>'
    assert clean_html('<a href="/x">x</a>', base="not a url") == '<a href="/x">x</a>'


def test_html_to_text():
    assert html_to_text("A <b>B</b> &amp; C<script>x()</script>") == "A B & C"
