"""Offline sentence splitting for Danish, Norwegian, Swedish, English and German.

Hand-written on purpose: the splitters Argos Translate uses (Stanza, MiniSBD, spaCy) download their
models at run time, which fails on a worker without internet, and the regex splitters on PyPI do not
know Danish abbreviations. The rules here are few and predictable:

* a boundary is one or more of ``. ! ? …`` (optionally followed by closing quotes or brackets) and
  then whitespace or the end of the text; a blank line is always a boundary;
* no boundary when the next word starts in lower case (``1. maj``, ``f.eks. en``, ``Og så... kom``);
* no boundary after a known abbreviation that never ends a sentence (``bl.a.``, ``f.eks.``, ``ca.``,
  ``nr.``, ``dvs.``, ``kl.``, ``z.B.``, ``e.g.`` …), after dotted lower-case abbreviations
  (``m.a.o.``), after a single capital letter (``H. C. Andersen``), or after a day number followed by
  a month name (``am 1. Mai``);
* decimal numbers, URLs and times (``3.5``, ``www.example.dk``, ``10.30``) contain no whitespace after
  the dot, so they are never candidates.

``sentence_spans`` returns character offsets so callers can map inline markup onto sentences.
"""

from __future__ import annotations

import re

# Abbreviations that (practically) never end a sentence, compared in lower case with their dot(s).
_NON_FINAL_COMMON = {
    "ca.", "nr.", "no.", "vs.", "st.", "dr.", "prof.", "mr.", "mrs.", "ms.", "jr.", "sr.", "inc.",
    "tlf.", "tel.", "fig.", "kap.", "s.", "pp.", "vol.", "art.",
}  # fmt: skip
_NON_FINAL = {
    "da": {
        "bl.a.", "f.eks.", "fx.", "dvs.", "jf.", "jvf.", "pga.", "p.g.a.", "iflg.", "ifølge.", "mht.",
        "m.h.t.", "evt.", "inkl.", "ekskl.", "hhv.", "vedr.", "ifm.", "i.f.m.", "kl.", "stk.", "pkt.",
        "mio.", "mia.", "hr.", "fr.", "afd.", "adr.", "bd.", "årg.", "udg.", "sml.", "ang.", "gl.",
        "d.", "d.v.s.", "o.l.", "el.", "ml.", "t.o.m.", "f.o.m.", "m.a.o.", "tv.", "th.",
    },
    "nb": {
        "bl.a.", "f.eks.", "dvs.", "jf.", "pga.", "iflg.", "mht.", "evt.", "inkl.", "ekskl.", "hhv.",
        "vedr.", "kl.", "mill.", "mrd.", "ca.", "ifm.", "o.l.",
    },
    "sv": {
        "bl.a.", "t.ex.", "dvs.", "d.v.s.", "p.g.a.", "pga.", "ca.", "kl.", "resp.", "inkl.", "exkl.",
        "milj.", "mkr.", "s.k.", "f.d.", "o.d.", "enl.",
    },
    "en": {"e.g.", "i.e.", "cf.", "approx.", "incl.", "excl.", "dept.", "est.", "mt.", "ft.", "a.m."},
    "de": {
        "z.b.", "u.a.", "bzw.", "ggf.", "vgl.", "bspw.", "d.h.", "s.o.", "s.u.", "usf.", "evtl.", "inkl.",
        "ca.", "nr.", "hr.", "fr.", "str.", "abs.", "max.", "min.", "mio.", "mrd.", "zzgl.", "sog.",
    },
}  # fmt: skip
# Abbreviations that may end a sentence: a boundary only if the next word is capitalised (the
# default rule), listed so the dotted-abbreviation rule below does not swallow them.
_MAY_END = {"osv.", "etc.", "m.m.", "mv.", "m.v.", "m.fl.", "o.a.", "usw.", "u.s.w.", "m.m", "mm."}

_MONTHS = {
    "januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
    "november", "december", "mars", "mai", "desember", "januari", "februari", "augusti", "jänner",
    "märz", "dezember", "january", "february", "march", "may", "june", "july",
    "october", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "okt", "nov", "dec",
    "dez",
}  # fmt: skip

_ALL_NON_FINAL = set().union(_NON_FINAL_COMMON, *_NON_FINAL.values())
_DOTTED = re.compile(r"^(?:[a-zæøåäöüß]{1,4}\.){2,}$", re.IGNORECASE)
_CANDIDATE = re.compile(r"[.!?…]+[\"'”’»«)\]]*(?=\s|$)")
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_OPENERS = "\"'“‘«»„([¿¡-–—"


def _non_final(lang: str) -> set[str]:
    base = lang.split("-")[0].lower()
    if base in _NON_FINAL:
        return _NON_FINAL_COMMON | _NON_FINAL[base] | (_NON_FINAL["nb"] if base == "nn" else set())
    return _ALL_NON_FINAL


def _next_word(text: str, pos: int) -> str:
    """The word starting at the first non-space character at or after ``pos`` (openers skipped)."""
    length = len(text)
    while pos < length and text[pos].isspace():
        pos += 1
    while pos < length and text[pos] in _OPENERS:
        pos += 1
    end = pos
    while end < length and not text[end].isspace():
        end += 1
    return text[pos:end]


def _previous_word(text: str, end: int) -> str:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end]


def _is_boundary(text: str, match: re.Match[str], abbreviations: set[str]) -> bool:
    following = _next_word(text, match.end())
    if not following:
        return True  # end of text
    first = following[0]
    if first.islower():
        return False
    punct = match.group(0)
    if "." not in punct or punct.rstrip("\"'”’»«)]").endswith(("..", "…", "!", "?")):
        return True  # ! ? and ellipses end a sentence before a capitalised word
    # A single dot: look at the word it ends.
    word = _previous_word(text, match.start()).lstrip(_OPENERS)
    token = (word + ".").lower()
    if token in _MAY_END:
        return True
    if token in abbreviations or _DOTTED.match(token):
        return False
    if len(word) == 1 and word.isalpha() and word.isupper():
        return False  # an initial: "H. C. Andersen"
    if word.isdigit() and len(word) <= 2:
        month = following.strip(".,;:").lower()
        if month in _MONTHS:
            return False  # a date: "am 1. Mai"
    return True


def sentence_spans(text: str, lang: str = "da") -> list[tuple[int, int]]:
    """``(start, end)`` offsets of the sentences of ``text``, without surrounding whitespace."""
    abbreviations = _non_final(lang)
    cuts = {m.end() for m in _CANDIDATE.finditer(text) if _is_boundary(text, m, abbreviations)}
    cuts.update(m.start() for m in _BLANK_LINE.finditer(text))
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*sorted(cuts), len(text)]:
        if cut <= start:
            continue
        left, right = start, cut
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if right > left:
            spans.append((left, right))
        start = cut
    return spans


def split_sentences(text: str, lang: str = "da") -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text, lang)]
