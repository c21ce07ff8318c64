"""The last sanitizing pass before HTML leaves the system, and text made safe for XML.

Bodies reach the channels already sanitized by the extractor, but a channel cannot know that every
path to it (editor edits, a plugin, a hand-written ledger row) kept that promise, so each channel runs
what it sends through :func:`clean_html` again. The allow-list is the structure a translated article
needs: headings, paragraphs, lists, quotes, tables, emphasis, links and images; no scripts, styles,
event handlers, forms or frames. Only ``http``, ``https`` and ``mailto`` URLs survive.
"""

from __future__ import annotations

import html
import re

import nh3

BLOCK_TAGS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote",
        "pre", "figure", "figcaption", "hr", "table", "caption", "thead", "tbody", "tfoot", "tr",
        "th", "td",
    }
)  # fmt: skip
INLINE_TAGS = frozenset(
    {
        "a", "abbr", "b", "br", "cite", "code", "del", "em", "i", "img", "ins", "kbd", "mark", "q",
        "s", "small", "span", "strong", "sub", "sup", "time", "u",
    }
)  # fmt: skip
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "dir", "title", "translate"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start", "reversed"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Content of these is dropped with the tag; other unknown tags are unwrapped and keep their text.
DROP_WITH_CONTENT = frozenset(
    {"script", "style", "template", "iframe", "object", "embed", "noscript", "svg", "math", "form"}
)

_BODY = nh3.Cleaner(
    tags=set(BLOCK_TAGS | INLINE_TAGS),
    clean_content_tags=set(DROP_WITH_CONTENT),
    attributes=ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer",
    strip_comments=True,
)
_INLINE = nh3.Cleaner(
    tags=set(INLINE_TAGS - {"img"}),
    clean_content_tags=set(DROP_WITH_CONTENT),
    attributes=ATTRIBUTES,
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer",
    strip_comments=True,
)
_TEXT = nh3.Cleaner(tags=set(), clean_content_tags=set(DROP_WITH_CONTENT), strip_comments=True)

# Characters XML 1.0 cannot carry at all (C0 controls other than tab/newline/CR, lone surrogates,
# U+FFFE/U+FFFF); a serializer would refuse the whole feed because of one of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def clean_html(fragment: str) -> str:
    """Sanitize a body fragment (block and inline markup)."""
    return _BODY.clean(xml_text(fragment))


def clean_inline(fragment: str) -> str:
    """Sanitize a fragment that must stay inline (an excerpt, a caption): no blocks, no images."""
    return _INLINE.clean(xml_text(fragment))


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment (or of plain text), unescaped, whitespace collapsed."""
    return " ".join(html.unescape(_TEXT.clean(xml_text(fragment))).split())


def escape(text: str) -> str:
    """Escape text for HTML element content and double-quoted attribute values."""
    return html.escape(xml_text(text), quote=True)
