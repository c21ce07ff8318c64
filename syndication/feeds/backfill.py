"""Older posts of a WordPress feed, page by page."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def backfill_urls(feed_url: str, pages: int) -> list[str]:
    """URLs of feed pages 2..``pages`` (WordPress ``?paged=N``); page 1 is ``feed_url`` itself.

    An existing query string is kept (``/feed/?cat=3`` → ``/feed/?cat=3&paged=2``) and an existing
    ``paged`` parameter is replaced; the fragment is dropped. The rest of the query is copied as
    written, not re-encoded, so the server sees exactly what the configured URL says.
    """
    parts = urlsplit(feed_url.strip())
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] != "paged"]
    urls = []
    for page in range(2, pages + 1):
        query = "&".join([*kept, f"paged={page}"])
        urls.append(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")))
    return urls
