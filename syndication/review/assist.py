"""Help beside each segment: memory matches, glossary hints, and propagating a saved translation.

* :func:`memory_matches` — earlier human translations (the ``human`` translation-memory entries,
  one per source text an editor saved) whose Danish is the same or at least ``threshold`` % similar
  (:func:`rapidfuzz.fuzz.ratio` on the plain text), with their target mapped to this segment's
  placeholders (:func:`map_placeholders`); a match whose placeholders cannot be mapped is still shown,
  but not offered for insertion.
* :func:`glossary_hints` — the glossary terms found in the Danish, with the required translation and
  whether the translation has it (the same rule as the ``glossary_violation`` QA flag).
* :func:`propagation_candidates` / :func:`propagate` — segments with the same Danish source, in this
  item and in other open items of the language, that do not have the saved translation yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from syndication.errors import EditConflictError, PlaceholderError, ReviewError, StaleRevisionError
from syndication.review.actions import check_placeholders, edit_segment
from syndication.segments.markup import Token, canonical, tokenize
from syndication.store import Post, Revision, SegmentRow, TMEntry, TranslatedSegment, Translation
from syndication.translations.glossary import Glossary
from syndication.translations.inline import strip_placeholders
from syndication.translations.memory import normalize

HUMAN = "human"
THRESHOLD = 75.0
"""Lowest similarity (percent) of a fuzzy memory match."""
PER_SEGMENT = 3
MAX_CANDIDATES = 20_000
"""Most recent human entries of the pair considered for one page: bounds the work on a big memory."""
PROPAGATED = "propagated"
"""``TranslatedSegment.origin`` of a segment filled from an identical one the editor saved."""


# ----------------------------------------------------------------------------------- placeholders


def _skeleton(tokens: Iterable[Token]) -> list[Token]:
    return [t for t in tokens if t.kind != "text"]


def map_placeholders(stored_source: str, stored_target: str, current_source: str) -> str | None:
    """``stored_target`` with its placeholder ids renumbered for ``current_source``, or ``None``.

    Placeholders are matched by order: the stored source and this segment's source must have the
    same sequence of opening, closing and empty placeholders; anything else (a link more or fewer,
    a link where there was emphasis) cannot be mapped safely and is refused. A segment with no
    placeholders at all gets the stored words without them.
    """
    old = _skeleton(tokenize(stored_source))
    new = _skeleton(tokenize(current_source))
    if old and not new:
        # A segment without placeholders (an excerpt, a title) takes the words alone.
        words = [t.value if t.kind == "text" else "" for t in tokenize(stored_target)]
        # A dropped image or line break leaves no space before the punctuation that followed it.
        plain = re.sub(r"\s+([.,;:!?])", r"\1", " ".join("".join(words).split()))
        return canonical([Token("text", plain)])
    if [t.kind for t in old] != [t.kind for t in new]:
        return None
    mapping: dict[str, str] = {}
    for before, after in zip(old, new, strict=True):
        if before.kind == "close":
            continue
        if mapping.get(before.value, after.value) != after.value or before.value in mapping:
            return None  # an id used twice: no safe mapping
        mapping[before.value] = after.value
    out: list[Token] = []
    for token in tokenize(stored_target):
        if token.kind in ("open", "empty"):
            if token.value not in mapping:
                return None
            out.append(Token(token.kind, mapping[token.value]))
        else:
            out.append(token)
    return canonical(out)


# ------------------------------------------------------------------------------------------ memory


@dataclass(frozen=True)
class MemoryMatch:
    score: int
    """Similarity of the Danish texts in percent (100: the same text)."""
    source: str
    """The earlier Danish, placeholders renumbered for this segment when they could be."""
    target: str
    """The earlier translation, ready to insert (``insertable``) or as stored."""
    insertable: bool
    by: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "source": self.source,
            "target": self.target,
            "insertable": self.insertable,
            "by": self.by,
        }


def _plain(markup: str) -> str:
    return " ".join(strip_placeholders(markup).split())


def memory_matches(
    session: Session,
    translation_id: int,
    *,
    threshold: float = THRESHOLD,
    limit: int = PER_SEGMENT,
) -> dict[str, list[MemoryMatch]]:
    """Memory matches for every open segment of an item, best first, keyed by segment key."""
    found = session.execute(
        select(Translation.lang, Post.source_lang)
        .join(Post, Post.id == Translation.post_id)
        .where(Translation.id == translation_id)
    ).first()
    if found is None:
        raise ReviewError(f"no translation with id {translation_id}")
    lang, source_lang = found
    rows = session.execute(
        select(TranslatedSegment.key, TranslatedSegment.target, SegmentRow)
        .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
        .where(TranslatedSegment.translation_id == translation_id, TranslatedSegment.state == "open")
        .order_by(SegmentRow.position)
    ).all()
    if not rows:
        return {}
    plains = {key: _plain(segment.source) for key, _, segment in rows}
    lengths = [len(normalize(segment.source)) for _, _, segment in rows]
    # Candidate prefilter in SQL: a text ≥ threshold % similar is within that length ratio.
    ratio = threshold / 100
    low, high = int(min(lengths) * ratio) - 1, int(max(lengths) / ratio) + 1
    entries = session.execute(
        select(TMEntry.source, TMEntry.target, TMEntry.created_by)
        .where(
            TMEntry.engine == HUMAN,
            TMEntry.source_lang == source_lang,
            TMEntry.target_lang == lang,
            func.length(TMEntry.source).between(low, high),
        )
        .order_by(TMEntry.updated_at.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    if not entries:
        return {}
    choices = [_plain(source) for source, _, _ in entries]
    result: dict[str, list[MemoryMatch]] = {}
    for key, target, segment in rows:
        source = segment.source
        query = plains[key]
        if not query:
            continue
        hits = process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=threshold, limit=limit * 3)
        matches: list[MemoryMatch] = []
        seen: set[str] = set()
        for _, score, index in hits:
            stored_source, stored_target, by = entries[index]
            mapped = map_placeholders(stored_source, stored_target, source)
            if mapped is not None:
                try:
                    check_placeholders(segment.as_segment(), mapped)
                except PlaceholderError:
                    mapped = None
            text = mapped if mapped is not None else stored_target
            if text == target or text in seen:
                continue  # nothing to insert: this is the segment's own text already
            seen.add(text)
            mapped_source = map_placeholders(stored_source, stored_source, source) or stored_source
            matches.append(MemoryMatch(round(score), mapped_source, text, mapped is not None, by))
        # Of equally similar texts, one that can be inserted comes first (a propagated excerpt
        # has the paragraph's words without its placeholders: the paragraph's entry is the useful one).
        matches.sort(key=lambda m: (-m.score, not m.insertable))
        if matches:
            result[key] = matches[:limit]
    return result


# ---------------------------------------------------------------------------------------- glossary


@dataclass(frozen=True)
class GlossaryHint:
    term: str
    translation: str
    """The required translation; empty for a term kept as written (a name)."""
    present: bool
    """The current translation has it (as often as the Danish has the term)."""

    def as_json(self) -> dict[str, Any]:
        return {"term": self.term, "translation": self.translation, "present": self.present}


def glossary_hints(glossary: Glossary | None, source: str, target: str, lang: str) -> list[GlossaryHint]:
    if glossary is None:
        return []
    return [
        GlossaryHint(entry.term, entry.translation, present)
        for entry, present in glossary.terms_in(source, target, lang)
    ]


# ------------------------------------------------------------------------------------- propagation


@dataclass(frozen=True)
class Candidate:
    translation_id: int
    key: str
    version: int
    title: str
    target: str
    number: int
    """The segment's number on its item page (1-based)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "translation_id": self.translation_id,
            "key": self.key,
            "version": self.version,
            "title": self.title,
            "target": self.target,
            "number": self.number,
        }


def _origin(
    session: Session, translation_id: int, key: str
) -> tuple[TranslatedSegment, SegmentRow, Translation]:
    found = session.execute(
        select(TranslatedSegment, SegmentRow, Translation)
        .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
        .join(Translation, Translation.id == TranslatedSegment.translation_id)
        .where(TranslatedSegment.translation_id == translation_id, TranslatedSegment.key == key)
    ).first()
    if found is None:
        raise ReviewError(f"no segment {key!r} in translation {translation_id}")
    return found[0], found[1], found[2]


_ELLIPSIS = re.compile(r"\s*(?:\[\s*(?:…|\.\.\.)\s*\]|…|\.\.\.)$")
"""What a blog adds to an excerpt cut from the first paragraph ("…", " […]", "...")."""


def _core(markup: str) -> tuple[str, str]:
    """Plain text without a trailing ellipsis, and that ellipsis ("" when none)."""
    plain = _plain(markup)
    match = _ELLIPSIS.search(plain)
    return (plain[: match.start()], match.group(0)) if match else (plain, "")


def _same_text(one: SegmentRow, other: SegmentRow) -> bool:
    """The same Danish: the same source, or the same words with other (or no) placeholders and
    perhaps an ellipsis, like the excerpt WordPress makes from the first paragraph ("…" added)."""
    return one.source_hash == other.source_hash or _core(one.source)[0] == _core(other.source)[0]


def _text_for(source: SegmentRow, target: str, other: SegmentRow) -> str | None:
    """``target`` (the translation of ``source``) as the translation of ``other``: placeholders
    mapped, and the ellipsis of an excerpt kept (or dropped) as ``other`` has it."""
    if source.source_hash == other.source_hash:
        return target
    mapped = map_placeholders(source.source, target, other.source)
    if mapped is None:
        return None
    had, has = _core(source.source)[1], _core(other.source)[1]
    if had == has:
        return mapped
    if had:
        mapped = _ELLIPSIS.sub("", mapped)
    return mapped + has


def propagation_candidates(
    session: Session, translation_id: int, key: str, *, limit: int = 200
) -> list[Candidate]:
    """Open segments with the same Danish as ``key`` whose translation differs from it: in this
    item (same words, placeholders mapped or dropped), then in other open items of the language
    (the same source)."""
    row, source, translation = _origin(session, translation_id, key)
    base = (
        select(TranslatedSegment, SegmentRow, Translation.id, Revision.title)
        .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
        .join(Translation, Translation.id == TranslatedSegment.translation_id)
        .join(Revision, Revision.id == Translation.revision_id)
        .where(
            Translation.lang == translation.lang,
            Translation.status == "machine_translated",
            TranslatedSegment.state == "open",
        )
    )
    here = session.execute(base.where(Translation.id == translation_id).order_by(SegmentRow.position)).all()
    elsewhere = session.execute(
        base.where(Translation.id != translation_id, SegmentRow.source_hash == source.source_hash)
        .order_by(Translation.id, SegmentRow.position)
        .limit(limit)
    ).all()
    out: list[Candidate] = []
    numbers: dict[int, dict[int, int]] = {}
    for other, other_source, tid, title in [*here, *elsewhere]:
        if (tid, other.key) == (translation_id, key) or not _same_text(source, other_source):
            continue
        mapped = _text_for(source, row.target, other_source)
        if mapped is None or mapped == other.target:
            continue
        if tid not in numbers:
            positions = session.scalars(
                select(SegmentRow.position)
                .join(TranslatedSegment, TranslatedSegment.segment_id == SegmentRow.id)
                .where(TranslatedSegment.translation_id == tid)
                .order_by(SegmentRow.position)
            ).all()
            numbers[tid] = {p: n for n, p in enumerate(positions, start=1)}
        out.append(
            Candidate(
                tid, other.key, other.version, title or "", other.target, numbers[tid][other_source.position]
            )
        )
    return out[:limit]


@dataclass(frozen=True)
class Applied:
    translation_id: int
    key: str
    version: int
    target: str
    flags: list[dict[str, str]]
    markup: dict[str, str]
    item_version: int


@dataclass
class PropagationResult:
    applied: list[Applied]
    refused: list[tuple[int, str, str]]
    """(translation id, key, why) of each accepted target that was not changed."""


def propagate(
    session: Session,
    translation_id: int,
    key: str,
    targets: Iterable[tuple[int, str, int]],
    *,
    actor: str,
    may_review: Callable[[str], bool] | None = None,
    glossary: Glossary | None = None,
) -> PropagationResult:
    """Copy the translation of ``key`` to each accepted (translation id, key, version) target.

    Each target must still have the same Danish source, be open and in an open item of the same
    language (``may_review(lang)`` says the editor may edit it), and still be at the version the
    editor saw; others are refused one by one, naming why. Applied segments get the origin
    ``propagated`` so the page marks them for a look.
    """
    row, source, translation = _origin(session, translation_id, key)
    text = row.target
    result = PropagationResult([], [])
    for tid, other_key, version in targets:
        where = f"item {tid}, segment {other_key}"
        found = session.execute(
            select(TranslatedSegment, SegmentRow, Translation)
            .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
            .join(Translation, Translation.id == TranslatedSegment.translation_id)
            .where(TranslatedSegment.translation_id == tid, TranslatedSegment.key == other_key)
        ).first()
        if found is None:
            result.refused.append((tid, other_key, f"{where}: no such segment"))
            continue
        other, other_source, other_item = found
        if other_item.lang != translation.lang or (
            may_review is not None and not may_review(other_item.lang)
        ):
            result.refused.append((tid, other_key, f"{where}: not your language ({other_item.lang})"))
            continue
        if not _same_text(source, other_source):
            result.refused.append((tid, other_key, f"{where}: the Danish is not the same"))
            continue
        mapped = _text_for(source, text, other_source)
        if mapped is None:
            result.refused.append((tid, other_key, f"{where}: its placeholders differ; edit it by hand"))
            continue
        if other_item.status != "machine_translated" or other.state != "open":
            result.refused.append((tid, other_key, f"{where}: no longer open for review"))
            continue
        try:
            # Every refusal below is raised before edit_segment writes anything.
            saved = edit_segment(
                session, tid, other_key, mapped, actor=actor, expected_version=version, glossary=glossary
            )
            saved.origin = PROPAGATED
        except (EditConflictError, StaleRevisionError, PlaceholderError, ReviewError) as exc:
            result.refused.append((tid, other_key, f"{where}: {exc.message}"))
            continue
        session.flush()
        session.refresh(other_item)  # the version was raised in SQL
        result.applied.append(
            Applied(
                tid,
                other_key,
                saved.version,
                saved.target,
                list(saved.flags or []),
                dict(other_source.markup),
                other_item.version,
            )
        )
    session.flush()
    return result
