"""A page that fails is tried again on a schedule, and never given up silently.

The life of a post's page, as stored on ``Post``::

    new ──► extracted ◄──────────────────────────────┐  (a success resets ``attempts``)
     │          │ a re-check (linked articles)       │
     ▼          ▼ fails                              │
    waiting ── next_attempt_at reached: tried again ─┘
     │   ▲
     │   └── ``syndicate posts retry`` (due now; a ``failed`` post starts the schedule over)
     ▼
    failed  after 1 + len(pages.retry_schedule) tries; listed until a person acts

Every failure (404, 401/403, robots.txt or the address guard, too large, timeouts, 5xx, no article
text) counts one try and waits ``pages.retry_schedule[tries - 1]`` (10 min, 1 h, 6 h, 1 d, 3 d by
default; longer when the server's ``Retry-After`` says so, up to ``pages.max_defer``).

A host that says "later" (``Retry-After``, 429, 503) is not asked again in the same run: its other
pages are *deferred* (``waiting``, ``error_kind = "deferred"``, no try counted) to the next run or
to the moment the server named. Deferrals are notes of the run (``RunSummary.pages_deferred``),
not errors: nothing was tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from syndication.errors import SyndicationError, TransientFetchError
from syndication.settings import PageSettings
from syndication.store import Post
from syndication.timefmt import human_duration

DEFERRED = "deferred"
"""``Post.error_kind`` of a page not requested because its host asked to wait."""
PROBLEM_STATES = ("waiting", "failed")
LATER_STATUSES = frozenset({429, 503})


def host_of(url: str) -> str:
    from syndication.fetch.guard import normalize_host

    try:
        return normalize_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def says_later(exc: BaseException) -> bool:
    """Whether the server asked us to come back later (rather than the page being broken)."""
    return isinstance(exc, TransientFetchError) and (
        exc.status in LATER_STATUSES or exc.retry_after is not None
    )


class PageDeferred(Exception):
    """The page was not requested: its host asked to wait earlier in this run."""

    def __init__(self, host: str, reason: str, until: datetime | None) -> None:
        super().__init__(reason)
        self.host = host
        self.reason = reason
        self.until = until


@dataclass
class HostDeferrals:
    """The hosts that said "later" during one run."""

    now: datetime
    max_defer: float
    _hosts: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    """Host → (why its pages are not requested, when they are due again; None: next run)."""

    def check(self, url: str) -> None:
        """Raise ``PageDeferred`` when ``url``'s host asked to wait earlier in this run."""
        host = host_of(url)
        if host in self._hosts:
            reason, until = self._hosts[host]
            raise PageDeferred(host, reason, until)

    def note(self, url: str, exc: BaseException) -> None:
        """Remember ``url``'s host as deferred when ``exc`` is the server saying "later"."""
        if not says_later(exc):
            return
        assert isinstance(exc, TransientFetchError)
        host = host_of(url)
        wait = min(exc.retry_after, self.max_defer) if exc.retry_after is not None else None
        until = self.now + timedelta(seconds=wait) if wait else None
        asked = f"HTTP {exc.status}" if exc.status else "the server"
        if exc.retry_after is not None:
            asked += f", Retry-After {human_duration(exc.retry_after)}"
        self._hosts[host] = (f"not requested: {host} asked us to wait ({asked})", until)

    @property
    def hosts(self) -> list[str]:
        return list(self._hosts)


def queued_clause(now: datetime) -> ColumnElement[bool]:
    """Posts the extract stage takes up: new ones, and waiting ones whose time has come."""
    return or_(
        Post.status == "new",
        and_(
            Post.status == "waiting",
            or_(Post.next_attempt_at.is_(None), Post.next_attempt_at <= now),
        ),
    )


def is_queued(post: Post, now: datetime) -> bool:
    return post.status == "new" or (
        post.status == "waiting" and (post.next_attempt_at is None or post.next_attempt_at <= now)
    )


def recheck_clause(now: datetime, interval: float) -> ColumnElement[bool]:
    """Extracted linked articles not fetched for ``interval`` seconds (never, when 0)."""
    if interval <= 0:
        return and_(Post.id.is_(None), Post.id.is_not(None))  # matches nothing
    return and_(
        Post.kind == "linked",
        Post.status == "extracted",
        or_(Post.checked_at.is_(None), Post.checked_at <= now - timedelta(seconds=interval)),
    )


def is_recheck_due(post: Post, now: datetime, interval: float) -> bool:
    if interval <= 0 or post.kind != "linked" or post.status != "extracted":
        return False
    return post.checked_at is None or post.checked_at <= now - timedelta(seconds=interval)


def record_success(post: Post) -> None:
    post.status, post.last_error, post.error_kind = "extracted", None, None
    post.attempts, post.next_attempt_at = 0, None


def record_failure(post: Post, exc: BaseException, *, now: datetime, settings: PageSettings) -> None:
    """One more failed try: ``waiting`` until the schedule's next step, or ``failed`` after the last."""
    # A post queued afresh (new, or an edited feed entry) starts the schedule from the beginning.
    earlier = post.attempts if post.status in PROBLEM_STATES else 0
    post.attempts = earlier + 1
    post.last_error = str(exc)
    post.error_kind = exc.kind if isinstance(exc, SyndicationError) else "terminal"
    schedule = settings.retry_schedule
    if post.attempts > len(schedule):
        post.status, post.next_attempt_at = "failed", None
        return
    delay = schedule[post.attempts - 1]
    retry_after = exc.retry_after if isinstance(exc, TransientFetchError) else None
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.max_defer))
    post.status, post.next_attempt_at = "waiting", now + timedelta(seconds=delay)


def record_deferral(post: Post, deferred: PageDeferred) -> None:
    """Not requested this run; no try counted. An extracted post (a re-check) stays as it is:
    its check is simply still due on the next run."""
    if post.status == "extracted":
        return
    post.status, post.error_kind = "waiting", DEFERRED
    post.last_error = deferred.reason
    post.next_attempt_at = deferred.until


def retry_now(posts: Sequence[Post]) -> list[Post]:
    """Make waiting and failed posts due on the next run; a ``failed`` one gets the whole schedule
    again. Returns the posts changed (others were not waiting or failed)."""
    changed: list[Post] = []
    for post in posts:
        if post.status not in PROBLEM_STATES:
            continue
        if post.status == "failed":
            post.attempts = 0
        post.status, post.next_attempt_at = "waiting", None
        changed.append(post)
    return changed


def problem_posts(session: Session, *, state: str | None = None, limit: int | None = None) -> list[Post]:
    """Waiting and failed posts (or those of ``state``), failed first, then by next try."""
    states = [state] if state else list(PROBLEM_STATES)
    query = (
        select(Post)
        .where(Post.status.in_(states))
        .order_by(Post.status.desc(), Post.next_attempt_at.is_(None), Post.next_attempt_at, Post.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def describe(post: Post, settings: PageSettings, *, now: datetime) -> dict[str, Any]:
    """One waiting or failed post as plain data (``status``, ``posts list``)."""
    from syndication.timefmt import human_when

    tries = len(settings.retry_schedule) + 1
    if post.status == "failed":
        next_try = "after `syndicate posts retry`"
    elif post.next_attempt_at is None or post.next_attempt_at <= now:
        next_try = "on the next run"
    else:
        next_try = human_when(post.next_attempt_at, now=now)
    return {
        "id": post.id,
        "post": post.post_key,
        "url": post.url,
        "kind": post.kind,
        "state": post.status,
        "error_kind": post.error_kind,
        "reason": post.last_error,
        "attempts": post.attempts,
        "tries": tries,
        "next_attempt_at": post.next_attempt_at.isoformat() if post.next_attempt_at else None,
        "next_try": next_try,
    }
