"""Markup nested deeper than libxml2 reads, flattened so that nothing in it is lost.

libxml2 stops at 256 levels of nesting (2,048 with ``huge_tree``) and then drops everything inside
and after the deep block, silently. We keep its limit (it bounds the depth of everything we later
serialize, and nh3's html5ever is quadratic in depth) and instead rewrite such a document before
parsing it again: the tags of elements deeper than a limit are dropped, their text kept. This runs
only on documents libxml2 refused, so ordinary pages are parsed exactly as before.

The depth is tracked with the standard library's tokenizer and a small model of libxml2's tree
builder (void elements, the start tags that close an open ``<p>``/``<li>``/cell, and the end-tag
priorities that keep ``</span>`` from closing a ``<div>``). The model need not be exact: the caller
parses the result again and, if libxml2 still finds it too deep, flattens harder or reports the
document as incomplete. Every step is linear in the size of the input.
"""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
     "source", "track", "wbr", "basefont", "bgsound", "frame", "isindex"}
)  # fmt: skip
# Start tags that close an open paragraph (libxml2's htmlStartClose, the common part).
_CLOSES_P = frozenset(
    {"p", "div", "ul", "ol", "dl", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
     "form", "hr", "section", "article", "aside", "header", "footer", "nav", "main", "figure",
     "address", "fieldset", "details", "menu", "center", "li", "dt", "dd"}
)  # fmt: skip
_CLOSES: dict[str, frozenset[str]] = {
    "li": frozenset({"li", "p"}),
    "dt": frozenset({"dt", "dd", "p"}),
    "dd": frozenset({"dt", "dd", "p"}),
    "tr": frozenset({"tr", "td", "th", "p"}),
    "td": frozenset({"td", "th", "p"}),
    "th": frozenset({"td", "th", "p"}),
    "thead": frozenset({"tr", "td", "th", "thead", "tbody", "tfoot", "p"}),
    "tbody": frozenset({"tr", "td", "th", "thead", "tbody", "tfoot", "p"}),
    "tfoot": frozenset({"tr", "td", "th", "thead", "tbody", "tfoot", "p"}),
    "option": frozenset({"option"}),
}
# libxml2's htmlEndPriority: an end tag does not close an element of higher priority above it.
_END_PRIORITY = {
    "div": 150, "td": 160, "th": 160, "tr": 170, "thead": 180, "tbody": 180, "tfoot": 180,
    "table": 190, "head": 200, "body": 200, "html": 220,
}  # fmt: skip
# Tags whose dropped start or end stands for a line break, so words on both sides stay apart.
_BREAKS = _CLOSES_P | frozenset({"tr", "td", "th", "caption", "figcaption", "br"})
# An end tag looks this far down the stack for its element; further down counts as not found,
# which only makes the estimate deeper (safe) and keeps hostile input linear.
_MAX_END_WALK = 64


class _Flattener(HTMLParser):
    def __init__(self, limit: int) -> None:
        super().__init__(convert_charrefs=False)
        self.limit = limit
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []
        self.open = Counter[str]()
        self.dropped = 0
        self.deepest = 0

    def _pop(self) -> None:
        tag, kept = self.stack.pop()
        self.open[tag] -= 1
        if kept:
            self.out.append(f"</{tag}>")
        elif tag in _BREAKS:
            self.out.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or ""
        if tag in VOID:
            self.out.append(raw)
            return
        closes = _CLOSES.get(tag, frozenset({"p"}) if tag in _CLOSES_P else frozenset())
        while self.stack and self.stack[-1][0] in closes:
            self._pop()
        kept = len(self.stack) < self.limit
        self.stack.append((tag, kept))
        self.open[tag] += 1
        self.deepest = max(self.deepest, len(self.stack))
        if kept:
            self.out.append(raw)
        else:
            self.dropped += 1
            if tag in _BREAKS:
                self.out.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # libxml2 reads "<x/>" as an empty element: it never nests.
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if not self.open[tag]:
            # A stray end tag: libxml2 ignores it (or makes an empty <p>); no depth either way.
            if len(self.stack) < self.limit:
                self.out.append(f"</{tag}>")
            return
        priority = _END_PRIORITY.get(tag, 100)
        for steps, (open_tag, _) in enumerate(reversed(self.stack)):
            if open_tag == tag:
                for _ in range(steps + 1):
                    self._pop()
                return
            if steps >= _MAX_END_WALK or _END_PRIORITY.get(open_tag, 100) > priority:
                return  # libxml2 ignores it too (or, past the walk, we assume so: deeper is safe)

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    # Comments, declarations and processing instructions are dropped by our parser anyway.


def flatten_deep(html: str, limit: int) -> tuple[str, int, int]:
    """``html`` with the tags of elements nested deeper than ``limit`` dropped (their text kept);
    also the number of tags dropped and the deepest nesting seen."""
    flattener = _Flattener(limit)
    flattener.feed(html)
    flattener.close()
    return "".join(flattener.out), flattener.dropped, flattener.deepest
