"""Parsing an article body and writing it back out, one way only.

``split`` and ``join`` must agree byte for byte on how every element, attribute and character is
written, or ``join(split(html), {})`` could not equal the input. lxml's own HTML serializer would
do, except that libxml2 percent-escapes non-ASCII ``href``/``src`` values (changing the links we
promise to keep) and offers no hook for the slots. So lxml parses (fast, C) and this module writes,
with the few HTML serialization rules an article body needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree
from lxml import html as lxml_html

from syndication.errors import SegmentationError

VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
     "track", "wbr"}
)  # fmt: skip
RAW_TEXT_TAGS = frozenset({"script", "style"})
INLINE_TAGS = frozenset(
    {"a", "abbr", "acronym", "audio", "b", "bdi", "bdo", "big", "br", "canvas", "cite", "code",
     "data", "del", "dfn", "em", "embed", "font", "i", "iframe", "img", "ins", "kbd", "label",
     "mark", "math", "meter", "object", "picture", "progress", "q", "rp", "rt", "ruby", "s", "samp",
     "small", "source", "span", "strike", "strong", "sub", "sup", "svg", "time", "track", "tt", "u",
     "var", "video", "wbr"}
)  # fmt: skip
"""Phrasing elements: they travel inside a sentence as placeholders. Anything else is a block."""
PROTECTED_TAGS = frozenset(
    {"audio", "canvas", "code", "embed", "iframe", "kbd", "math", "noscript", "object", "pre",
     "samp", "script", "select", "style", "svg", "template", "textarea", "video"}
)  # fmt: skip
"""Never sent to an engine: code, and elements whose text is not prose."""

# Names a serializer could not write back unchanged are dropped on both sides of the round trip.
_ATTR_NAME_RE = re.compile(r"^[^\s\"'<>/=\x00-\x1f]+$")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
# Raw C0 controls are parse errors in HTML and lxml refuses some of them outright.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FULL_DOCUMENT_RE = re.compile(r"^\s*<(?:html|!doctype)\b", re.IGNORECASE)
_END_BODY_RE = re.compile(r"</\s*(?:body|html)\s*>", re.IGNORECASE)
_CONTROL_REF_RE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")

AttrHook = Callable[[etree._Element, str, str], str]
"""Called for each attribute as ``(element, name, value)``; returns the value to write."""


def parse_fragment(html: str) -> etree._Element:
    """Parse an article body; returns the ``<body>`` element whose children are the body's nodes."""
    if not isinstance(html, str):
        raise SegmentationError(f"article HTML must be str, not {type(html).__name__}")
    # lxml refuses str input that declares an encoding; the declaration means nothing in a str.
    html = _CONTROL_RE.sub("", _XML_DECL_RE.sub("", html, count=1))
    html = _CONTROL_REF_RE.sub(_drop_control_reference, html)
    html = _SURROGATE_RE.sub("\ufffd", html)  # lone surrogates (from bad decoding) cannot be encoded
    # Not lxml's fragment_fromstring: it drops leading whitespace and re-sets leading text through
    # the API, which rejects the control characters a reference like "&#1;" legitimately yields.
    if _FULL_DOCUMENT_RE.match(html):
        source = html
    else:  # a stray </body> in a fragment would make libxml2 drop everything after it
        source = "<html><body>" + _END_BODY_RE.sub("", html) + "</body></html>"
    try:
        document = lxml_html.document_fromstring(source)
    except (etree.ParserError, ValueError) as exc:
        raise SegmentationError(f"cannot parse article HTML: {exc}") from exc
    body: etree._Element | None = document.find("body")
    return body if body is not None else lxml_html.Element("body")


def _drop_control_reference(match: re.Match[str]) -> str:
    """Character references to C0 controls: dropped like the raw characters (``&#0;`` is U+FFFD)."""
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    if code == 0:
        return "\ufffd"
    if (code < 0x20 and code not in (0x09, 0x0A, 0x0D)) or code == 0x7F:
        return ""
    return match.group(0)


def is_element(node: etree._Element) -> bool:
    return isinstance(node.tag, str)


def is_inline(el: etree._Element) -> bool:
    return not is_element(el) or el.tag in INLINE_TAGS


def is_protected(el: etree._Element) -> bool:
    """Protected content is never translated: code, ``translate="no"``, ``class="notranslate"``."""
    if not is_element(el):
        return True  # comments
    if el.tag in PROTECTED_TAGS:
        return True
    if (el.get("translate") or "").strip().lower() == "no":
        return True
    return "notranslate" in (el.get("class") or "").lower().split()


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")


def escape_attr(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\xa0", "&nbsp;")
    )


def start_tag(el: etree._Element, attr_hook: AttrHook | None = None) -> str:
    parts = [f"<{el.tag}"]
    for name, value in el.items():
        if not _ATTR_NAME_RE.match(name):
            continue
        if attr_hook is not None:
            value = attr_hook(el, name, value)
        parts.append(f' {name}="{escape_attr(value)}"')
    parts.append(">")
    return "".join(parts)


def end_tag(el: etree._Element) -> str:
    return "" if el.tag in VOID_TAGS else f"</{el.tag}>"


def serialize(el: etree._Element, attr_hook: AttrHook | None = None) -> str:
    """Outer HTML of ``el`` without its tail."""
    out: list[str] = []
    _write(el, out, attr_hook)
    return "".join(out)


def serialize_children(el: etree._Element, attr_hook: AttrHook | None = None) -> str:
    """Inner HTML of ``el``: its text and every child with its tail."""
    out: list[str] = []
    if el.text:
        out.append(_text(el, el.text))
    for child in el:
        _write(child, out, attr_hook)
        if child.tail:
            out.append(escape_text(child.tail))
    return "".join(out)


def normalize_html(html: str) -> str:
    """The one canonical spelling of ``html``: what ``join(split(html), {})`` returns."""
    return serialize_children(parse_fragment(html))


def _text(el: etree._Element, text: str) -> str:
    return text if el.tag in RAW_TEXT_TAGS else escape_text(text)


def _write(el: etree._Element, out: list[str], attr_hook: AttrHook | None) -> None:
    if el.tag is etree.Comment:
        out.append(f"<!--{el.text or ''}-->")
        return
    if not is_element(el):
        return  # processing instructions and entity nodes: the HTML parser does not make them
    out.append(start_tag(el, attr_hook))
    if el.tag in VOID_TAGS:
        return
    if el.text:
        out.append(_text(el, el.text))
    for child in el:
        _write(child, out, attr_hook)
        if child.tail:
            out.append(escape_text(child.tail))
    out.append(end_tag(el))
