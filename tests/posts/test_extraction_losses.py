"""Nothing leaves extraction shorter than its source without saying so (issue 9, extraction).

Deep nesting is flattened so every word arrives; what cannot be read is reported with what was
lost; what the sanitizer removes (embeds, data: images, inline SVG, forms) is recorded; a form
button's label never becomes a paragraph."""

from __future__ import annotations

from syndication.models import Entry
from syndication.posts import article_from_entry, clean_fragment, extract_article, parsing
from syndication.posts.removals import describe

URL = "https://landliv.example.dk/2024/06/dybt/"
BEFORE = "Teksten før den dybe blok handler om forsamlingshuset."
INSIDE = "Teksten inde i blokken nævner bestyrelsen."
AFTER = "Teksten efter den dybe blok fortæller om festen."


def deep_body(depth: int = 5000, tag: str = "div") -> str:
    return (
        f"<p>{BEFORE}</p>" + f"<{tag}>" * depth + f"<p>{INSIDE}</p>" + f"</{tag}>" * depth + f"<p>{AFTER}</p>"
    )


def wordpress_page(body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>Dybt indlæg</title>'
        '<meta name="generator" content="WordPress 6.5"></head><body class="single">'
        '<article><h1 class="entry-title">Dybt indlæg</h1>'
        f'<div class="entry-content">{body}</div></article></body></html>'
    )


def test_a_5000_deep_block_arrives_whole_from_a_page() -> None:
    for tag in ("div", "span", "table"):
        article = extract_article(wordpress_page(deep_body(tag=tag)), URL)
        assert BEFORE in article.text and INSIDE in article.text and AFTER in article.text, tag
        assert article.incomplete is None
        assert article.flattened_depth >= 5000


def test_a_5000_deep_block_arrives_whole_from_content_encoded() -> None:
    entry = Entry(
        entry_id="https://landliv.example.dk/?p=9", link=URL, title="Dybt", content_html=deep_body()
    )
    article = article_from_entry(entry)
    assert [block for block in article.text.split("\n\n") if block] == [BEFORE, INSIDE, AFTER]
    assert article.incomplete is None


def test_flattening_stays_linear_on_far_deeper_input() -> None:
    # 100,000 levels (0.6 MB): the flattener and every later pass must not be quadratic in depth.
    html = clean_fragment(deep_body(100_000, "b"), URL)
    assert BEFORE in html and INSIDE in html and AFTER in html


def test_depth_that_cannot_be_flattened_is_reported_with_what_was_lost(monkeypatch) -> None:
    monkeypatch.setattr(parsing, "FLATTEN_DEPTHS", ())
    article = extract_article(wordpress_page(deep_body()), URL)
    assert BEFORE in article.text and AFTER not in article.text
    assert article.incomplete is not None
    assert article.incomplete["reason"] == "too_deep"
    assert article.incomplete["lost_preview"].startswith("Teksten inde i blokken")
    assert article.incomplete["lost_words"] >= len((INSIDE + " " + AFTER).split())
    assert "could not be read whole" in article.incomplete["message"]


def test_a_page_cut_at_the_size_limit_says_what_was_lost(monkeypatch) -> None:
    head = wordpress_page(f"<p>{BEFORE}</p><p>")
    rest = f"{AFTER}</p>" + "<p>Mere tekst om festen.</p>" * 50 + "</div></article></body></html>"
    monkeypatch.setattr(parsing, "MAX_HTML_CHARS", len(head))
    article = extract_article(head + rest, URL)
    assert article.incomplete is not None and article.incomplete["reason"] == "truncated"
    assert article.incomplete["lost_preview"].startswith("Teksten efter den dybe blok")


def test_removed_embeds_images_and_graphics_are_recorded() -> None:
    body = (
        f"<p>{BEFORE}</p>"
        '<figure class="wp-block-embed is-provider-youtube"><div class="wp-block-embed__wrapper">'
        '<iframe src="https://www.youtube.com/embed/abc123" title="Festen"></iframe></div></figure>'
        '<p><img src="data:image/png;base64,iVBORw0KGgo=" alt="Kort"></p>'
        '<svg viewBox="0 0 10 10"><title>Kort over byen</title><circle r="4"/></svg>'
        '<div class="sharedaddy"><a href="https://facebook.com/share"><svg><path d="M0"/></svg>Del</a>'
        '<iframe src="https://www.facebook.com/plugins/like.php"></iframe></div>'
        f"<p>{AFTER}</p>"
    )
    article = extract_article(wordpress_page(body), URL)
    lines = sorted(describe(r) for r in article.removed)
    assert lines == [
        "1 embedded video removed (youtube.com)",
        "1 image with an inline (data:) or unusable address removed (image/png)",
        "1 inline SVG graphic removed (Kort over byen)",
    ]
    # The same from a feed's content:encoded.
    entry = Entry(entry_id="https://landliv.example.dk/?p=10", link=URL, title="Video", content_html=body)
    assert sorted(describe(r) for r in article_from_entry(entry).removed) == lines


def test_nothing_is_recorded_for_a_plain_post() -> None:
    assert extract_article(wordpress_page(f"<p>{BEFORE}</p><p>{AFTER}</p>"), URL).removed == []


def test_a_form_buttons_label_never_becomes_a_paragraph() -> None:
    # libxml2 reads "<button/>" as an empty button and leaves the label loose in the post.
    html = clean_fragment(
        f"<p>{BEFORE}</p><button type='submit'/>Tilmeld nyhedsbrev</button><p>{AFTER}</p>", URL
    )
    assert "Tilmeld" not in html
    assert BEFORE in html and AFTER in html


def test_an_unclosed_button_does_not_swallow_the_rest_of_the_post() -> None:
    html = clean_fragment(f"<p>{BEFORE}</p><form><button>Tilmeld</form><p>{AFTER}</p><p>{INSIDE}</p>", URL)
    assert "Tilmeld" not in html
    assert AFTER in html and INSIDE in html


def test_cleaning_stays_idempotent_with_buttons_and_deep_markup() -> None:
    for source in (deep_body(400), f"<p>a</p><button>b<p>{AFTER}</p>"):
        once = clean_fragment(source, URL)
        assert clean_fragment(once, URL) == once
