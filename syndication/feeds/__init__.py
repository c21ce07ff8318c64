"""Feed parsing and polling: bytes → entries with stable identities; one conditional poll per feed."""

from syndication.feeds.backfill import backfill_urls
from syndication.feeds.identity import content_hash, entry_id
from syndication.feeds.parse import ParsedFeed, parse_feed, read_feed
from syndication.feeds.poll import FeedState, PollResult, poll_feed

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
