"""Segment markup → plain sentences for a neural model, and back.

A segment is escaped text with XLIFF-like placeholders: ``<g id="1">…</g>`` around the words of a
link or emphasis, ``<x id="2"/>`` for things without words (a line break, an image, inline code, a
glossary term). Neural models mangle tags, so the Argos engine never shows them any:

* **paired spans** (``<g>`` with words inside) are removed; their word range is remembered and the
  span is projected onto the translation afterwards through the model's attention (see
  :mod:`syndication.translations.projection`). A span that wraps whole sentences needs no
  projection: its tags stay between sentences.
* **atoms** (``<x/>``, a ``<g>`` without letters or digits such as a linked image, and URLs or
  e-mail addresses in the text) become a *stand-in*: a three-digit number not found elsewhere in the
  sentence, which models copy unchanged; afterwards the number is replaced by the original markup.
* sentences are the units sent to the model; where a span crosses a sentence boundary, the sentences
  it touches are translated as one unit so its tags can be placed.

Parsing never fails: anything that is not a recognisable placeholder is text, and an unmatched tag
is kept as an atom so it is not lost.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from syndication.translations.sentences import sentence_spans

ATOM_CHAR = "\ue000"
"""Stands for a tag atom in the plain text (private-use character, never in real text)."""

_ID = r"""\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)'|([^\s"'<>/]+))"""
_TAG = re.compile(rf"<\s*(g|x)\s+id{_ID}\s*(/?)\s*>|<\s*/\s*(g|x)\s*>", re.IGNORECASE)
# Only complete references are decoded, so "R&notes" stays as written.
_REF = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_URL = re.compile(
    r"(?:\b(?:https?://|www\.)[^\s<>\"']+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}\"'»”’"
_WORD_CHAR = re.compile(r"\w")


def unescape(text: str) -> str:
    return _REF.sub(lambda m: html.unescape(m.group(0)), text)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def strip_placeholders(markup: str) -> str:
    """Plain text of segment markup: ``<x/>`` becomes a space, ``<g>`` tags vanish, references decode."""

    def blank(match: re.Match[str]) -> str:
        return " " if (match.group(1) or "").lower() == "x" or match.group(5) else ""

    return unescape(_TAG.sub(blank, markup))


def has_word_chars(text: str) -> bool:
    """True when ``text`` has a letter or digit (something a model could translate or mangle)."""
    return _WORD_CHAR.search(text.replace("_", "")) is not None


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _id_markup(ident: str) -> str:
    return escape(ident).replace('"', "&quot;")


@dataclass(frozen=True)
class Span:
    """A paired placeholder over ``text[start:end]`` of the plain text."""

    start: int
    end: int
    open_markup: str
    close_markup: str
    order: int
    """Position of the opening tag in the source; ties in output order follow it."""
    depth: int


@dataclass(frozen=True)
class Tag:
    """A zero-width opening or closing tag at ``offset`` of the plain text."""

    offset: int
    order: int
    markup: str
    span: int
    """Index of the span in ``Parsed.spans``."""


@dataclass
class Parsed:
    text: str
    """Plain, unescaped text; every tag atom is one ``ATOM_CHAR``."""
    spans: list[Span] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    atoms: dict[int, str] = field(default_factory=dict)
    """Offset of an ``ATOM_CHAR`` → the markup it stands for."""


def parse(markup: str) -> Parsed:
    """Plain text, spans and atoms of segment markup; never raises."""
    text_parts: list[str] = []
    length = 0
    events: list[tuple[str, int, str, str]] = []  # kind, offset, markup, ident
    pos = 0
    for match in _TAG.finditer(markup):
        if match.start() > pos:
            chunk = unescape(markup[pos : match.start()]).replace(ATOM_CHAR, " ")
            text_parts.append(chunk)
            length += len(chunk)
        pos = match.end()
        if match.group(6):
            if match.group(6).lower() == "g":
                events.append(("close", length, "</g>", ""))
            continue  # a stray </x> carries nothing
        ident = unescape(next(g for g in match.group(2, 3, 4) if g is not None).strip())
        if match.group(1).lower() == "x" or match.group(5):
            events.append(("atom", length, f'<x id="{_id_markup(ident)}"/>', ident))
        else:
            events.append(("open", length, f'<g id="{_id_markup(ident)}">', ident))
    if pos < len(markup):
        chunk = unescape(markup[pos:]).replace(ATOM_CHAR, " ")
        text_parts.append(chunk)
    plain = "".join(text_parts)
    return _assemble(plain, events)


def _assemble(plain: str, events: list[tuple[str, int, str, str]]) -> Parsed:
    """Pair tags into spans; collapse spans without words (and unmatched tags) into atoms."""
    pair_of: dict[int, int] = {}  # opening event index → closing event index
    stack: list[int] = []
    for index, (kind, _offset, _markup, _ident) in enumerate(events):
        if kind == "open":
            stack.append(index)
        elif kind == "close" and stack:
            pair_of[stack.pop()] = index
    opener_of = {close: open_ for open_, close in pair_of.items()}

    out = Parsed(text="")
    pieces: list[str] = []
    built = 0  # length of the plain text built so far
    cursor = 0  # position in ``plain``
    open_tags: dict[int, int] = {}  # opening event index → index in out.tags
    open_depth: list[int] = []
    index = 0
    while index < len(events):
        kind, offset, markup, _ident = events[index]
        pieces.append(plain[cursor:offset])
        built += offset - cursor
        cursor = offset
        close = pair_of.get(index)
        if close is not None and not has_word_chars(plain[offset : events[close][1]]):
            # A pair without letters or digits (a linked image, an empty anchor) is carried whole.
            out.atoms[built] = _rebuild(plain, events, index, close)
            pieces.append(ATOM_CHAR)
            built += 1
            cursor = events[close][1]
            index = close + 1
            continue
        if kind == "open" and close is not None:
            open_tags[index] = len(out.tags)
            out.tags.append(Tag(built, index, markup, -1))
            open_depth.append(index)
        elif kind == "close" and index in opener_of:
            opening = opener_of[index]
            first = out.tags[open_tags[opening]]
            open_depth.remove(opening)
            span_index = len(out.spans)
            out.spans.append(Span(first.offset, built, first.markup, markup, first.order, len(open_depth)))
            out.tags[open_tags[opening]] = Tag(first.offset, first.order, first.markup, span_index)
            out.tags.append(Tag(built, index, markup, span_index))
        else:  # <x/>, or a tag without its partner: kept as an atom so nothing is lost
            out.atoms[built] = markup
            pieces.append(ATOM_CHAR)
            built += 1
        index += 1
    pieces.append(plain[cursor:])
    out.text = "".join(pieces)
    return out


def _rebuild(plain: str, events: list[tuple[str, int, str, str]], first: int, last: int) -> str:
    """The markup of events ``first..last`` with the text between them, re-escaped."""
    parts: list[str] = []
    for index in range(first, last + 1):
        if index > first:
            parts.append(escape(plain[events[index - 1][1] : events[index][1]]))
        parts.append(events[index][2])
    return "".join(parts)


# ---------------------------------------------------------------------------------------- units


@dataclass
class Unit:
    """A stretch of plain text translated as one model input (a sentence, or several)."""

    start: int
    end: int
    spans: list[int] = field(default_factory=list)
    """Indices of spans placed inside this unit's translation."""


def build_units(parsed: Parsed, lang: str) -> list[Unit]:
    """Sentences of the plain text, merged where a span would otherwise straddle two of them."""
    split_text = parsed.text.replace(ATOM_CHAR, " ")
    bounds = [list(b) for b in sentence_spans(split_text, lang)]
    changed = True
    while changed:
        changed = False
        for span in parsed.spans:
            first = _unit_at(bounds, span.start, span.end, opening=True)
            last = _unit_at(bounds, span.end, span.start, opening=False)
            if first is not None and last is not None and first < last:
                bounds[first : last + 1] = [[bounds[first][0], bounds[last][1]]]
                changed = True
                break
    units = [Unit(a, b) for a, b in bounds]
    for index, span in enumerate(parsed.spans):
        for unit in units:
            inside_start = unit.start < span.start < unit.end
            inside_end = unit.start < span.end < unit.end
            if inside_start or inside_end:
                unit.spans.append(index)
                # Atoms between the span's tag and the sentence (``<g><x/> tekst</g>``) belong
                # inside the span: take them into the unit so they stay inside it.
                if span.start < unit.start and ATOM_CHAR in parsed.text[span.start : unit.start]:
                    unit.start = span.start
                if span.end > unit.end and ATOM_CHAR in parsed.text[unit.end : span.end]:
                    unit.end = span.end
                break
    return units


def _unit_at(bounds: list[list[int]], pos: int, other: int, *, opening: bool) -> int | None:
    """The unit a span end at ``pos`` belongs to for merging purposes.

    Strictly inside a unit: that unit. Otherwise (the tag sits between units) the first unit after
    an opening tag, or the last unit before a closing tag, provided it lies within the span.
    """
    for index, (a, b) in enumerate(bounds):
        if a < pos < b:
            return index
    if opening:
        for index, (a, _b) in enumerate(bounds):
            if a >= pos and a < other:
                return index
    else:
        for index in range(len(bounds) - 1, -1, -1):
            a, b = bounds[index]
            if b <= pos and b > other:
                return index
    return None


# ------------------------------------------------------------------------------ model text


@dataclass
class StandIn:
    token: str
    markup: str
    space_before: bool
    """Whether the source had whitespace (or the unit edge) before the atom."""
    space_after: bool


@dataclass
class SpanWords:
    """A span in model-text word coordinates."""

    span: int
    first_word: int
    last_word: int
    trim_left: bool
    """The span starts with a letter or digit: punctuation before the projected words stays out."""
    trim_right: bool
    """The span ends with a letter or digit: punctuation after the projected words (a full stop)
    stays out of it."""
    text: str
    left_part: str = ""
    """The part of the first word before the span (the span starts inside a word), else empty."""
    right_part: str = ""
    """The part of the last word after the span (``<g>Messe C</g>s.``: ``s.``), else empty."""


@dataclass
class ModelText:
    text: str
    words: list[tuple[int, int]]
    stand_ins: list[StandIn]
    spans: list[SpanWords]


_WORDS = re.compile(r"\S+")


def _free_numbers(text: str, count: int) -> list[str]:
    found: list[str] = []
    candidate = 701
    while len(found) < count:
        token = str(candidate)
        if token not in text:
            found.append(token)
        candidate += 1
    return found


def model_text(parsed: Parsed, unit: Unit) -> ModelText:
    """The unit's text as the model sees it: atoms and URLs replaced by stand-in numbers."""
    raw = parsed.text[unit.start : unit.end]
    # Atoms to replace: tag atoms inside the unit, then URLs (not crossing a span boundary).
    replacements: list[tuple[int, int, str]] = []  # unit-relative start, end, markup
    for offset, markup in parsed.atoms.items():
        if unit.start <= offset < unit.end:
            replacements.append((offset - unit.start, offset - unit.start + 1, markup))
    boundaries = {
        pos - unit.start
        for index in unit.spans
        for pos in (parsed.spans[index].start, parsed.spans[index].end)
    }
    for match in _URL.finditer(raw):
        url = match.group(0).rstrip(_URL_TRAILING)
        start, end = match.start(), match.start() + len(url)
        if any(start < b < end for b in boundaries) or ATOM_CHAR in url or len(url) < 4:
            continue
        replacements.append((start, end, escape(url)))
    replacements.sort()
    numbers = _free_numbers(raw, len(replacements))

    out: list[str] = []
    mapping = [0] * (len(raw) + 1)  # unit-relative plain offset → model text offset
    stand_ins: list[StandIn] = []
    cursor = 0
    built = 0

    def emit(piece: str) -> None:
        nonlocal built
        out.append(piece)
        built += len(piece)

    for (start, end, markup), token in zip(replacements, numbers, strict=True):
        for pos in range(cursor, start):
            mapping[pos] = built
            emit(raw[pos])
        before = start == 0 or raw[start - 1].isspace()
        after = end >= len(raw) or raw[end].isspace()
        # A stand-in is always a word of its own, so it cannot merge with a neighbour (or with the
        # next stand-in); the original spacing is restored afterwards.
        if out and not out[-1][-1:].isspace():
            emit(" ")
        for pos in range(start, end):
            mapping[pos] = built
        emit(token)
        if not after:
            emit(" ")
        stand_ins.append(StandIn(token, markup, before, after))
        cursor = end
    for pos in range(cursor, len(raw)):
        mapping[pos] = built
        emit(raw[pos])
    mapping[len(raw)] = built
    text = "".join(out)
    words = [(m.start(), m.end()) for m in _WORDS.finditer(text)]

    span_words: list[SpanWords] = []
    for index in unit.spans:
        span = parsed.spans[index]
        start = mapping[max(span.start, unit.start) - unit.start]
        end = mapping[min(span.end, unit.end) - unit.start]
        covered = [w for w, (a, b) in enumerate(words) if a < end and b > start]
        if not covered and words:  # defensive: never drop a span; anchor it to the nearest word
            following = [w for w, (a, _b) in enumerate(words) if a >= start]
            covered = [following[0] if following else len(words) - 1]
        if not covered:
            continue
        inner = text[start:end].strip()
        left = text[words[covered[0]][0] : max(start, words[covered[0]][0])]
        right = text[min(end, words[covered[-1]][1]) : words[covered[-1]][1]]
        span_words.append(
            SpanWords(
                span=index,
                first_word=covered[0],
                last_word=covered[-1],
                trim_left=has_word_chars(inner[:1]),
                trim_right=has_word_chars(inner[-1:]),
                text=inner,
                left_part=left,
                right_part=right,
            )
        )
    return ModelText(text, words, stand_ins, span_words)


# ------------------------------------------------------------------------------ rendering


def render(parsed: Parsed, units: list[Unit], translated: list[str]) -> str:
    """Segment markup: the source's tags and whitespace between units, translations for units.

    Tags outside every unit sit between units (a span never has an end strictly inside a unit it
    does not belong to), so they are written where they were, in source order.
    """
    inside = {index for unit in units for index in unit.spans}
    tags = sorted((t for t in parsed.tags if t.span not in inside), key=lambda t: (t.offset, t.order))
    out: list[str] = []
    next_tag = 0

    def region(start: int, end: int) -> None:
        """Characters ``[start, end)`` of the plain text and the tags up to offset ``end``."""
        nonlocal next_tag
        for pos in range(start, end):
            while next_tag < len(tags) and tags[next_tag].offset <= pos:
                out.append(tags[next_tag].markup)
                next_tag += 1
            out.append(_char_markup(parsed, pos))
        while next_tag < len(tags) and tags[next_tag].offset <= end:
            out.append(tags[next_tag].markup)
            next_tag += 1

    cursor = 0
    for unit, translation in zip(units, translated, strict=True):
        region(cursor, unit.start)
        out.append(translation)
        cursor = unit.end
        while next_tag < len(tags) and tags[next_tag].offset < unit.end:
            next_tag += 1  # defensive: cannot happen for well-formed input
    region(cursor, len(parsed.text))
    out.extend(t.markup for t in tags[next_tag:])
    return "".join(out)


def _char_markup(parsed: Parsed, pos: int) -> str:
    char = parsed.text[pos]
    if char == ATOM_CHAR and pos in parsed.atoms:
        return parsed.atoms[pos]
    return escape(char)


def render_source_unit(parsed: Parsed, unit: Unit) -> str:
    """A unit rendered untranslated (its own tags and atoms back in place)."""
    length = unit.end - unit.start
    # A span of this unit may end in the whitespace after it (or start before it): clamp.
    events: list[tuple[int, int, str]] = [
        (min(max(tag.offset - unit.start, 0), length), tag.order, tag.markup)
        for tag in parsed.tags
        if tag.span in unit.spans
    ]
    events.sort()
    out: list[str] = []
    event_index = 0
    for pos in range(unit.start, unit.end + 1):
        rel = pos - unit.start
        while event_index < len(events) and events[event_index][0] == rel:
            out.append(events[event_index][2])
            event_index += 1
        if pos < unit.end:
            out.append(_char_markup(parsed, pos))
    return "".join(out)
