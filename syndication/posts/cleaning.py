"""The one cleaner every body goes through: pages, feed entries and translated HTML.

Two stages. First an lxml pass that knows about articles: it drops boilerplate (share buttons,
related posts, comment forms, stock lines such as "Skriv en kommentar"), resolves lazy-loaded
images, makes URLs absolute and flattens layout ``<div>``s into paragraphs. Then ``nh3`` with an
explicit allow-list, so whatever the first stage missed, nothing executable leaves: no scripts,
event handlers, ``javascript:`` URLs, iframes or styles.

``clean_fragment`` is idempotent (its output is a fixed point): the lxml pass keeps only the
attributes and URLs nh3 keeps, leaves a tree that libxml2 and nh3's html5ever read back alike
(``nesting.repair_nesting``), and finds nothing left to change in its own output. The tests check
this on hand-written, hostile and randomly mutated pages.
"""

from __future__ import annotations

import logging
import re

import nh3
from lxml import etree

from syndication.models import Removed
from syndication.posts.boilerplate import (
    BOILERPLATE_TEXT_MAX,
    DROP_TAGS,
    TEXT_BLOCK_TAGS,
    VOID_DROP_TAGS,
    is_boilerplate_element,
    is_boilerplate_text,
    is_link_list_label,
    may_be_boilerplate_text,
)
from syndication.posts.nesting import only_items, repair_nesting
from syndication.posts.parsing import parse_fragment
from syndication.posts.removals import REPORTED_TAGS, Removals
from syndication.posts.tree import (
    BLOCK_TAGS,
    collapse_spaces,
    is_block,
    remove_element,
    text_of,
    unwrap,
    wrap_inline_runs,
)
from syndication.posts.urls import URL_SCHEMES, absolute_url, image_source, is_valid_http

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
# Removed with their content by nh3 as a second line of defence (the lxml pass drops them first).
_NH3_DROP_CONTENT = {
    "script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math",
    "textarea", "select", "button", "title", "frameset", "frame", "applet",
}  # fmt: skip

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


def _in_attribution(el: etree._Element) -> bool:
    return any(a.tag in ("blockquote", "figure") for a in el.iterancestors())


_LINK_LIST_MAX_CHARS = 600


def _only_links(el: etree._Element) -> bool:
    """A short list or block whose words are all inside links (share buttons, post titles)."""
    if el.tag not in ("ul", "ol", "div", "p", "nav"):
        return False
    letters = "".join(text_of(el).split())
    if not letters or len(letters) > _LINK_LIST_MAX_CHARS:
        return False
    linked = sum(len("".join(text_of(a).split())) for a in el.iter("a"))
    return linked >= 0.85 * len(letters)


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
        # A share or related-posts label without its plugin's classes: the links it heads go too.
        following = el.getnext()
        if following is not None and is_link_list_label(text_of(el)) and _only_links(following):
            remove_element(following, collapse=True)
        parent = el.getparent()
        remove_element(el, collapse=True)
        # A list or quote that held only that line is empty now: it goes too.
        while parent is not None and parent is not root and not len(parent) and not text_of(parent).strip():
            grandparent = parent.getparent()
            remove_element(parent, collapse=True)
            parent = grandparent


def _release_blocks(control: etree._Element) -> None:
    children = list(control)
    first = next(
        (
            i
            for i, c in enumerate(children)
            if is_block(c) or next(c.iterdescendants(*BLOCK_TAGS), None) is not None
        ),
        None,
    )
    if first is None:
        return
    anchor = control
    for child in children[first:]:
        anchor.addnext(child)  # moves the child with its tail
        anchor = child
    if control.tail:
        # The button's own tail followed the last moved child in the source.
        anchor.tail = (anchor.tail or "") + control.tail
        control.tail = None


def drop_unwanted(root: etree._Element, removed: Removals | None = None) -> None:
    """Remove active content, page chrome and boilerplate blocks below ``root``; ``removed``
    records the content a reader would miss (embeds, inline SVG, forms)."""
    if removed is not None:
        # Before anything moves: whether an element sits in page chrome is read from its ancestors.
        for el in root.iterdescendants(*REPORTED_TAGS):
            if el.tag != "form" or len(text_of(el)) <= _FORM_IS_PAGE_CHARS:
                removed.element(el, root)
    # Void elements hold nothing; whatever libxml2 nested in one (it does not know <embed> or
    # <source> are void) is the page's own content that followed it, so it stays.
    for el in list(root.iterdescendants(*VOID_DROP_TAGS)):
        unwrap(el)
    # A button or label holds only its words (phrasing content). Blocks inside one are the page's
    # own content that an unclosed <button> swallowed (libxml2 nests the rest of the page in it):
    # they stay, after it; the label itself goes with the button.
    for control in list(root.iterdescendants("button", "label")):
        _release_blocks(control)
    # A form around a whole page (ASP.NET does that) holds the article; a small one is a
    # comment, search or signup form.
    for el in list(root.iterdescendants("form")):
        if len(text_of(el)) > _FORM_IS_PAGE_CHARS:
            unwrap(el)
    # Document order: an ancestor goes before its descendants, whose removal is then a no-op.
    for el in list(root.iterdescendants(*DROP_TAGS, etree.Comment, etree.ProcessingInstruction)):
        remove_element(el)
    for el in _NAMESPACED(root):  # <fb:like>, <o:p> and other namespaced junk
        remove_element(el)
    for el in list(root.iterdescendants("footer")):
        # A quote's or figure's footer is its attribution; any other footer is page chrome.
        if not _in_attribution(el):
            remove_element(el)
    for el in [el for el in _WITH_MARKS(root) if is_boilerplate_element(el)]:
        remove_element(el)
    drop_stock_lines(root)


def resolve_urls(root: etree._Element, base_url: str, removed: Removals | None = None) -> None:
    """Absolute ``href``/``src``; lazy images get their real source; scriptable URLs go (an image
    that goes is recorded in ``removed``)."""
    for el in list(root.iter("a", "img")):
        if el.tag == "a":
            raw = el.get("href")
            if raw is None:
                continue
            href = raw if is_valid_http(raw) else absolute_url(raw, base_url)
            if href is None:
                del el.attrib["href"]
            elif href != raw:
                el.set("href", href)
        else:
            src = image_source(el)
            resolved = (src if is_valid_http(src) else absolute_url(src, base_url)) if src else None
            if resolved is None or not resolved.lower().startswith(("http://", "https://")):
                if removed is not None:
                    removed.image(el, src or el.get("src"))
                remove_element(el)
            else:
                el.set("src", resolved)


# Cheap test before parsing a feed entry only to look for what cleaning would remove.
_REPORTABLE = re.compile(
    r"<(?:iframe|frame|object|embed|applet|video|audio|svg|math|canvas|form)\b|data:", re.I
)


def removed_content(html: str, base_url: str) -> list[Removed]:
    """What cleaning ``html`` would remove that a reader would miss (see ``posts.removals``)."""
    if not _REPORTABLE.search(html):
        return []
    removed = Removals()
    root = parse_fragment(html)
    drop_unwanted(root, removed)
    resolve_urls(root, base_url, removed)
    return removed.result()


def flatten_layout(root: etree._Element) -> None:
    """Turn layout wrappers into paragraphs or unwrap them, innermost first."""
    # Elements we do not know (<my-widget>, <scr<script>) first: what they hold is kept, and
    # they must not pass for inline content that a paragraph could wrap.
    for el in reversed(_UNKNOWN(root)):
        unwrap(el)
    # A link whose URL was unusable is just its words; a span without meaning likewise.
    for el in reversed(list(root.iterdescendants("a", "span"))):
        if (el.tag == "a" and not el.get("href")) or (el.tag == "span" and not _keeps_span(el)):
            unwrap(el)
    for el in reversed(list(root.iterdescendants(*_CONTAINER_TAGS, *_UNWRAP_TAGS))):
        tag = el.tag
        if tag in _UNWRAP_TAGS:
            unwrap(el)
        elif any(is_block(child) for child in el):
            wrap_inline_runs(el)
            unwrap(el)
        elif (parent := el.getparent()) is not None and parent.tag in _INLINE_CONTEXT:
            unwrap(el)
        else:
            el.tag = "p"
            # clear() and re-set: deleting one by one fails on junk names such as "a<b".
            kept = {k: v for k in ("lang", "translate", "dir") if (v := el.get(k)) is not None}
            el.attrib.clear()
            el.attrib.update(kept)
    if any(is_block(child) for child in root):
        wrap_inline_runs(root)


def _keeps_span(el: etree._Element) -> bool:
    return bool(el.get("lang") or el.get("translate") or "notranslate" in (el.get("class") or "").split())


def tidy(root: etree._Element) -> None:
    """Collapse whitespace and drop empty elements."""
    preformatted = {x for pre in root.iter("pre") for x in pre.iter()}
    # Reverse document order visits children before their parent, so in one pass a parent
    # emptied on the way goes too (a set of live elements: lxml proxy ids are not stable).
    filled: set[etree._Element] = set()
    for el in reversed(list(root.iterdescendants())):
        tag = el.tag
        if el not in preformatted:
            el.text = collapse_spaces(el.text)
            if el.getparent() not in preformatted:
                el.tail = collapse_spaces(el.tail)
        if tag not in ALLOWED_TAGS:
            unwrap(el)  # nothing unknown is left by now; this only guards the allow-list
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
            remove_element(el)
    root.text = collapse_spaces(root.text)


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


def prepare(root: etree._Element, base_url: str, removed: Removals | None = None) -> None:
    """The whole lxml stage, in place; ``removed`` records what a reader would miss."""
    drop_unwanted(root, removed)
    resolve_urls(root, base_url, removed)
    flatten_layout(root)
    repair_nesting(root)
    tidy(root)  # needs the classes (span class="notranslate" is kept)
    keep_allowed_attributes(root)
    # Unwrapping and removing may have left loose words beside blocks at the top level, or in
    # a list whose emptied item went away.
    if any(is_block(child) for child in root):
        wrap_inline_runs(root)
    for lst in root.iterdescendants("ul", "ol", "dl"):
        only_items(lst, "dd" if lst.tag == "dl" else "li")
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
        if is_block(child) and not (child.tail and child.tail.strip()):
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


def finish(root: etree._Element, base_url: str, removed: Removals | None = None) -> str:
    """Clean a parsed body in place and return its sanitized HTML."""
    prepare(root, base_url, removed)
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
