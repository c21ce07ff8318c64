"""Plain text of body HTML, keeping its block structure.

Blocks (paragraphs, headings, quotes, tables, lists) are separated by a blank line; list items
(numbered ``1. `` in ordered lists) and table rows (cells joined by `` | ``) sit on their own
lines inside their block; ``<br>`` is a line break; ``<pre>`` keeps its own line breaks.
Pictures contribute nothing: neither an image's alt text nor the caption of an image figure is
prose the plain text can show.
"""

from __future__ import annotations

from lxml import etree

from syndication.posts.parsing import parse_fragment

_SKIP = frozenset({"script", "style", "noscript", "template", "head", "title", "iframe", "svg", "math"})
# Elements that end the current line of text and start a new block.
_BLOCKS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figure", "figcaption", "caption",
        "div", "section", "article", "main", "header", "footer", "address", "aside", "nav",
        "details", "summary", "center", "hgroup", "fieldset", "form", "body", "html", "hr",
        "ul", "ol", "dl", "table",
    }
)  # fmt: skip
# Lines of a block: they follow each other with a single newline.
_LINES = frozenset({"li", "dt", "dd", "tr"})
_CELLS = frozenset({"td", "th"})
_LISTS = frozenset({"ul", "ol", "dl"})


class _Collector:
    """Accumulates inline text and closes it into blocks and lines."""

    def __init__(self) -> None:
        self.blocks: list[list[str]] = []
        self.lines: list[str] = []
        self.inline: list[str] = []

    def text(self, value: str | None) -> None:
        if value:
            self.inline.append(value)

    def raw(self, value: str) -> None:
        self.inline.append("\x00" + value + "\x00")

    def end_line(self) -> None:
        line = _render_inline("".join(self.inline))
        self.inline = []
        if line:
            self.lines.append(line)

    def end_block(self) -> None:
        self.end_line()
        if self.lines:
            self.blocks.append(self.lines)
            self.lines = []

    def result(self) -> str:
        self.end_block()
        return "\n\n".join("\n".join(lines) for lines in self.blocks)


def _render_inline(value: str) -> str:
    # A <pre> arrives alone, bracketed by \x00, and stays verbatim. Elsewhere \x01 is a <br> and
    # every other run of whitespace (non-breaking spaces included) is one space.
    if value.startswith("\x00"):
        return value.strip("\x00").strip("\n").rstrip()
    if "\x01" not in value:
        return " ".join(value.split())
    return "\n".join(" ".join(line.split()) for line in value.split("\x01")).strip()


def _caption_of_picture(figure: etree._Element) -> bool:
    # WordPress wraps tables and pull quotes in <figure> too; their captions are prose.
    return not any(figure.find(f".//{tag}") is not None for tag in ("table", "blockquote", "pre"))


def _walk(
    el: etree._Element, out: _Collector, parent_tag: str = "", marker: str = "", depth: int = 0
) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _SKIP or not tag or depth > 400:
        return
    if tag == "br":
        out.text("\x01")
        return
    if tag == "pre":
        out.end_block()
        out.raw("".join(el.itertext()))
        out.end_block()
        return
    if tag == "figcaption" and parent_tag == "figure" and _caption_of_picture(el.getparent()):
        # An image caption describes a picture the plain text does not show.
        return
    nested_list = tag in _LISTS and parent_tag in _LINES
    starts_block = tag in _BLOCKS and not nested_list
    starts_line = tag in _LINES or nested_list
    if starts_block:
        out.end_block()
    elif starts_line:
        out.end_line()
    elif tag in _CELLS and out.inline:
        out.text(" | ")
    if marker:
        out.text(marker)
    out.text(el.text)
    number = _start(el) if tag == "ol" else 0
    for child in el:
        child_marker = ""
        if child.tag == "li" and tag == "ol":
            child_marker = f"{number}. "
            number += 1
        _walk(child, out, tag, child_marker, depth + 1)
        out.text(child.tail)
    if starts_block:
        out.end_block()
    elif starts_line:
        out.end_line()


def _start(ol: etree._Element) -> int:
    try:
        return int(ol.get("start", "1"))
    except ValueError:
        return 1


def element_text(root: etree._Element) -> str:
    """Block-structured plain text of a parsed element."""
    out = _Collector()
    _walk(root, out)
    return out.result()


def html_to_text(html: str) -> str:
    """Plain text with block structure: a blank line between blocks, list items on own lines."""
    return element_text(parse_fragment(html))
