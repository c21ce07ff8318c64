"""Everything the item page shows, gathered in one read transaction (no HTTP here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from syndication.review import ItemDetail, SegmentView, item_detail
from syndication.review.queries import DeliveryView, next_item
from syndication.store import (
    Post,
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
    next_translation_id: int | None = None
    """The next item of this language waiting for review (the queue's order), if any."""

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


def item_page(session: Session, translation_id: int) -> ItemPage:
    detail = item_detail(session, translation_id)
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
        flagged_open=sum(1 for row in rows if row.flagged and row.view.state != "approved"),
        item_version=translation.version,
        current_translation_id=current_id,
        linked=linked,
        linked_from=linked_from,
        channels=channels,
        next_translation_id=next_item(session, translation_id, item.lang),
    )
