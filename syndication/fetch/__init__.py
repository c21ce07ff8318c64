"""Polite, safe HTTP: the only way the pipeline reads from the network.

``Fetcher`` (conditional GET, redirects checked hop by hop, size cap, per-host pacing,
``Retry-After``, robots.txt), the address guard against private/loopback targets, and
``decode_html`` for turning page bytes into text.
"""

from syndication.fetch.encoding import Decoded, decode_document, decode_html
from syndication.fetch.fetcher import Fetcher
from syndication.fetch.guard import check_url
from syndication.fetch.result import FetchResult
from syndication.fetch.retry_after import parse_retry_after

__all__ = [
    "Decoded",
    "FetchResult",
    "Fetcher",
    "check_url",
    "decode_document",
    "decode_html",
    "parse_retry_after",
]
