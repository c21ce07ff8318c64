"""Older posts of a WordPress feed, page by page (``?paged=N``); no database.

WordPress serves the newest ``posts_per_rss`` entries (10 by default) at ``/feed/`` and older ones
at ``/feed/?paged=2``, ``?paged=3`` …; past the last page it answers 404. :func:`walk_pages` reads
pages from 1 until one of these says there is nothing more to read:

- the page limit (``pages``) is reached;
- a 404 or 410 after page 1 (past the last page);
- a page with no entries;
- a page whose entries were all seen on earlier pages (a site that ignores ``paged`` and serves the
  first page again would otherwise be walked for ever);
- with ``since``: a page whose oldest dated entry is older than ``since`` (entries come newest
  first, so every later page is older still);
- ``max_pages`` (a safety cap).

A page that fails otherwise (timeout, 5xx, not a feed) raises, naming the page: what was walked
before it is kept by the caller, and a second run continues from the start cheaply (entries already
stored are skipped by their identity).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit, urlunsplit

from syndication.errors import FeedError, FetchError
from syndication.feeds.parse import read_feed
from syndication.feeds.poll import FEED_ACCEPT
from syndication.fetch.fetcher import Fetcher
from syndication.models import Entry

MAX_PAGES = 10_000
"""Safety cap for a walk without ``pages``: 100,000 posts at WordPress's default 10 per page."""


def page_url(feed_url: str, page: int) -> str:
    """The URL of feed page ``page`` (1 = ``feed_url`` itself, as configured).

    An existing query string is kept (``/feed/?cat=3`` → ``/feed/?cat=3&paged=2``) and an existing
    ``paged`` parameter is replaced; the fragment is dropped. The rest of the query is copied as
    written, not re-encoded, so the server sees exactly what the configured URL says.
    """
    if page <= 1:
        return feed_url.strip()
    parts = urlsplit(feed_url.strip())
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] != "paged"]
    query = "&".join([*kept, f"paged={page}"])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def backfill_urls(feed_url: str, pages: int) -> list[str]:
    """URLs of feed pages 2..``pages`` (WordPress ``?paged=N``); page 1 is ``feed_url`` itself."""
    return [page_url(feed_url, page) for page in range(2, pages + 1)]


def day_start(value: date | datetime) -> datetime:
    """``since`` as an aware moment: a date means the start of that day (UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def day_end(value: date | datetime) -> datetime:
    """``until`` as an aware, exclusive moment: a date means the whole of that day (UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class FeedPage:
    number: int
    url: str
    entries: list[Entry]
    """The page's entries inside the date range (entries without a date are always kept)."""
    read: int
    """Entries on the page, in range or not."""
    last: bool = False
    """No page after this one will be read."""
    problems: list[str] = field(default_factory=list)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def walk_pages(
    fetcher: Fetcher,
    feed_url: str,
    *,
    pages: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    max_pages: int = MAX_PAGES,
) -> Iterator[FeedPage]:
    """Feed pages 1, 2, … of ``feed_url`` with their entries in [``since``, ``until``] (see the
    module docstring for when the walk ends). Raises ``FeedError`` for a page that cannot be read."""
    if pages is not None and pages < 1:
        return
    start = day_start(since) if since is not None else None
    end = day_end(until) if until is not None else None
    if start is not None and end is not None and start >= end:
        raise FeedError(f"backfill range is empty: since {since} is not before until {until}", url=feed_url)
    limit = min(pages, max_pages) if pages is not None else max_pages
    seen: set[str] = set()
    for number in range(1, limit + 1):
        url = page_url(feed_url, number)
        try:
            fetched = fetcher.get(url, accept=FEED_ACCEPT)
        except FetchError as exc:
            if number > 1 and exc.status in (404, 410):
                return  # past the last page
            raise FeedError(f"backfill stopped at page {number}: {exc}", url=url) from exc
        parsed = read_feed(
            fetched.content, fetched.final_url, content_type=fetched.headers.get("content-type")
        )
        if not parsed.is_feed:
            raise FeedError(f"backfill stopped at page {number}: the answer is not a feed", url=url)
        entries = list(parsed.entries)
        fresh = [e for e in entries if e.entry_id not in seen]
        if not fresh:
            return  # an empty page, or the site ignores ?paged and repeats itself
        seen.update(e.entry_id for e in fresh)
        dated = [_aware(e.published) for e in fresh if e.published is not None]
        past_range = start is not None and bool(dated) and min(dated) < start
        kept = [
            e
            for e in fresh
            if e.published is None
            or (
                (start is None or _aware(e.published) >= start) and (end is None or _aware(e.published) < end)
            )
        ]
        last = past_range or number == limit
        yield FeedPage(
            number=number,
            url=url,
            entries=kept,
            read=len(entries),
            last=last,
            problems=list(parsed.entries.problems),
        )
        if last:
            return
