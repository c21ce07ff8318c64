"""What one successful fetch returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FetchResult:
    url: str
    """The URL that was asked for."""
    final_url: str
    """Where the body came from, after redirects."""
    status: int
    headers: Mapping[str, str]
    """Response headers of the final response, keys in lower case."""
    content: bytes
    encoding: str | None
    """``charset`` from ``Content-Type`` as sent (``None`` when absent); decode with ``decode_html``."""
    not_modified: bool
    """The server answered 304 to our validators: nothing changed, ``content`` is empty."""
    etag: str | None
    """Validator to send next time. On a 304 without a new ``ETag`` it is the one we sent."""
    last_modified: str | None
    """Validator to send next time. On a 304 without a new ``Last-Modified`` it is the one we sent."""
    permanent_url: str | None
    """Set when every redirect on the way was permanent (301/308): the caller stores this URL."""
    elapsed: float
    """Seconds from the first request to the end of the body, retries and polite waits included."""
