"""Feed parsing and polling: bytes → entries with stable identities; one conditional poll per feed.

The names below load on first use (feedparser is heavy): ``syndicate --help`` mounts the
``syndicate feeds`` group from ``syndication.feeds.cli`` without importing them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syndication.feeds.backfill import backfill_urls
    from syndication.feeds.identity import content_hash, entry_id
    from syndication.feeds.parse import ParsedFeed, parse_feed, read_feed
    from syndication.feeds.poll import FeedState, PollResult, poll_feed

_WHERE = {
    "backfill_urls": "backfill",
    "content_hash": "identity",
    "entry_id": "identity",
    "ParsedFeed": "parse",
    "parse_feed": "parse",
    "read_feed": "parse",
    "FeedState": "poll",
    "PollResult": "poll",
    "poll_feed": "poll",
}

__all__ = [
    "FeedState",
    "ParsedFeed",
    "PollResult",
    "backfill_urls",
    "content_hash",
    "entry_id",
    "parse_feed",
    "poll_feed",
    "read_feed",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
