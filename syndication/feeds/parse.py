"""Feed bytes → ``FeedEntries``, for any input at all.

``parse_feed`` never raises and never touches the network or the file system: whatever arrives
(malformed, truncated, wrongly encoded, empty, binary, gigantic or hostile XML) it returns the
entries it could read and records in ``FeedEntries.problems`` what went wrong and what was skipped,
and in ``FeedEntries.notes`` what it repaired without losing anything (a wrong encoding declaration,
a DOCTYPE removed, control characters dropped, a document read leniently, an unreadable date). The
poll stage reports problems as errors of the run and keeps notes on the feed for ``status``.

Before feedparser sees the document we prepare it ourselves, because each of these is either a
safety issue or a common way real feeds break:

* **Encoding** is decided by ``syndication.fetch.encoding`` (BOM, HTTP charset, XML declaration,
  with the same plausibility rules as for pages: a feed that declares iso-8859-1 but is UTF-8, or
  the reverse, is read correctly), then the text is handed to feedparser as UTF-8 with a matching
  declaration, so feedparser's own RFC 3023 guessing cannot undo the decision.
* **DOCTYPEs with an internal subset are removed.** Feeds need no DTD; entity declarations are how
  "billion laughs" (exponential expansion) and XXE (``<!ENTITY x SYSTEM "file:///etc/passwd">``)
  work. feedparser also filters entity declarations and its SAX parser does not load external
  entities, and expat ≥ 2.4 limits amplification; this is the belt to those braces.
* **Characters XML forbids** (``\\x0b`` pasted from Word, NUL) are dropped, and **whitespace before
  the XML declaration** (a WordPress plugin printing blank lines) is removed; either would otherwise
  push feedparser from its strict parser into its lossy fallback.
* **Bytes are never passed as such to ``feedparser.parse``**, which treats a ``bytes`` argument as
  a possible file name or URL; it always gets a ``BytesIO``.

Size bounds: input beyond ``max_bytes`` is cut (the truncated tail is read leniently) and entries
beyond ``max_entries`` are dropped, each recorded as a problem. feedparser reads roughly 1,000-2,000
items a second on a small machine. A document with no ``<rss>``, ``<feed>``, ``<rdf:RDF>`` or
``<channel>`` in its first 64 KB is reported as not a feed without being handed to feedparser,
whose lenient fallback parser needs seconds per megabyte of junk. Junk *inside* a real feed still
goes through that fallback: the worst case is a few seconds per megabyte, bounded by ``max_bytes``.
"""

from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from syndication.feeds.identity import content_hash, entry_id
from syndication.feeds.sanitize import clean_html, html_to_text, text_to_html
from syndication.fetch.encoding import charset_from_content_type, decode_document
from syndication.models import Entry, FeedEntries

DEFAULT_MAX_BYTES = 20_000_000
DEFAULT_MAX_ENTRIES = 10_000

_PROLOG_LIMIT = 64 * 1024
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]*\?>")
_LEADING_WHITESPACE = re.compile(r"^\s+(?=<\?xml\b)")
_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.IGNORECASE)
_ELEMENT_START = re.compile(r"<[A-Za-z_]")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html)\b", re.IGNORECASE)
_FEED_ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF|channel)\b", re.IGNORECASE)
_DOCTYPE_TOKEN = re.compile(r"[\"'\[\]>]")
_HTML_TYPES = {"text/html", "application/xhtml+xml", "html", "xhtml"}


@dataclass(frozen=True)
class ParsedFeed:
    """``parse_feed``'s result plus what kind of document it was."""

    entries: FeedEntries
    format: str | None
    """feedparser's name for the format (``rss20``, ``atom10``, ``rss10``, ...), ``None`` when the
    document is not recognizable as a feed."""
    encoding: str | None = None

    @property
    def is_feed(self) -> bool:
        return self.format is not None or len(self.entries) > 0


def parse_feed(
    data: bytes,
    url: str,
    *,
    content_type: str | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> FeedEntries:
    """Entries of the feed in ``data`` (fetched from ``url``); never raises, see the module docstring.

    ``content_type`` is the HTTP ``Content-Type`` (its charset is the second-best encoding evidence
    after a BOM); relative links are resolved against ``url`` and the feed's ``xml:base``.
    """
    return read_feed(
        data, url, content_type=content_type, max_entries=max_entries, max_bytes=max_bytes
    ).entries


def read_feed(
    data: bytes,
    url: str,
    *,
    content_type: str | None = None,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedFeed:
    """Like ``parse_feed``, also telling whether the document was a feed at all."""
    try:
        return _read(data, url, content_type, max_entries, max_bytes)
    except Exception as exc:  # the promise is "never raises": report instead
        problems = [f"feed could not be parsed ({type(exc).__name__}: {exc}); nothing was read"]
        return ParsedFeed(FeedEntries(problems=problems), None)


# --------------------------------------------------------------------------------------- internals


def _read(data: bytes, url: str, content_type: str | None, max_entries: int, max_bytes: int) -> ParsedFeed:
    data = bytes(data or b"")
    problems: list[str] = []
    notes: list[str] = []
    if not data.strip():
        return ParsedFeed(FeedEntries(problems=["the document is empty"]), None)
    if len(data) > max_bytes:
        problems.append(f"the document has {len(data):,} bytes; only the first {max_bytes:,} were read")
        data = data[:max_bytes]

    decoded = decode_document(data, charset_from_content_type(content_type), markup="xml")
    if decoded.note:
        notes.append(f"encoding: {decoded.note}; read as {decoded.encoding}")
    text = _prepare(decoded.text, notes)
    looks_like_html = _looks_like_html(text[:4096])
    if not _FEED_ROOT.search(text, 0, _PROLOG_LIMIT):
        # Not worth feedparser's lenient parser, which needs seconds per megabyte of junk.
        kind = "an HTML page" if looks_like_html else "not a feed"
        problems.append(f"the document is {kind}, not RSS or Atom (no <rss>, <feed> or <rdf:RDF>)")
        return ParsedFeed(FeedEntries(problems=problems, notes=notes), None, decoded.encoding)

    parsed = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        # No content-location: feedparser would resolve relative GUIDs against the feed URL, so a
        # feed that moves would change every entry id. Links and HTML are resolved below instead.
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,  # nh3 instead, see syndication.feeds.sanitize
        resolve_relative_uris=False,
    )
    version = parsed.get("version") or None
    raw_entries: list[Any] = list(parsed.get("entries") or [])
    if parsed.get("bozo") and not looks_like_html:
        lenient = f"not well-formed XML, read leniently: {parsed.get('bozo_exception')}"
        # A lenient read that found entries is a repair; one that found none may have lost them all.
        (notes if raw_entries else problems).append(lenient)

    feed = parsed.get("feed") or {}
    feed_lang = language_tag(feed.get("language"))
    result = FeedEntries(
        title=_plain(feed.get("title")) or None,
        link=_http_link(feed.get("link"), url),
        lang=feed_lang,
    )
    # FeedEntries copies an empty list; keep appending to the same ones.
    result.problems, result.notes = problems, notes
    if version is None and not raw_entries:
        kind = "an HTML page" if looks_like_html else "not a feed"
        problems.append(f"the document is {kind}, not RSS or Atom; no entries read")
        return ParsedFeed(result, None, decoded.encoding)

    seen: set[str] = set()
    for number, raw in enumerate(raw_entries, start=1):
        if len(result) >= max_entries:
            problems.append(f"{len(raw_entries) - number + 1} entries after the first {max_entries} skipped")
            break
        try:
            entry = _entry(raw, url, feed_lang, number, problems, notes)
        except Exception as exc:  # one odd entry must not cost the others
            problems.append(f"entry {number} skipped: {type(exc).__name__}: {exc}")
            continue
        if entry is None:
            continue
        if entry.entry_id in seen:
            problems.append(f"entry {number} skipped: duplicate id {entry.entry_id}")
            continue
        seen.add(entry.entry_id)
        result.append(entry)
    return ParsedFeed(result, version, decoded.encoding)


def _prepare(text: str, notes: list[str]) -> str:
    """The decoded document made safe and strict-parser friendly (see the module docstring)."""
    text = text.lstrip("\ufeff")
    if _LEADING_WHITESPACE.match(text):
        text = _LEADING_WHITESPACE.sub("", text, count=1)
        notes.append("whitespace before the XML declaration removed")
    illegal = len(_XML_ILLEGAL.findall(text))
    if illegal:
        text = _XML_ILLEGAL.sub("", text)
        notes.append(f"{illegal} control characters XML does not allow removed")
    text, removed = _strip_doctype(text)
    if removed:
        notes.append(
            "DOCTYPE with entity declarations removed: feeds need none, and entities are how "
            "billion-laughs and XXE attacks work"
        )
    declaration = '<?xml version="1.0" encoding="utf-8"?>'
    if _XML_DECLARATION.match(text):
        return _XML_DECLARATION.sub(declaration, text, count=1)
    return text


def _strip_doctype(text: str) -> tuple[str, bool]:
    """Remove a DOCTYPE that has an internal subset (``[...]``) from the prolog."""
    match = _DOCTYPE.search(text, 0, _PROLOG_LIMIT)
    if match is None or _ELEMENT_START.search(text, 0, match.start()):
        return text, False
    depth = 0
    has_subset = False
    position = match.end()
    # Token by token (quotes, brackets, ">") so a hostile megabyte of DOCTYPE is scanned at C speed.
    while (token := _DOCTYPE_TOKEN.search(text, position)) is not None:
        char = token.group()
        position = token.end()
        if char in "\"'":
            closing = text.find(char, position)
            if closing < 0:
                break
            position = closing + 1
        elif char == "[":
            depth += 1
            has_subset = True
        elif char == "]":
            depth -= 1
        elif depth <= 0:  # ">" outside the internal subset ends the DOCTYPE
            if not has_subset:
                return text, False  # an external DTD reference only; it is never loaded
            return text[: match.start()] + text[position:], True
    return text[: match.start()], True  # unterminated: nothing after it is usable


def _looks_like_html(head: str) -> bool:
    rest = head.lstrip()
    while rest.startswith("<!--"):  # comments before <html> (a loop, not a regex: no backtracking)
        end = rest.find("-->", 4)
        if end < 0:
            return False
        rest = rest[end + 3 :].lstrip()
    return _HTML_TAG.match(rest) is not None


def _entry(
    raw: Any, base: str, feed_lang: str | None, number: int, problems: list[str], notes: list[str]
) -> Entry | None:
    title = _plain(raw.get("title"))
    guid = (raw.get("id") or "").strip() or None
    link = _http_link(raw.get("link"), base)
    content_html, content_removed = _content(raw, link or base)
    summary_html = None
    if raw.get("summary_detail") is not None:  # feedparser copies content into "summary" otherwise
        summary_html = _html_of(raw.get("summary_detail"), link or base) or None
    if not (title or guid or link or content_html or summary_html):
        problems.append(f"entry {number} skipped: no id, link, title or content")
        return None
    body = content_html or summary_html
    published = _datetime(raw, "published", number, notes)
    updated = _datetime(raw, "updated", number, notes)
    return Entry(
        entry_id=entry_id(guid, link, title, body),
        link=link,
        title=title,
        guid=guid,
        author=_author(raw),
        published=published,
        updated=updated,
        summary_html=summary_html,
        content_html=content_html,
        content_removed=content_removed,
        categories=_categories(raw),
        lang=_entry_lang(raw) or feed_lang,
        content_hash=content_hash(title, body, link),
    )


def _content(raw: Any, base: str) -> tuple[str | None, tuple[dict[str, Any], ...] | None]:
    """The entry's full text, and what extraction will lack of it (see ``Entry.content_removed``):
    read here, from the raw markup, because the feed sanitizer removes embeds before extraction
    could see them."""
    contents = [c for c in raw.get("content") or [] if c.get("value")]
    if not contents:
        return None, None
    preferred = next((c for c in contents if _is_html(c)), contents[0])
    removed: tuple[dict[str, Any], ...] = ()
    if _is_html(preferred):
        from syndication.posts.cleaning import removed_content

        removed = tuple(
            dataclasses.asdict(r) for r in removed_content(str(preferred.get("value") or ""), base)
        )
    return _html_of(preferred, base) or None, removed


def _html_of(detail: Any, base: str) -> str:
    """Clean HTML with relative URLs made absolute: against the element's own ``xml:base`` when the
    feed declares one, else the entry's link (so ``#note`` points into the post), else the feed."""
    value = str(detail.get("value") or "")
    if not _is_html(detail):
        return text_to_html(value)
    declared = _http_link(detail.get("base"), base)
    return clean_html(value, base=declared or base)


def _is_html(detail: Any) -> bool:
    kind = str(detail.get("type") or "text/html").lower()
    return kind in _HTML_TYPES


def _plain(value: Any) -> str:
    if not value:
        return ""
    text = str(value)
    if "<" in text or "&" in text:
        text = html_to_text(text)
    return " ".join(text.split())


def _http_link(value: Any, base: str) -> str | None:
    if not value or not isinstance(value, str):
        return None
    link = urljoin(base, value.strip())
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    return link if parts.scheme in ("http", "https") and parts.netloc else None


def _datetime(raw: Any, field: str, number: int, notes: list[str]) -> datetime | None:
    # dict.get, not raw.get: FeedParserDict answers "updated" with "published" when absent.
    parsed = dict.get(raw, f"{field}_parsed")
    if parsed is None:
        text = dict.get(raw, field)
        if text:
            notes.append(f"entry {number}: unreadable {field} date {str(text)[:60]!r} ignored")
        return None
    try:
        year, month, day, hour, minute, second = tuple(parsed)[:6]
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)  # feedparser: UTC
    except (TypeError, ValueError, OverflowError):
        notes.append(f"entry {number}: {field} date out of range ignored")
        return None


def _author(raw: Any) -> str | None:
    detail = raw.get("author_detail") or {}
    name = _plain(detail.get("name")) or _plain(raw.get("author"))
    return name or None


def _categories(raw: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in raw.get("tags") or []:
        term = _plain(tag.get("term") or tag.get("label"))
        if term:
            seen.setdefault(term, None)
    return tuple(seen)


def _entry_lang(raw: Any) -> str | None:
    for detail in [*(raw.get("content") or []), raw.get("summary_detail"), raw.get("title_detail")]:
        if detail:
            tag = language_tag(detail.get("language"))
            if tag:
                return tag
    return None


def language_tag(value: Any) -> str | None:
    """Primary BCP 47 subtag in lower case (``da-DK`` → ``da``); ``no`` becomes ``nb`` because the
    pipeline never uses the ambiguous ``no`` and Bokmål is what nearly all such sites write."""
    if not value or not isinstance(value, str):
        return None
    primary = re.split(r"[-_]", value.strip(), maxsplit=1)[0].lower()
    if not (2 <= len(primary) <= 3 and primary.isascii() and primary.isalpha()):
        return None
    return "nb" if primary == "no" else primary
