"""Atom 1.0 (RFC 4287) documents for the channels that publish feeds (``outbox``, ``feed``).

The builder takes plain data and returns bytes; it never reads files or the database, so the outbox
(which rebuilds its files on every send) and the HTTP ``feed`` channel (which renders on request) share
it. It enforces what feed readers rely on: every id and link absolute, every date in RFC 3339 with a
zone, HTML content sanitized and escaped as ``type="html"``, no character XML cannot carry.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from syndication.deliveries.safe_html import clean_html, xml_text

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "xml:lang"
ENTRY_ID_NAMESPACE = uuid.UUID("6b1d3c9e-8f1e-5b0a-9c55-3a4f0d2e7c11")
"""Fixed namespace for :func:`entry_id` (changing it would change every published entry id)."""


def entry_id(post_key: str, lang: str) -> str:
    """The stable Atom id of one post in one language: the same for every revision and every channel.

    A ``urn:uuid`` (RFC 4122 version 5) derived from the post's identity and the language, so an edit
    of the post updates the entry readers already have instead of adding a new one.
    """
    return "urn:uuid:" + str(uuid.uuid5(ENTRY_ID_NAMESPACE, f"{post_key}\n{lang}"))


def rfc3339(value: datetime) -> str:
    """UTC timestamp as Atom wants it; naive datetimes are taken to be UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return bool(parts.netloc)
    return bool(parts.scheme) and parts.scheme not in ("javascript", "data", "vbscript")


@dataclass(frozen=True)
class AtomLink:
    href: str
    rel: str = "alternate"
    type: str | None = None
    hreflang: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class AtomEntry:
    id: str
    title: str
    updated: datetime
    content_html: str
    links: Sequence[AtomLink] = ()
    summary_html: str | None = None
    published: datetime | None = None
    author: str | None = None
    author_uri: str | None = None
    categories: Sequence[str] = ()
    lang: str | None = None


@dataclass(frozen=True)
class AtomFeed:
    id: str
    title: str
    updated: datetime
    lang: str
    links: Sequence[AtomLink] = ()
    subtitle: str | None = None
    author: str | None = None
    """Feed-level author: Atom requires one on the feed or on every entry."""
    generator: str = "syndication"


def _text(parent: ET.Element, tag: str, text: str, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    element.text = xml_text(text)
    return element


def _link(parent: ET.Element, link: AtomLink) -> None:
    if not is_absolute(link.href):
        raise ValueError(f"Atom link {link.href!r} (rel={link.rel}) is not an absolute URL")
    attrib = {"rel": link.rel, "href": link.href}
    if link.type:
        attrib["type"] = link.type
    if link.hreflang:
        attrib["hreflang"] = link.hreflang
    if link.title:
        attrib["title"] = xml_text(link.title)
    ET.SubElement(parent, "link", attrib)


def _author(parent: ET.Element, name: str, uri: str | None = None) -> None:
    author = ET.SubElement(parent, "author")
    _text(author, "name", name)
    if uri and is_absolute(uri):
        _text(author, "uri", uri)


def build_atom(feed: AtomFeed, entries: Iterable[AtomEntry]) -> bytes:
    """Serialize ``feed`` with ``entries`` (in the order given) as a UTF-8 Atom document.

    Raises ``ValueError`` for an id or link that is not absolute, or a missing author (no feed author
    and an entry without one): those are bugs in the caller, not in the content.
    """
    if not is_absolute(feed.id):
        raise ValueError(f"Atom feed id {feed.id!r} is not an absolute IRI")
    # Elements are built without namespaces and the Atom namespace is declared as a plain default
    # ``xmlns`` attribute: ElementTree's ``default_namespace`` refuses un-prefixed attributes, and a
    # registered prefix would be process-global state.
    root = ET.Element("feed", {"xmlns": ATOM_NS, XML_LANG: feed.lang})
    _text(root, "id", feed.id)
    _text(root, "title", feed.title, type="text")
    if feed.subtitle:
        _text(root, "subtitle", feed.subtitle, type="text")
    _text(root, "updated", rfc3339(feed.updated))
    for link in feed.links:
        _link(root, link)
    if feed.author:
        _author(root, feed.author)
    _text(root, "generator", feed.generator)
    for entry in entries:
        _entry(root, entry, feed_has_author=bool(feed.author))
    ET.indent(root, space="  ")
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _entry(root: ET.Element, entry: AtomEntry, *, feed_has_author: bool) -> None:
    if not is_absolute(entry.id):
        raise ValueError(f"Atom entry id {entry.id!r} is not an absolute IRI")
    if not entry.author and not feed_has_author:
        raise ValueError(f"Atom entry {entry.id} has no author and the feed has none either")
    element = ET.SubElement(root, "entry", {XML_LANG: entry.lang} if entry.lang else {})
    _text(element, "id", entry.id)
    _text(element, "title", entry.title, type="text")
    _text(element, "updated", rfc3339(entry.updated))
    if entry.published is not None:
        _text(element, "published", rfc3339(entry.published))
    if entry.author:
        _author(element, entry.author, entry.author_uri)
    for link in entry.links:
        _link(element, link)
    for term in dict.fromkeys(t.strip() for t in entry.categories):
        if term:
            ET.SubElement(element, "category", {"term": xml_text(term)})
    if entry.summary_html:
        _text(element, "summary", clean_html(entry.summary_html), type="html")
    # type="html": the markup travels as escaped text, which every reader handles; "xhtml" would
    # need well-formed XHTML, which sanitized HTML5 is not guaranteed to be.
    _text(element, "content", clean_html(entry.content_html), type="html")
