"""The translated post as it will look, before it is approved.

``syndication.deliveries.stage.approved_item`` joins an *approved* translation for the channels;
this joins whatever the segments hold right now (edits included) the same way, and sanitizes the
result with the channels' own allow-list (nh3), because it is shown inside the review app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from syndication.deliveries.attribution import attribution_line
from syndication.deliveries.safe_html import clean_html, clean_inline
from syndication.errors import ReviewError, SyndicationError
from syndication.models import Segment
from syndication.segments import SplitDocument, join, plain_text
from syndication.store import Post, Revision, SegmentRow, TranslatedSegment, Translation

if TYPE_CHECKING:
    from syndication.context import RunContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preview:
    lang: str
    title: str
    excerpt: str
    html: str
    """Sanitized body HTML."""
    attribution: str
    """Sanitized inline HTML: "originally published in Danish at …"."""
    image_src: str | None
    image_alt: str
    published: datetime | None
    links: tuple[LinkNote, ...] = ()
    """Links to other items of the source, and where each channel will point them."""


@dataclass(frozen=True)
class LinkNote:
    href: str
    channel: str
    localized: str | None
    """Where the link will point on the channel (its copy of the item there), or ``None``: the
    item is not delivered there in this language yet, so the link keeps the original (and is
    updated once it is)."""


def link_notes(session: Session, ctx: RunContext, post_id: int, lang: str, html: str) -> tuple[LinkNote, ...]:
    """Which links of a translation will be localized on which channel (``deliveries.links``)."""
    from syndication.deliveries.links import Localizer, hrefs

    bases = list(
        dict.fromkeys(h.partition("#")[0] for h in hrefs(html) if h.startswith(("http://", "https://")))
    )
    if not bases:
        return ()
    try:
        channels = ctx.channels()
    except SyndicationError as exc:  # a channel's bad config must not take the preview down
        log.warning("preview: links not checked, the channels cannot be built: %s", exc)
        return ()
    localizer = Localizer(session)
    notes: list[LinkNote] = []
    for name, channel in channels.items():
        if lang not in ctx.channel_languages(name) or channel.at_most_once:
            continue
        for href in bases:
            posts, url = localizer.where(href, post_id, lang, name, channel)
            if posts:
                notes.append(LinkNote(href=href, channel=name, localized=url))
    return tuple(notes)


def current_preview(session: Session, translation_id: int, ctx: RunContext | None = None) -> Preview:
    """The translation as it reads now; with ``ctx``, also which links each channel will point to
    a translation."""
    translation = session.get(Translation, translation_id)
    if translation is None:
        raise ReviewError(f"no translation with id {translation_id}")
    revision = session.get(Revision, translation.revision_id)
    post = session.get(Post, translation.post_id)
    if revision is None or post is None:
        raise ReviewError(f"translation {translation_id} has no source revision")
    segments: list[Segment] = []
    targets: dict[str, str] = {}
    for source, target in session.execute(
        select(SegmentRow, TranslatedSegment)
        .join(TranslatedSegment, TranslatedSegment.segment_id == SegmentRow.id)
        .where(TranslatedSegment.translation_id == translation_id)
        .order_by(SegmentRow.position)
    ):
        segments.append(source.as_segment())
        targets[source.key] = target.target
    joined = join(SplitDocument(skeleton=revision.skeleton, segments=segments), targets)
    image = revision.featured_image or {}
    by_source = {plain_text(s.source): plain_text(targets[s.key]) for s in segments}
    alt = str(image.get("alt") or "")
    src = image.get("src")
    return Preview(
        lang=translation.lang,
        title=joined.title or revision.title,
        excerpt=joined.excerpt or "",
        html=clean_html(joined.html),
        attribution=clean_inline(
            attribution_line(
                translation.lang,
                site_name=post.site_name,
                author=revision.author,
                published=revision.published_at,
                url=revision.canonical or post.url,
                source_lang=post.source_lang,
            )
        ),
        image_src=src if isinstance(src, str) and src.startswith(("https://", "http://")) else None,
        image_alt=by_source.get(alt, alt),
        published=revision.published_at,
        links=link_notes(session, ctx, post.id, translation.lang, joined.html) if ctx is not None else (),
    )
