"""linked_articles: which body links are worth fetching, normalized, in order."""

from __future__ import annotations

from syndication.models import Article
from syndication.posts import linked_articles, normalize_url

POST = "https://landliv.example.dk/2024/03/netvaerk-paa-landet/"


def article_with(*hrefs: str) -> Article:
    html = "".join(f'<p><a href="{href}">link {n}</a></p>' for n, href in enumerate(hrefs))
    return Article(url=POST, title="Netværk", html=html, text="", canonical=POST)


def test_keeps_same_site_and_allowed_hosts_in_body_order() -> None:
    article = article_with(
        "https://landliv.example.dk/2024/02/lokale-virksomheder-samarbejde/",
        "https://www.landliv.example.dk/2023/11/messebesoeg-i-herning/",  # www. is the same site
        "https://egnsavisen.example.net/erhverv/ny-bager",  # allow-listed
        "https://andet-sted.example.org/artikel",  # neither
        "http://LANDLIV.example.dk:80/om-bloggen/?utm_source=nyhedsbrev&utm_medium=mail",
    )
    assert linked_articles(
        article, site_url="https://landliv.example.dk/", allowed_hosts=["egnsavisen.example.net"]
    ) == [
        "https://landliv.example.dk/2024/02/lokale-virksomheder-samarbejde/",
        "https://www.landliv.example.dk/2023/11/messebesoeg-i-herning/",
        "https://egnsavisen.example.net/erhverv/ny-bager",
        "http://landliv.example.dk/om-bloggen/",
    ]


def test_skips_everything_that_is_not_an_article() -> None:
    site = "https://landliv.example.dk"
    article = article_with(
        POST,  # the post itself
        f"{POST}#comments",
        "#respond",
        f"{site}/2024/02/andet-indlaeg/#comments",  # a comment link, even of another post
        f"{site}/2024/02/andet-indlaeg/#comment-12",
        "mailto:netvaerk@landliv.example.dk",
        "tel:+4512345678",
        f"{site}/wp-content/uploads/2024/03/billede.JPG",
        f"{site}/filer/program.pdf",
        f"{site}/filer/arkiv.zip",
        f"{site}/lyd/podcast.mp3",
        f"{site}/feed/",
        f"{site}/comments/feed/",
        f"{site}/?feed=rss2",
        f"{site}/wp-admin/post.php?post=142&action=edit",
        f"{site}/wp-login.php?redirect_to=x",
        f"{POST}?replytocom=12",
        f"{site}/tag/foreningsliv/",
        f"{site}/category/netvaerk/",
        f"{site}/author/karen/",
        f"{site}/page/2/",
        f"{site}/?s=netv%C3%A6rk",
        f"{site}/search/netværk/",
        f"{POST}?share=facebook",
        "https://www.facebook.com/sharer/sharer.php?u=" + POST,
        "https://twitter.com/intent/tweet?url=" + POST,
        "javascript:void(0)",
        f"{site}/2024/02/andet-indlaeg/",
    )
    assert linked_articles(article, site_url=site, allowed_hosts=["facebook.com", "twitter.com"]) == [
        f"{site}/2024/02/andet-indlaeg/"
    ]


def test_deduplicated_and_limited() -> None:
    site = "https://landliv.example.dk"
    article = article_with(
        f"{site}/a/",
        f"{site}/a/#afsnit",
        f"{site}/a/?utm_campaign=x",
        f"{site}/b/",
        f"{site}/c/",
        f"{site}/d/",
    )
    assert linked_articles(article, site_url=site, limit=3) == [f"{site}/a/", f"{site}/b/", f"{site}/c/"]
    assert linked_articles(article, site_url=site, limit=0) == []


def test_normalize_url() -> None:
    assert normalize_url("HTTPS://Landliv.Example.DK:443/Sti/?b=2&utm_source=x&a=1#frag") == (
        "https://landliv.example.dk/Sti/?b=2&a=1"
    )
    assert normalize_url("https://landliv.example.dk") == "https://landliv.example.dk/"
    assert normalize_url("https://landliv.example.dk:8443/x") == "https://landliv.example.dk:8443/x"
    assert normalize_url("mailto:a@b.dk") is None
    assert normalize_url("/relativ/sti") is None
    assert normalize_url("https://[::1]:99999/") is None


def test_malformed_urls_are_skipped_not_fatal() -> None:
    article = article_with(
        "http://[zz/broken", "https://landliv.example.dk:99999/x", "https://landliv.example.dk/ok/"
    )
    assert linked_articles(
        article, site_url="https://landliv.example.dk/", allowed_hosts=["[::1", "http://[x"]
    ) == ["https://landliv.example.dk/ok/"]
