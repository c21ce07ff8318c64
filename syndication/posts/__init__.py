"""Web pages and feed entries to clean, structured articles (the *extract* and *links* stages).

``extract_article`` never raises on bad input: a page without content gives an Article with empty
``html``/``text``, which the pipeline reports as an ``ExtractionError`` naming the URL.
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
