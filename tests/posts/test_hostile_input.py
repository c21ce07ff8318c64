"""Bad input: hostile markup never survives, broken or absurd input never crashes."""

from __future__ import annotations

import random
import re

import pytest

from syndication.errors import ExtractionError
from syndication.models import Entry
from syndication.posts import article_from_entry, clean_fragment, extract_article, html_to_text
from tests.posts.markup import dangerous

URL = "https://landliv.example.dk/2024/06/angreb/"
PROSE = (
    "Landsbyens erhvervsforening samler hvert forår de lokale virksomheder til en fælles dag, "
    "hvor man viser hinanden, hvad man arbejder med, og finder nye måder at samarbejde på."
)

HOSTILE = f"""
<p>{PROSE}</p>
<p><a href="JaVaScRiPt:alert(1)">første</a> <a href=" java&#x09;script:alert(2)">anden</a>
<a href="vbscript:msgbox(3)">tredje</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==">fjerde</a></p>
<p><img src=x onerror=alert(5) alt="billede"><IMG SRC="javascript:alert(6)"></p>
<svg onload=alert(7)><circle r="4"/></svg>
<math><mi xlink:href="javascript:alert(8)">x</mi></math>
<iframe srcdoc="<script>alert(9)</script>"></iframe>
<object data="evil.swf"></object><embed src="evil.swf">
<form action="javascript:alert(10)"><input value="send">
<button formaction="javascript:alert(11)">ok</button></form>
<div onmouseover="alert(12)" style="background:url(javascript:alert(13))">{PROSE}</div>
<SCRIPT>alert(14)</SCRIPT><scr<script>ipt>alert(15)</script>
<style>body{{background:url("javascript:alert(16)")}}</style>
<noscript><img src=y onerror=alert(17)></noscript>
<template><img src=z onerror=alert(18)></template>
<meta http-equiv="refresh" content="0;url=javascript:alert(19)">
<base href="javascript:alert(20)//">
<p><a href="#" onclick="alert(21)">klik</a> <span onfocus="alert(22)" tabindex="1">fokus</span></p>
<details open ontoggle="alert(23)"><summary>mere</summary>{PROSE}</details>
"""


def _assert_safe(html: str) -> None:
    found = dangerous(html)
    assert found is None, (found, html)
    # "alert(" may survive as visible words (from "<scr<script>ipt>alert(15)"), never in a tag.
    assert re.search(r"<[^>]*alert\(", html) is None, html


def test_clean_fragment_removes_every_vector() -> None:
    html = clean_fragment(HOSTILE, URL)
    _assert_safe(html)
    assert PROSE in html
    assert "første" in html and "billede" in html and "klik" in html


def test_wordpress_page_with_hostile_body() -> None:
    page = (
        '<html><head><link rel="stylesheet" href="/wp-content/themes/t/style.css"></head>'
        f'<body><article><div class="entry-content">{HOSTILE}</div></article></body></html>'
    )
    article = extract_article(page, URL)
    _assert_safe(article.html)
    assert PROSE in article.text
    assert all(link.startswith(("http://", "https://", "mailto:", "tel:")) for link in article.links)


def test_generic_page_with_hostile_body() -> None:
    page = f"<html><body><div class='story'><h1>Angreb</h1>{HOSTILE}<p>{PROSE}</p></div></body></html>"
    article = extract_article(page, URL)
    _assert_safe(article.html)
    assert PROSE in article.text


def test_feed_entry_with_hostile_content() -> None:
    entry = Entry(entry_id="x", link=URL, title="<b>Angreb</b>", content_html=HOSTILE)
    article = article_from_entry(entry)
    _assert_safe(article.html)
    assert PROSE in article.text


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02\x03",
        "<",
        "</div></p></body>",
        "<html><head><title>Kun scripts</title></head><body>"
        + "<script>var x = 1;</script>" * 500
        + "<style>p{color:red}</style></body></html>",
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>Prolog</p></body></html>",
        "<p>lone surrogate \ud800 and \ufffe</p>",
        "<html><body><p>Ikke lukket <b>fed <i>kursiv<div>blok</p></td></table>",
    ],
)
def test_odd_input_never_raises(html: str) -> None:
    article = extract_article(html, URL)
    assert article.url == URL
    assert isinstance(article.html, str) and isinstance(article.text, str)
    _assert_safe(article.html)
    assert isinstance(clean_fragment(html, URL), str)
    assert isinstance(html_to_text(html), str)


@pytest.mark.parametrize(
    "body",
    [
        "<nav><a href='/'>Forside</a> <a href='/om'>Om os</a></nav>",
        "<script>document.write('<p>' + 'x'.repeat(900) + '</p>')</script><style>p{}</style>",
        "<footer><p>Egnsavisen · Torvet 1 · 6900 Skjern</p></footer>",
    ],
)
def test_page_without_content_gives_empty_article(body: str) -> None:
    article = extract_article(f"<html><head><title>Tom side</title></head><body>{body}</body></html>", URL)
    assert article.html == "" and article.text == ""
    assert article.title == "Tom side"


def test_binary_junk() -> None:
    rng = random.Random(1234)
    junk = bytes(rng.randrange(256) for _ in range(200_000)).decode("latin-1")
    article = extract_article(junk, URL)
    _assert_safe(article.html)


def test_five_megabytes_of_nested_divs() -> None:
    depth = 5_000_000 // len("<div>x</div>")
    html = "<html><body>" + "<div>x" * depth + "</div>" * depth + "</body></html>"
    article = extract_article(html, URL)
    assert isinstance(article.text, str)
    _assert_safe(article.html)
    assert isinstance(clean_fragment(html[:200_000], URL), str)


def test_huge_flat_page() -> None:
    paragraphs = "".join(f"<p>Afsnit {n}: {PROSE}</p>" for n in range(3000))
    html = f"<html><body><article>{paragraphs}</article></body></html>"
    article = extract_article(html, URL)
    assert article.text.count("Landsbyens erhvervsforening") == 3000
    assert article.text.split("\n\n")[2999].startswith("Afsnit 2999:")


def test_an_internal_failure_is_an_extraction_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # If a stage trips over something unforeseen, the caller gets our error naming the URL.
    import syndication.posts.article as article_module

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("unforeseen")

    monkeypatch.setattr(article_module, "read_metadata", broken)
    with pytest.raises(ExtractionError) as caught:
        extract_article(f"<html><body><p>{PROSE}</p></body></html>", URL)
    assert URL in str(caught.value) and "unforeseen" in str(caught.value)
    monkeypatch.setattr(article_module, "finish", broken)
    with pytest.raises(ExtractionError) as caught_entry:
        article_from_entry(
            Entry(entry_id="https://landliv.example.dk/?p=9", link=URL, title="x", content_html="<p>x</p>")
        )
    assert "https://landliv.example.dk/?p=9" in str(caught_entry.value)
