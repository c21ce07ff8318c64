"""The segment markup language: escaped text with XLIFF-like inline placeholders.

A segment's ``source`` (and every translation of it) is plain text in which ``&``, ``<`` and ``>``
are escaped and inline markup is replaced by placeholders:

* ``<g id="1">…</g>`` wraps the words of a paired inline element (a link, emphasis, ...);
* ``<x id="2"/>`` stands for an element without translatable content (``<br>``, an image, inline
  ``code``, anything marked ``translate="no"``).

Engines and editors hand this language back in many states of repair, so :func:`tokenize` never
fails: anything that is not a recognisable placeholder is text. Placeholder syntax is matched
leniently (single quotes, spaces, a missing ``/``) because neural engines mangle it that way.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["text", "open", "close", "empty"]


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    value: str
    """Unescaped text for ``text``; the placeholder id for ``open``/``empty``; ``""`` for ``close``."""


_ID = r"""\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)'|([^\s"'<>/]+))"""
_TAG_RE = re.compile(
    rf"<\s*(g|x)\s+id{_ID}\s*(/?)\s*>"  # opening <g id="1"> or empty <x id="2"/>
    r"|<\s*/\s*(g|x)\s*>",  # closing </g> (and a stray </x>, which is ignored)
    re.IGNORECASE,
)
# Only complete character references are decoded: html.unescape alone would also turn the
# legacy "&not" in "R&notes" into "¬", which no engine meant.
_REF_RE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape(text: str) -> str:
    if "&" not in text:
        return text
    return _REF_RE.sub(lambda m: html.unescape(m.group(0)), text)


def escape(text: str) -> str:
    """Escape plain text for the segment markup language (well-formed XML text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_id(ident: str) -> str:
    return escape(ident).replace('"', "&quot;")


def tokenize(markup: str) -> list[Token]:
    """Split segment markup into text and placeholder tokens; never raises."""
    tokens: list[Token] = []
    pos = 0
    for match in _TAG_RE.finditer(markup):
        if match.start() > pos:
            tokens.append(Token("text", unescape(markup[pos : match.start()])))
        pos = match.end()
        if match.group(6):  # a closing tag
            if match.group(6).lower() == "g":
                tokens.append(Token("close", ""))
            continue
        ident = unescape((match.group(2) or match.group(3) or match.group(4) or "").strip())
        if match.group(1).lower() == "x" or match.group(5):
            tokens.append(Token("empty", ident))
        else:
            tokens.append(Token("open", ident))
    if pos < len(markup):
        tokens.append(Token("text", unescape(markup[pos:])))
    return tokens


def canonical(tokens: list[Token]) -> str:
    """Serialize tokens back to segment markup in its one canonical spelling."""
    out: list[str] = []
    for token in tokens:
        if token.kind == "text":
            out.append(escape(token.value))
        elif token.kind == "open":
            out.append(f'<g id="{_escape_id(token.value)}">')
        elif token.kind == "close":
            out.append("</g>")
        else:
            out.append(f'<x id="{_escape_id(token.value)}"/>')
    return "".join(out)


def paired_ids(markup: str) -> set[str]:
    """Ids of the ``<g>`` placeholders in ``markup``."""
    return {
        unescape((m.group(2) or m.group(3) or m.group(4) or "").strip())
        for m in _TAG_RE.finditer(markup)
        if m.group(1) and m.group(1).lower() == "g" and not m.group(5)
    }


def plain_text(markup: str) -> str:
    """The text of segment markup with every placeholder dropped and references decoded."""
    return "".join(t.value for t in tokenize(markup) if t.kind == "text")
