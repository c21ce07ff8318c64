"""Parsing untrusted HTML into lxml trees without ever raising.

Everything in this package parses with ``lxml.html`` (libxml2): it is several times faster than
``html.parser`` and it is what trafilatura works on, so a page is parsed once and the same tree
feeds the metadata reader, the WordPress fast path and trafilatura.

libxml2 stops descending at 256 levels of nesting. We keep that limit on purpose: it bounds the
depth of everything we later serialize, and the ``nh3`` sanitizer (html5ever) is quadratic in
nesting depth, so an unbounded tree from a hostile page would stall it.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

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


def _prepare(html: str) -> bytes:
    if len(html) > MAX_HTML_CHARS:
        html = html[:MAX_HTML_CHARS]
    if "&#" in html:
        html = _UNPARSEABLE_REF.sub("", html)
    if "\ufffe" in html or "\uffff" in html:
        html = html.replace("\ufffe", "").replace("\uffff", "")
    # "replace": a lone surrogate (left by a lossy decode upstream) becomes "?".
    return html.encode("utf-8", "replace").translate(None, _CONTROL_BYTES)


def parse_document(html: str) -> lxml.html.HtmlElement | None:
    """The ``<html>`` element of a page, or None when there is nothing to parse."""
    if not isinstance(html, str) or not html.strip():
        return None
    data = _prepare(html)
    try:
        root = lxml.html.document_fromstring(data, parser=_DOCUMENT_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None
    if root is None or not isinstance(root.tag, str):
        return None
    return root


def new_element(tag: str) -> lxml.html.HtmlElement:
    """An empty element in a document of our parser (C-level class lookup, see ``_parser``)."""
    return _DOCUMENT_PARSER.makeelement(tag)


def parse_fragment(html: str) -> lxml.html.HtmlElement:
    """A ``<div>`` holding the parsed fragment (empty for empty or unparseable input)."""
    container = new_element("div")
    if not isinstance(html, str) or not html.strip():
        return container
    data = _prepare(html)
    try:
        # Wrapping in a body keeps libxml2 from inventing <p> around loose text or treating a
        # leading <title>/<meta> in the fragment as head content we would lose.
        root = lxml.html.document_fromstring(
            b"<html><body><div>" + data + b"</div></body></html>", parser=_DOCUMENT_PARSER
        )
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
