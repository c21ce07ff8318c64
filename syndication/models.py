"""Plain data passed between stages.

These are the values the stage packages exchange; the database rows that persist them live in
``syndication.store``. Keeping the two apart lets every stage be a pure function that tests can call
without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# --------------------------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class Entry:
    """One item of a feed, with the identity it keeps through the whole chain."""

    entry_id: str
    """Stable identity: the WordPress GUID ``?p=ID`` URL, else the link, else a content hash."""
    link: str | None
    title: str
    guid: str | None = None
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    summary_html: str | None = None
    content_html: str | None = None
    """Full text from ``content:encoded`` (or Atom ``content``) when the feed carries it."""
    categories: tuple[str, ...] = ()
    lang: str | None = None
    content_hash: str = ""
    """Hash of what the entry says (title, content, link): a change means the post was edited."""
    content_removed: tuple[dict[str, Any], ...] | None = None
    """What cleaning takes out of ``content_html`` (``{kind, count, detail}``), read from the feed's
    raw markup before the feed sanitizer removed it; None for entries stored before this existed."""


class FeedEntries(list[Entry]):
    """What ``parse_feed`` could read, with the problems it met on the way (something was lost:
    entries skipped, the document cut, not a feed) and the notes (something was repaired and
    nothing lost: encoding fixed, DOCTYPE removed, read leniently)."""

    def __init__(
        self,
        entries: list[Entry] | None = None,
        *,
        problems: list[str] | None = None,
        notes: list[str] | None = None,
        title: str | None = None,
        link: str | None = None,
        lang: str | None = None,
    ) -> None:
        super().__init__(entries or [])
        self.problems: list[str] = problems or []
        self.notes: list[str] = notes or []
        self.title = title
        self.link = link
        self.lang = lang


# ----------------------------------------------------------------------------------------- articles


@dataclass(frozen=True)
class Image:
    src: str
    alt: str = ""


@dataclass(frozen=True)
class Removed:
    """Content the cleaner took out of a body, grouped by kind, for the editor to know about."""

    kind: str
    """``video``, ``audio``, ``embed``, ``image``, ``graphic``, ``formula``, ``canvas`` or ``form``."""
    count: int
    detail: str = ""
    """A short description: the embeds' hosts, the images' types, a form's first words."""


@dataclass
class Article:
    """A post or linked page reduced to its clean, structured body."""

    url: str
    title: str
    html: str
    """Sanitized body HTML: headings, paragraphs, lists, quotes, emphasis, links, images."""
    text: str
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    lang: str | None = None
    canonical: str | None = None
    site_name: str | None = None
    excerpt: str | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    featured_image: Image | None = None
    links: list[str] = field(default_factory=list)
    """Absolute URLs of the links inside the body, in document order, without duplicates."""
    removed: list[Removed] = field(default_factory=list)
    """Content the sanitizer removed from the body (embeds, ``data:`` images, inline SVG, forms)."""
    incomplete: dict[str, Any] | None = None
    """Set when part of the source could not be read: ``reason``, ``lost_words``,
    ``lost_preview`` and a ``message`` for the editor. Such an article is never auto-approved."""
    flattened_depth: int = 0
    """The nesting depth of a source whose deep markup was flattened (all its text kept)."""


# ----------------------------------------------------------------------------------------- segments

SegmentKind = Literal["title", "excerpt", "block", "alt", "caption"]


@dataclass(frozen=True)
class Segment:
    """One unit of translation.

    ``source`` is text in which inline markup has been replaced by XLIFF-like placeholders:
    ``<g id="1">linked words</g>`` for paired tags and ``<x id="2"/>`` for empty ones (``<br>``,
    inline ``<img>``). ``markup`` maps each placeholder id to the original opening tag so
    ``join`` can put links and emphasis back where the translation puts the placeholders.
    """

    key: str
    kind: SegmentKind
    source: str
    markup: Mapping[str, str] = field(default_factory=dict)

    @property
    def placeholder_ids(self) -> tuple[str, ...]:
        return tuple(self.markup)


# ------------------------------------------------------------------------------------- translation


@dataclass(frozen=True)
class QAFlag:
    code: str
    """Machine-readable: ``untranslated``, ``unknown_words``, ``placeholder_mismatch``, ..."""
    message: str


@dataclass(frozen=True)
class EngineOutput:
    """What an engine returns for one text: the translation and what it noticed."""

    text: str
    flags: tuple[QAFlag, ...] = ()
    confidence: float | None = None
    """How far the engine trusts this translation, in [0, 1]; ``None`` when it cannot say."""


# ---------------------------------------------------------------------------------------- delivery


@dataclass(frozen=True)
class ApprovedTranslation:
    """Everything a channel needs to render one approved translation, and nothing it must fetch."""

    translation_id: int
    post_key: str
    revision: str
    lang: str
    source_lang: str
    source_url: str
    source_title: str
    title: str
    html: str
    """Translated body, already sanitized."""
    excerpt: str
    kind: Literal["post", "linked"] = "post"
    author: str | None = None
    published: datetime | None = None
    approved_at: datetime | None = None
    site_name: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    featured_image: Image | None = None
    linked_from: tuple[str, ...] = ()
    """Source URLs of the posts that link to this article (for attribution of linked articles)."""
    action: Literal["publish", "update", "retract"] = "publish"
    content_version: str = ""
    """Hash of what is delivered (source revision + translated title, excerpt, body): changes on a
    new source revision *and* on an editor's edit of an approved translation, so both go out as
    updates of the same remote object."""
    delivery_key: str = ""
    """The ledger's idempotency key for this delivery, set by the deliver stage before ``render``
    (empty outside it): what a channel that shows the key in its payload (the webhook's ``id``)
    must use, so a dry run shows the key a real send uses."""


@dataclass(frozen=True)
class Payload:
    """A rendered item, ready to send; pure data so dry-run can show it."""

    channel: str
    target: str
    summary: str
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """Proof of a send: where the item now lives, so updates and retractions reach the same object."""

    channel: str
    key: str
    remote_id: str | None = None
    remote_url: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
