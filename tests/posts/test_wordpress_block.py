"""A twentytwentythree (block theme) post: no OpenGraph, terms and byline in blocks."""

from __future__ import annotations

from datetime import UTC, datetime

from syndication.models import Article, Image
from tests.posts.conftest import BLOCK_URL
from tests.posts.markup import dangerous, parse, texts, top_level_tags

SITE = "https://landliv.example.dk"


def test_metadata_from_block_markup(block: Article) -> None:
    assert block.title == "Et besøg på landbrugsmessen i Herning"
    assert block.site_name == "Landliv og Udvikling"  # from the <title> suffix
    assert block.author == "Jens Holm"
    assert block.published == datetime(2024, 4, 2, 10, 0, tzinfo=UTC)
    assert block.lang == "da-DK"
    assert block.canonical == BLOCK_URL
    # Block themes mark both kinds rel="tag"; the wrapper's class tells them apart.
    assert block.categories == ["Erhverv", "Messer"]
    assert block.tags == ["landbrug", "erhvervsforening"]
    assert block.featured_image == Image(
        src=f"{SITE}/wp-content/uploads/2024/04/messehal.jpg", alt="Messehallen fyldt med traktorer og stande"
    )
    # No meta description: the first paragraph stands in.
    assert block.excerpt is not None and block.excerpt.startswith("I sidste uge tog vi turen")


def test_body_structure(block: Article) -> None:
    assert top_level_tags(block.html) == ["p", "h2", "p", "p", "figure", "figure", "p", "pre", "p", "p"]
    root = parse(block.html)
    # The group's loose text became its own paragraph instead of running into the one before.
    assert root[3].text == (
        "Et par af de mindste udstillere havde ingen stand overhovedet, "
        "men gik rundt med en mappe under armen."
    )
    table = root[4].find("table")
    assert [th.text for th in table.iter("th")] == ["Dag", "Program"]
    assert len(table.findall(".//tbody/tr")) == 3
    assert root[4].find("figcaption").text == "Programmet for de tre messedage"
    assert root[5].find("blockquote/p").text.startswith("Vi kom hjem med tre nye kontakter")


def test_translation_markers_and_code_survive(block: Article) -> None:
    assert '<span class="notranslate">GreenFarm</span>' in block.html
    assert '<span lang="en">farm-to-table</span>' in block.html
    assert (
        '<pre><code>Tilmelding: send "MESSE" til foreningen\n  senest fredag kl. 12</code></pre>'
        in block.html
    )
    # In the text the code keeps its line break and indentation.
    assert 'Tilmelding: send "MESSE" til foreningen\n  senest fredag kl. 12' in block.text


def test_table_and_caption_in_text(block: Article) -> None:
    assert (
        "Dag | Program\nOnsdag | Maskiner og teknik\nTorsdag | Fødevarer og lokale producenter" in block.text
    )
    assert "Programmet for de tre messedage" in block.text  # a table's caption is prose


def test_chrome_is_gone(block: Article) -> None:
    for gone in ("Skrevet af", "Skriv en kommentar", "Kommentar", "Drevet af", "Om bloggen", "Navigation"):
        assert gone not in block.text, gone
    assert texts(block.html, "a") == ["Læs om vores samarbejde"]
    assert not dangerous(block.html)
