"""Read side of review: the queue and one item, shaped for the CLI and the web app alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from syndication.errors import ReviewError
from syndication.store import (
    Delivery,
    Feed,
    Post,
    PostLink,
    ReviewEvent,
    Revision,
    SegmentRow,
    TranslatedSegment,
    Translation,
)


@dataclass(frozen=True)
class QueueItem:
    translation_id: int
    post_id: int
    post_key: str
    url: str
    title: str
    lang: str
    status: str
    kind: str
    feed: str | None
    revision: str
    is_current: bool
    segments: int
    open_segments: int
    flagged_segments: int
    engine: str | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class SegmentView:
    key: str
    kind: str
    position: int
    source: str
    target: str
    markup: dict[str, str]
    origin: str
    state: str
    flags: list[dict[str, str]]
    previous_source: str | None
    version: int
    updated_by: str | None


@dataclass(frozen=True)
class DeliveryView:
    id: int
    channel: str
    target: str
    action: str
    state: str
    error: str | None
    remote_url: str | None
    sent_at: datetime | None


@dataclass
class ItemDetail:
    item: QueueItem
    segments: list[SegmentView]
    source_html: str
    excerpt: str | None
    author: str | None
    published_at: datetime | None
    linked_articles: list[tuple[int, str, str]] = field(default_factory=list)
    """(post id, title, url) of the articles this post links to."""
    linked_from: list[tuple[int, str, str]] = field(default_factory=list)
    deliveries: list[DeliveryView] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _queue_rows(session: Session, translation_ids: list[int] | None, **filters: Any) -> list[QueueItem]:
    stats = (
        select(
            TranslatedSegment.translation_id.label("tid"),
            func.count().label("total"),
            func.sum(case((TranslatedSegment.state == "open", 1), else_=0)).label("open"),
        )
        .group_by(TranslatedSegment.translation_id)
        .subquery()
    )
    query = (
        select(Translation, Post, Revision, Feed.name, Feed.url, stats.c.total, stats.c.open)
        .join(Post, Post.id == Translation.post_id)
        .join(Revision, Revision.id == Translation.revision_id)
        .outerjoin(Feed, Feed.id == Post.feed_id)
        .outerjoin(stats, stats.c.tid == Translation.id)
        .order_by(Translation.created_at.desc(), Translation.id.desc())
    )
    if translation_ids is not None:
        query = query.where(Translation.id.in_(translation_ids))
    if filters.get("status"):
        query = query.where(Translation.status == filters["status"])
    else:
        query = query.where(Translation.status != "superseded")
    if filters.get("lang"):
        query = query.where(Translation.lang == filters["lang"])
    if filters.get("feed"):
        query = query.where(or_(Feed.name == filters["feed"], Feed.url == filters["feed"]))
    if filters.get("current_only", True):
        query = query.where(Post.current_revision_id == Translation.revision_id)
    rows = session.execute(query).all()
    flagged = _flag_counts(session, [t.id for t, *_ in rows])
    items = []
    for translation, post, revision, feed_name, feed_url, total, open_count in rows:
        items.append(
            QueueItem(
                translation_id=translation.id,
                post_id=post.id,
                post_key=post.post_key,
                url=post.url,
                title=revision.title,
                lang=translation.lang,
                status=translation.status,
                kind=post.kind,
                feed=feed_name or feed_url,
                revision=revision.content_hash,
                is_current=post.current_revision_id == revision.id,
                segments=int(total or 0),
                open_segments=int(open_count or 0),
                flagged_segments=flagged.get(translation.id, 0),
                engine=translation.engine,
                created_at=translation.created_at,
                decided_by=translation.decided_by,
                decided_at=translation.decided_at,
                error=translation.error,
            )
        )
    return items


def _flag_counts(session: Session, ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    if not ids:
        return counts
    for tid, flags, state in session.execute(
        select(TranslatedSegment.translation_id, TranslatedSegment.flags, TranslatedSegment.state).where(
            TranslatedSegment.translation_id.in_(ids)
        )
    ):
        if flags and state == "open":
            counts[tid] = counts.get(tid, 0) + 1
    return counts


def list_items(
    session: Session,
    *,
    status: str | None = "machine_translated",
    lang: str | None = None,
    feed: str | None = None,
    current_only: bool = True,
) -> list[QueueItem]:
    """The review queue, newest first."""
    return _queue_rows(session, None, status=status, lang=lang, feed=feed, current_only=current_only)


def queue_item(session: Session, translation_id: int) -> QueueItem:
    rows = _queue_rows(session, [translation_id], status=None, current_only=False)
    if not rows:
        raise ReviewError(f"no translation with id {translation_id}")
    return rows[0]


def segments_of(session: Session, translation_id: int) -> list[SegmentView]:
    rows = session.execute(
        select(SegmentRow, TranslatedSegment)
        .join(TranslatedSegment, TranslatedSegment.segment_id == SegmentRow.id)
        .where(TranslatedSegment.translation_id == translation_id)
        .order_by(SegmentRow.position)
    )
    return [
        SegmentView(
            key=src.key,
            kind=src.kind,
            position=src.position,
            source=src.source,
            target=tgt.target,
            markup=dict(src.markup),
            origin=tgt.origin,
            state=tgt.state,
            flags=list(tgt.flags or []),
            previous_source=tgt.previous_source,
            version=tgt.version,
            updated_by=tgt.updated_by,
        )
        for src, tgt in rows
    ]


def item_detail(session: Session, translation_id: int) -> ItemDetail:
    item = queue_item(session, translation_id)
    translation = session.get(Translation, translation_id)
    assert translation is not None
    revision = session.get(Revision, translation.revision_id)
    assert revision is not None
    linked = session.execute(
        select(Post.id, Post.title, Post.url)
        .join(PostLink, PostLink.target_post_id == Post.id)
        .where(PostLink.source_post_id == item.post_id)
        .order_by(Post.id)
    )
    linked_from = session.execute(
        select(Post.id, Post.title, Post.url)
        .join(PostLink, PostLink.source_post_id == Post.id)
        .where(PostLink.target_post_id == item.post_id)
        .order_by(Post.id)
    )
    deliveries = [
        DeliveryView(d.id, d.channel, d.target, d.action, d.state, d.error, d.remote_url, d.sent_at)
        for d in session.scalars(
            select(Delivery)
            .where(Delivery.post_id == item.post_id, Delivery.lang == item.lang)
            .order_by(Delivery.id.desc())
        )
    ]
    events = [
        {
            "action": e.action,
            "actor": e.actor,
            "segment": e.segment_key,
            "before": e.before,
            "after": e.after,
            "comment": e.comment,
            "at": e.at,
        }
        for e in session.scalars(
            select(ReviewEvent).where(ReviewEvent.translation_id == translation_id).order_by(ReviewEvent.id)
        )
    ]
    return ItemDetail(
        item=item,
        segments=segments_of(session, translation_id),
        source_html=revision.html,
        excerpt=revision.excerpt,
        author=revision.author,
        published_at=revision.published_at,
        linked_articles=[(i, t or u, u) for i, t, u in linked],
        linked_from=[(i, t or u, u) for i, t, u in linked_from],
        deliveries=deliveries,
        events=events,
    )


def resolve_post(session: Session, ref: str) -> Post:
    """A post by numeric id, key (GUID) or URL."""
    post: Post | None = None
    if ref.isdigit():
        post = session.get(Post, int(ref))
    if post is None:
        post = session.scalars(
            select(Post).where(or_(Post.post_key == ref, Post.url == ref, Post.url == ref.rstrip("/") + "/"))
        ).first()
    if post is None:
        raise ReviewError(f"no post matches {ref!r}; `syndicate review list` shows ids and URLs")
    return post


def current_translation(session: Session, post: Post, lang: str) -> Translation:
    translation = session.scalars(
        select(Translation).where(
            Translation.post_id == post.id,
            Translation.revision_id == post.current_revision_id,
            Translation.lang == lang,
        )
    ).one_or_none()
    if translation is None:
        raise ReviewError(f"no {lang} translation of the current revision yet", post=post.post_key, lang=lang)
    return translation
