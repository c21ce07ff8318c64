"""A non-WordPress news page goes through trafilatura, mapped back to the page's own markup."""

from __future__ import annotations

from datetime import UTC, datetime

from syndication.models import Article, Image
from syndication.posts import extract_article
from tests.posts.conftest import NEWS_URL, fixture_text
from tests.posts.markup import dangerous, parse, texts


def test_metadata_from_json_ld(news: Article) -> None:
    assert news.title == "Ny bager giver liv til hovedgaden"
    assert news.author == "Mette Kjær"
    assert news.published == datetime(2024, 5, 6, 4, 15, tzinfo=UTC)
    assert news.updated == datetime(2024, 5, 6, 7, 40, tzinfo=UTC)
    assert news.lang == "da"  # <meta http-equiv="content-language">
    assert news.site_name == "Egnsavisen"
    assert news.categories == ["Erhverv"]
    assert news.tags == ["bageri", "detailhandel"]
    assert news.featured_image == Image(src="https://egnsavisen.example.net/billeder/bageri.jpg")
    assert news.excerpt == "Et nyt bageri i den gamle sparekasse har fået handlen i gang igen i den lille by."


def test_article_blocks_keep_their_markup(news: Article) -> None:
    root = parse(news.html)
    assert texts(news.html, "h2") == ["Samarbejde med landmændene"]
    assert len(root.findall("p")) == 6
    # Links and emphasis come from the page, although trafilatura ran without them.
    link = root.find(".//a")
    assert link.get("href") == "https://egnsavisen.example.net/erhverv/erhvervsforeningen-vokser"
    assert root.find(".//strong").text == "gave til hele byen"
    assert news.links == ["https://egnsavisen.example.net/erhverv/erhvervsforeningen-vokser"]
    assert news.text.startswith("Et nyt bageri i den gamle sparekasse")
    assert "\n\nSamarbejde med landmændene\n\n" in news.text


def test_page_chrome_is_gone(news: Article) -> None:
    for gone in (
        "cookies", "Accepter", "Nyheder", "Sport", "Læs også", "Cykelsmed fejrer", "Mest læste",
        "Annonce", "Del på Facebook", "Privatlivspolitik", "Torvet 1",
    ):  # fmt: skip
        assert gone not in news.text, gone
    assert not dangerous(news.html)


def test_base_href_is_respected() -> None:
    html = (
        fixture_text("news_page.html")
        .replace("<head>", '<head><base href="https://arkiv.egnsavisen.example.net/2024/">')
        .replace('href="https://egnsavisen.example.net/erhverv/erhvervsforeningen-vokser"', 'href="forening"')
    )
    article = extract_article(html, NEWS_URL)
    assert article.links == ["https://arkiv.egnsavisen.example.net/2024/forening"]


def test_a_headline_repeating_the_title_is_not_kept_in_the_body() -> None:
    # trafilatura keeps a page's <h1> in the body; the title is stored and shown on its own, so a
    # published copy would show it twice.
    html = (
        '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Det gamle indlæg</title>'
        "</head><body><article><h1>Det  gamle\nindlæg</h1><p>Købmanden på hjørnet får nye ejere, "
        "og hele byen glæder sig til genåbningen.</p><h2>Det gamle indlæg</h2><p>Vi ses i "
        "forsamlingshuset på torsdag, hvor de nye ejere fortæller om planerne.</p></article></body></html>"
    )
    article = extract_article(html, "https://landsbyen.example.dk/det-gamle-indlaeg/")
    assert article.title == "Det gamle indlæg"
    assert texts(article.html, "h1") == []
    assert article.text.startswith("Købmanden på hjørnet")
    # The same words later in the article are a heading of the article: they stay.
    assert texts(article.html, "h2") == ["Det gamle indlæg"]


def test_a_headline_after_the_first_text_stays() -> None:
    html = (
        '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Høstmarked</title>'
        "</head><body><article><p>Lørdag den 12. september fra klokken ti til fire på torvet.</p>"
        "<h1>Høstmarked</h1><p>Der er boder med æbler, honning, ost og brød fra egnens gårde, og "
        "spejderne sælger kaffe og kage.</p></article></body></html>"
    )
    article = extract_article(html, "https://landsbyen.example.dk/hoestmarked/")
    assert texts(article.html, "h1") == ["Høstmarked"]
