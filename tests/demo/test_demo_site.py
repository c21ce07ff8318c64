"""The demo pages carry the boilerplate a real WordPress page has, so the extractor has work to do."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from syndication.demo import demo_dir

SITE = demo_dir() / "site"
PAGES = {
    "netvaerk-er-guld": ("utf-8", "412"),
    "messebesoeg-i-berlin-og-landdistrikterne": ("windows-1252", "398"),
}


def _load(slug: str) -> lxml.html.HtmlElement:
    encoding, _ = PAGES[slug]
    return lxml.html.fromstring((SITE / slug / "index.html").read_bytes().decode(encoding))


@pytest.mark.parametrize("slug", sorted(PAGES))
def test_page_has_article_and_boilerplate(slug: str) -> None:
    page = _load(slug)
    _, post_id = PAGES[slug]
    assert page.get("lang") == "da-DK"
    assert page.xpath("//link[@rel='shortlink']/@href") == [f"{{{{BASE}}}}/?p={post_id}"]
    content = page.xpath("//div[@class='entry-content']")[0]
    for selector in (".//h2", ".//h3", ".//ul/li", ".//strong", ".//em"):
        assert content.xpath(selector), selector
    text = page.text_content()
    # Boilerplate the extractor must remove: share block, related posts, comments and comment form,
    # the Akismet notice, sidebar widgets, header navigation, footer, scripts and event handlers.
    assert content.xpath(".//div[contains(@class,'sharedaddy')]//h3/text()") == ["Del dette:"]
    assert content.xpath(".//div[@id='jp-relatedposts']//em/text()") == ["Relaterede"]
    assert page.xpath("//div[@id='comments']//div[contains(@class,'comment-content')]")
    assert page.xpath("//h2[@id='reply-title']/text()")[0].strip() == "Skriv en kommentar"
    assert page.xpath("//form[@id='commentform']")
    assert "Dette websted bruger Akismet til at reducere spam." in text
    assert len(page.xpath("//aside[contains(@class,'sidebar')]//div[contains(@class,'widget ')]")) >= 3
    assert page.xpath("//header[@id='site-header']//nav//a")
    assert page.xpath("//footer[@id='site-footer']")
    assert [s for s in page.xpath("//script") if not s.get("src") and (s.text or "").strip()]
    assert page.xpath("//*[@onclick]")


def test_newest_post_has_image_link_and_emphasis() -> None:
    content = _load("netvaerk-er-guld").xpath("//div[@class='entry-content']")[0]
    images = content.xpath(".//img")
    assert images and images[0].get("alt") == "Et rødt forsamlingshus ved en grøn mark under en blå himmel"
    src = images[0].get("src")
    assert src.startswith("{{BASE}}/wp-content/uploads/")
    assert (SITE / src.removeprefix("{{BASE}}/")).is_file()
    links = content.xpath(".//p/a/@href")
    assert "{{BASE}}/messebesoeg-i-berlin-og-landdistrikterne/" in links


def test_text_files_use_only_the_ascii_base_token() -> None:
    for path in SITE.rglob("*"):
        if path.suffix in {".html", ".xml", ".txt"}:
            raw = path.read_bytes()
            assert b"127.0.0.1" not in raw and b"localhost" not in raw, path
            assert b"{{BASE}}" in raw, path


def test_the_feed_guids_match_the_pages() -> None:
    feed = (SITE / "feed" / "index.xml").read_text(encoding="utf-8")
    for slug, (_, post_id) in PAGES.items():
        assert f'<guid isPermaLink="false">{{{{BASE}}}}/?p={post_id}</guid>' in feed
        assert f"<link>{{{{BASE}}}}/{slug}/</link>" in feed


def test_demo_config_template_is_in_place() -> None:
    template = Path(demo_dir() / "syndication.toml").read_text(encoding="utf-8")
    assert '"{{BASE}}/feed/"' in template
    assert '"{{HOST}}"' in template
