"""Articles from feed entries: WordPress content:encoded cleaned like a page."""

from __future__ import annotations

from datetime import UTC, datetime

from syndication.models import Entry
from syndication.posts import article_from_entry
from tests.posts.conftest import fixture_text
from tests.posts.markup import dangerous, parse, top_level_tags

LINK = "https://landliv.example.dk/2024/05/faelles-markedsfoering/"


def entry(**changes: object) -> Entry:
    values: dict[str, object] = {
        "entry_id": "https://landliv.example.dk/?p=301",
        "link": LINK,
        "title": "  Fælles markedsføring\n for små virksomheder ",
        "author": "Karen Mølgaard",
        "published": datetime(2024, 5, 20, 8, 0, tzinfo=UTC),
        "updated": datetime(2024, 5, 21, 9, 30, tzinfo=UTC),
        "summary_html": "<p>I går mødtes tolv små virksomheder fra egnen i det gamle mejeri [&#8230;]</p>"
        '<p>The post <a href="https://landliv.example.dk/2024/05/faelles-markedsfoering/">Fælles</a>'
        ' appeared first on <a href="https://landliv.example.dk">Landliv og Udvikling</a>.</p>',
        "content_html": fixture_text("feed_content.html"),
        "categories": ("Erhverv", "netværk", " "),
        "lang": "da",
    }
    values.update(changes)
    return Entry(**values)  # type: ignore[arg-type]


def test_entry_metadata() -> None:
    article = article_from_entry(entry(), site_name="Landliv og Udvikling")
    assert article.url == LINK
    assert article.canonical == LINK
    assert article.title == "Fælles markedsføring for små virksomheder"
    assert article.author == "Karen Mølgaard"
    assert article.published == datetime(2024, 5, 20, 8, 0, tzinfo=UTC)
    assert article.updated == datetime(2024, 5, 21, 9, 30, tzinfo=UTC)
    assert article.lang == "da"
    assert article.site_name == "Landliv og Udvikling"
    assert article.categories == ["Erhverv", "netværk"]
    assert article.excerpt == "I går mødtes tolv små virksomheder fra egnen i det gamle mejeri…"


def test_share_block_and_feed_footer_removed() -> None:
    article = article_from_entry(entry())
    for gone in ("Del dette", "Facebook", "appeared first on", "share="):
        assert gone not in article.html, gone
    assert top_level_tags(article.html) == ["p", "h2", "p", "p", "p"]
    assert article.text.endswith("Næste møde holdes i juni. Alle er velkomne.")
    assert not dangerous(article.html)


def test_urls_absolute_against_the_entry_link() -> None:
    article = article_from_entry(entry())
    root = parse(article.html)
    assert root.find(".//a").get("href") == "https://landliv.example.dk/2024/04/besoeg-paa-landbrugsmessen/"
    img = root.find(".//img")
    assert img.get("src") == "https://landliv.example.dk/wp-content/uploads/2024/05/mejeriet.jpg"
    assert img.get("alt") == "Virksomhedsejere samlet i det gamle mejeri"
    assert article.links == ["https://landliv.example.dk/2024/04/besoeg-paa-landbrugsmessen/"]


def test_summary_only_entry() -> None:
    article = article_from_entry(entry(content_html=None))
    assert (
        article.text
        == "I går mødtes tolv små virksomheder fra egnen i det gamle mejeri [&#8230;]".replace("&#8230;", "…")
    )
    assert article.excerpt is not None and article.excerpt.startswith("I går mødtes")


def test_entry_without_content_or_link() -> None:
    article = article_from_entry(entry(content_html=None, summary_html=None, link=None))
    assert article.html == "" and article.text == ""
    assert article.url == "https://landliv.example.dk/?p=301"
    assert article.excerpt is None


def test_markup_in_the_title_becomes_text() -> None:
    article = article_from_entry(entry(title="<b>Fælles</b> &amp; lokal <i>markedsføring</i>"))
    assert article.title == "Fælles & lokal markedsføring"
