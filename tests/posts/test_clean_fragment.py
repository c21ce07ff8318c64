"""clean_fragment: the one cleaner for page bodies, feed content and translated HTML."""

from __future__ import annotations

import pytest

from syndication.posts import clean_fragment, extract_article
from tests.posts.conftest import BLOCK_URL, CLASSIC_URL, NEWS_URL, fixture_text
from tests.posts.test_hostile_input import HOSTILE

BASE = "https://landliv.example.dk/2024/05/indlaeg/"


def test_keeps_article_markup() -> None:
    html = (
        "<h2>Overskrift</h2><p>Tekst med <strong>fed</strong>, <em>kursiv</em>, <b>b</b>, <i>i</i> og "
        '<a href="/om/" title="Om os">et link</a>.</p><ul><li>et</li><li>to</li></ul>'
        '<ol start="3"><li>tre</li></ol><blockquote><p>Citat</p></blockquote>'
        '<figure><img src="/billede.jpg" alt="Et billede"><figcaption>Tekst</figcaption></figure>'
        '<table><tr><th colspan="2">Hoved</th></tr><tr><td>a</td><td>b</td></tr></table>'
        "<pre><code>x  =  1</code></pre>"
    )
    assert clean_fragment(html, BASE) == (
        "<h2>Overskrift</h2>\n"
        "<p>Tekst med <strong>fed</strong>, <em>kursiv</em>, <b>b</b>, <i>i</i> og "
        '<a href="https://landliv.example.dk/om/" title="Om os">et link</a>.</p>\n'
        "<ul><li>et</li><li>to</li></ul>\n"
        '<ol start="3"><li>tre</li></ol>\n'
        "<blockquote><p>Citat</p></blockquote>\n"
        '<figure><img src="https://landliv.example.dk/billede.jpg" alt="Et billede">'
        "<figcaption>Tekst</figcaption></figure>\n"
        '<table><tbody><tr><th colspan="2">Hoved</th></tr><tr><td>a</td><td>b</td></tr></tbody></table>\n'
        "<pre><code>x  =  1</code></pre>"
    )


def test_layout_divs_become_paragraphs() -> None:
    html = "<div><div>Første</div><div><p>Anden</p>løs tekst</div></div><section>Tredje</section>"
    assert clean_fragment(html, BASE) == "<p>Første</p>\n<p>Anden</p>\n<p>løs tekst</p>\n<p>Tredje</p>"


def test_inline_fragment_stays_inline() -> None:
    # Translated titles and excerpts go through here too: no paragraph is invented around them.
    assert clean_fragment('Netværk <em>på</em> landet <span lang="en">online</span>', BASE) == (
        'Netværk <em>på</em> landet <span lang="en">online</span>'
    )


def test_translation_markers_survive() -> None:
    html = (
        '<p translate="no">Navn</p><p>Se <span class="notranslate x-other">Agromek</span> og '
        '<code>kode</code> og <span class="fremhævet">almindelig</span> og <span lang="sv">svensk</span></p>'
    )
    assert clean_fragment(html, BASE) == (
        '<p translate="no">Navn</p>\n'
        '<p>Se <span class="notranslate">Agromek</span> og <code>kode</code> og almindelig og '
        '<span lang="sv">svensk</span></p>'
    )


def test_empty_elements_and_nbsp_paragraphs_go() -> None:
    html = "<p>&nbsp;</p><p><br></p><p> </p><div><span></span></div><p>Indhold</p><p><a href='/x'></a></p>"
    assert clean_fragment(html, BASE) == "<p>Indhold</p>"


def test_stock_lines_go_but_prose_mentioning_them_stays() -> None:
    html = (
        "<p>Skriv en kommentar</p><p>Del dette:</p><h3>Relateret</h3>"
        "<p>This site uses Akismet to reduce spam. Learn how your comment data is processed.</p>"
        '<p>Indlægget <a href="/x">X</a> blev vist første gang på <a href="/">Y</a>.</p>'
        "<p>Skriv en kommentar og fortæl, hvad du synes om netværket.</p>"
        "<p>Vi vil gerne dele dette med alle i sognet.</p>"
    )
    assert clean_fragment(html, BASE) == (
        "<p>Skriv en kommentar og fortæl, hvad du synes om netværket.</p>\n"
        "<p>Vi vil gerne dele dette med alle i sognet.</p>"
    )


def test_unmarked_share_and_related_lists_go_with_their_label() -> None:
    html = (
        "<p>Tekst.</p><h3>Del dette:</h3><ul><li><a href='https://facebook.com/sharer'>Facebook</a></li>"
        "<li><a href='/x'>X</a></li></ul><h4>Relateret</h4><div><a href='/a'>Indlæg A</a> "
        "<a href='/b'>Indlæg B</a></div>"
        "<h3>Læs også</h3><ul><li><a href='/c'>Forfatterens eget valg</a></li></ul>"
        "<h3>Relateret</h3><p>Et almindeligt afsnit med <a href='/d'>et link</a> og mere tekst omkring.</p>"
    )
    assert clean_fragment(html, BASE) == (
        "<p>Tekst.</p>\n<h3>Læs også</h3>\n"
        '<ul><li><a href="https://landliv.example.dk/c">Forfatterens eget valg</a></li></ul>\n'
        '<p>Et almindeligt afsnit med <a href="https://landliv.example.dk/d">et link</a> '
        "og mere tekst omkring.</p>"
    )


@pytest.mark.parametrize(
    "html",
    [
        HOSTILE,
        fixture_text("feed_content.html"),
        extract_article(fixture_text("wp_classic.html"), CLASSIC_URL).html,
        extract_article(fixture_text("wp_block.html"), BLOCK_URL).html,
        extract_article(fixture_text("news_page.html"), NEWS_URL).html,
        "Bare tekst & <b>fed</b> <3 &amp; &lt;tag&gt; æøå ÆØÅ",
        "<table><tr><td>a<td>b</table>tekst efter<ul><li>x<li>y</ul>",
        "<p>a<p>b<div>c</div><span>d</span>",
        "<pre>  indrykket\n\n  kode</pre><p>  mellemrum   og\nlinjeskift  </p>",
        '<a href="/x"><img data-src="/a.jpg" src="data:image/gif;base64,R0l"></a>'
        '<figure><img src=""></figure>',
        '<p>fod<sup>1</sup> H<sub>2</sub>O <abbr title="Landbrug">LB</abbr> <q>citat</q></p>',
    ],
)
def test_idempotent(html: str) -> None:
    once = clean_fragment(html, BASE)
    assert clean_fragment(once, BASE) == once


def test_relative_urls_use_the_base() -> None:
    html = (
        '<a href="../andet/">a</a> <a href="?side=2">b</a> '
        '<a href="//cdn.example.dk/x">c</a> <a href="#top">d</a>'
    )
    cleaned = clean_fragment(html, "https://landliv.example.dk/2024/05/indlaeg/")
    assert cleaned == (
        '<a href="https://landliv.example.dk/2024/05/andet/">a</a> '
        '<a href="https://landliv.example.dk/2024/05/indlaeg/?side=2">b</a> '
        '<a href="https://cdn.example.dk/x">c</a> '
        '<a href="https://landliv.example.dk/2024/05/indlaeg/#top">d</a>'
    )
