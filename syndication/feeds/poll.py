"""One poll of one feed: conditional GET, then parse; no database.

``poll_feed`` turns whatever happens into a ``PollResult`` (it raises nothing the fetcher raises):
the pipeline stores the validators, the URL to poll next time, the entries, and when to try again,
then moves on to the next feed. One bad feed never stops a run.

=====================  =========================================================================
outcome                when
=====================  =========================================================================
``ok``                 200 with a feed (possibly with ``entries.problems`` and ``notes``)
``not_modified``       304 to our ``If-None-Match`` / ``If-Modified-Since``: nothing is parsed
``gone``               410 or 404: the feed is not there (the pipeline retires it only after
                       several such polls spread over days, see ``syndication.feeds.ingest``)
``deferred``           ``next_poll_after`` is still in the future: no request is made
``error``              anything else; ``error_kind`` says ``transient`` (retry: timeout, reset,
                       429, 5xx) or ``terminal`` (403, blocked address, too large, a 200 whose
                       body is not a feed, a 304 to a request that carried no validators);
                       ``retry_after`` is set from ``Retry-After``, cut to ``retry_after_cap``
=====================  =========================================================================

A feed that moved (a chain of 301/308) is polled at its new URL (``FeedState.url``) only while that
works: when the new URL fails, the configured one (``FeedState.configured_url``) is asked again in
the same poll if the new one answered at all (one more request), else on the next poll
(``new_url`` is the configured URL then); an error names both URLs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Literal

from syndication.errors import FetchError
from syndication.feeds.parse import read_feed
from syndication.fetch.fetcher import Fetcher
from syndication.fetch.retry_after import MAX_RETRY_AFTER
from syndication.models import FeedEntries
from syndication.timefmt import human_duration

Outcome = Literal["ok", "not_modified", "gone", "deferred", "error"]
ErrorKind = Literal["transient", "terminal"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
GONE_STATUSES = frozenset({404, 410})


@dataclass(frozen=True)
class FeedState:
    """What the pipeline remembers about a feed between polls."""

    url: str
    """Current URL (the new one after a permanent redirect)."""
    etag: str | None = None
    last_modified: str | None = None
    next_poll_after: datetime | None = None
    """Do not poll before this moment (set from ``Retry-After``); naive values are taken as UTC."""
    configured_url: str | None = None
    """The URL in the config, asked again when ``url`` (where it moved) fails; ``None``: ``url``."""


@dataclass(frozen=True)
class PollResult:
    outcome: Outcome
    entries: FeedEntries = field(default_factory=FeedEntries)
    etag: str | None = None
    """Validator to store for the next poll (the old one when the server did not send a new one on
    304 or when no request was made; ``None`` when a 200 came without one)."""
    last_modified: str | None = None
    new_url: str | None = None
    """The URL to poll next time when it changed: the feed's new URL after a chain of permanent
    (301/308) redirects, or the configured URL again after the new one failed. Store it."""
    error: str | None = None
    error_kind: ErrorKind | None = None
    retry_after: datetime | None = None
    """Earliest time for the next poll, from ``Retry-After`` (store as ``next_poll_after``)."""
    status: int | None = None
    poll_notes: tuple[str, ...] = ()
    """What this poll worked around without losing anything (a moved URL that failed while the
    configured one works); with ``entries.notes`` in ``notes``."""

    @property
    def notes(self) -> list[str]:
        return [*self.poll_notes, *self.entries.notes]


def poll_feed(
    fetcher: Fetcher,
    state: FeedState,
    *,
    now: datetime | None = None,
    retry_after_cap: float | None = None,
) -> PollResult:
    """Poll ``state.url`` once, falling back to ``state.configured_url`` (see the module docstring).

    ``retry_after_cap``: the longest a ``Retry-After`` may defer the next poll, in seconds.
    """
    now = _aware(now) if now is not None else datetime.now(UTC)
    waiting_until = deferred_until(state, now)
    if waiting_until is not None:
        return PollResult(
            "deferred", etag=state.etag, last_modified=state.last_modified, retry_after=waiting_until
        )
    configured = state.configured_url or state.url
    first = _poll_once(fetcher, state.url, state, configured, now, retry_after_cap)
    if first.outcome in ("ok", "not_modified") or state.url == configured:
        return first
    if first.status is None or first.error_kind == "transient":
        # No answer, or one saying "later": another request now would cost (or impose) as much again.
        return replace(
            first,
            new_url=configured,
            error=f"{first.error}; the configured URL {configured} is polled again next time",
        )
    # The configured URL is asked without the moved URL's validators: a full read, a fair answer.
    fresh = FeedState(configured, next_poll_after=None, configured_url=configured)
    second = _poll_once(fetcher, configured, fresh, configured, now, retry_after_cap)
    if second.outcome in ("ok", "not_modified"):
        note = (
            f"{first.error}; the configured URL {configured} works, so it is polled again "
            "(a later 301 is followed again)"
        )
        return replace(second, new_url=second.new_url or configured, poll_notes=(note, *second.poll_notes))
    return replace(
        second,
        etag=state.etag,
        last_modified=state.last_modified,
        new_url=second.new_url or configured,
        error=f"{first.error}; asked again, {second.error}",
    )


def deferred_until(state: FeedState, now: datetime) -> datetime | None:
    """When ``state.next_poll_after`` still lies ahead of ``now``: that moment (``poll_feed`` makes
    no request then); else ``None``."""
    waiting_until = _aware(state.next_poll_after) if state.next_poll_after else None
    return waiting_until if waiting_until is not None and waiting_until > _aware(now) else None


def _poll_once(
    fetcher: Fetcher,
    url: str,
    state: FeedState,
    configured: str,
    now: datetime,
    retry_after_cap: float | None,
) -> PollResult:
    try:
        fetched = fetcher.get(url, etag=state.etag, last_modified=state.last_modified, accept=FEED_ACCEPT)
    except FetchError as exc:
        return _failed(exc, url, state, configured, now, retry_after_cap)

    where = _where(fetched.final_url, url, configured)
    if fetched.not_modified:
        if not (state.etag or state.last_modified):
            # "Not modified since…" what? Taken at its word, the feed would never be read again.
            return PollResult(
                "error",
                new_url=fetched.permanent_url,
                error=(
                    f"{where} answered 304 Not Modified to a request without validators (no "
                    "If-None-Match or If-Modified-Since was sent): a fault of that server or of a "
                    "cache in front of it; nothing was read, the feed is asked again next time"
                ),
                error_kind="terminal",
                status=fetched.status,
            )
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
        advice = (
            "; check that the configured URL is the feed (for WordPress usually …/feed/)"
            if fetched.final_url == configured
            else ""
        )
        return PollResult(
            "error",
            entries=parsed.entries,
            etag=state.etag,
            last_modified=state.last_modified,
            new_url=fetched.permanent_url,
            error=f"{where} answered HTTP {fetched.status} ({received}) but {reason}{advice}",
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


def _failed(
    exc: FetchError,
    url: str,
    state: FeedState,
    configured: str,
    now: datetime,
    retry_after_cap: float | None,
) -> PollResult:
    asked_for = getattr(exc, "retry_after", None)
    wait = asked_for
    if wait is not None and retry_after_cap is not None:
        wait = min(wait, retry_after_cap)
    return PollResult(
        "gone" if exc.status in GONE_STATUSES else "error",
        etag=state.etag,
        last_modified=state.last_modified,
        error=_failure_text(exc, url, configured, asked_for, wait),
        error_kind="transient" if exc.transient else "terminal",
        retry_after=now + timedelta(seconds=wait) if wait is not None else None,
        status=exc.status,
    )


def _failure_text(
    exc: FetchError, url: str, configured: str, asked_for: float | None, wait: float | None
) -> str:
    """The error in words that name the URL that failed and, when it is not the configured one,
    how the feed got there; advice to check a URL only about the one in the config."""
    failed_at = exc.url or url
    where = _where(failed_at, url, configured)
    status = exc.status
    if status is None:
        return f"{where}: {exc.message}"
    text = f"{where} answered HTTP {status} {_phrase(status)}"
    if status == 410:
        text += " (the publisher says the feed was removed)"
    elif status == 404 and failed_at == configured:
        text += ": check the feed URL in the config"
    elif status in (401, 403):
        text += " (the server refuses us access)"
    if asked_for is not None and wait is not None:
        at_least = "at least " if asked_for >= MAX_RETRY_AFTER else ""  # the parser clamps to a year
        text += f" and asks us to wait {at_least}{human_duration(asked_for)}"
        if wait < asked_for:
            text += f"; waiting {human_duration(wait)} at most (polling.retry_after_cap)"
    return text


def _where(failed_at: str, url: str, configured: str) -> str:
    if failed_at == configured:
        return f"the configured URL {configured}"
    if url == configured:
        return f"{failed_at} (where the configured URL {configured} redirects)"
    if failed_at == url:
        return f"the feed's moved URL {url} (the configured URL {configured} redirected there)"
    return f"{failed_at} (reached from the feed's moved URL {url}; configured: {configured})"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
