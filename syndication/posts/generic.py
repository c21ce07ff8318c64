"""Main content of an arbitrary page: trafilatura chooses, the page's own markup is kept.

trafilatura picks the main-content blocks best when it runs in its text configuration; asking it
to keep links and images changes *which* blocks it picks (measured on the extraction dev set: word
F1 0.957 → 0.88, link lists and image grids get in). So we let it choose in that configuration and
then map every block it returns back to the element of the page it came from (same normalized
text), and copy that element: links, emphasis, inline images and the heading level survive. A block
we cannot map is converted from trafilatura's own XML. Figures that sit between two kept blocks of
the same parent are brought back, because trafilatura's text configuration drops them.

For speed, trafilatura runs on the innermost article-like element holding most of the page's prose
(``content_scope``) and in its fast mode, with a full run only when the fast one finds too little;
on the dev set that picks the same text at about half the cost.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable

from lxml import etree
from lxml.html import HtmlElement

from syndication.posts.boilerplate import is_boilerplate_element
from syndication.posts.parsing import new_element
from syndication.posts.tree import remove_element

LOG = logging.getLogger(__name__)

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_SOURCE_TAGS = (
    "p", "li", *_HEADINGS, "blockquote", "ul", "ol", "dl", "table", "pre", "td", "th", "dd", "dt",
    "figcaption", "caption", "div", "section", "nav", "aside", "footer",
)  # fmt: skip
# Which page elements may stand for each kind of trafilatura block, best first. Page chrome is
# last: a block found only there is dropped (see ``_chrome``).
_CHROME_TAGS = ("nav", "aside", "footer")
_PREFERRED: dict[str, tuple[str, ...]] = {
    "p": ("p", "div", "section", "dd", "dt", "li", "td", "th", "figcaption", "caption", *_HEADINGS,
          "blockquote", *_CHROME_TAGS),
    "head": (*_HEADINGS, "p", "div", "dt", "th", "caption", *_CHROME_TAGS),
    "list": ("ul", "ol", "dl"),
    "item": ("li", "dd", "dt"),
    "quote": ("blockquote", "div", "p"),
    "table": ("table",),
    "cell": ("td", "th"),
    "code": ("pre", "div", "p"),
}  # fmt: skip
# Page elements whose content can be moved into a <p> when they stand for a paragraph.
_BLOCK_AS_P = frozenset({"div", "section", "dd", "dt", "li", "td", "th", "caption", "blockquote"})
_MAX_FIGURE_TEXT = 400

_HI_TAGS = {"#b": "strong", "#i": "em", "#u": "u", "#t": "code", "#sub": "sub", "#sup": "sup"}


def _key(text: str) -> str:
    return " ".join(text.split())


def trafilatura_body(root: HtmlElement, url: str, *, fast: bool = False) -> HtmlElement | None:
    """trafilatura's XML body for the page, or None when it finds nothing."""
    # Imported here: 0.2–0.3 s that a run with no page to extract (most cron runs) need not pay.
    import trafilatura

    try:
        document = trafilatura.bare_extraction(
            root,
            url=url or None,
            fast=fast,
            include_comments=False,
            include_tables=True,
            include_formatting=True,
            include_links=False,
            include_images=False,
            output_format="xml",
            with_metadata=False,
        )
    except Exception as exc:  # trafilatura is a heuristic pile; a bug in it must not sink the page
        LOG.warning("trafilatura failed on %s: %s", url, exc)
        return None
    body = getattr(document, "body", None) if document is not None else None
    if body is None or not len(body):
        return None
    return body


class _SourceIndex:
    """Page elements by normalized text, for the texts trafilatura returned."""

    def __init__(self, root: HtmlElement, wanted: set[str]) -> None:
        self.by_text: dict[str, list[HtmlElement]] = {}
        lengths = {len(k) for k in wanted}
        longest = max(lengths, default=0)
        for el in root.iter(*_SOURCE_TAGS):
            # Only divs that hold text themselves can be a trafilatura paragraph; checking that
            # first keeps nested layout divs from costing a full text walk each.
            if el.tag in ("div", "section", *_CHROME_TAGS) and (
                (not (el.text and el.text.strip()) and el.tag not in _CHROME_TAGS) or len(el) > 50
            ):
                continue
            text = el.text_content()
            if len(text) < 1 or len(text) > 3 * longest + 200:
                continue
            key = _key(text)
            if key in wanted:
                self.by_text.setdefault(key, []).append(el)

    def find(self, key: str, kind: str, after: int) -> HtmlElement | None:
        candidates = self.by_text.get(key)
        if not candidates:
            return None
        preferred = _PREFERRED.get(kind, ())
        for tag in preferred:
            same_tag = [c for c in candidates if c.tag == tag]
            if not same_tag:
                continue
            # The innermost of nested equals (a <div> around a lone <p>), at or after the last
            # match, so a repeated line maps to its occurrence in reading order.
            later = [c for c in same_tag if (c.sourceline or 0) >= after] or same_tag
            return later[-1] if tag in ("div", "section") else later[0]
        return None


def _texts(body: HtmlElement) -> set[str]:
    wanted: set[str] = set()
    for el in body.iter("p", "head", "list", "item", "quote", "table", "cell", "code"):
        key = _key("".join(el.itertext()))
        if key:
            wanted.add(key)
    return wanted


class _Builder:
    def __init__(self, root: HtmlElement, body: HtmlElement) -> None:
        self.scope = root
        self.index = _SourceIndex(root, _texts(body))
        self.out = new_element("div")
        self.last_line = 0
        self.last_source: HtmlElement | None = None
        self.used: set[HtmlElement] = set()

    # -- mapping

    def block(self, node: HtmlElement, parent: HtmlElement) -> None:
        kind = node.tag if isinstance(node.tag, str) else ""
        key = _key("".join(node.itertext()))
        if not key and kind not in ("graphic", "lb"):
            return
        source = self.index.find(key, kind, self.last_line) if key else None
        if source is not None and _chrome(source, self.scope):
            # trafilatura's last-resort baseline takes any text, menus included.
            return
        if source is not None and source not in self.used:
            self._bring_figures_before(source, parent)
            self._copy_source(source, kind, node, parent)
            return
        if kind in ("list", "quote", "table"):
            # Not found as a whole (trafilatura dropped or merged a part): map the parts.
            container = parent.makeelement(_container_tag(node), {})
            parent.append(container)
            if node.text and node.text.strip():
                p = container.makeelement("p", {})
                p.text = node.text
                container.append(p)
            for child in node:
                self.child(child, container)
            return
        parent.append(_convert(node))

    def child(self, node: HtmlElement, parent: HtmlElement) -> None:
        kind = node.tag if isinstance(node.tag, str) else ""
        if kind in ("item", "cell", "p", "head", "code", "list", "quote", "table"):
            self.block(node, parent)
        elif kind == "row":
            row = parent.makeelement("tr", {})
            parent.append(row)
            for cell in node:
                self.child(cell, row)
        else:
            parent.append(_convert(node))

    def _copy_source(self, source: HtmlElement, kind: str, node: HtmlElement, parent: HtmlElement) -> None:
        self.used.add(source)
        self.last_line = source.sourceline or self.last_line
        self.last_source = source
        if source.tag == "figcaption":
            figure = source.getparent()
            if figure is not None and figure.tag == "figure" and figure not in self.used:
                self.used.add(figure)
                parent.append(_detached_copy(figure))
                return
        clone = _detached_copy(source)
        if kind == "p" and clone.tag in _BLOCK_AS_P:
            clone.tag = "p"
        elif kind == "head" and clone.tag not in _HEADINGS:
            clone.tag = _heading_tag(node)
        elif kind == "item" and parent.tag in ("ul", "ol") and clone.tag != "li":
            clone.tag = "li"
        elif kind == "cell" and clone.tag not in ("td", "th"):
            clone.tag = "td"
        parent.append(clone)

    def _bring_figures_before(self, source: HtmlElement, parent: HtmlElement) -> None:
        """Copy image blocks between the previous mapped element and ``source`` (same parent)."""
        previous = self.last_source
        if previous is None or previous.getparent() is not source.getparent():
            return
        for sibling in previous.itersiblings():
            if sibling is source:
                break
            if not isinstance(sibling.tag, str) or sibling in self.used:
                continue
            if sibling.tag != "img" and sibling.find(".//img") is None:
                continue
            if is_boilerplate_element(sibling) or len(sibling.text_content()) > _MAX_FIGURE_TEXT:
                continue
            self.used.add(sibling)
            parent.append(_detached_copy(sibling))


def _chrome(el: HtmlElement, scope: HtmlElement) -> bool:
    """A navigation, aside or footer element, or inside one below the scope.

    Only tags and only below the scope: real pages put their article inside a "widget" section
    or, through unclosed menus, inside a navigation list, so what is above the scope says little.
    """
    if el.tag in _CHROME_TAGS:
        return True
    for ancestor in el.iterancestors():
        if ancestor is scope:
            return False
        if ancestor.tag in ("blockquote", "figure"):
            return False  # a quote's <footer> is its attribution
        if ancestor.tag in _CHROME_TAGS:
            return True
    return False


def _detached_copy(el: HtmlElement) -> HtmlElement:
    clone = copy.deepcopy(el)
    clone.tail = None
    return clone


def _heading_tag(node: HtmlElement) -> str:
    rend = (node.get("rend") or "h3").lower()
    return rend if rend in _HEADINGS else "h3"


def _container_tag(node: HtmlElement) -> str:
    if node.tag == "list":
        return "ol" if (node.get("rend") or "").lower() == "ol" else "ul"
    return {"quote": "blockquote", "table": "table"}.get(str(node.tag), "div")


_CONVERSIONS = {
    "p": "p", "item": "li", "quote": "blockquote", "code": "pre", "lb": "br", "row": "tr",
    "del": "del", "ref": "a", "graphic": "img", "table": "table", "div": "div", "ab": "p",
}  # fmt: skip


_XML_ATTRIBUTES = ("rend", "role", "target", "src", "alt", "title")


def _convert(node: HtmlElement) -> HtmlElement:
    """trafilatura XML → our HTML, for a block that could not be mapped back to the page."""
    clone = copy.deepcopy(node)
    clone.tail = None
    for el in list(clone.iter()):
        tag = el.tag if isinstance(el.tag, str) else ""
        # Only the attributes we use, read by name: iterating all of them fails on junk names
        # ("a<b") that trafilatura carries over from the page.
        attrs = {name: value for name in _XML_ATTRIBUTES if (value := el.get(name)) is not None}
        el.attrib.clear()
        if tag == "head":
            el.tag = _heading_tag_from(attrs)
        elif tag == "hi":
            el.tag = _HI_TAGS.get(attrs.get("rend", ""), "em")
        elif tag == "list":
            el.tag = "ol" if attrs.get("rend", "").lower() == "ol" else "ul"
        elif tag == "cell":
            el.tag = "th" if attrs.get("role") == "head" else "td"
        elif tag == "ref":
            el.tag = "a"
            if attrs.get("target"):
                el.set("href", attrs["target"])
        elif tag == "graphic":
            el.tag = "img"
            for name in ("src", "alt", "title"):
                if attrs.get(name):
                    el.set(name, attrs[name])
        elif tag in _CONVERSIONS:
            el.tag = _CONVERSIONS[tag]
        else:
            el.tag = "span"
    return clone


def _heading_tag_from(attrs: dict[str, str]) -> str:
    rend = attrs.get("rend", "h3").lower()
    return rend if rend in _HEADINGS else "h3"


# Class names that say "the article is in here".
_SCOPE_CLASS = re.compile(
    r"^(?:(?:entry|post|article|story|single|blog|td-post|page|main|news)[-_]?"
    r"(?:content|body|text|entry|inner)|articlebody|the-content|content-body|"
    r"article__(?:body|content)|post__content|rich-text)$",
    re.IGNORECASE,
)
# Paragraphs long enough to be prose, counted in C by libxml2 rather than walked in Python.
_PROSE = "p[string-length(normalize-space(.)) > 60]"
_COUNT_PROSE = etree.XPath(f"count(.//{_PROSE})")
_SCOPE_MIN_PROSE = 3
_SCOPE_SHARE = 0.8


def _scope_candidate(el: HtmlElement) -> bool:
    if el.tag in ("article", "main"):
        return True
    attrs = el.attrib
    if attrs.get("itemprop") == "articleBody" or attrs.get("role") == "main":
        return True
    if attrs.get("id") in ("content", "main", "primary"):
        return True
    classes = attrs.get("class")
    return bool(classes) and any(_SCOPE_CLASS.match(token) for token in classes.split())


def content_scope(root: HtmlElement) -> HtmlElement:
    """The innermost article-like element holding most of the page's prose, else ``root``.

    trafilatura's time grows with the tree; on that element instead of the whole page it runs a
    third faster and, measured on the extraction dev set, picks the same or slightly better text.
    """
    total = _COUNT_PROSE(root)
    if total < _SCOPE_MIN_PROSE:
        return root
    best, best_depth = root, 0
    # One pass over the usual containers (tag filter in C); XPath class predicates over every
    # element cost more than this whole function.
    for el in root.iter("article", "main", "div", "section"):
        if not _scope_candidate(el) or _COUNT_PROSE(el) < _SCOPE_SHARE * total:
            continue
        depth = sum(1 for _ in el.iterancestors())
        if depth > best_depth:
            best, best_depth = el, depth
    return best


def _as_document(el: HtmlElement) -> HtmlElement:
    # Inside <article>: trafilatura's main extractor looks for such a container, and without one
    # it falls back to a "wild text" recovery that drops headings.
    document = new_element("html")
    body = new_element("body")
    article = new_element("article")
    document.append(body)
    body.append(article)
    article.append(_detached_copy(el))
    return document


# trafilatura's fast mode skips its readability/justext comparison, a third of its time. Once the
# tree is narrowed to the article that comparison changed nothing on the dev set; it still runs
# when the fast result covers less than this share of the prose in scope (or is nearly empty).
_FULL_RUN_SHARE = 0.5
_FULL_RUN_MIN_CHARS = 250


def prose_chars(scope: HtmlElement) -> int:
    """Characters in the paragraphs long enough to be prose below ``scope``."""
    return sum(len(p.text_content()) for p in scope.xpath(f".//{_PROSE}"))


# Never article text, and trafilatura would copy and then drop them anyway (a sixth of its time).
_INERT = ("head", "script", "style", "noscript", "template", "svg", "iframe", "link", "meta")


def extract_generic(root: HtmlElement, url: str) -> HtmlElement | None:
    """The main content of ``root`` as a ``<div>`` of page elements, or None.

    Removes scripts, styles and the ``<head>`` from ``root`` first: call it after the metadata
    has been read.
    """
    for el in list(root.iterdescendants(*_INERT)):
        remove_element(el)
    scope = content_scope(root)
    document = root if scope is root else _as_document(scope)
    body = trafilatura_body(document, url, fast=True)
    found = len("".join(body.itertext())) if body is not None else 0
    if found < max(_FULL_RUN_MIN_CHARS, _FULL_RUN_SHARE * prose_chars(scope)):
        full = trafilatura_body(document, url, fast=False)
        if full is not None and len("".join(full.itertext())) > found:
            body = full
    if body is None:
        return None
    builder = _Builder(scope, body)
    for node in _children(body):
        builder.block(node, builder.out)
    return builder.out if len(builder.out) else None


def _children(body: HtmlElement) -> Iterable[HtmlElement]:
    return [child for child in body if isinstance(child.tag, str)]
