"""Read side of review: the queue and one item, shaped for the CLI and the web app alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from syndication.errors import ReviewError
from syndication.posts.removals import describe
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
from syndication.translations.qa import extraction_flags


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
    extraction_incomplete: bool = False
    """Part of the source could not be read: the item waits for a person (QA ``extraction_incomplete``)."""
    min_confidence: float | None = None
    """The engine's lowest confidence among the item's open machine segments (``None``: no engine
    confidence, or every open segment is an editor's): the "weakest first" queue order."""


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
    confidence: float | None = None
    """The engine's confidence in its output (0-1); ``None`` for human translations or engines
    that cannot say."""
    corrections: list[dict[str, Any]] = field(default_factory=list)
    """Learned corrections applied before review (``{id, term, wrong, right[, reverted]}``)."""


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
    source_flags: list[dict[str, str]] = field(default_factory=list)
    """QA flags of the whole item (``extraction_incomplete``: what of the source was lost)."""
    removed: list[dict[str, Any]] = field(default_factory=list)
    """What the sanitizer removed from the source: ``kind``, ``count``, ``detail`` and a ``summary``
    line for the editor ("1 embedded video removed (youtube.com)")."""


QueryT = TypeVar("QueryT", bound="Select[*tuple[Any, ...]]")


def _with_post(query: QueryT, filters: dict[str, Any]) -> QueryT:
    """Join the posts: for current items through ``current_revision_id`` alone (a revision belongs
    to one post), which PostgreSQL's planner estimates right. Given both columns it expects one
    row of 10,000 and sorts the whole queue for a page instead of walking the date index."""
    if filters.get("current_only", True):
        return query.join(Post, Post.current_revision_id == Translation.revision_id)
    return query.join(Post, Post.id == Translation.post_id)


def _filtered(query: QueryT, filters: dict[str, Any]) -> QueryT:
    """The queue's filters on a query over translations joined to posts (``_with_post``) and
    feeds."""
    if filters.get("status"):
        query = query.where(Translation.status == filters["status"])
    else:
        query = query.where(Translation.status != "superseded")
    if filters.get("lang"):
        query = query.where(Translation.lang == filters["lang"])
    if filters.get("langs") is not None:
        query = query.where(Translation.lang.in_(list(filters["langs"])))
    if filters.get("feed"):
        query = query.where(or_(Feed.name == filters["feed"], Feed.url == filters["feed"]))
    if filters.get("q"):
        query = query.where(_matches(str(filters["q"])))
    return query


def _matches(text: str) -> Any:
    """Items whose title, Danish text or translation contains ``text`` (any case). EXISTS
    subqueries, so every queue query (ids, count, rows) takes the filter without another join."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(
        exists().where(Revision.id == Translation.revision_id, Revision.title.ilike(pattern, escape="\\")),
        exists().where(
            TranslatedSegment.translation_id == Translation.id,
            TranslatedSegment.target.ilike(pattern, escape="\\"),
        ),
        exists().where(
            SegmentRow.revision_id == Translation.revision_id, SegmentRow.source.ilike(pattern, escape="\\")
        ),
    )


def _queue_rows(
    session: Session, *, limit: int | None = None, offset: int = 0, sort: str = "newest", **filters: Any
) -> list[QueueItem]:
    # Newest first through the (status, created_at, id) index; a page's ids are picked from the
    # narrow rows (translations and the posts index) before the wide ones are read for them
    # alone, so a deep page skips its offset cheaply.
    order: tuple[Any, ...] = (Translation.created_at.desc(), Translation.id.desc())
    if sort == "weakest":
        # Weakest first needs every matching item's lowest open machine confidence: one grouped
        # subquery in the database, still only a page of rows read back.
        lowest = (
            select(func.min(TranslatedSegment.confidence))
            .where(
                TranslatedSegment.translation_id == Translation.id,
                TranslatedSegment.state == "open",
                TranslatedSegment.origin != "human",
            )
            .correlate(Translation)
            .scalar_subquery()
        )
        order = (lowest.is_(None), lowest, *order)
    query = (
        _with_post(select(Translation, Post, Revision, Feed.name, Feed.url), filters)
        .join(Revision, Revision.id == Translation.revision_id)
        .outerjoin(Feed, Feed.id == Post.feed_id)
    )
    if offset or limit is not None:
        ids = _with_post(select(Translation.id), filters)
        if filters.get("feed"):
            ids = ids.outerjoin(Feed, Feed.id == Post.feed_id)
        ids = _filtered(ids, filters).order_by(*order).offset(offset or None).limit(limit)
        query = query.where(Translation.id.in_(ids.scalar_subquery()))
    else:
        query = _filtered(query, filters)
    query = query.order_by(*order)
    rows = session.execute(query).all()
    counts = _segment_counts(session, [t.id for t, *_ in rows])
    items = []
    for translation, post, revision, feed_name, feed_url in rows:
        total, open_count, flagged, weakest = counts.get(translation.id, (0, 0, 0, None))
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
                segments=total,
                open_segments=open_count,
                flagged_segments=flagged,
                engine=translation.engine,
                created_at=translation.created_at,
                decided_by=translation.decided_by,
                decided_at=translation.decided_at,
                error=translation.error,
                extraction_incomplete=bool(extraction_flags(revision.extraction)),
                min_confidence=weakest,
            )
        )
    return items


def _segment_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int, float | None]]:
    """(segments, open, open with QA flags, lowest confidence of the open machine segments) for the
    listed items only — never queue-wide."""
    counts: dict[int, tuple[int, int, int, float | None]] = {}
    for start in range(0, len(ids), 500):
        for tid, flags, state, origin, confidence in session.execute(
            select(
                TranslatedSegment.translation_id,
                TranslatedSegment.flags,
                TranslatedSegment.state,
                TranslatedSegment.origin,
                TranslatedSegment.confidence,
            ).where(TranslatedSegment.translation_id.in_(ids[start : start + 500]))
        ):
            total, open_count, flagged, weakest = counts.get(tid, (0, 0, 0, None))
            is_open = state == "open"
            if is_open and origin != "human" and confidence is not None:
                weakest = confidence if weakest is None else min(weakest, confidence)
            # A segment marked done is no longer open, but its QA flags still count until approval.
            unapproved = state != "approved"
            counts[tid] = (total + 1, open_count + is_open, flagged + (unapproved and bool(flags)), weakest)
    return counts


def list_items(
    session: Session,
    *,
    status: str | None = "machine_translated",
    lang: str | None = None,
    feed: str | None = None,
    current_only: bool = True,
    limit: int | None = None,
    offset: int = 0,
    sort: str = "newest",
    langs: Sequence[str] | None = None,
    q: str | None = None,
) -> list[QueueItem]:
    """The review queue, newest first; ``sort="weakest"``: lowest engine confidence of an open
    machine segment first (items without one last, newest first among equals); ``limit``/``offset``
    for one page of it (``queue_page`` adds the count); ``langs``: only these languages (an
    editor limited to some)."""
    if sort not in SORTS:
        raise ReviewError(f"unknown queue order {sort!r}: use one of {', '.join(SORTS)}")
    if (limit is not None and limit < 0) or offset < 0:
        raise ReviewError(f"a page needs a limit and an offset of 0 or more (got {limit}, {offset})")
    return _queue_rows(
        session,
        limit=limit,
        offset=offset,
        sort=sort,
        status=status,
        lang=lang,
        feed=feed,
        current_only=current_only,
        langs=langs,
        q=q,
    )


SORTS = ("newest", "weakest")


def count_items(
    session: Session,
    *,
    status: str | None = "machine_translated",
    lang: str | None = None,
    feed: str | None = None,
    current_only: bool = True,
    langs: Sequence[str] | None = None,
    q: str | None = None,
) -> int:
    """How many items ``list_items`` with the same filters lists, counted by the database."""
    filters = {
        "status": status,
        "lang": lang,
        "feed": feed,
        "current_only": current_only,
        "langs": langs,
        "q": q,
    }
    query = _with_post(select(func.count(Translation.id)), filters)
    if feed:
        query = query.outerjoin(Feed, Feed.id == Post.feed_id)
    return session.scalar(_filtered(query, filters)) or 0


def awaiting_per_language(session: Session) -> dict[str, int]:
    """Items of current revisions waiting for an editor, per language (one grouped count)."""
    filters = {"status": "machine_translated"}
    query = _filtered(
        _with_post(select(Translation.lang, func.count(Translation.id)), filters).group_by(Translation.lang),
        filters,
    )
    return {lang: count for lang, count in session.execute(query)}


def current_per_state(session: Session) -> dict[tuple[str, str], int]:
    """Items of current revisions per (state, language), in one grouped count: what the queue's
    "all" view needs for its total and its tabs alike (it reads every current item anyway)."""
    query = _with_post(select(Translation.status, Translation.lang, func.count(Translation.id)), {}).group_by(
        Translation.status, Translation.lang
    )
    return {(status, lang): count for status, lang, count in session.execute(query)}


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: its items, where it starts, and how many match in all."""

    items: list[QueueItem]
    total: int
    offset: int
    limit: int

    @property
    def first(self) -> int:
        """1-based position of the page's first item (0 on an empty page)."""
        return self.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)

    @property
    def more(self) -> int:
        """Items after this page."""
        return max(0, self.total - self.last)

    @property
    def next_offset(self) -> int | None:
        return self.last if self.more else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def queue_page(
    session: Session,
    *,
    limit: int,
    offset: int = 0,
    status: str | None = "machine_translated",
    lang: str | None = None,
    feed: str | None = None,
    current_only: bool = True,
    total: int | None = None,
    sort: str = "newest",
    langs: Sequence[str] | None = None,
    q: str | None = None,
) -> QueuePage:
    """``limit`` items of the queue from ``offset`` (newest first) and the count of all that match
    (``total`` when the caller knows it already, e.g. from ``awaiting_per_language``): what the
    review app's queue page shows."""
    if limit < 1:
        raise ReviewError(f"a page holds at least one item (got a limit of {limit})")
    items = list_items(
        session,
        limit=limit,
        offset=offset,
        sort=sort,
        status=status,
        lang=lang,
        feed=feed,
        current_only=current_only,
        langs=langs,
        q=q,
    )
    if total is None:
        total = count_items(
            session, status=status, lang=lang, feed=feed, current_only=current_only, langs=langs, q=q
        )
    return QueuePage(items=items, total=total, offset=offset, limit=limit)


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
            TranslatedSegment.confidence,
            TranslatedSegment.corrections,
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
            confidence=None if origin == "human" else confidence,
            corrections=list(corrections or []),
        )
        for (key, kind, position, source, markup, target, origin, state, flags, previous_source, version,
             updated_by, confidence, corrections) in rows
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


def item_detail(session: Session, translation_id: int) -> ItemDetail:
    """One review item with everything an editor sees, read for one page view: only this item's
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
        flagged_segments=sum(1 for s in segments if s.state != "approved" and s.flags),
        engine=translation.engine,
        created_at=translation.created_at,
        decided_by=translation.decided_by,
        decided_at=translation.decided_at,
        error=translation.error,
        extraction_incomplete=bool(extraction_flags(revision.extraction)),
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
        source_flags=[{"code": f.code, "message": f.message} for f in extraction_flags(revision.extraction)],
        removed=[
            {**r, "summary": describe(r)}
            for r in (revision.extraction or {}).get("removed", [])
            if isinstance(r, dict)
        ],
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


def next_item(session: Session, translation_id: int, lang: str) -> int | None:
    """The item after ``translation_id`` in the queue's default order (newest first) among the
    current items of ``lang`` waiting for review; from the top again when it was the last. ``None``
    when nothing else waits."""
    filters: dict[str, Any] = {"status": "machine_translated", "lang": lang}
    here = session.execute(
        select(Translation.created_at, Translation.id).where(Translation.id == translation_id)
    ).first()
    base = _filtered(_with_post(select(Translation.id), filters), filters).where(
        Translation.id != translation_id
    )
    order = (Translation.created_at.desc(), Translation.id.desc())
    if here is not None:
        created, tid = here
        after = base.where(
            or_(
                Translation.created_at < created,
                and_(Translation.created_at == created, Translation.id < tid),
            )
        )
        found = session.scalar(after.order_by(*order).limit(1))
        if found is not None:
            return int(found)
    found = session.scalar(base.order_by(*order).limit(1))
    return int(found) if found is not None else None
