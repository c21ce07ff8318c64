"""Learned corrections: the word and phrase fixes editors make to machine output, learned per
language pair and engine, suggested on later machine output and (when confirmed) applied before
review.

A correction is ``wrong → right`` in the target language *for* a Danish term: Apertium writes
"bjeffer" for "gør" (it picks the dog's "gø"); an editor who writes "gjør" teaches
``(apertium, da→nb, gør): bjeffer → gjør``. The Danish term keeps the fix where it belongs: "bjeffer"
for "gøer" (barks) stays untouched.

* :func:`extract` — the corrections between an engine's text and an editor's text of one segment:
  a word diff (:class:`difflib.SequenceMatcher` on words) finds each changed span of at most
  :data:`MAX_WORDS` words; the Danish term is found by aligning the Danish words with the engine's
  (identical words anchor it, as close languages share many) and taking the Danish word between the
  anchors that is most like the editor's word and nearest in position. Writing an aligner by hand
  is deliberate: the statistical aligners (fast_align, eflomal) need a corpus and a build, and a
  review app sees one sentence at a time.
* :func:`learn` — after each save: the segment's corrections (against the engine's text) are
  recorded once per segment (a second save of the same segment does not count twice; undoing one's
  own edit takes it back), and an automatically applied correction the editor undid counts as
  *reverted*, which stops it being applied automatically for good.
* :func:`suggestions` / :func:`apply` — the learned corrections whose Danish term is in a segment's
  source and whose wrong phrase is in its target; :func:`apply` changes whole words only, in text
  and never inside placeholders, keeping the capitalisation of what it replaces.
* :func:`auto_apply` — before review, the confirmed corrections (made at least
  ``[review] auto_apply_corrections`` times, never reverted) on a new machine segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from syndication.segments.markup import Token, canonical, tokenize
from syndication.store import CorrectionUse, LearnedCorrection, TranslatedSegment, utcnow
from syndication.translations.inline import strip_placeholders

MAX_WORDS = 3
"""Longest span (words) learned as one correction: a longer change is a rewrite, not a pattern."""
MIN_SAME = 0.5
"""Least share of the engine's words an editor's text keeps for its changes to be learned."""
MAX_TERM = 200
"""Column size of the terms; longer spans are never learned."""
PER_SEGMENT = 5

_TOKEN = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)


def _is_word(token: str) -> bool:
    return bool(re.match(r"\w", token))


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        return self.text.casefold()


def _words(plain: str) -> list[_Word]:
    return [_Word(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(plain)]


def _plain(markup: str) -> str:
    return " ".join(strip_placeholders(markup).split())


@dataclass(frozen=True, slots=True)
class Change:
    """One correction seen in a segment: ``wrong`` (engine) → ``right`` (editor) for ``term``."""

    term: str
    wrong: str
    right: str


# ------------------------------------------------------------------------------------ extracting


def _surface(plain: str, words: Sequence[_Word]) -> str:
    return plain[words[0].start : words[-1].end] if words else ""


def _trim_punctuation(wrong: list[_Word], right: list[_Word]) -> tuple[list[_Word], list[_Word]]:
    """Drop punctuation both sides share at the edges ("bjeffer." → "gjør." is bjeffer → gjør)."""
    while wrong and right and wrong[-1].key == right[-1].key and not _is_word(wrong[-1].text):
        wrong, right = wrong[:-1], right[:-1]
    while wrong and right and wrong[0].key == right[0].key and not _is_word(wrong[0].text):
        wrong, right = wrong[1:], right[1:]
    return wrong, right


def _term_for(
    source: Sequence[_Word], machine: Sequence[_Word], first: int, last: int, right: str
) -> list[_Word]:
    """The Danish words the engine's words ``machine[first:last]`` came from.

    Identical words (names, numbers, and the many words Danish shares with Norwegian and Swedish)
    anchor the two sentences; the changed words lie between two anchors, and so does their Danish.
    Of the Danish words there, the one most like the editor's word wins (gør → gjør, siger → sier),
    nearer in relative position breaking ties (for a language with few shared words, position is
    all there is).
    """
    matcher = SequenceMatcher(None, [w.key for w in source], [w.key for w in machine], autojunk=False)
    aligned: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            aligned[block.b + offset] = block.a + offset
    inside = [aligned[i] for i in range(first, last) if i in aligned]
    if inside:  # the engine left the Danish word as it was (an unknown word, a name)
        return [source[i] for i in range(min(inside), max(inside) + 1)]
    before = max((aligned[i] for i in aligned if i < first), default=-1)
    after = min((aligned[i] for i in aligned if i >= last), default=len(source))
    gap = [i for i in range(before + 1, after) if _is_word(source[i].text)]
    if not gap:
        return []
    span = max(1, last - first)
    if len(gap) <= span:
        return [source[i] for i in gap]
    centre = (first + last) / 2 / max(1, len(machine))

    def score(i: int) -> float:
        likeness = fuzz.ratio(source[i].key, right.casefold()) / 100
        distance = abs((i + 0.5) / len(source) - centre)
        return likeness - distance

    best = max(gap, key=score)
    return [source[best]]


def extract(source: str, machine: str, final: str) -> list[Change]:
    """The word corrections from ``machine`` (an engine's text) to ``final`` (an editor's) for the
    Danish ``source``; all three are segment markup. Case-only changes are not learned."""
    source_plain, machine_plain, final_plain = _plain(source), _plain(machine), _plain(final)
    src, mach, fin = _words(source_plain), _words(machine_plain), _words(final_plain)
    matcher = SequenceMatcher(None, [w.key for w in mach], [w.key for w in fin], autojunk=False)
    if matcher.ratio() < MIN_SAME:
        return []  # rewritten, not corrected: its pieces would teach noise
    changes: list[Change] = []
    seen: set[Change] = set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace":
            core = mach[i1:i2] if tag == "delete" else fin[j1:j2]
            if not any(_is_word(w.text) for w in core):
                continue  # punctuation or a mark ("*" of an unknown word) added or dropped
            # A word added or dropped is learned with the word before it ("bjeffer seg" → "gjør"
            # is one change; so is "har ikke" → "har ikke noe"), or after it at the start.
            if i1 > 0 and j1 > 0:
                i1, j1 = i1 - 1, j1 - 1
            elif i2 < len(mach) and j2 < len(fin):
                i2, j2 = i2 + 1, j2 + 1
            else:
                continue
        wrong, right = _trim_punctuation(list(mach[i1:i2]), list(fin[j1:j2]))
        if not wrong or not right or len(wrong) > MAX_WORDS or len(right) > MAX_WORDS:
            continue
        if not any(_is_word(w.text) for w in wrong) or not any(_is_word(w.text) for w in right):
            continue
        wrong_text, right_text = _surface(machine_plain, wrong), _surface(final_plain, right)
        if wrong_text[:1].isupper() and right_text[:1].isupper() and not right_text.isupper():
            # Both capitalised (a sentence start): the capital is the position's, which
            # :func:`apply` gives back wherever the wrong word is capitalised.
            right_text = right_text[:1].lower() + right_text[1:]
        term_words = _term_for(src, mach, i1, i2, right_text)
        term = " ".join(w.text for w in term_words if _is_word(w.text)).casefold()
        if not term or max(len(term), len(wrong_text), len(right_text)) > MAX_TERM:
            continue
        change = Change(term, wrong_text.casefold(), right_text)
        if change.wrong == change.right.casefold() or change in seen:
            continue
        seen.add(change)
        changes.append(change)
    return changes


# ------------------------------------------------------------------------------------ applying


@lru_cache(maxsize=8192)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words of ``phrase``, any spacing, any case."""
    parts = [re.escape(p) for p in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)", re.IGNORECASE)


def _contains(plain: str, phrase: str) -> bool:
    return bool(phrase) and _phrase_pattern(phrase).search(plain) is not None


def _cased_like(found: str, replacement: str) -> str:
    if len(found) > 1 and found.isupper():
        return replacement.upper()
    if found[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def apply(markup: str, wrong: str, right: str) -> str:
    """``markup`` with each whole-word ``wrong`` in its text replaced by ``right`` (placeholders
    untouched; a phrase interrupted by a placeholder is left alone)."""
    pattern = _phrase_pattern(wrong)
    tokens = [
        Token("text", pattern.sub(lambda m: _cased_like(m.group(0), right), t.value))
        if t.kind == "text"
        else t
        for t in tokenize(markup)
    ]
    return canonical(tokens)


@dataclass(frozen=True)
class Suggestion:
    id: int
    term: str
    wrong: str
    right: str
    uses: int
    auto: bool
    """Confirmed: it would be (or was) applied before review."""
    declined: int = 0
    """Segments where it fitted and editors kept the engine's words."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "term": self.term,
            "wrong": self.wrong,
            "right": self.right,
            "uses": self.uses,
            "declined": self.declined,
            "auto": self.auto,
        }


def _credible(row: LearnedCorrection) -> bool:
    """Suggested: editors made it in more segments than they kept the engine's words where it fit."""
    return row.uses > row.declined


def confirmed(row: LearnedCorrection, threshold: int) -> bool:
    """Applied before review: made in at least ``threshold`` segments, never undone where it was
    applied automatically, and the engine's words kept in at most one fitting segment in ten."""
    return threshold > 0 and row.uses >= threshold and row.reverted == 0 and row.declined * 9 <= row.uses


def _known(session: Session, engine: str, source_lang: str, lang: str) -> list[LearnedCorrection]:
    return list(
        session.scalars(
            select(LearnedCorrection)
            .where(
                LearnedCorrection.engine == engine,
                LearnedCorrection.source_lang == source_lang,
                LearnedCorrection.target_lang == lang,
                LearnedCorrection.uses > 0,
            )
            .order_by(LearnedCorrection.uses.desc(), LearnedCorrection.id)
        )
    )


class Index:
    """Learned corrections by the first word of their wrong phrase, in the order given: a page
    looks up each segment's words instead of trying every correction of the pair on it."""

    def __init__(self, corrections: Iterable[LearnedCorrection]) -> None:
        self.by_first: dict[str, list[tuple[int, LearnedCorrection]]] = {}
        for order, row in enumerate(corrections):
            first = _TOKEN.match(row.wrong)
            if first is not None:
                self.by_first.setdefault(first.group(0).casefold(), []).append((order, row))

    def candidates(self, plain: str) -> list[LearnedCorrection]:
        found: dict[int, LearnedCorrection] = {}
        for key in {w.key for w in _words(plain)}:
            for order, row in self.by_first.get(key, ()):
                found[order] = row
        return [found[order] for order in sorted(found)]


def matching(
    corrections: Iterable[LearnedCorrection] | Index, source: str, target: str, *, limit: int = PER_SEGMENT
) -> list[LearnedCorrection]:
    """The corrections that fit a segment: their Danish term in ``source``, their wrong phrase in
    ``target``; of two for the same wrong phrase, the one given first (the more used)."""
    index = corrections if isinstance(corrections, Index) else Index(corrections)
    source_plain, target_plain = _plain(source), _plain(target)
    out: list[LearnedCorrection] = []
    taken: set[str] = set()
    for row in index.candidates(target_plain):
        if row.wrong in taken or not _contains(target_plain, row.wrong):
            continue
        if not _contains(source_plain, row.term):
            continue
        taken.add(row.wrong)
        out.append(row)
        if len(out) >= limit:
            break
    return out


def suggestions(
    session: Session,
    *,
    engine: str | None,
    source_lang: str,
    lang: str,
    segments: Sequence[tuple[str, str, str]],
    threshold: int = 0,
) -> dict[str, list[Suggestion]]:
    """Suggestions for ``(key, source, target)`` segments of one item, keyed by segment key."""
    if not engine or not segments:
        return {}
    known = _known(session, engine, source_lang, lang)
    if not known:
        return {}
    out: dict[str, list[Suggestion]] = {}
    index = Index(c for c in known if _credible(c))
    for key, source, target in segments:
        found = matching(index, source, target)
        if found:
            out[key] = [
                Suggestion(c.id, c.term, c.wrong, c.right, c.uses, confirmed(c, threshold), c.declined)
                for c in found
            ]
    return out


def auto_apply(
    corrections: Sequence[LearnedCorrection], source: str, target: str, threshold: int
) -> tuple[str, list[dict[str, Any]]]:
    """``target`` with the confirmed corrections applied, and what was applied (for the segment's
    ``corrections`` column, which marks it on the page)."""
    applied: list[dict[str, Any]] = []
    for row in matching([c for c in corrections if confirmed(c, threshold)], source, target):
        changed = apply(target, row.wrong, row.right)
        if changed != target:
            target = changed
            applied.append({"id": row.id, "term": row.term, "wrong": row.wrong, "right": row.right})
    return target, applied


def confirmed_for(
    session: Session, engine: str, source_lang: str, lang: str, threshold: int
) -> list[LearnedCorrection]:
    """The corrections :func:`auto_apply` may use for one engine and pair (none when switched off)."""
    if threshold <= 0:
        return []
    return [c for c in _known(session, engine, source_lang, lang) if confirmed(c, threshold)]


# ------------------------------------------------------------------------------------ learning


def learn(
    session: Session,
    row: TranslatedSegment,
    source: str,
    *,
    engine: str | None,
    source_lang: str,
    lang: str,
    actor: str,
) -> list[Change]:
    """Record what the editor's text of ``row`` corrects in the engine's text (call after a save).

    Counted once per segment: the segment's uses are replaced by what its text corrects now.
    Returns the changes found."""
    machine = row.machine_target
    if not engine or machine is None:
        return []  # a human translation from memory or an approved carry-over: nothing to learn
    changes = extract(source, machine, row.target)
    now = utcnow()
    # Undone automatic corrections: the editor put the engine's word back.
    marks: list[dict[str, Any]] = []
    for applied in row.corrections or []:
        mark = dict(applied)  # new objects: the JSON column is saved only when its value differs
        if not mark.get("reverted") and _contains(_plain(row.target), mark["wrong"]):
            correction = session.get(LearnedCorrection, mark["id"])
            if correction is not None:
                correction.reverted += 1
                correction.updated_at = now
            mark["reverted"] = True
        marks.append(mark)
    if marks != (row.corrections or []):
        row.corrections = marks
    ids: set[int] = set()
    for change in changes:
        correction = session.scalars(
            select(LearnedCorrection).where(
                LearnedCorrection.engine == engine,
                LearnedCorrection.source_lang == source_lang,
                LearnedCorrection.target_lang == lang,
                LearnedCorrection.term == change.term,
                LearnedCorrection.wrong == change.wrong,
                LearnedCorrection.right == change.right,
            )
        ).one_or_none()
        if correction is None:
            correction = LearnedCorrection(
                engine=engine,
                source_lang=source_lang,
                target_lang=lang,
                term=change.term,
                wrong=change.wrong,
                right=change.right,
                uses=0,
                declined=0,
                reverted=0,
                created_by=actor,
            )
            session.add(correction)
            session.flush()
        ids.add(correction.id)
    # The evidence against: a learned correction that fitted this segment (its term in the Danish,
    # its wrong words in the engine's text) where the editor kept the engine's words. "til" → "på"
    # made once in a hundred fitting segments is a one-off, not a pattern.
    final_plain, source_plain, machine_plain = _plain(row.target), _plain(source), _plain(machine)
    desired: dict[int, bool] = {i: True for i in ids}
    for known in Index(_known(session, engine, source_lang, lang)).candidates(machine_plain):
        if known.id in ids or known.wrong.casefold() == known.right.casefold():
            continue
        if (
            _contains(machine_plain, known.wrong)
            and _contains(source_plain, known.term)
            and _contains(final_plain, known.wrong)
        ):
            desired[known.id] = False
    where = (CorrectionUse.translation_id == row.translation_id, CorrectionUse.segment_key == row.key)
    existing = {
        cid: made
        for cid, made in session.execute(
            select(CorrectionUse.correction_id, CorrectionUse.made).where(*where)
        )
    }
    touched = {cid for cid in set(existing) | set(desired) if existing.get(cid) != desired.get(cid)}
    if touched:
        session.execute(delete(CorrectionUse).where(*where, CorrectionUse.correction_id.in_(touched)))
        for cid in touched:
            if cid in desired:
                session.add(
                    CorrectionUse(
                        correction_id=cid,
                        translation_id=row.translation_id,
                        segment_key=row.key,
                        made=desired[cid],
                        actor=actor,
                    )
                )
        session.flush()
    for cid in touched:
        correction = session.get(LearnedCorrection, cid)
        if correction is None:
            continue
        counts = dict(
            session.execute(
                select(CorrectionUse.made, func.count())
                .where(CorrectionUse.correction_id == cid)
                .group_by(CorrectionUse.made)
            ).all()
        )
        correction.uses, correction.declined = counts.get(True, 0), counts.get(False, 0)
        correction.last_by, correction.updated_at = actor, now
    session.flush()
    return changes


# ------------------------------------------------------------------------------------ admin


def describe(row: LearnedCorrection, threshold: int) -> dict[str, Any]:
    """One correction as the admin page and ``syndicate corrections list --json`` show it."""
    return {
        "id": row.id,
        "engine": row.engine,
        "source_lang": row.source_lang,
        "target_lang": row.target_lang,
        "term": row.term,
        "wrong": row.wrong,
        "right": row.right,
        "uses": row.uses,
        "declined": row.declined,
        "reverted": row.reverted,
        "suggested": _credible(row),
        "auto": confirmed(row, threshold),
        "by": row.last_by or row.created_by,
        "updated_at": row.updated_at,
    }


def listing(session: Session) -> list[LearnedCorrection]:
    return list(
        session.scalars(
            select(LearnedCorrection)
            .where(LearnedCorrection.uses > 0)
            .order_by(
                LearnedCorrection.source_lang,
                LearnedCorrection.target_lang,
                LearnedCorrection.engine,
                LearnedCorrection.uses.desc(),
                LearnedCorrection.id,
            )
        )
    )


def remove(session: Session, correction_id: int) -> bool:
    """Forget a correction: never suggested or applied again (until editors make it anew)."""
    session.execute(delete(CorrectionUse).where(CorrectionUse.correction_id == correction_id))
    found = session.execute(delete(LearnedCorrection).where(LearnedCorrection.id == correction_id))
    return bool(getattr(found, "rowcount", 0))
