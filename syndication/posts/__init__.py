"""Web pages and feed entries to clean, structured articles (the *extract* and *links* stages).

``extract_article(html, url)``
    Parses the page once (lxml) and reads the metadata from it. On WordPress pages the body is the
    theme's content container (``.entry-content``, ``.wp-block-post-content``, ...), checked
    against trafilatura when it is tiny or holds under half the page's prose. Other pages go
    through trafilatura, whose chosen blocks are mapped back to the page's own markup so links,
    emphasis and heading levels survive. Either way the body goes through ``clean_fragment``'s
    cleaner. A page without content gives an ``Article`` with empty ``html``/``text`` (the caller
    raises ``ExtractionError`` for it); only an internal failure raises, as ``ExtractionError``.
``article_from_entry(entry, site_name=...)``
    The same for a feed entry's ``content:encoded``.
``clean_fragment(html, base_url)``
    Boilerplate out, URLs absolute, lazy images resolved, layout flattened, then ``nh3`` with an
    explicit allow-list. Idempotent; also the last step for translated HTML.
``html_to_text(html)``
    Plain text, a blank line between blocks, list items and table rows on their own lines.
``linked_articles(article, site_url=..., allowed_hosts=..., limit=...)``
    Same-site (or allow-listed) links worth fetching as linked articles.
``content_hash(article)``
    The revision id: sha256 of normalized title, body and excerpt, blind to whitespace.
"""

from syndication.posts.article import article_from_entry, extract_article
from syndication.posts.cleaning import clean_fragment
from syndication.posts.links import linked_articles, normalize_url
from syndication.posts.revision import content_hash
from syndication.posts.text import html_to_text

__all__ = [
    "article_from_entry",
    "clean_fragment",
    "content_hash",
    "extract_article",
    "html_to_text",
    "linked_articles",
    "normalize_url",
]
