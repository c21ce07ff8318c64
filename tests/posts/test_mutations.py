"""Mutated fixture pages: never an exception, always sanitized, cleaning is a fixed point."""

from __future__ import annotations

import random

from syndication.posts import clean_fragment, extract_article, html_to_text
from tests.posts.conftest import FIXTURES
from tests.posts.markup import dangerous

BASE = "https://landliv.example.dk/2024/06/side/"
# Pieces that break structure the way real pages (and attackers) do.
PIECES = [
    "<", ">", "</div>", "<div>", "<p>", "</p>", "<table>", "<td>", "<tr>", "</table>", "<li>", "</ul>",
    "<ul>", "<dl>", "<figure>", "</figure>", "<figcaption>", "<pre>\n", "</pre>", "<a href='", "'>",
    '"', "&", "&#", "&#1;", "<!--", "-->", "<script>", "</script>", "<svg onload=alert(1)>", "<math>",
    "<![CDATA[", "]]>", "\x00", "é", "<br/>", "<img src=x onerror=alert(1)>", "<embed>", "<select>",
    "<?xml encoding='latin-1'?>", "<base href='//x'>", "javascript:", "<noscript>", "<template>",
    "Del dette:", "Skriv en kommentar", "<h2>", "</h2>", "<blockquote>", "<span class='notranslate'>",
]  # fmt: skip


def mutate(rng: random.Random, page: str) -> str:
    chars = list(page)
    for _ in range(rng.randint(1, 25)):
        i = rng.randrange(len(chars) + 1)
        roll = rng.random()
        if roll < 0.45:
            chars[i:i] = list(rng.choice(PIECES))
        elif roll < 0.75:
            del chars[i : i + rng.randint(1, 200)]
        else:
            j = rng.randrange(len(chars) + 1)
            chars[i:i] = chars[j : j + rng.randint(1, 300)]
    return "".join(chars)


def test_mutated_pages() -> None:
    pages = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.html")) if "cp1252" not in p.name]
    rng = random.Random(20240614)
    for _ in range(120):
        html = mutate(rng, rng.choice(pages))
        article = extract_article(html, BASE)
        assert not dangerous(article.html), html
        assert clean_fragment(article.html, BASE) == article.html, html
        cleaned = clean_fragment(html, BASE)
        assert not dangerous(cleaned), html
        assert clean_fragment(cleaned, BASE) == cleaned, html
        assert isinstance(html_to_text(html), str)
