"""One poll of one feed: conditional GET, then parse; no database.

``poll_feed`` turns whatever happens into a ``PollResult`` (it raises nothing the fetcher raises):
the pipeline stores the validators, the new URL after a permanent redirect, the entries, and when to
try again, then moves on to the next feed. One bad feed never stops a run.

=====================  =========================================================================
outcome                when
=====================  =========================================================================
``ok``                 200 with a feed (possibly with ``entries.problems``)
``not_modified``       304 to our ``If-None-Match`` / ``If-Modified-Since``: nothing is parsed
``gone``               410: the publisher retired the feed; stop polling it
``deferred``           ``next_poll_after`` is still in the future: no request is made
``error``              anything else; ``error_kind`` says ``transient`` (retry: timeout, reset,
                       429, 5xx) or ``terminal`` (404, 403, blocked address, too large, a 200 whose
                       body is not a feed); ``retry_after`` is set from ``Retry-After``
=====================  =========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from syndication.errors import FetchError
from syndication.feeds.parse import read_feed
from syndication.fetch.fetcher import Fetcher
from syndication.models import FeedEntries

Outcome = Literal["ok", "not_modified", "gone", "deferred", "error"]
ErrorKind = Literal["transient", "terminal"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)


@dataclass(frozen=True)
class FeedState:
    """What the pipeline remembers about a feed between polls."""

    url: str
    """Current URL (updated after a permanent redirect)."""
    etag: str | None = None
    last_modified: str | None = None
    next_poll_after: datetime | None = None
    """Do not poll before this moment (set from ``Retry-After``); naive values are taken as UTC."""


@dataclass(frozen=True)
class PollResult:
    outcome: Outcome
    entries: FeedEntries = field(default_factory=FeedEntries)
    etag: str | None = None
    """Validator to store for the next poll (the old one when the server did not send a new one on
    304 or when no request was made; ``None`` when a 200 came without one)."""
    last_modified: str | None = None
    new_url: str | None = None
    """The feed's new URL after a chain of permanent (301/308) redirects: store it."""
    error: str | None = None
    error_kind: ErrorKind | None = None
    retry_after: datetime | None = None
    """Earliest time for the next poll, from ``Retry-After`` (store as ``next_poll_after``)."""
    status: int | None = None


def poll_feed(fetcher: Fetcher, state: FeedState, *, now: datetime | None = None) -> PollResult:
    """Poll ``state.url`` once (see the module docstring for the outcomes)."""
    now = _aware(now) if now is not None else datetime.now(UTC)
    waiting_until = _aware(state.next_poll_after) if state.next_poll_after else None
    if waiting_until is not None and waiting_until > now:
        return PollResult(
            "deferred", etag=state.etag, last_modified=state.last_modified, retry_after=waiting_until
        )
    try:
        fetched = fetcher.get(
            state.url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT
        )
    except FetchError as exc:
        return _failed(exc, state, now)

    if fetched.not_modified:
        return PollResult(
            "not_modified",
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            new_url=fetched.permanent_url,
            status=fetched.status,
        )
    parsed = read_feed(fetched.content, fetched.final_url, content_type=fetched.headers.get("content-type"))
    if not parsed.is_feed:
        received = fetched.headers.get("content-type", "no Content-Type")
        reason = parsed.entries.problems[-1] if parsed.entries.problems else "no RSS or Atom found"
        return PollResult(
            "error",
            entries=parsed.entries,
            etag=state.etag,
            last_modified=state.last_modified,
            new_url=fetched.permanent_url,
            error=(
                f"{state.url} answered HTTP {fetched.status} ({received}) but {reason}; check that "
                "the configured URL is the feed (for WordPress usually …/feed/)"
            ),
            error_kind="terminal",
            status=fetched.status,
        )
    return PollResult(
        "ok",
        entries=parsed.entries,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        new_url=fetched.permanent_url,
        status=fetched.status,
    )


def _failed(exc: FetchError, state: FeedState, now: datetime) -> PollResult:
    gone = exc.status == 410
    retry_after = getattr(exc, "retry_after", None)
    return PollResult(
        "gone" if gone else "error",
        etag=state.etag,
        last_modified=state.last_modified,
        error=str(exc),
        error_kind="transient" if exc.transient else "terminal",
        retry_after=now + timedelta(seconds=retry_after) if retry_after is not None else None,
        status=exc.status,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
