"""Quality flags for one translated segment, in words an editor understands.

A flagged segment is shown in ``syndicate review show`` and is never auto-approved. Checks:

``empty_output``        the source has words, the translation has none;
``untranslated``        the translation equals the source (ignoring placeholders, case and
                        spacing), or Danish function words were left in it — counted against a list
                        made for the target language, since Norwegian and Swedish share many of
                        Danish's function words;
``length_ratio``        the translation is far shorter or longer than the source (short segments
                        are not judged);
``glossary_violation``  see :mod:`syndication.translations.glossary`;
``low_confidence``      the engine's own confidence in the segment is below the language's
                        threshold (``[translation] low_confidence``);
engine flags            passed through (Apertium's ``unknown_words``, the Argos engine's
                        ``placeholder_moved`` and ``long_input``);
placeholder, link and number mismatches are checked by the segmenter's ``placeholder_problems``
(``syndication.segments``), looked up when this runs.

One flag belongs to the whole item rather than a segment (``extraction_flags``):
``extraction_incomplete``  part of the source could not be read (a page cut at the size limit,
                        markup too deep even to flatten); the item is never auto-approved, not
                        even when every segment carries over, and approving it needs confirming.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from syndication.models import QAFlag, Segment
from syndication.translations.inline import strip_placeholders

if TYPE_CHECKING:
    from syndication.translations.glossary import Glossary

EMPTY_OUTPUT = "empty_output"
UNTRANSLATED = "untranslated"
LENGTH_RATIO = "length_ratio"
EXTRACTION_INCOMPLETE = "extraction_incomplete"
LOW_CONFIDENCE = "low_confidence"

MIN_RATIO_CHARS = 20
"""Segments shorter than this (without spaces) are not judged on length."""
RATIO_BOUNDS = (0.4, 2.5)

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Danish function words, and for each target language the ones that are ordinary words there too.
_DANISH = _wordset(
    """og ikke af på også når hvad hvor hvis jeg det til med eller skal nogle noget nogen meget
    efter være blev bliver deres vores jeres fordi hvordan hvorfor hos mellem uden kun allerede
    endnu som har kan vil kunne ville skulle jo nok selv blot dog hele alle andre denne dette disse
    hun han sig os dem mig dig der er vi de den et en men for om nu her mod"""
)
_SHARED = {
    "en": _wordset("for men her den hun han alle om et en de nu os mod dog kan selv"),
    "de": _wordset("der den er dem alle her so man kann will mit vor an in um hat"),
    "fr": _wordset("de en et os nu dont"),
    "es": _wordset("de en han os"),
    "pt": _wordset("de os"),
    "it": _wordset("alle vi di"),
    "nl": _wordset("de en om kan men er hun af nu den alle hele der"),
    "pl": _wordset("dog"),
    "fi": _wordset("on"),
}
# Targets close to Danish get their own short lists of words that differ from Danish.
_MARKERS: dict[str, frozenset[str]] = {
    "nb": _wordset(
        "af hvad nogle nogen noget efter blev bliver sig mig dig ud op igennem endnu mellem hende vores nu"
    ),
    "sv": _wordset(
        """og ikke af hvad hvor hvis også nogle noget nogen ud jeg bliver mellem endnu igennem være
        meget hende deres kun når hvordan hvorfor til fordi vores jeres selv allerede"""
    ),
}
_MARKERS["nn"] = _MARKERS["nb"] | _wordset("ikke jeg hvad hvor hvis hvordan hvorfor når meget")


def danish_markers(target_lang: str) -> frozenset[str]:
    """Words that, found in a ``target_lang`` translation of Danish, suggest untranslated text."""
    base = target_lang.split("-")[0].lower()
    if base in _MARKERS:
        return _MARKERS[base]
    if base == "da":
        return frozenset()
    return _DANISH - _SHARED.get(base, _SHARED["en"])


def extraction_flags(extraction: Mapping[str, Any] | None) -> list[QAFlag]:
    """The item-level flags of a revision's ``extraction`` record (``Revision.extraction``)."""
    incomplete = (extraction or {}).get("incomplete")
    if not incomplete:
        return []
    message = incomplete.get("message") if isinstance(incomplete, Mapping) else None
    return [QAFlag(EXTRACTION_INCOMPLETE, str(message or "The source could not be read whole."))]


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _normalized(text: str) -> str:
    return " ".join(strip_placeholders(text).casefold().split())


SCANDINAVIAN = frozenset({"da", "nb", "nn", "no", "sv"})


def _untranslated(source: str, target: str, source_lang: str, target_lang: str) -> QAFlag | None:
    if source_lang.split("-")[0] == target_lang.split("-")[0]:
        return None
    source_words = _words(strip_placeholders(source))
    pair = frozenset({source_lang.split("-")[0], target_lang.split("-")[0]})
    # Danish, Norwegian and Swedish share much of their vocabulary: a short sentence can come out
    # letter for letter the same ("En god dag i landsbyen"), so only longer ones are suspicious.
    minimum = 8 if pair <= SCANDINAVIAN else 3
    if len(source_words) >= minimum and _normalized(source) == _normalized(target):
        return QAFlag(
            UNTRANSLATED,
            "The translation is identical to the source text: it was probably not translated.",
        )
    if not source_lang.startswith("da"):
        return None
    words = _words(strip_placeholders(target))
    markers = danish_markers(target_lang)
    hits = [w for w in words if w in markers]
    distinct = sorted(set(hits))
    if len(distinct) >= 2 and (len(hits) / max(len(words), 1) >= 0.08 or len(hits) >= 5):
        shown = ", ".join(f"“{w}”" for w in distinct[:6])
        return QAFlag(
            UNTRANSLATED,
            f"Danish words are left in the translation ({shown}): part of it may be untranslated.",
        )
    return None


def _length_ratio(source: str, target: str, bounds: tuple[float, float]) -> QAFlag | None:
    source_len = len("".join(strip_placeholders(source).split()))
    target_len = len("".join(strip_placeholders(target).split()))
    if source_len < MIN_RATIO_CHARS or target_len == 0:
        return None
    ratio = target_len / source_len
    low, high = bounds
    if ratio < low:
        return QAFlag(
            LENGTH_RATIO,
            f"The translation is much shorter than the source ({ratio:.0%} of its length): "
            "something may be missing.",
        )
    if ratio > high:
        return QAFlag(
            LENGTH_RATIO,
            f"The translation is {ratio:.1f} times as long as the source: the engine may have "
            "repeated itself or added text.",
        )
    return None


def _placeholder_flags(source: str, target: str, segment: Segment | None) -> list[QAFlag]:
    """Placeholder, link and number checks are the segmenter's (it knows which placeholder is a
    link); without ``segment`` the source alone tells the placeholders apart."""
    from syndication.segments import placeholder_problems

    return list(placeholder_problems(segment or Segment(key="", kind="block", source=source), target))


def check(
    source: str,
    target: str,
    *,
    source_lang: str,
    target_lang: str,
    engine_flags: Sequence[QAFlag] = (),
    glossary: Glossary | None = None,
    segment: Segment | None = None,
    ratio_bounds: tuple[float, float] = RATIO_BOUNDS,
    confidence: float | None = None,
    min_confidence: float = 0.0,
) -> list[QAFlag]:
    """Every QA flag for one segment: ``source`` and ``target`` are segment markup.

    ``source`` is the segment as written (before glossary protection), ``target`` the final
    translation (glossary terms restored). ``segment``, when given, is passed to the segmenter's
    placeholder check (it knows which placeholder is a link). ``confidence`` is the engine's
    (``None``: it cannot say), flagged when below ``min_confidence``.
    """
    flags: list[QAFlag] = list(engine_flags)
    if confidence is not None and confidence < min_confidence:
        flags.append(
            QAFlag(
                LOW_CONFIDENCE,
                f"The engine's confidence is {confidence:.2f}, below {min_confidence:.2f} for {target_lang}: "
                "read this one closely.",
            )
        )
    source_plain = strip_placeholders(source)
    target_plain = strip_placeholders(target)
    if any(ch.isalnum() for ch in source_plain) and not any(ch.isalnum() for ch in target_plain):
        flags.append(QAFlag(EMPTY_OUTPUT, "The translation is empty although the source has text."))
    else:
        for found in (
            _untranslated(source, target, source_lang, target_lang),
            _length_ratio(source, target, ratio_bounds),
        ):
            if found is not None:
                flags.append(found)
        # An empty output has no placeholders to compare: the one flag says it all.
        flags.extend(_placeholder_flags(source, target, segment))
    if glossary is not None:
        flags.extend(glossary.violations(source, target, target_lang))
    return list(dict.fromkeys(flags))
