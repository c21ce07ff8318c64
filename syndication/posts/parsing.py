"""Parsing untrusted HTML into lxml trees without ever raising.

Everything in this package parses with ``lxml.html`` (libxml2): it is several times faster than
``html.parser`` and it is what trafilatura works on, so a page is parsed once and the same tree
feeds the metadata reader, the WordPress fast path and trafilatura.

libxml2 stops at 256 levels of nesting, and then drops everything inside and after the deep
block without raising. We keep that limit on purpose: it bounds the depth of everything we later
serialize, and the ``nh3`` sanitizer (html5ever) is quadratic in nesting depth, so an unbounded
tree from a hostile page would stall it. A document libxml2 reports as too deep is flattened
(``posts.deep``) and parsed again, so its text arrives whole; whatever still cannot be read (and a
page cut at ``MAX_HTML_CHARS``) is recorded in the caller's ``ParseNotes``, which the extractor
turns into the ``extraction_incomplete`` flag an editor sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from syndication.posts.deep import flatten_deep

# C0 controls other than tab/newline/CR: lxml refuses them in any text it is given back, so they
# go before parsing. Deleted from the UTF-8 bytes (they never occur inside a multi-byte sequence),
# which is five times faster than a regular expression over the str.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])

# Character references to those same characters: libxml2 decodes "&#1;" into the tree, and lxml
# then refuses that text when it is moved or set again.
_UNPARSEABLE_REF = re.compile(
    r"&#(?:0*(?:[1-8]|1[124-9]|2[0-9]|3[01]|6553[45])(?![0-9])"
    r"|[xX]0*(?:[1-8bBcCeEfF]|1[0-9a-fA-F]|[fF]{3}[eEfF])(?![0-9a-fA-F]));?"
)

# Stop reading absurdly large input instead of spending seconds on it: an article page is well
# under this, and the fetcher caps response sizes long before.
MAX_HTML_CHARS = 8_000_000

# Flattened documents keep at most this many levels (below libxml2's 256, leaving room for the
# wrapper ``parse_fragment`` adds); a second pass uses the smaller one.
FLATTEN_DEPTHS = (200, 60)
_LOST_PREVIEW_CHARS = 160
_TAG = re.compile(r"<[^>]*>?")


@dataclass
class ParseNotes:
    """What parsing had to do to a document, for the extractor to report."""

    flattened: int = 0
    """Tags dropped because they were nested too deep (their text was kept)."""
    deepest: int = 0
    """The deepest nesting seen in a flattened document."""
    truncated_chars: int = 0
    """Characters cut from the end of an oversized document."""
    lost_words: int = 0
    """Words that could not be read (cut off, or still too deep after flattening)."""
    lost_preview: str = ""
    """The beginning of that lost text."""

    @property
    def incomplete(self) -> bool:
        return self.lost_words > 0

    def lose(self, markup: str) -> None:
        close, open_ = markup.find(">"), markup.find("<")
        if close >= 0 and (open_ < 0 or close < open_):
            markup = markup[close + 1 :]  # the cut fell inside a tag
        text = " ".join(_TAG.sub(" ", markup).split())
        if not text:
            return
        if not self.lost_preview:
            preview = text[:_LOST_PREVIEW_CHARS]
            self.lost_preview = preview + ("…" if len(text) > len(preview) else "")
        self.lost_words += len(text.split())


def _parser() -> etree.HTMLParser:
    # Bytes in, UTF-8 declared: a ``<meta charset=windows-1252>`` left in an already-decoded page
    # must not make libxml2 decode it a second time, and an ``<?xml encoding=...?>`` prolog in a
    # str (which lxml rejects outright) is harmless this way.
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    # Every element an ``lxml.html.HtmlElement`` (trafilatura needs its methods), chosen in C:
    # lxml.html's own lookup is a Python call per element touched, ~10% of all extraction time.
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


_DOCUMENT_PARSER = _parser()


# libxml2 reads "<button/>" as an empty button, so the label that follows becomes loose text (a
# paragraph of the post). HTML ignores "/>" on a non-void element: the label is the button's.
_SELF_CLOSED_BUTTON = re.compile(r"<(button\b[^<>]*?)\s*/>", re.IGNORECASE)


def _prepare(html: str, notes: ParseNotes | None = None) -> bytes:
    if len(html) > MAX_HTML_CHARS:
        if notes is not None:
            notes.truncated_chars += len(html) - MAX_HTML_CHARS
            notes.lose(html[MAX_HTML_CHARS:])
        html = html[:MAX_HTML_CHARS]
    if "&#" in html:
        html = _UNPARSEABLE_REF.sub("", html)
    if "/>" in html and ("<button" in html or "<BUTTON" in html or "<Button" in html):
        html = _SELF_CLOSED_BUTTON.sub(r"<\1>", html)
    if "\ufffe" in html or "\uffff" in html:
        html = html.replace("\ufffe", "").replace("\uffff", "")
    # "replace": a lone surrogate (left by a lossy decode upstream) becomes "?".
    return html.encode("utf-8", "replace").translate(None, _CONTROL_BYTES)


def _too_deep(parser: etree.HTMLParser) -> etree._LogEntry | None:
    return next((e for e in parser.error_log if "xcessive depth" in e.message), None)


def _offset(data: bytes, line: int, column: int) -> int:
    """Byte offset of a libxml2 error position (1-based line, column)."""
    start = 0
    for _ in range(max(0, line - 1)):
        found = data.find(b"\n", start)
        if found < 0:
            return len(data)
        start = found + 1
    return min(len(data), start + max(0, column - 1))


def _fromstring(
    data: bytes, notes: ParseNotes | None, *, prefix: bytes = b"", suffix: bytes = b""
) -> lxml.html.HtmlElement:
    """Parse ``prefix + data + suffix``; flatten ``data`` when libxml2 finds it too deep.

    A fresh parser per call: its error log is then this document's alone (a parser costs under
    a microsecond to make; the element class lookup is set in C either way).
    """
    parsed = prefix + data + suffix
    parser = _parser()
    root = lxml.html.document_fromstring(parsed, parser=parser)
    deep = _too_deep(parser)
    if deep is None:
        return root
    html = data.decode("utf-8", "replace")
    for limit in FLATTEN_DEPTHS:
        flat, dropped, deepest = flatten_deep(html, limit)
        parsed = prefix + flat.encode("utf-8") + suffix
        parser = _parser()
        root = lxml.html.document_fromstring(parsed, parser=parser)
        deep = _too_deep(parser)
        if notes is not None:
            notes.flattened, notes.deepest = dropped, max(notes.deepest, deepest)
        if deep is None:
            return root
    if notes is not None:
        notes.lose(parsed[_offset(parsed, deep.line, deep.column) :].decode("utf-8", "replace"))
    return root


def parse_document(html: str, notes: ParseNotes | None = None) -> lxml.html.HtmlElement | None:
    """The ``<html>`` element of a page, or None when there is nothing to parse.

    ``notes`` receives what parsing had to flatten or could not read (see ``ParseNotes``).
    """
    if not isinstance(html, str) or not html.strip():
        return None
    data = _prepare(html, notes)
    try:
        root = _fromstring(data, notes)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    if root is None or not isinstance(root.tag, str):
        return None
    return root


def new_element(tag: str) -> lxml.html.HtmlElement:
    """An empty element in a document of our parser (C-level class lookup, see ``_parser``)."""
    return _DOCUMENT_PARSER.makeelement(tag)


def parse_fragment(html: str, notes: ParseNotes | None = None) -> lxml.html.HtmlElement:
    """A ``<div>`` holding the parsed fragment (empty for empty or unparseable input).

    ``notes`` receives what parsing had to flatten or could not read (see ``ParseNotes``).
    """
    container = new_element("div")
    if not isinstance(html, str) or not html.strip():
        return container
    data = _prepare(html, notes)
    try:
        # Wrapping in a body keeps libxml2 from inventing <p> around loose text or treating a
        # leading <title>/<meta> in the fragment as head content we would lose.
        root = _fromstring(data, notes, prefix=b"<html><body><div>", suffix=b"</div></body></html>")
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return container
    body = root.find("body")
    if body is None:
        return container
    wrapper = body[0] if len(body) and body[0].tag == "div" and len(body) == 1 else None
    if wrapper is None:
        # Stray closing tags in the fragment closed our wrapper early: keep everything in body.
        wrapper = body
        wrapper.tag = "div"
    else:
        wrapper.drop_tree()
        wrapper.tail = None
    return wrapper
