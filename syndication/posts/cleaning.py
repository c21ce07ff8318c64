"""The one cleaner every body goes through: pages, feed entries and translated HTML.

Two stages. First an lxml pass that knows about articles: it drops boilerplate (share buttons,
related posts, comment forms, stock lines such as "Skriv en kommentar"), resolves lazy-loaded
images, makes URLs absolute and flattens layout ``<div>``s into paragraphs. Then ``nh3`` with an
explicit allow-list, so whatever the first stage missed, nothing executable leaves: no scripts,
event handlers, ``javascript:`` URLs, iframes or styles.

``clean_fragment`` is idempotent: its output is a fixed point of itself, because the lxml pass
finds nothing left to change in sanitized output and nh3 re-serializes what it parses identically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import nh3
from lxml import etree

from syndication.posts.boilerplate import (
    BOILERPLATE_TEXT_MAX,
    DROP_TAGS,
    TEXT_BLOCK_TAGS,
    VOID_DROP_TAGS,
    is_boilerplate_element,
    is_boilerplate_text,
)
from syndication.posts.parsing import parse_fragment

# ------------------------------------------------------------------------------------ allow-list

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
        "blockquote", "q", "cite", "pre", "code", "kbd", "samp", "var", "strong", "em", "b", "i",
        "u", "s", "del", "ins", "mark", "small", "sub", "sup", "abbr", "span", "a", "img",
        "figure", "figcaption", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "translate", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start", "reversed", "type"},
}
# ``class`` survives only as ``notranslate``, the marker the segmenter protects.
ALLOWED_CLASSES = {tag: {"notranslate"} for tag in ALLOWED_TAGS}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Removed with their content by nh3 as a second line of defence (the lxml pass drops them first).
_NH3_DROP_CONTENT = {
    "script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math",
    "textarea", "select", "button", "title", "frameset", "frame", "applet",
}  # fmt: skip

BLOCK_TAGS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote",
        "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "figure",
        "figcaption", "hr", "div", "section", "article", "main", "header", "footer", "address",
        "details", "summary", "center", "hgroup", "fieldset", "body", "html",
    }
)  # fmt: skip
# Layout wrappers: unwrapped, or turned into a <p> when they hold only inline content.
_CONTAINER_TAGS = frozenset(
    {"div", "section", "article", "main", "header", "footer", "address", "details", "summary",
     "center", "hgroup", "fieldset", "body", "html"}
)  # fmt: skip
# Inline wrappers with nothing to keep once attributes are gone.
_UNWRAP_TAGS = frozenset({"font", "picture", "big", "tt", "nobr", "wbr", "time", "bdi", "bdo", "data"})
# Where an inline-only wrapper is unwrapped instead of becoming a paragraph.
_INLINE_CONTEXT = frozenset(
    {"li", "td", "th", "dd", "dt", "figcaption", "figure", "caption", "p", "a", "pre",
     "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "strong", "em", "b", "i", "span"}
)  # fmt: skip
_KEEP_EMPTY = frozenset({"img", "br", "hr", "td", "th", "tr"})
_ASCII_SPACE = re.compile(r"[ \t\n\r\f]+")
_LAZY_SRC_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-orig-src", "data-url")
_LAZY_SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset", "srcset")
_PLACEHOLDER_SRC = re.compile(r"^data:|blank\.gif|spacer\.gif|pixel\.gif|placeholder|lazy[_-]?load", re.I)
# Browsers strip these from URLs before parsing them; so do we, so "java\tscript:" is caught too.
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")


# ------------------------------------------------------------------------------------------ URLs


def absolute_url(href: str | None, base_url: str) -> str | None:
    """``href`` resolved against ``base_url``; None for empty, scriptable or unparseable URLs."""
    if not href:
        return None
    href = _URL_JUNK.sub("", href.strip()) if any(c in href for c in "\t\n\r") else href.strip()
    if not href:
        return None
    lowered = href[:16].lower().replace(" ", "")
    if lowered.startswith(("javascript:", "vbscript:", "data:", "file:")):
        return None
    try:
        resolved = urljoin(base_url, href) if base_url else href
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme and parts.scheme.lower() not in URL_SCHEMES:
        return None
    return resolved


def first_srcset_url(srcset: str) -> str | None:
    """The first candidate of a ``srcset`` (``"a.jpg 300w, b.jpg 600w"`` → ``a.jpg``)."""
    for candidate in srcset.split(","):
        url = candidate.strip().split(" ")[0].strip()
        if url and not url.startswith("data:"):
            return url
    return None


def image_source(img: etree._Element) -> str | None:
    """The real image URL of an ``<img>``, looking through lazy-loading attributes."""
    attrs = img.attrib
    for name in _LAZY_SRC_ATTRS:
        value = attrs.get(name, "").strip()
        if value and not value.startswith("data:"):
            return str(value)
    src = attrs.get("src", "").strip()
    if src and not _PLACEHOLDER_SRC.search(src):
        return str(src)
    for name in _LAZY_SRCSET_ATTRS:
        value = attrs.get(name, "")
        if value:
            url = first_srcset_url(value)
            if url:
                return url
    return None


# ------------------------------------------------------------------------------------ lxml stage
#
# Each pass lets libxml2 pick the elements it needs (``iterdescendants(*tags)``, compiled XPath):
# walking every element in Python costs more than everything else here together.

_FORM_IS_PAGE_CHARS = 1500
# One C-level string test per element instead of seventy self:: tests.
_KNOWN_NAMES = "|" + "|".join(sorted(ALLOWED_TAGS | _CONTAINER_TAGS | _UNWRAP_TAGS)) + "|"
_UNKNOWN = etree.XPath(f".//*[not(contains('{_KNOWN_NAMES}', concat('|', name(), '|')))]")
_WITH_MARKS = etree.XPath(".//*[@class or @id or @hidden or @aria-hidden or @style]")
_NAMESPACED = etree.XPath(".//*[contains(name(), ':')]")


def text_of(el: etree._Element) -> str:
    """All text inside an element (C-level; works for any lxml element, not only HtmlElement)."""
    return str(etree.tostring(el, method="text", encoding="unicode", with_tail=False))


def _remove(el: etree._Element) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _unwrap(el: etree._Element) -> None:
    """Replace an element by its content, keeping text order."""
    parent = el.getparent()
    if parent is None:
        return
    previous = el.getprevious()
    if el.text:
        if previous is None:
            parent.text = (parent.text or "") + el.text
        else:
            previous.tail = (previous.tail or "") + el.text
    if el.tail:
        if len(el):
            last = el[-1]
            last.tail = (last.tail or "") + el.tail
        elif previous is None:
            parent.text = (parent.text or "") + el.tail
        else:
            previous.tail = (previous.tail or "") + el.tail
    index = parent.index(el)
    parent[index : index + 1] = list(el)


def _in_attribution(el: etree._Element) -> bool:
    return any(a.tag in ("blockquote", "figure") for a in el.iterancestors())


def drop_unwanted(root: etree._Element) -> None:
    """Remove active content, page chrome and boilerplate blocks below ``root``."""
    # Void elements hold nothing; whatever libxml2 nested in one (it does not know <embed> or
    # <source> are void) is the page's own content that followed it, so it stays.
    for el in list(root.iterdescendants(*VOID_DROP_TAGS)):
        _unwrap(el)
    # A form around a whole page (ASP.NET does that) holds the article; a small one is a
    # comment, search or signup form.
    for el in list(root.iterdescendants("form")):
        if len(text_of(el)) > _FORM_IS_PAGE_CHARS:
            _unwrap(el)
    # Document order: an ancestor goes before its descendants, whose removal is then a no-op.
    for el in list(root.iterdescendants(*DROP_TAGS, etree.Comment, etree.ProcessingInstruction)):
        _remove(el)
    for el in _NAMESPACED(root):  # <fb:like>, <o:p> and other namespaced junk
        _remove(el)
    for el in list(root.iterdescendants("footer")):
        # A quote's or figure's footer is its attribution; any other footer is page chrome.
        if not _in_attribution(el):
            _remove(el)
    for el in [el for el in _WITH_MARKS(root) if is_boilerplate_element(el)]:
        _remove(el)
    # A stock line is a short leaf block; the length test skips the regex for real paragraphs.
    doomed = []
    for el in root.iterdescendants(*TEXT_BLOCK_TAGS):
        if len(el) <= 6:
            text = text_of(el)
            if len(text) <= BOILERPLATE_TEXT_MAX and is_boilerplate_text(text):
                doomed.append(el)
    for el in doomed:
        _remove(el)


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://")) and not _URL_JUNK.search(url)


def resolve_urls(root: etree._Element, base_url: str) -> None:
    """Absolute ``href``/``src``; lazy images get their real source; scriptable URLs go."""
    for el in list(root.iter("a", "img")):
        if el.tag == "a":
            raw = el.get("href")
            if raw is None:
                continue
            href = raw if _is_http(raw) else absolute_url(raw, base_url)
            if href is None:
                del el.attrib["href"]
            elif href != raw:
                el.set("href", href)
        else:
            src = image_source(el)
            resolved = (src if _is_http(src) else absolute_url(src, base_url)) if src else None
            if resolved is None or not resolved.lower().startswith(("http://", "https://")):
                _remove(el)
            else:
                el.set("src", resolved)


def _is_block(el: etree._Element) -> bool:
    return el.tag in BLOCK_TAGS


def _wrap_inline_runs(el: etree._Element) -> None:
    """Put loose text and inline children of a block container into <p>s."""
    run: list[etree._Element] = []
    pending = el.text if el.text and el.text.strip() else None
    if pending is not None:
        el.text = None

    def flush(before: etree._Element | None) -> None:
        has_content = bool(pending and pending.strip()) or any(
            c.tag == "img" or text_of(c).strip() or c.find(".//img") is not None for c in run
        )
        if not has_content:
            return
        p = el.makeelement("p", {})
        p.text = pending
        for child in run:
            p.append(child)  # moves the child with its tail
        if before is None:
            el.append(p)
        else:
            before.addprevious(p)

    for child in list(el):
        if _is_block(child):
            flush(child)
            run = []
            pending = None
            if child.tail and child.tail.strip():
                pending = child.tail
                child.tail = None
        else:
            run.append(child)
    flush(None)


def flatten_layout(root: etree._Element) -> None:
    """Turn layout wrappers into paragraphs or unwrap them, innermost first."""
    # Elements we do not know (<my-widget>, <scr<script>) first: what they hold is kept, and
    # they must not pass for inline content that a paragraph could wrap.
    for el in reversed(_UNKNOWN(root)):
        _unwrap(el)
    for el in reversed(list(root.iterdescendants(*_CONTAINER_TAGS, *_UNWRAP_TAGS))):
        tag = el.tag
        if tag in _UNWRAP_TAGS:
            _unwrap(el)
        elif any(_is_block(child) for child in el):
            _wrap_inline_runs(el)
            _unwrap(el)
        elif (parent := el.getparent()) is not None and parent.tag in _INLINE_CONTEXT:
            _unwrap(el)
        else:
            el.tag = "p"
            for name in [n for n in el.attrib if n not in ("lang", "translate", "dir")]:
                del el.attrib[name]
    if any(_is_block(child) for child in root):
        _wrap_inline_runs(root)


def _keeps_span(el: etree._Element) -> bool:
    return bool(el.get("lang") or el.get("translate") or "notranslate" in (el.get("class") or "").split())


def _collapse(value: str | None) -> str | None:
    if not value or not any(c in value for c in ("  ", "\n", "\t", "\r", "\f")):
        return value
    return _ASCII_SPACE.sub(" ", value)


def tidy(root: etree._Element) -> None:
    """Unwrap meaningless spans and dead links, collapse whitespace, drop empty elements."""
    preformatted = {x for pre in root.iter("pre") for x in pre.iter()}
    # Reverse document order visits children before their parent, so in one pass a parent
    # emptied on the way goes too (a set of live elements: lxml proxy ids are not stable).
    filled: set[etree._Element] = set()
    for el in reversed(list(root.iterdescendants())):
        tag = el.tag
        if el not in preformatted:
            el.text = _collapse(el.text)
            if el.getparent() not in preformatted:
                el.tail = _collapse(el.tail)
        if (
            (tag == "a" and not el.get("href"))
            or (tag == "span" and not _keeps_span(el))
            or tag not in ALLOWED_TAGS
        ):
            # A link whose URL was unusable is just its words; a span without meaning, or an
            # element we do not know (<my-widget>, <scr<script>), likewise. Its children, already
            # judged, become the parent's; its text moves up with them.
            _unwrap(el)
            continue
        if tag in ("br", "hr"):
            continue  # kept, but a paragraph of nothing but <br> is still empty
        if (
            tag in _KEEP_EMPTY
            or (el.text and el.text.strip())
            or any(child in filled or (child.tail and child.tail.strip()) for child in el)
        ):
            filled.add(el)
        else:
            _remove(el)
    root.text = _collapse(root.text)
    # Whitespace at the edges of blocks and between them carries nothing.
    for el in [root, *root.iterdescendants(*BLOCK_TAGS)]:
        if el is not root and el.tail is not None and not el.tail.strip():
            el.tail = None
        if el.tag == "pre" or el in preformatted:
            continue
        if el.text is not None:
            el.text = el.text.lstrip() or None
        if len(el):
            last = el[-1]
            if last.tail is not None:
                last.tail = last.tail.rstrip() or None
        elif el.text is not None:
            el.text = el.text.rstrip() or None


def drop_orphan_captions(root: etree._Element) -> None:
    """A figure whose picture or embed is gone leaves a caption describing nothing: drop it."""
    for figure in list(root.iterdescendants("figure")):
        if not any(child.tag != "figcaption" for child in figure):
            _remove(figure)


_WITH_CLASS = etree.XPath("descendant-or-self::*[@class]")


def keep_notranslate_only(root: etree._Element) -> None:
    """``class`` survives only as ``notranslate`` (nh3 would otherwise leave ``class=""``)."""
    for el in _WITH_CLASS(root):
        if "notranslate" in el.get("class", "").split():
            el.set("class", "notranslate")
        else:
            del el.attrib["class"]


def prepare(root: etree._Element, base_url: str) -> None:
    """The whole lxml stage, in place."""
    drop_unwanted(root)
    resolve_urls(root, base_url)
    flatten_layout(root)
    tidy(root)  # needs the classes (span class="notranslate" is kept)
    keep_notranslate_only(root)
    drop_orphan_captions(root)  # after tidy, which removes the emptied links around lost images


# ------------------------------------------------------------------------------------ serialize


def inner_html(root: etree._Element) -> str:
    parts: list[str] = []
    if root.text:
        parts.append(_escape_text(root.text))
    for child in root:
        chunk = etree.tostring(child, method="html", encoding="unicode", with_tail=True)
        parts.append(chunk)
        if _is_block(child) and not (child.tail and child.tail.strip()):
            parts.append("\n")
    return "".join(parts).strip()


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sanitize(html: str) -> str:
    """nh3 with our allow-list: the last step before any HTML leaves this package."""
    return str(
        nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            clean_content_tags=_NH3_DROP_CONTENT,
            attributes=ALLOWED_ATTRIBUTES,
            allowed_classes=ALLOWED_CLASSES,
            url_schemes=URL_SCHEMES,
            link_rel=None,
            strip_comments=True,
        )
    ).strip()


def finish(root: etree._Element, base_url: str) -> str:
    """Clean a parsed body in place and return its sanitized HTML."""
    prepare(root, base_url)
    return sanitize(inner_html(root))


def clean_fragment(html: str, base_url: str) -> str:
    """Clean and sanitize an HTML fragment; relative URLs are resolved against ``base_url``.

    Idempotent: ``clean_fragment(clean_fragment(x, b), b) == clean_fragment(x, b)``.
    """
    return finish(parse_fragment(html), base_url)


def iter_links(root: etree._Element) -> Iterable[str]:
    for a in root.iter("a"):
        href = a.get("href")
        if href:
            yield href
