"""Trees an HTML5 parser reads back as themselves.

libxml2 (which parses our input) and html5ever (inside nh3, which writes our output) disagree on
mis-nested markup. Left alone, cleaning the output again would re-nest it and change it; these
repairs make the lxml tree one both parsers agree on, which keeps ``clean_fragment`` idempotent.
"""

from __future__ import annotations

from lxml import etree

from syndication.posts.tree import BLOCK_TAGS, unwrap, wrap_inline_runs

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
            unwrap(el)
    # Inline elements around blocks (<a><div>..</div></a>, <b><p>..</p></b>): unwrapped.
    for el in reversed(list(root.iterdescendants())):
        tag = el.tag
        if len(el) and tag not in BLOCK_TAGS and _has_block_inside(el):
            unwrap(el)
    # Table parts out of place lose their table role but keep their content.
    # Outermost first: once a stray <tbody> is unwrapped, its rows are judged by their new parent.
    for el in list(root.iterdescendants(*_TABLE_PARENTS)):
        parent = el.getparent()
        if parent is None or parent.tag not in _TABLE_PARENTS[el.tag]:
            unwrap(el)
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
            wrap_inline_runs(el)
            unwrap(el)
        else:
            for inner in reversed(list(el.iterdescendants(*BLOCK_TAGS))):
                unwrap(inner)
    # Lists hold only items (libxml2 closes a list at anything else when it reads it back).
    for lst in root.iterdescendants("ul", "ol", "dl"):
        only_items(lst, "dd" if lst.tag == "dl" else "li")
    # A list item (or definition part) directly in another one: an HTML parser closes the first
    # when the second starts, so they become siblings.
    for el in list(root.iterdescendants("li", "dt", "dd")):
        stops = ("ul", "ol", "menu", "li") if el.tag == "li" else ("dl", "dt", "dd")
        holder = next((a for a in el.iterancestors(*stops)), None)
        if holder is not None and holder.tag in ("li", "dt", "dd"):
            holder.addnext(el)


def only_items(lst: etree._Element, item: str) -> None:
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
