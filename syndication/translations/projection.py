"""Put placeholders back into a neural translation: stand-ins by text, spans by attention.

The model translated a unit without tags (see :mod:`syndication.translations.inline`). What comes
back from CTranslate2 for each input is the list of target pieces and, for each target piece, its
attention over the source pieces. From that:

1. **Words.** Source pieces map to source words (a SentencePiece piece starting with ``▁`` starts a
   word); target pieces are detokenized with their character offsets and map to target words.
2. **Alignment.** Each target word is aligned to the source word that receives most of its pieces'
   attention.
3. **Stand-ins** (the numbers that replaced ``<x/>`` atoms and URLs) are found in the output by
   text and replaced by their markup; a stand-in the model dropped or changed is placed by
   alignment instead, and flagged.
4. **Spans** ``<g id>…</g>``: the target words aligned to the span's source words give a range; its
   edges are snapped to whole words and trimmed of punctuation the source span left outside
   (``<g>guld</g>.`` → ``<g>GULD</g>.``). A range with few aligned words inside, or no aligned word
   at all, is placed anyway and flagged ``placeholder_moved`` so an editor checks it.
5. Spans nested in the source are clamped inside their parent; sibling spans that overlap after
   projection are pulled apart, so the output is always well-formed.

Limits: attention from one head of one layer is an approximate alignment on real models; a span
around a word the model dropped or merged cannot be placed exactly. Both cases are flagged, never
silent. With the hand-set copy models in the tests, attention is exact and so is the placement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from syndication.models import QAFlag
from syndication.translations.inline import ModelText, Parsed, SpanWords, StandIn, escape, has_word_chars

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
_WORDS = re.compile(r"\S+")

PLACEHOLDER_MOVED = "placeholder_moved"


@dataclass
class ChunkOutput:
    """One model output: target pieces, attention rows, and how it attaches to the previous one."""

    source_words: Sequence[int]
    """Source word index (within the unit) of each source piece of this chunk."""
    target_tokens: Sequence[str]
    attention: Sequence[Sequence[float]] | None
    starts_word: bool = True
    """False when the chunk began in the middle of a source word (a cut inside a very long word)."""


def detokenize(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """SentencePiece pieces → text, with the character range each piece produced.

    Done here rather than with ``SentencePieceProcessor.decode`` because offsets are needed and
    because pieces that CTranslate2 copied from the source for unknown tokens are not in the target
    vocabulary (``decode`` would print them as ``⁇``).
    """
    parts: list[str] = []
    ranges: list[tuple[int, int]] = []
    length = 0
    index = 0
    while index < len(tokens):
        match = _BYTE_PIECE.fullmatch(tokens[index])
        if match:
            end = index
            data = bytearray()
            while end < len(tokens) and (m := _BYTE_PIECE.fullmatch(tokens[end])):
                data.append(int(m.group(1), 16))
                end += 1
            text = data.decode("utf-8", errors="replace")
            parts.append(text)
            ranges.append((length, length + len(text)))
            ranges.extend((length + len(text), length + len(text)) for _ in range(index + 1, end))
            length += len(text)
            index = end
            continue
        text = tokens[index].replace("▁", " ")
        parts.append(text)
        ranges.append((length, length + len(text)))
        length += len(text)
        index += 1
    joined = "".join(parts)
    if joined.startswith(" "):
        joined = joined[1:]
        ranges = [(max(a - 1, 0), max(b - 1, 0)) for a, b in ranges]
    return joined, ranges


@dataclass
class _Target:
    text: str
    words: list[tuple[int, int]]
    align: list[int | None]
    """Source word aligned to each target word (None without attention)."""
    mass: list[dict[int, float]]
    """Attention mass of each target word per source word."""


def _assemble_target(chunks: Sequence[ChunkOutput]) -> _Target:
    text_parts: list[str] = []
    token_ranges: list[tuple[int, int]] = []
    token_mass: list[dict[int, float]] = []
    offset = 0
    for number, chunk in enumerate(chunks):
        text, ranges = detokenize(chunk.target_tokens)
        if number and text:
            glue = " " if chunk.starts_word else ""
            text_parts.append(glue)
            offset += len(glue)
        text_parts.append(text)
        token_ranges.extend((a + offset, b + offset) for a, b in ranges)
        offset += len(text)
        rows = chunk.attention or [[] for _ in chunk.target_tokens]
        for row in rows[: len(chunk.target_tokens)]:
            mass: dict[int, float] = {}
            for source_index, weight in enumerate(row[: len(chunk.source_words)]):
                word = chunk.source_words[source_index]
                mass[word] = mass.get(word, 0.0) + float(weight)
            token_mass.append(mass)
    text = "".join(text_parts)
    words = [(m.start(), m.end()) for m in _WORDS.finditer(text)]
    word_mass: list[dict[int, float]] = [{} for _ in words]
    word_index = 0
    for (start, end), mass in zip(token_ranges, token_mass, strict=False):
        if end <= start:
            continue
        while word_index < len(words) and words[word_index][1] <= start:
            word_index += 1
        for w in range(word_index, len(words)):
            a, b = words[w]
            if a >= end:
                break
            if a < end and b > start:
                for source_word, weight in mass.items():
                    word_mass[w][source_word] = word_mass[w].get(source_word, 0.0) + weight
    align: list[int | None] = [max(m, key=lambda k: m[k]) if m else None for m in word_mass]
    return _Target(text, words, align, word_mass)


@dataclass(frozen=True)
class _Replacement:
    """``text[start:end]`` becomes ``markup``; ``[token_start, token_end)`` is the stand-in itself
    (the rest is a space removed to restore the source's spacing)."""

    start: int
    end: int
    markup: str
    token_start: int
    token_end: int


@dataclass
class _Placed:
    start: int
    end: int
    open_markup: str
    close_markup: str
    order: int
    depth: int
    source_start: int
    source_end: int


def place(
    parsed: Parsed,
    model: ModelText,
    chunks: Sequence[ChunkOutput],
    *,
    source_word_count: int,
) -> tuple[str, list[QAFlag]]:
    """The unit's translation as segment markup, with its spans and atoms put back."""
    target = _assemble_target(chunks)
    text = target.text
    flags: list[QAFlag] = []
    n_words = len(target.words)

    def proportional(source_word: int) -> int:
        if not target.words:
            return 0
        index = min(n_words - 1, round(source_word / max(source_word_count, 1) * n_words))
        return target.words[index][0]

    # ---- stand-ins: replace by text where the model kept them
    replacements: list[_Replacement] = []
    insertions: list[tuple[int, str]] = []
    taken: set[int] = set()  # characters already replaced
    found: list[tuple[int, int, StandIn]] = []
    for stand_in in model.stand_ins:
        source_word = next(
            (w for w, (a, b) in enumerate(model.words) if model.text[a:b] == stand_in.token), 0
        )
        match = next(
            (
                m
                for m in re.finditer(rf"(?<![0-9]){stand_in.token}(?![0-9])", text)
                if not taken.intersection(range(m.start(), m.end()))
            ),
            None,
        )
        if match:
            taken.update(range(match.start(), match.end()))
            found.append((match.start(), match.end(), stand_in))
            continue
        aligned = [t for t, s in enumerate(target.align) if s == source_word]
        position = target.words[aligned[0]][0] if aligned else proportional(source_word)
        insertions.append((position, stand_in.markup))
        flags.append(
            QAFlag(
                PLACEHOLDER_MOVED,
                f"The model dropped the place of {_describe(stand_in.markup)}; it was put back by "
                "estimate. Check its position in the translation.",
            )
        )
    for token_start, token_end, stand_in in sorted(found, key=lambda f: f[0]):
        # Where the source had no space next to the atom, drop the space the stand-in needed,
        # unless another stand-in already claimed it.
        start, end = token_start, token_end
        if not stand_in.space_before and start > 0 and text[start - 1] == " " and start - 1 not in taken:
            start -= 1
        if not stand_in.space_after and end < len(text) and text[end] == " " and end not in taken:
            end += 1
        taken.update(range(start, end))
        replacements.append(_Replacement(start, end, stand_in.markup, token_start, token_end))

    # ---- spans: project the source words through the alignment
    placed: list[_Placed] = []
    for span_words in model.spans:
        span = parsed.spans[span_words.span]
        source = set(range(span_words.first_word, span_words.last_word + 1))
        hits = [t for t, s in enumerate(target.align) if s in source]
        estimated = False
        if hits:
            first, last = min(hits), max(hits)
            purity = len(hits) / (last - first + 1)
            estimated = purity < 0.75  # other words inside the range: the span was split up
        elif n_words and any(target.mass):
            scores = [sum(m.get(s, 0.0) for s in source) for m in target.mass]
            first = last = max(range(n_words), key=lambda t: scores[t])
            estimated = True
        elif n_words:
            start = proportional(span_words.first_word)
            first = last = next(t for t, (a, _b) in enumerate(target.words) if a == start)
            estimated = True
        else:
            first = last = -1
        if first < 0:
            start = end = 0
        else:
            start, end = target.words[first][0], target.words[last][1]
            start, end = _edges(text, start, end, span_words)
        if estimated:
            flags.append(
                QAFlag(
                    PLACEHOLDER_MOVED,
                    f"The link or formatting around “{span_words.text}” was placed by estimate in "
                    "the translation. Check that it covers the right words.",
                )
            )
        placed.append(
            _Placed(
                start, end, span.open_markup, span.close_markup, span.order, span.depth, span.start, span.end
            )
        )

    _make_well_formed(placed, replacements)
    return _emit(text, placed, replacements, insertions), flags


def _edges(text: str, start: int, end: int, span: SpanWords) -> tuple[int, int]:
    """Fit a projected word range to what the source span covered of its first and last word.

    Whole words are projected; where the source span started or ended inside a word, the same
    remainder is left out if the target word still has it (``<g>Messe C</g>s`` → ``<g>MESSE C</g>S``,
    and in ``Messe C's`` the apostrophe stays out too). Otherwise punctuation the span did not start
    or end with is left out (``<g>guld</g>.`` → ``<g>GULD</g>.``).
    """
    left, right = span.left_part, span.right_part
    folded = text[start:end].casefold()
    if left and end - start > len(left) and folded.startswith(left.casefold()):
        start += len(left)
    elif span.trim_left:
        while start < end - 1 and not has_word_chars(text[start]):
            start += 1
    folded = text[start:end].casefold()
    if right and end - start > len(right) and folded.endswith(right.casefold()):
        end -= len(right)
    else:
        if span.trim_right:
            while end > start + 1 and not has_word_chars(text[end - 1]):
                end -= 1
        stripped = right.rstrip(".,;:!?)]}\"'»”’…")
        if (
            stripped
            and end - start > len(stripped)
            and text[start:end].casefold().endswith(stripped.casefold())
        ):
            end -= len(stripped)
            if end - start > 1 and text[end - 1] in "'’":
                end -= 1
    return start, end


def _describe(markup: str) -> str:
    if markup.startswith("<"):
        return f"the placeholder {markup}"
    return f"“{markup}”"


def _outside(position: int, replacements: list[_Replacement], *, opening: bool) -> int:
    """Move a tag position out of any replaced range, to the side of the stand-in it was on."""
    for r in replacements:
        if r.start < position < r.end:
            if position <= r.token_start:
                return r.start
            if position >= r.token_end:
                return r.end
            return r.start if opening else r.end
    return position


def _make_well_formed(placed: list[_Placed], replacements: list[_Replacement]) -> None:
    """Clamp nested spans into their parents and pull overlapping siblings apart, in place."""
    for item in placed:  # no tag inside a replaced stand-in
        item.start = _outside(item.start, replacements, opening=True)
        item.end = max(item.start, _outside(item.end, replacements, opening=False))
    placed.sort(key=lambda p: p.order)  # parents open before their children
    for _ in range(2):  # a second round settles spans moved by the first
        for index, item in enumerate(placed):
            for earlier in placed[:index]:
                if earlier.source_start <= item.source_start and item.source_end <= earlier.source_end:
                    item.start = min(max(item.start, earlier.start), earlier.end)
                    item.end = min(max(item.end, item.start), earlier.end)
                    continue
                overlap = item.start < earlier.end and earlier.start < item.end
                contained = (earlier.start <= item.start and item.end <= earlier.end) or (
                    item.start <= earlier.start and earlier.end <= item.end
                )
                if overlap and not contained:
                    if item.start < earlier.start:
                        item.end = earlier.start
                    else:
                        item.start = earlier.end
                        item.end = max(item.end, item.start)


def _emit(
    text: str,
    placed: list[_Placed],
    replacements: list[_Replacement],
    insertions: list[tuple[int, str]],
) -> str:
    opens: dict[int, list[_Placed]] = {}
    closes: dict[int, list[_Placed]] = {}
    empties: dict[int, list[_Placed]] = {}
    for item in placed:
        if item.start == item.end:
            empties.setdefault(item.start, []).append(item)
        else:
            opens.setdefault(item.start, []).append(item)
            closes.setdefault(item.end, []).append(item)
    inserted: dict[int, list[str]] = {}
    for position, markup in insertions:
        inserted.setdefault(position, []).append(markup)
    replaced = {r.start: (r.end, r.markup) for r in replacements}

    out: list[str] = []
    pos = 0
    length = len(text)
    while pos <= length:
        for item in sorted(closes.get(pos, []), key=lambda p: (-p.start, -p.depth, -p.order)):
            out.append(item.close_markup)
        for item in empties.get(pos, []):
            out.append(item.open_markup + item.close_markup)
        out.extend(inserted.get(pos, []))
        for item in sorted(opens.get(pos, []), key=lambda p: (-p.end, p.depth, p.order)):
            out.append(item.open_markup)
        if pos == length:
            break
        if pos in replaced:
            end, markup = replaced[pos]
            out.append(markup)
            # Tags that fell inside the replaced range were moved to its edges already.
            pos = max(end, pos + 1)
            continue
        out.append(escape(text[pos]))
        pos += 1
    return "".join(out)
