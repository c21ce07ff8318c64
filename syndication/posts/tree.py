"""Editing lxml trees without losing text: the primitives the cleaning passes share."""

from __future__ import annotations

import re

from lxml import etree

BLOCK_TAGS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "blockquote",
        "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "figure",
        "figcaption", "hr", "div", "section", "article", "main", "header", "footer", "address",
        "details", "summary", "center", "hgroup", "fieldset", "body", "html",
    }
)  # fmt: skip
_ASCII_SPACE = re.compile(r"[ \t\n\r\f]+")


def text_of(el: etree._Element) -> str:
    """All text inside an element (C-level; works for any lxml element, not only HtmlElement)."""
    return str(etree.tostring(el, method="text", encoding="unicode", with_tail=False))


def remove_element(el: etree._Element, *, collapse: bool = False) -> None:
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
                prev.tail = collapse_spaces(prev.tail)
        else:
            parent.text = (parent.text or "") + tail
            if collapse:
                parent.text = collapse_spaces(parent.text)
    parent.remove(el)


def unwrap(el: etree._Element) -> None:
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


def is_block(el: etree._Element) -> bool:
    return el.tag in BLOCK_TAGS


def wrap_inline_runs(el: etree._Element) -> None:
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
        if is_block(child):
            flush(child)
            run = []
            pending = None
            if child.tail and child.tail.strip():
                pending = child.tail
                child.tail = None
        else:
            run.append(child)
    flush(None)


def collapse_spaces(value: str | None) -> str | None:
    if not value or not any(c in value for c in ("  ", "\n", "\t", "\r", "\f")):
        return value
    return _ASCII_SPACE.sub(" ", value)
