"""A twentytwenty-style WordPress post page through the container fast path."""

from __future__ import annotations

from datetime import UTC, datetime

from syndication.models import Article, Image
from syndication.posts import extract_article, html_to_text
from tests.posts.conftest import CLASSIC_URL, fixture_bytes
from tests.posts.markup import dangerous, parse, texts, top_level_tags

SITE = "https://landliv.example.dk"


def test_metadata(classic: Article) -> None:
    assert classic.url == CLASSIC_URL
    assert classic.title == "Netværk på landet – hvorfor det betaler sig"
    assert classic.author == "Karen Mølgaard"
    assert classic.published == datetime(2024, 3, 14, 7, 30, tzinfo=UTC)
    assert classic.updated == datetime(2024, 3, 15, 9, 5, tzinfo=UTC)
    assert classic.published is not None and classic.published.utcoffset() is not None
    assert classic.lang == "da-DK"
    # The page gives a relative canonical: it comes back absolute.
    assert classic.canonical == CLASSIC_URL
    assert classic.site_name == "Landliv og Udvikling"
    assert classic.excerpt is not None and classic.excerpt.startswith("Netværk i landdistrikterne")
    assert classic.categories == ["Landdistrikter", "Netværk"]
    # rel="tag" links of the post (not the sidebar's), then article:tag metas.
    assert classic.tags == ["foreningsliv", "lokalsamfund", "erhvervsnetværk"]
    assert classic.featured_image == Image(
        src=f"{SITE}/wp-content/uploads/2024/03/markedsdag.jpg", alt="Boder på markedsdagen i Nørre Vium"
    )


def test_body_structure(classic: Article) -> None:
    assert top_level_tags(classic.html) == [
        "p", "h2", "p", "h3", "ul", "p", "ol", "blockquote", "figure", "p", "p", "p", "p", "p",
    ]  # fmt: skip
    root = parse(classic.html)
    assert texts(classic.html, "h2") == ["Fra visitkort til virkelige relationer"]
    assert texts(classic.html, "h3") == ["Tre gode grunde til at møde op"]
    assert len(root.findall("ul/li")) == 3
    assert texts(classic.html, "ol")[0].startswith("Forbered et spørgsmål")
    assert root.find("blockquote/p") is not None
    assert texts(classic.html, "cite") == ["Erik, tømrer i Vildbjerg"]
    second = root[2]
    assert [el.tag for el in second.iter("strong", "em", "a")] == ["strong", "em", "a"]
    assert second.find("strong").text == "ikke"
    assert second.find("em").text == "bidrager"


def test_related_post_link_is_absolute(classic: Article) -> None:
    link = parse(classic.html).find(".//p/a")
    assert link.get("href") == f"{SITE}/2024/02/lokale-virksomheder-samarbejde/"
    assert link.text == "lokale virksomheder, der samarbejder"
    assert classic.links == [
        f"{SITE}/2024/02/lokale-virksomheder-samarbejde/",
        "mailto:netvaerk@landliv.example.dk",
    ]


def test_figure_and_lazy_images(classic: Article) -> None:
    root = parse(classic.html)
    figure = root.find("figure")
    img = figure.find("img")
    assert img.get("src") == f"{SITE}/wp-content/uploads/2024/03/netvaerksmoede.jpg"  # data-src
    assert img.get("alt") == "Deltagere ved netværksmødet i forsamlingshuset"
    assert figure.find("figcaption").text == "Netværksmødet i forsamlingshuset samlede over 60 deltagere."
    sources = [i.get("src") for i in root.iter("img")]
    assert sources == [
        f"{SITE}/wp-content/uploads/2024/03/netvaerksmoede.jpg",
        f"{SITE}/wp-content/uploads/2024/03/hoestmarked.jpg",  # data-lazy-src over a placeholder
        f"{SITE}/wp-content/uploads/2024/03/ost-300.jpg",  # first srcset candidate
    ]
    assert all(i.get("alt") for i in root.iter("img"))
    assert "data-src" not in classic.html and "srcset" not in classic.html and "lazyload" not in classic.html


def test_boilerplate_is_gone(classic: Article) -> None:
    for gone in (
        "Del dette", "Facebook", "Synes godt om", "Indlæser", "Relateret", "Messebesøg i Herning",
        "Karen skriver om", "Vis alle indlæg", "Tak for et godt indlæg", "Bente fra Borris",
        "Skriv en kommentar", "Annuller svar", "Send kommentar", "Akismet", "kommentardata",
        "Seneste indlæg", "Drevet af WordPress", "Spring til indholdet", "Forside", "Om bloggen",
        "Kategorier", "2 kommentarer", "foreningsliv", "dataLayer", "Netværksaften 2023",
    ):  # fmt: skip
        assert gone not in classic.html, gone
        assert gone not in classic.text, gone


def test_nothing_executable_survives(classic: Article) -> None:
    assert not dangerous(classic.html), dangerous(classic.html)
    # The javascript: link loses its URL, not its words.
    assert "Tilmeld dig her" in classic.text
    assert "youtube" not in classic.html


def test_text_is_block_structured(classic: Article) -> None:
    blocks = classic.text.split("\n\n")
    assert blocks[0].startswith("Når man driver en lille virksomhed")
    assert blocks[1] == "Fra visitkort til virkelige relationer"
    assert (
        "Du får adgang til viden, som ikke står i nogen rapport.\n"
        "Du møder mennesker, der kan åbne døre for dig.\n"
        "Du bliver en del af et fællesskab, der gør egnen stærkere."
    ) in blocks
    assert "1. Forbered et spørgsmål, du gerne vil have svar på.\n2. Lyt mere, end du taler." in classic.text
    assert "<" not in classic.text
    # The plain text of the HTML we return is the text we return.
    assert html_to_text(classic.html) == classic.text


def test_windows_1252_page_decoded_by_the_caller() -> None:
    # The fetcher decodes by the HTTP header / <meta charset>; the meta tag still says
    # windows-1252 in the str it hands over, which must not make the parser decode again.
    raw = fixture_bytes("wp_classic_cp1252.html")
    assert b"windows-1252" in raw and "æ".encode("cp1252") in raw
    article = extract_article(raw.decode("cp1252"), CLASSIC_URL)
    assert article.title == "Netværk på landet – hvorfor det betaler sig"
    assert "Følg op inden for en uge." in article.text
    assert article.author == "Karen Mølgaard"
    assert "Ã" not in article.html and "\ufffd" not in article.html


def test_tiny_container_falls_back_to_the_page() -> None:
    # A theme that leaves .entry-content nearly empty and puts the post elsewhere.
    prose = " ".join(["Lokale håndværkere deler værktøj og viden i et nyt fællesskab."] * 6)
    html = f"""<html lang="da"><head><title>Værkstedet</title>
    <link rel="stylesheet" href="/wp-content/themes/x/style.css"></head><body>
    <div class="entry-content"><p>Kort intro.</p></div>
    <article class="story"><h1>Værkstedet</h1><p>{prose}</p><p>{prose}</p></article></body></html>"""
    article = extract_article(html, "https://vaerksted.example.dk/nyt/")
    assert "Lokale håndværkere deler værktøj" in article.text


def test_photo_post_keeps_its_container() -> None:
    sidebar = " ".join(["Seneste nyt fra foreningen og kalenderen for de kommende måneder."] * 5)
    html = f"""<html lang="da"><head><link rel="stylesheet" href="/wp-content/themes/x/style.css"></head>
    <body><article class="post"><div class="entry-content">
    <figure><img src="/wp-content/uploads/2024/05/marked-1.jpg" alt="Boder"></figure>
    <figure><img src="/wp-content/uploads/2024/05/marked-2.jpg" alt="Musik"></figure>
    <p>Billeder fra markedsdagen.</p></div></article>
    <div class="sidebar-box"><p>{sidebar}</p></div></body></html>"""
    article = extract_article(html, "https://landliv.example.dk/2024/05/billeder/")
    assert article.text == "Billeder fra markedsdagen."
    assert [img.get("alt") for img in parse(article.html).iter("img")] == ["Boder", "Musik"]
