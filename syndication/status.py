"""``syndicate status``: counts per stage and per delivery state, what failed last and why, and the
pages waiting for a retry (or failed for good) with their reason and next try."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syndication.settings import PageSettings
from syndication.store import Delivery, Post, Translation, utcnow

PAGES_LISTED = 50
"""Waiting and failed pages listed by ``status`` (all of them: ``syndicate posts list``)."""


def _pages(session: Session, settings: PageSettings, now: datetime) -> dict[str, Any]:
    """Posts whose page failed or was deferred: each with its reason and next try, until it
    succeeds or a person acts (``syndicate posts retry``)."""
    from syndication.page_retries import describe, problem_posts

    counts = _counts(session, Post.status)
    return {
        "waiting": counts.get("waiting", 0),
        "failed": counts.get("failed", 0),
        "listed": [describe(post, settings, now=now) for post in problem_posts(session, limit=PAGES_LISTED)],
    }


if TYPE_CHECKING:
    from syndication.settings import Settings


def _counts(session: Session, *group: Any) -> dict[str, int]:
    rows = session.execute(select(*group, func.count()).group_by(*group))
    return {"/".join(str(v) for v in row[:-1]): int(row[-1]) for row in rows}


def _current_translation_counts(session: Session) -> dict[str, int]:
    """Items per language and status for each post's current revision: what is live, waiting or
    failed now. Decisions on earlier revisions stay in the history (an approved old revision stays
    ``approved``) and would otherwise be counted again after every edit of a post."""
    rows = session.execute(
        select(Translation.lang, Translation.status, func.count())
        .join(Post, Post.id == Translation.post_id)
        .where(Translation.revision_id == Post.current_revision_id)
        .group_by(Translation.lang, Translation.status)
    )
    return {f"{lang}/{state}": int(count) for lang, state, count in rows}


def status(
    session: Session,
    *,
    failures: int = 10,
    settings: Settings | None = None,
    pages: PageSettings | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    from syndication.feeds.health import feed_report

    # With the settings: configured feeds not polled yet too, and the next poll by their policy.
    feeds = feed_report(session, settings.feeds if settings else None, settings.polling if settings else None)
    failed: list[dict[str, Any]] = []
    for post in session.scalars(
        select(Post).where(Post.status == "failed").order_by(Post.updated_at.desc()).limit(failures)
    ):
        failed.append(
            {"stage": "extract", "post": post.post_key, "kind": post.error_kind, "error": post.last_error}
        )
    for translation, post in session.execute(
        select(Translation, Post)
        .join(Post, Post.id == Translation.post_id)
        .where(Translation.status == "failed")
        .order_by(Translation.updated_at.desc())
        .limit(failures)
    ):
        failed.append(
            {
                "stage": "translate",
                "post": post.post_key,
                "lang": translation.lang,
                "error": translation.error,
            }
        )
    for delivery, post in session.execute(
        select(Delivery, Post)
        .join(Post, Post.id == Delivery.post_id)
        .where(Delivery.state.in_(["failed", "uncertain"]))
        .order_by(Delivery.updated_at.desc())
        .limit(failures)
    ):
        failed.append(
            {
                "stage": "deliver",
                "id": delivery.id,
                "post": post.post_key,
                "lang": delivery.lang,
                "channel": delivery.channel,
                "target": delivery.target,
                "state": delivery.state,
                "kind": delivery.error_kind,
                "attempts": delivery.attempts,
                "error": delivery.error,
            }
        )
    return {
        "feeds": feeds,
        "pages": _pages(session, pages or (settings.pages if settings else PageSettings()), now or utcnow()),
        "posts": _counts(session, Post.kind, Post.status),
        "translations": _current_translation_counts(session),
        "deliveries": _counts(session, Delivery.channel, Delivery.state),
        "failures": failed,
    }
