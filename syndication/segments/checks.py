"""Compare a translation with its source segment: placeholders, links and numbers.

Word order may change in translation, so the order of sibling placeholders is not checked; what
must survive is each placeholder exactly once, of the same kind, inside the same parent.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from syndication.models import QAFlag, Segment
from syndication.segments.markup import Token, tokenize

_HREF_RE = re.compile(r'^<a\b[^>]*?\shref="([^"]*)"', re.IGNORECASE)
# Digits with "." or "," between groups, and groups of three joined by a no-break or thin space
# ("1 000" in Danish typography); a plain space separates two numbers.
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*(?:[\u00a0\u202f]\d{3}(?:[.,]\d+)*)*")
_URL_RE = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)\S*", re.IGNORECASE)


def placeholder_problems(segment: Segment, translated: str) -> list[QAFlag]:
    """QA flags for ``translated`` against ``segment``: placeholders, links, numbers."""
    source_tokens = tokenize(segment.source)
    target_tokens = tokenize(translated)
    flags = _placeholder_flags(segment, source_tokens, target_tokens)
    flags.extend(_link_flags(segment, source_tokens, target_tokens))
    flags.extend(_number_flags(source_tokens, target_tokens))
    return flags


# ------------------------------------------------------------------------------ placeholders


def _describe(segment: Segment, pid: str) -> str:
    markup = segment.markup.get(pid)
    return f"{pid} ({markup[:60]})" if markup else pid


def _structure(tokens: list[Token]) -> tuple[list[tuple[str, str, str | None]], set[str], int, int]:
    """(kind, id, parent id) per placeholder, ids of ``<g>`` with content, unmatched closings, openings."""
    found: list[tuple[str, str, str | None]] = []
    filled: set[str] = set()
    stack: list[str] = []
    stray_closings = 0
    for token in tokens:
        parent = stack[-1] if stack else None
        if token.kind == "open":
            found.append(("g", token.value, parent))
            stack.append(token.value)
        elif token.kind == "empty":
            found.append(("x", token.value, parent))
            filled.update(stack)
        elif token.kind == "close":
            if stack:
                stack.pop()
            else:
                stray_closings += 1
        elif token.value.strip():
            filled.update(stack)
    return found, filled, stray_closings, len(stack)


def _placeholder_flags(segment: Segment, source: list[Token], target: list[Token]) -> list[QAFlag]:
    expected, had_content, _, _ = _structure(source)
    got, has_content, stray, unclosed = _structure(target)
    want = {pid: (kind, parent) for kind, pid, parent in expected}
    counts = Counter(pid for _, pid, _ in got)
    problems: list[str] = []
    missing = [pid for pid in want if pid not in counts]
    if missing:
        problems.append("missing " + ", ".join(_describe(segment, p) for p in missing))
    extra = sorted({pid for pid in counts if pid not in want})
    if extra:
        problems.append("unknown " + ", ".join(extra))
    duplicated = sorted(pid for pid, n in counts.items() if n > 1 and pid in want)
    if duplicated:
        problems.append("duplicated " + ", ".join(_describe(segment, p) for p in duplicated))
    for kind, pid, parent in got:
        if pid not in want or counts[pid] > 1:
            continue
        want_kind, want_parent = want[pid]
        if kind != want_kind:
            problems.append(f"{_describe(segment, pid)} changed from <{want_kind}> to <{kind}>")
        elif parent != want_parent and (parent is None or parent in want):
            where = f"inside {parent}" if parent else "outside any placeholder"
            should = f"inside {want_parent}" if want_parent else "outside any placeholder"
            problems.append(f"{_describe(segment, pid)} moved {where}, was {should}")
        elif kind == "g" and pid in had_content and pid not in has_content:
            problems.append(f"{_describe(segment, pid)} lost the words it wrapped")
    if stray:
        problems.append(f"{stray} closing </g> without an opening")
    if unclosed:
        problems.append(f"{unclosed} <g> never closed")
    return [QAFlag("placeholder_mismatch", f"placeholder {p}") for p in problems]


# ------------------------------------------------------------------------------------- links


def _links(segment: Segment, tokens: list[Token]) -> Counter[str]:
    """Hrefs of links that would come back (``join`` closes what is left open) with content."""
    hrefs: Counter[str] = Counter()
    stack: list[list[Any]] = []  # [href or None, has content] per open <g>
    seen: set[str] = set()

    def close() -> None:
        href, has_content = stack.pop()
        if href is not None and has_content:
            hrefs[href] += 1
        if has_content and stack:
            stack[-1][1] = True

    for token in tokens:
        if token.kind == "open":
            match = _HREF_RE.match(segment.markup.get(token.value, ""))
            first = token.value not in seen  # join restores a duplicated placeholder only once
            seen.add(token.value)
            stack.append([match.group(1) if match and first else None, False])
        elif token.kind == "close" and stack:
            close()
        elif stack and (token.kind == "empty" or token.value.strip()):
            stack[-1][1] = True  # words, or a linked image
    while stack:
        close()
    return hrefs


def _link_flags(segment: Segment, source: list[Token], target: list[Token]) -> list[QAFlag]:
    lost = _links(segment, source) - _links(segment, target)
    return [QAFlag("link_mismatch", f"link to {href} lost in translation") for href in sorted(lost)]


# ----------------------------------------------------------------------------------- numbers


def _number_values(number: str) -> frozenset[str]:
    """Every value ``number`` can mean under Danish (1.000,5) or English (1,000.5) conventions."""
    compact = number.replace("\u00a0", "").replace("\u202f", "")
    values: set[str] = set()
    for thousands, decimal in ((".", ","), (",", ".")):
        candidate = compact.replace(thousands, "").replace(decimal, ".")
        try:
            values.add(str(Decimal(candidate).normalize()))
        except InvalidOperation:
            continue
    return frozenset(values) or frozenset({compact})


def _numbers(tokens: list[Token]) -> list[tuple[str, frozenset[str]]]:
    text = " ".join(t.value for t in tokens if t.kind == "text")
    text = _URL_RE.sub(" ", text)
    return [(m.group(0), _number_values(m.group(0))) for m in _NUMBER_RE.finditer(text)]


def _number_flags(source: list[Token], target: list[Token]) -> list[QAFlag]:
    unmatched_target = _numbers(target)
    unmatched_source: list[str] = []
    for spelled, values in _numbers(source):
        for i, (_, other) in enumerate(unmatched_target):
            if values & other:
                del unmatched_target[i]
                break
        else:
            unmatched_source.append(spelled)
    if not unmatched_source and not unmatched_target:
        return []
    parts = []
    if unmatched_source:
        parts.append("missing from the translation: " + ", ".join(unmatched_source))
    if unmatched_target:
        parts.append("not in the source: " + ", ".join(s for s, _ in unmatched_target))
    return [QAFlag("number_mismatch", "numbers differ; " + "; ".join(parts))]
