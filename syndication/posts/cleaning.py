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

import functools
import ipaddress
import logging
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

import nh3
from lxml import etree

from syndication.posts.boilerplate import (
    BOILERPLATE_TEXT_MAX,
    DROP_TAGS,
    TEXT_BLOCK_TAGS,
    VOID_DROP_TAGS,
    is_boilerplate_element,
    is_boilerplate_text,
    may_be_boilerplate_text,
)
from syndication.posts.parsing import parse_fragment

LOG = logging.getLogger(__name__)

# ------------------------------------------------------------------------------------ allow-list

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
        "blockquote", "q", "cite", "pre", "code", "kbd", "samp", "var", "strong", "em", "b", "i",
        "u", "s", "del", "ins", "mark", "small", "sub", "sup", "abbr", "span", "a", "img",
        "figure", "figcaption", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
# Allowed attributes per element, in the order they are written out (the element's own first, so
# the output does not depend on the order in the page).
_ATTRIBUTE_ORDER = {
    "a": ("href",), "img": ("src", "alt", "width", "height"), "td": ("colspan", "rowspan"),
    "th": ("colspan", "rowspan", "scope"), "ol": ("start", "reversed", "type"),
}  # fmt: skip
_GLOBAL_ATTRIBUTES = ("title", "lang", "translate", "dir")
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": set(_GLOBAL_ATTRIBUTES),
    **{tag: set(names) for tag, names in _ATTRIBUTE_ORDER.items()},
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


# Code points a WHATWG URL parser (nh3 uses one) refuses in a host; a URL that nh3 would strip
# must be stripped here already, or cleaning twice would differ from cleaning once.
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20%<>\"'\\^|`{}\[\]#?/@:\x7f]")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _host_ok(host: str) -> bool:
    # libxml2 percent-encodes non-ASCII in URL attributes when it serializes, so a host can
    # come back as "landliv%C3%A9.dk"; a URL parser decodes that before judging it.
    host = unquote(host)
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return host.endswith("]")
    if not host or _FORBIDDEN_HOST.search(host):
        return False
    labels = host.rstrip(".").split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # A host ending in a number must be an IPv4 address.
        try:
            ipaddress.IPv4Address(host.rstrip("."))
        except ValueError:
            return False
        return True
    try:
        host.encode("idna").decode("idna")  # also rejects broken punycode such as "xn--zz"
    except UnicodeError:
        return False
    return True


def _http_url_ok(parts: SplitResult) -> bool:
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if netloc.startswith("["):
        host = netloc[: netloc.find("]") + 1] if "]" in netloc else netloc
    else:
        host = netloc.split(":", 1)[0]
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    return _host_ok(host)


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
    scheme = parts.scheme.lower()
    if scheme and scheme not in URL_SCHEMES:
        return None
    if scheme in ("http", "https") and not _http_url_ok(parts):
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
        if value and not _PLACEHOLDER_SRC.search(value):
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


def _remove(el: etree._Element, *, collapse: bool = False) -> None:
    """Remove an element and its content, keeping the text that follows it.

    ``collapse`` folds the whitespace where two text runs meet (for removals after ``tidy``).
    """
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
            if collapse:
                prev.tail = _collapse(prev.tail)
        else:
            parent.text = (parent.text or "") + tail
            if collapse:
                parent.text = _collapse(parent.text)
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


def drop_stock_lines(root: etree._Element) -> None:
    """Remove short leaf blocks that say nothing but a stock line ("Skriv en kommentar")."""
    # The length test skips the regex for real paragraphs.
    doomed = []
    for el in root.iterdescendants(*TEXT_BLOCK_TAGS):
        if len(el) > 6 or not may_be_boilerplate_text(el.text):
            continue
        text = text_of(el)
        if len(text) <= BOILERPLATE_TEXT_MAX and is_boilerplate_text(text):
            doomed.append(el)
    for el in doomed:
        parent = el.getparent()
        _remove(el, collapse=True)
        # A list or quote that held only that line is empty now: it goes too.
        while parent is not None and parent is not root and not len(parent) and not text_of(parent).strip():
            grandparent = parent.getparent()
            _remove(parent, collapse=True)
            parent = grandparent


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
    drop_stock_lines(root)


def _is_http(url: str) -> bool:
    """Already absolute http(s) and valid: no need to resolve it again."""
    if not url.startswith(("http://", "https://")) or _URL_JUNK.search(url):
        return False
    try:
        return _http_url_ok(urlsplit(url))
    except ValueError:
        return False


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
    # A link whose URL was unusable is just its words; a span without meaning likewise.
    for el in reversed(list(root.iterdescendants("a", "span"))):
        if (el.tag == "a" and not el.get("href")) or (el.tag == "span" and not _keeps_span(el)):
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
            # clear() and re-set: deleting one by one fails on junk names such as "a<b".
            kept = {k: v for k in ("lang", "translate", "dir") if (v := el.get(k)) is not None}
            el.attrib.clear()
            el.attrib.update(kept)
    if any(_is_block(child) for child in root):
        _wrap_inline_runs(root)


# Where a table part may stand, and what a table part may directly hold.
_TABLE_PARENTS = {
    "td": ("tr",), "th": ("tr",), "tr": ("table", "thead", "tbody", "tfoot"),
    "thead": ("table",), "tbody": ("table",), "tfoot": ("table",), "caption": ("table",),
}  # fmt: skip
_TABLE_CHILDREN = {
    "table": frozenset({"caption", "thead", "tbody", "tfoot", "tr"}),
    "thead": frozenset({"tr"}), "tbody": frozenset({"tr"}), "tfoot": frozenset({"tr"}),
    "tr": frozenset({"td", "th"}),
}  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _has_block_inside(el: etree._Element) -> bool:
    return next(el.iterdescendants(*BLOCK_TAGS), None) is not None


def _foster(el: etree._Element, table: etree._Element) -> None:
    """Move stray table content before its table, as an HTML parser would."""
    if el.tag in BLOCK_TAGS:
        el.tail = None
        table.addprevious(el)
    else:
        p = table.makeelement("p", {})
        table.addprevious(p)
        p.append(el)


def repair_nesting(root: etree._Element) -> None:
    """Make the tree one that an HTML5 parser reads back as the same tree.

    libxml2 and our own unwrapping can leave a block inside a paragraph or a link, a cell outside
    any row, text loose in a table, a link in a link. Serialized, nh3 (html5ever) would re-nest
    those its own way, and cleaning the output again would change it. Repairing them here keeps
    ``clean_fragment`` idempotent.
    """
    for el in reversed(list(root.iterdescendants("a"))):
        if any(a.tag == "a" for a in el.iterancestors()):
            _unwrap(el)
    # Inline elements around blocks (<a><div>..</div></a>, <b><p>..</p></b>): unwrapped.
    for el in reversed(list(root.iterdescendants())):
        tag = el.tag
        if len(el) and tag not in BLOCK_TAGS and _has_block_inside(el):
            _unwrap(el)
    # Table parts out of place lose their table role but keep their content.
    # Outermost first: once a stray <tbody> is unwrapped, its rows are judged by their new parent.
    for el in list(root.iterdescendants(*_TABLE_PARENTS)):
        parent = el.getparent()
        if parent is None or parent.tag not in _TABLE_PARENTS[el.tag]:
            _unwrap(el)
    for part in list(root.iterdescendants(*_TABLE_CHILDREN)):
        table = part if part.tag == "table" else next(part.iterancestors("table"), None)
        if table is None:
            continue
        allowed = _TABLE_CHILDREN[part.tag]
        stray_text = [t for t in [part.text, *(c.tail for c in part)] if t and t.strip()]
        if stray_text:
            p = table.makeelement("p", {})
            p.text = " ".join(t.strip() for t in stray_text)
            table.addprevious(p)
            part.text = None
            for child in part:
                child.tail = None
        for child in list(part):
            if child.tag not in allowed:
                _foster(child, table)
    # Paragraphs, headings and preformatted text hold no blocks: a paragraph around blocks
    # becomes a wrapper, a heading or <pre> keeps only their words.
    for el in reversed(list(root.iterdescendants("p", "pre", *_HEADINGS))):
        if not _has_block_inside(el):
            continue
        if el.tag == "p":
            _wrap_inline_runs(el)
            _unwrap(el)
        else:
            for inner in reversed(list(el.iterdescendants(*BLOCK_TAGS))):
                _unwrap(inner)
    # Lists hold only items (libxml2 closes a list at anything else when it reads it back).
    for lst in root.iterdescendants("ul", "ol", "dl"):
        _only_items(lst, "dd" if lst.tag == "dl" else "li")
    # A list item (or definition part) directly in another one: an HTML parser closes the first
    # when the second starts, so they become siblings.
    for el in list(root.iterdescendants("li", "dt", "dd")):
        stops = ("ul", "ol", "menu", "li") if el.tag == "li" else ("dl", "dt", "dd")
        holder = next((a for a in el.iterancestors(*stops)), None)
        if holder is not None and holder.tag in ("li", "dt", "dd"):
            holder.addnext(el)


def _only_items(lst: etree._Element, item: str) -> None:
    items = ("dt", "dd") if item == "dd" else ("li",)
    run: list[etree._Element] = []
    loose = lst.text if lst.text and lst.text.strip() else None
    lst.text = None

    def flush(before: etree._Element | None) -> None:
        nonlocal loose
        if not run and not loose:
            return
        wrapper = lst.makeelement(item, {})
        wrapper.text = loose
        for child in run:
            wrapper.append(child)
        if before is None:
            lst.append(wrapper)
        else:
            before.addprevious(wrapper)
        run.clear()
        loose = None

    for child in list(lst):
        if (
            child.tag in items
            or (item == "li" and child.tag in ("dt", "dd"))
            or (item == "dd" and child.tag == "li")
        ):
            if child.tag not in items:
                child.tag = item
            flush(child)
            if child.tail and child.tail.strip():
                loose, child.tail = child.tail, None
        else:
            run.append(child)
    flush(None)


def _keeps_span(el: etree._Element) -> bool:
    return bool(el.get("lang") or el.get("translate") or "notranslate" in (el.get("class") or "").split())


def _collapse(value: str | None) -> str | None:
    if not value or not any(c in value for c in ("  ", "\n", "\t", "\r", "\f")):
        return value
    return _ASCII_SPACE.sub(" ", value)


def tidy(root: etree._Element) -> None:
    """Collapse whitespace and drop empty elements."""
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
        if tag not in ALLOWED_TAGS:
            _unwrap(el)  # nothing unknown is left by now; this only guards the allow-list
            continue
        if tag in ("br", "hr"):
            continue  # kept, but a paragraph of nothing but <br> is still empty
        if (
            tag in _KEEP_EMPTY
            or (el.text and el.text.strip())
            or any(
                (child in filled and not (tag == "figure" and child.tag == "figcaption"))
                or (child.tail and child.tail.strip())
                for child in el
            )
        ):
            # (A figure whose picture or embed is gone leaves a caption describing nothing.)
            filled.add(el)
        else:
            _remove(el)
    root.text = _collapse(root.text)


def trim_blocks(root: etree._Element) -> None:
    """Whitespace at the edges of blocks and between them carries nothing."""
    preformatted = {x for pre in root.iter("pre") for x in pre.iter()}
    for el in [root, *root.iterdescendants(*BLOCK_TAGS)]:
        if el is not root and el.tail is not None and not el.tail.strip():
            el.tail = None
        if el.tag == "pre":
            if el.text and el.text.startswith(("\n", "\r")):
                el.text = el.text.lstrip("\r\n") or None  # an HTML parser drops one such newline
            continue
        if el in preformatted:
            continue
        if el.text is not None:
            el.text = el.text.lstrip() or None
        if len(el):
            last = el[-1]
            if last.tail is not None:
                last.tail = last.tail.rstrip() or None
        elif el.text is not None:
            el.text = el.text.rstrip() or None


_WITH_ATTRIBUTES = etree.XPath("descendant-or-self::*[@*]")


def keep_allowed_attributes(root: etree._Element) -> None:
    """Only allow-listed attributes survive; ``class`` only as ``notranslate``.

    nh3 would drop the rest too, but a junk attribute name ("t/") serialized by lxml can make
    nh3's parser read the markup after it differently; and nh3 would leave ``class=""``.
    """
    for el in _WITH_ATTRIBUTES(root):
        tag = el.tag
        kept = {
            name: value
            for name in (*_ATTRIBUTE_ORDER.get(tag, ()), *_GLOBAL_ATTRIBUTES)
            if (value := el.get(name)) is not None
        }
        if "notranslate" in (el.get("class") or "").split():
            kept["class"] = "notranslate"
        el.attrib.clear()
        el.attrib.update(kept)


def prepare(root: etree._Element, base_url: str) -> None:
    """The whole lxml stage, in place."""
    drop_unwanted(root)
    resolve_urls(root, base_url)
    flatten_layout(root)
    repair_nesting(root)
    tidy(root)  # needs the classes (span class="notranslate" is kept)
    keep_allowed_attributes(root)
    # Unwrapping and removing may have left loose words beside blocks at the top level, or in
    # a list whose emptied item went away.
    if any(_is_block(child) for child in root):
        _wrap_inline_runs(root)
    for lst in root.iterdescendants("ul", "ol", "dl"):
        _only_items(lst, "dd" if lst.tag == "dl" else "li")
    drop_stock_lines(root)  # again: unwrapping and emptying may have reduced a block to one
    trim_blocks(root)


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

    Idempotent: ``clean_fragment(clean_fragment(x, b), b) == clean_fragment(x, b)``. Never raises
    on bad markup: if the article-aware pass trips over something, the fragment still goes
    through nh3 alone, so what comes out is always sanitized.
    """
    try:
        return finish(parse_fragment(html), base_url)
    except (ValueError, TypeError, etree.LxmlError) as exc:
        LOG.warning("cleaning fell back to nh3 alone (%s: %s)", type(exc).__name__, exc)
        return sanitize(inner_html(parse_fragment(html)))


def iter_links(root: etree._Element) -> Iterable[str]:
    for a in root.iter("a"):
        href = a.get("href")
        if href:
            yield href
