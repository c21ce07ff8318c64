"""Split an article body into translation units and a skeleton to pour translations back into.

A *run* is a maximal sequence of text and inline elements between block boundaries. Every run
that holds words becomes one segment, so ``<li>text<ul>…</ul></li>`` yields the text before the
nested list as a unit of its own and a sentence with a link in it is translated whole.

The skeleton is self-contained: ``skeleton`` plus ``segments`` is all ``join`` needs (that is what
gets stored). A run's place becomes a slot token ``{{syn-seg:b3}}``; when the run holds images
whose alt text is translated, the token names them: ``{{syn-seg:b3 2=alt1}}`` (placeholder 2 takes
the translation of ``alt1``). An image's ``alt`` outside any segment gets ``{{syn-seg:alt1}}``
inside the attribute.

The token's prefix never occurs in the content: it is ``syn-seg`` unless the body already contains
``{{syn-seg:``, then ``syn-seg1``, and so on (deterministic). A skeleton whose prefix is not the
default starts with a declaration ``<!--syn-seg-marker syn-seg1-->`` that ``join`` removes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from syndication.errors import SegmentationError
from syndication.models import Segment, SegmentKind
from syndication.segments.markup import escape
from syndication.segments.serialize import (
    VOID_TAGS,
    end_tag,
    escape_text,
    is_element,
    is_inline,
    is_protected,
    parse_fragment,
    serialize,
    start_tag,
)

CAPTION_TAGS = frozenset({"figcaption", "caption"})
# Empty elements that carry no meaning at the edge of a sentence: kept in the skeleton rather than
# handed to the engine as placeholders it could misplace.
_EDGE_TAGS = frozenset({"br", "wbr"})
_URL_RE = re.compile(
    r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\bmailto:)\S*|[^\s@<>]+@[^\s@<>]+\.[a-z]{2,}", re.IGNORECASE
)
MARKER = "syn-seg"
_DECLARATION = "<!--syn-seg-marker {}-->"
_DECLARATION_RE = re.compile(r"<!--syn-seg-marker (syn-seg[0-9]*)-->")


def has_words(text: str) -> bool:
    """True when ``text`` has something to translate: a letter outside URLs and e-mail addresses."""
    return any(ch.isalpha() for ch in _URL_RE.sub(" ", text))


def slot_token(marker: str, key: str, alts: Mapping[str, str] | None = None) -> str:
    names = "".join(f" {pid}={alt}" for pid, alt in (alts or {}).items())
    return "{{" + marker + ":" + key + names + "}}"


def slot_pattern(marker: str) -> re.Pattern[str]:
    """Matches slot tokens: group 1 the key, group 2 the ``pid=altkey`` pairs (may be empty)."""
    return re.compile(r"\{\{" + re.escape(marker) + r":([A-Za-z]+[0-9]*)((?: [0-9]+=alt[0-9]+)*)\}\}")


@dataclass(frozen=True)
class SplitDocument:
    """An article body as translation units plus the skeleton they go back into.

    ``skeleton`` and ``segments`` are all ``join`` needs; ``title`` and ``excerpt`` only keep the
    originals exactly (including text with nothing to translate, which has no segment).
    """

    skeleton: str
    segments: list[Segment]
    """Title, excerpt, then body units in document order (an image's alt follows its sentence)."""
    title: str | None = None
    excerpt: str | None = None

    @property
    def marker(self) -> str:
        """Prefix of the slot tokens: ``{{<marker>:<key>}}``."""
        return parse_declaration(self.skeleton)[0]

    def segment(self, key: str) -> Segment | None:
        return next((s for s in self.segments if s.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (for storing a split document next to its post revision)."""
        return {
            "skeleton": self.skeleton,
            "segments": [
                {"key": s.key, "kind": s.kind, "source": s.source, "markup": dict(s.markup)}
                for s in self.segments
            ],
            "title": self.title,
            "excerpt": self.excerpt,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitDocument:
        try:
            return cls(
                skeleton=str(data["skeleton"]),
                segments=[
                    Segment(
                        key=str(s["key"]),
                        kind=s["kind"],
                        source=str(s["source"]),
                        markup={str(k): str(v) for k, v in s.get("markup", {}).items()},
                    )
                    for s in data["segments"]
                ],
                title=data.get("title"),
                excerpt=data.get("excerpt"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SegmentationError(f"stored split document is incomplete: {exc!r}") from exc


def parse_declaration(skeleton: str) -> tuple[str, str]:
    """``(marker, skeleton without its marker declaration)``."""
    match = _DECLARATION_RE.match(skeleton)
    if match is None:
        return MARKER, skeleton
    return match.group(1), skeleton[match.end() :]


def split(html: str, *, title: str | None = None, excerpt: str | None = None) -> SplitDocument:
    """Split a sanitized article body (and its title and plain-text excerpt) into segments."""
    root = parse_fragment(html)
    marker = _free_marker(etree.tostring(root, encoding="unicode"))
    splitter = _Splitter(marker)
    for key, text in (("title", title), ("excerpt", excerpt)):
        if text is not None and has_words(text):
            kind: SegmentKind = "title" if key == "title" else "excerpt"
            splitter.segments.append(Segment(key=key, kind=kind, source=escape(text.strip())))
    try:
        splitter.container(root, caption=False, emit_tags=False)
    except RecursionError as exc:  # libxml2 caps nesting at ~255, so this is a defence only
        raise SegmentationError("article HTML is nested too deeply to split") from exc
    skeleton = "".join(splitter.out)
    if marker != MARKER or skeleton.startswith("<!--syn-seg-marker "):
        skeleton = _DECLARATION.format(marker) + skeleton
    return SplitDocument(skeleton=skeleton, segments=splitter.segments, title=title, excerpt=excerpt)


def _free_marker(content: str) -> str:
    marker, n = MARKER, 0
    while "{{" + marker + ":" in content:
        n += 1
        marker = f"{MARKER}{n}"
    return marker


Run = list["str | etree._Element"]


class _Splitter:
    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.out: list[str] = []
        self.segments: list[Segment] = []
        self._counters = {"b": 0, "cap": 0, "alt": 0}
        self._holds_block: dict[etree._Element, bool] = {}

    # ------------------------------------------------------------------ structure

    def container(self, el: etree._Element, *, caption: bool, emit_tags: bool) -> None:
        if emit_tags:
            self.out.append(start_tag(el))
            if el.tag in VOID_TAGS:
                return
        caption = caption or el.tag in CAPTION_TAGS
        run: Run = [el.text] if el.text else []
        for child in el:
            if is_inline(child) and (is_protected(child) or not self._holds_blocks(child)):
                run.append(child)
            else:
                self._flush(run, caption=caption)
                run = []
                if is_protected(child):
                    self.out.append(serialize(child))
                else:
                    self.container(child, caption=caption, emit_tags=True)
            if child.tail:
                run.append(child.tail)
        self._flush(run, caption=caption)
        if emit_tags:
            self.out.append(end_tag(el))

    def _holds_blocks(self, el: etree._Element) -> bool:
        """Whether an inline element wraps block content (``<a><p>…</p></a>``): then it is a container."""
        known = self._holds_block.get(el)
        if known is None:
            known = any(
                not is_inline(child) or (not is_protected(child) and self._holds_blocks(child))
                for child in el
            )
            self._holds_block[el] = known
        return known

    # ------------------------------------------------------------------ runs

    def _flush(self, run: Run, *, caption: bool) -> None:
        if not run:
            return
        if not has_words("".join(_run_text(run))):
            self.out.append(self._verbatim(run))
            return
        lead, body, trail = _peel(run)
        kind: SegmentKind
        if caption:
            self._counters["cap"] += 1
            key, kind = f"cap{self._counters['cap']}", "caption"
        else:
            self._counters["b"] += 1
            key, kind = f"b{self._counters['b']}", "block"
        builder = _SourceBuilder()
        for item in body:
            builder.item(item)
        self.segments.append(
            Segment(key=key, kind=kind, source="".join(builder.parts), markup=builder.markup)
        )
        alts = {pid: self._alt_segment(alt) for pid, alt in builder.alts}
        self.out.append(lead + slot_token(self.marker, key, alts) + trail)

    def _verbatim(self, run: Run) -> str:
        return "".join(
            escape_text(item) if isinstance(item, str) else serialize(item, self._alt_hook) for item in run
        )

    def _alt_hook(self, el: etree._Element, name: str, value: str) -> str:
        if name != "alt" or el.tag != "img" or not has_words(value) or _in_protected(el):
            return value
        start = len(value) - len(value.lstrip())
        end = len(value.rstrip())
        return value[:start] + slot_token(self.marker, self._alt_segment(value)) + value[end:]

    def _alt_segment(self, alt: str) -> str:
        self._counters["alt"] += 1
        key = f"alt{self._counters['alt']}"
        self.segments.append(Segment(key=key, kind="alt", source=escape(alt.strip())))
        return key


class _SourceBuilder:
    """Segment source with placeholders: ids in document order of the opening tags, from 1."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.markup: dict[str, str] = {}
        self.alts: list[tuple[str, str]] = []

    def item(self, item: str | etree._Element) -> None:
        if isinstance(item, str):
            self.parts.append(escape(item))
            return
        pid = str(len(self.markup) + 1)
        if is_protected(item) or not is_inline(item):
            self.markup[pid] = serialize(item)
            self.parts.append(f'<x id="{pid}"/>')
        elif item.tag in VOID_TAGS:
            self.markup[pid] = start_tag(item)
            self.parts.append(f'<x id="{pid}"/>')
            alt = item.get("alt")
            if item.tag == "img" and alt and has_words(alt):
                self.alts.append((pid, alt))
        elif not item.text and len(item) == 0:
            self.markup[pid] = start_tag(item) + end_tag(item)
            self.parts.append(f'<x id="{pid}"/>')
        else:
            self.markup[pid] = start_tag(item)
            self.parts.append(f'<g id="{pid}">')
            if item.text:
                self.parts.append(escape(item.text))
            for child in item:
                self.item(child)
                if child.tail:
                    self.parts.append(escape(child.tail))
            self.parts.append("</g>")


def _run_text(run: Run) -> list[str]:
    """The translatable text of a run: protected elements contribute nothing."""
    texts: list[str] = []

    def walk(el: etree._Element) -> None:
        if is_protected(el):
            return
        if el.text:
            texts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                texts.append(child.tail)

    for item in run:
        if isinstance(item, str):
            texts.append(item)
        else:
            walk(item)
    return texts


def _peel(run: Run) -> tuple[str, Run, str]:
    """Move edge whitespace and edge ``<br>``/comments of a run into the skeleton."""
    items = list(run)
    lead: list[str] = []
    while items:
        first = items[0]
        if isinstance(first, str):
            stripped = first.lstrip()
            lead.append(escape_text(first[: len(first) - len(stripped)]))
            if stripped:
                items[0] = stripped
                break
            items.pop(0)
        elif _is_edge(first):
            lead.append(serialize(first))
            items.pop(0)
        else:
            break
    trail: list[str] = []
    while items:
        last = items[-1]
        if isinstance(last, str):
            stripped = last.rstrip()
            trail.append(escape_text(last[len(stripped) :]))
            if stripped:
                items[-1] = stripped
                break
            items.pop()
        elif _is_edge(last):
            trail.append(serialize(last))
            items.pop()
        else:
            break
    return "".join(lead), items, "".join(reversed(trail))


def _is_edge(el: etree._Element) -> bool:
    return not is_element(el) or el.tag in _EDGE_TAGS


def _in_protected(el: etree._Element) -> bool:
    return is_protected(el) or any(is_protected(a) for a in el.iterancestors())
