"""Everything the item page shows, gathered in one read transaction (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from syndication.errors import ReviewError
from syndication.review import ItemDetail, QueueItem, SegmentView
from syndication.review.queries import DeliveryView
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
from syndication.web.editor import chips_html, source_diff

KIND_LABELS = {
    "title": "Title",
    "excerpt": "Excerpt",
    "block": "",
    "alt": "Image alt text",
    "caption": "Caption",
}


@dataclass(frozen=True)
class SegmentLine:
    """One segment as the page shows it."""

    view: SegmentView
    label: str
    source_html: Markup
    target_html: Markup
    diff_html: Markup | None
    """Word diff from the previously approved source, for a segment the source change reopened."""

    @property
    def flagged(self) -> bool:
        return bool(self.view.flags)


@dataclass(frozen=True)
class LinkedArticle:
    post_id: int
    title: str
    url: str
    translation_id: int | None
    status: str | None


@dataclass
class ItemPage:
    detail: ItemDetail
    rows: list[SegmentLine]
    flagged_open: int
    item_version: int
    current_translation_id: int | None
    """The item for the post's current revision when this one is stale, else ``None``."""
    linked: list[LinkedArticle] = field(default_factory=list)
    linked_from: list[LinkedArticle] = field(default_factory=list)
    channels: dict[str, list[DeliveryView]] = field(default_factory=dict)

    @property
    def item(self) -> Any:
        return self.detail.item

    @property
    def open_segments(self) -> int:
        return sum(1 for row in self.rows if row.view.state == "open")

    @property
    def reopened(self) -> int:
        return sum(1 for row in self.rows if row.diff_html is not None)


def segment_line(view: SegmentView) -> SegmentLine:
    diff = None
    if view.previous_source is not None and view.state == "open":
        diff = source_diff(view.previous_source, view.source, view.markup)
    label = KIND_LABELS.get(view.kind, view.kind)
    return SegmentLine(
        view=view,
        label=label,
        source_html=chips_html(view.source, view.markup),
        target_html=chips_html(view.target, view.markup),
        diff_html=diff,
    )


def _translation_for(session: Session, post_id: int, lang: str) -> tuple[int | None, str | None]:
    row = session.execute(
        select(Translation.id, Translation.status)
        .join(Post, Post.id == Translation.post_id)
        .where(
            Translation.post_id == post_id,
            Translation.lang == lang,
            Translation.revision_id == Post.current_revision_id,
        )
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


def _segments(session: Session, translation_id: int) -> list[SegmentView]:
    rows = session.execute(
        select(
            SegmentRow.key,
            SegmentRow.kind,
            SegmentRow.position,
            SegmentRow.source,
            SegmentRow.markup,
            TranslatedSegment.target,
            TranslatedSegment.origin,
            TranslatedSegment.state,
            TranslatedSegment.flags,
            TranslatedSegment.previous_source,
            TranslatedSegment.version,
            TranslatedSegment.updated_by,
        )
        .join(TranslatedSegment, TranslatedSegment.segment_id == SegmentRow.id)
        .where(TranslatedSegment.translation_id == translation_id)
        .order_by(SegmentRow.position)
    )
    return [
        SegmentView(
            key=key,
            kind=kind,
            position=position,
            source=source,
            target=target,
            markup=dict(markup or {}),
            origin=origin,
            state=state,
            flags=list(flags or []),
            previous_source=previous_source,
            version=version,
            updated_by=updated_by,
        )
        for (key, kind, position, source, markup, target, origin, state, flags, previous_source, version,
             updated_by) in rows
    ]  # fmt: skip


def _links(session: Session, post_id: int, *, outgoing: bool) -> list[tuple[int, str, str]]:
    this, other = (
        (PostLink.source_post_id, PostLink.target_post_id)
        if outgoing
        else (PostLink.target_post_id, PostLink.source_post_id)
    )
    rows = session.execute(
        select(Post.id, Post.title, Post.url).join(PostLink, other == Post.id).where(this == post_id)
    )
    return [(i, t or u, u) for i, t, u in rows]


def load_detail(session: Session, translation_id: int) -> ItemDetail:
    """What ``syndication.review.item_detail`` gives, read for one page view: only this item's
    rows (no queue-wide aggregate, which grows with the database), segment columns without ORM
    objects (the page's largest read), and superseded items too (their page says what replaced them).
    """
    found = session.execute(
        select(Translation, Post, Revision, Feed.name, Feed.url)
        .join(Post, Post.id == Translation.post_id)
        .join(Revision, Revision.id == Translation.revision_id)
        .outerjoin(Feed, Feed.id == Post.feed_id)
        .where(Translation.id == translation_id)
    ).one_or_none()
    if found is None:
        raise ReviewError(f"no translation with id {translation_id}")
    translation, post, revision, feed_name, feed_url = found
    segments = _segments(session, translation_id)
    item = QueueItem(
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
        segments=len(segments),
        open_segments=sum(1 for s in segments if s.state == "open"),
        flagged_segments=sum(1 for s in segments if s.state == "open" and s.flags),
        engine=translation.engine,
        created_at=translation.created_at,
        decided_by=translation.decided_by,
        decided_at=translation.decided_at,
        error=translation.error,
    )
    deliveries = [
        DeliveryView(d.id, d.channel, d.target, d.action, d.state, d.error, d.remote_url, d.sent_at)
        for d in session.scalars(
            select(Delivery)
            .where(Delivery.post_id == post.id, Delivery.lang == translation.lang)
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
        segments=segments,
        source_html=revision.html,
        excerpt=revision.excerpt,
        author=revision.author,
        published_at=revision.published_at,
        linked_articles=_links(session, post.id, outgoing=True),
        linked_from=_links(session, post.id, outgoing=False),
        deliveries=deliveries,
        events=events,
    )


def item_page(session: Session, translation_id: int) -> ItemPage:
    detail = load_detail(session, translation_id)
    item = detail.item
    rows = [segment_line(view) for view in detail.segments]
    translation = session.get(Translation, translation_id)  # already in the session: no query
    assert translation is not None
    current_id = None
    if not item.is_current:
        current_id, _ = _translation_for(session, item.post_id, item.lang)
    linked = []
    for post_id, title, url in detail.linked_articles:
        tid, status = _translation_for(session, post_id, item.lang)
        linked.append(LinkedArticle(post_id, title, url, tid, status))
    linked_from = []
    for post_id, title, url in detail.linked_from:
        tid, status = _translation_for(session, post_id, item.lang)
        linked_from.append(LinkedArticle(post_id, title, url, tid, status))
    channels: dict[str, list[DeliveryView]] = {}
    for delivery in detail.deliveries:
        channels.setdefault(delivery.channel, []).append(delivery)
    return ItemPage(
        detail=detail,
        rows=rows,
        flagged_open=sum(1 for row in rows if row.flagged and row.view.state == "open"),
        item_version=translation.version,
        current_translation_id=current_id,
        linked=linked,
        linked_from=linked_from,
        channels=channels,
    )
