"""Web pages and feed entries to clean, structured articles (the *extract* and *links* stages)."""

from syndication.posts.article import article_from_entry, extract_article
from syndication.posts.cleaning import clean_fragment
from syndication.posts.text import html_to_text

__all__ = [
    "article_from_entry",
    "clean_fragment",
    "extract_article",
    "html_to_text",
]
