"""Dates, languages and the fallbacks of the metadata reader."""

from __future__ import annotations

from datetime import UTC, datetime

from syndication.posts import extract_article
from syndication.posts.metadata import normalize_lang, parse_date

URL = "https://landliv.example.dk/2024/06/side/"


def test_parse_date_always_aware_utc() -> None:
    assert parse_date("2024-03-14T08:30:00+01:00") == datetime(2024, 3, 14, 7, 30, tzinfo=UTC)
    assert parse_date("2024-03-14T07:30:00Z") == datetime(2024, 3, 14, 7, 30, tzinfo=UTC)
    assert parse_date("2024-03-14") == datetime(2024, 3, 14, tzinfo=UTC)
    assert parse_date("2024-03-14 09:30:00") == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)  # naive: UTC
    assert parse_date("Thu, 14 Mar 2024 08:30:00 +0100") == datetime(2024, 3, 14, 7, 30, tzinfo=UTC)
    for junk in (None, "", "i går", "2024-13-45", "0000-00-00T00:00:00"):
        assert parse_date(junk) is None


def test_normalize_lang() -> None:
    assert normalize_lang("da_DK") == "da-DK"
    assert normalize_lang("EN-us") == "en-US"
    assert normalize_lang("nb") == "nb"
    assert normalize_lang("da, en") == "da"
    assert normalize_lang("not a language") is None
    assert normalize_lang("") is None


def test_language_fallbacks() -> None:
    body = "<body><div class='entry-content'><p>Hej</p></div></body>"
    og = f'<html><head><meta property="og:locale" content="da_DK"></head>{body}</html>'
    assert extract_article(og, URL).lang == "da-DK"
    meta = f'<html><head><meta http-equiv="Content-Language" content="sv"></head>{body}</html>'
    assert extract_article(meta, URL).lang == "sv"
    assert extract_article(f'<html lang="nb"><head></head>{body}</html>', URL).lang == "nb"


def test_title_suffix_and_excerpt_trim() -> None:
    prose = "Egnens virksomheder mødes hver måned for at dele erfaringer og finde nye samarbejder. " * 8
    html = (
        "<html><head><title>Månedens møde | Erhvervsklubben</title></head><body>"
        f"<article><h1>Månedens møde</h1><p>{prose}</p></article></body></html>"
    )
    article = extract_article(html, URL)
    assert article.title == "Månedens møde"
    assert article.site_name == "Erhvervsklubben"
    assert article.excerpt is not None
    assert len(article.excerpt) <= 301 and article.excerpt.endswith("…")
    assert prose.startswith(article.excerpt[:-1])


def test_json_ld_graph_and_ignored_junk() -> None:
    html = """<html><head>
    <script type="application/ld+json">{not json</script>
    <script type="application/ld+json">{"@graph": [
      {"@type": "WebSite", "name": "Landliv"},
      {"@type": "WebPage", "name": "Side"},
      {"@type": ["BlogPosting"], "headline": "Fra grafen", "datePublished": "2024-06-01T10:00:00+02:00",
       "author": [{"@type": "Person", "name": "Karen"}, {"@type": "Person", "name": "Jens"}],
       "inLanguage": "da-DK", "articleSection": ["Erhverv", "Netværk"], "keywords": "møder, erhverv"}
    ]}</script></head><body><p>Kort tekst.</p></body></html>"""
    article = extract_article(html, URL)
    assert article.title == "Fra grafen"
    assert article.site_name == "Landliv"
    assert article.author == "Karen, Jens"
    assert article.published == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    assert article.lang == "da-DK"
    assert article.categories == ["Erhverv", "Netværk"]
    assert article.tags == ["møder", "erhverv"]


def test_featured_image_alt_from_the_theme_thumbnail() -> None:
    html = """<html><head>
    <meta property="og:image" content="https://landliv.example.dk/wp-content/uploads/2024/06/torv.jpg">
    </head><body><article class="post">
    <img class="wp-post-image" src="/wp-content/uploads/2024/06/torv-1024x683.jpg" alt="Torvet en sommerdag">
    <div class="entry-content"><p>Tekst.</p></div></article></body></html>"""
    image = extract_article(html, URL).featured_image
    assert image is not None
    assert image.src == "https://landliv.example.dk/wp-content/uploads/2024/06/torv.jpg"
    assert image.alt == "Torvet en sommerdag"
