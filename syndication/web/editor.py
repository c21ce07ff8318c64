"""Segment markup as editors see it: placeholders as chips, source changes as a word diff.

A segment's text (``Hej <g id="1">med dig</g>``) is shown with each placeholder as a
``<span class="chip" contenteditable="false">`` whose ``data-ph``/``data-id`` say what it stands for;
``static/review.js`` turns an edited editor back into segment markup from those two attributes.
Every piece of text goes through :func:`html.escape` here: the output is marked safe for Jinja, so
this module is the one place that decides what reaches the page unescaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from markupsafe import Markup

from syndication.segments.markup import Token, canonical, tokenize

_TAG_RE = re.compile(r"<\s*([a-zA-Z][a-zA-Z0-9]*)")
_ATTR_RE = r"""\s{name}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
_STRIP_TAGS_RE = re.compile(r"<[^>]*>")
_WORD_RE = re.compile(r"\s+|\w+|[^\w\s]")

_NAMES = {
    "a": ("link", "link"),
    "strong": ("bold", "em"),
    "b": ("bold", "em"),
    "em": ("italic", "em"),
    "i": ("italic", "em"),
    "u": ("underline", "em"),
    "br": ("line break", "br"),
    "img": ("image", "img"),
    "code": ("code", "code"),
    "kbd": ("keyboard input", "code"),
    "sup": ("superscript", "em"),
    "sub": ("subscript", "em"),
}


def _attr(markup: str, name: str) -> str | None:
    match = re.search(_ATTR_RE.format(name=name), markup, re.IGNORECASE)
    if match is None:
        return None
    return html.unescape(next(g for g in match.groups() if g is not None))


@dataclass(frozen=True)
class Placeholder:
    """What a placeholder stands for, for the chip's look and tooltip."""

    tag: str
    description: str
    css: str

    @classmethod
    def of(cls, markup: str | None) -> Placeholder:
        if not markup:
            return cls("?", "unknown placeholder (not in the source)", "bad")
        match = _TAG_RE.match(markup)
        tag = match.group(1).lower() if match else "?"
        name, css = _NAMES.get(tag, (f"<{tag}>", "other"))
        detail = ""
        if tag == "a":
            detail = _attr(markup, "href") or ""
        elif tag == "img":
            detail = _attr(markup, "alt") or _attr(markup, "src") or ""
        else:
            detail = " ".join(html.unescape(_STRIP_TAGS_RE.sub(" ", markup)).split())
        description = f"{name}: {detail[:200]}" if detail else name
        return cls(tag, description, css)


ChipKind = Literal["open", "close", "empty"]


def chip(kind: ChipKind, pid: str, placeholder: Placeholder) -> str:
    label = {"open": f"{{{pid}", "close": f"{pid}}}", "empty": f"{{{pid}}}"}[kind]
    return (
        f'<span class="chip chip-{placeholder.css}" contenteditable="false" data-ph="{kind}" '
        f'data-id="{html.escape(pid, quote=True)}" title="{html.escape(placeholder.description, quote=True)}"'
        f">{html.escape(label, quote=False)}</span>"
    )


def _token_html(tokens: Iterable[Token], markup: Mapping[str, str]) -> str:
    out: list[str] = []
    stack: list[str] = []
    for token in tokens:
        if token.kind == "text":
            out.append(html.escape(token.value, quote=False))
        elif token.kind == "open":
            stack.append(token.value)
            out.append(chip("open", token.value, Placeholder.of(markup.get(token.value))))
        elif token.kind == "close":
            pid = stack.pop() if stack else ""
            out.append(chip("close", pid, Placeholder.of(markup.get(pid))))
        else:
            out.append(chip("empty", token.value, Placeholder.of(markup.get(token.value))))
    return "".join(out)


def chips_html(text: str, markup: Mapping[str, str]) -> Markup:
    """Segment markup as HTML: text escaped, each placeholder a non-editable chip."""
    return Markup(_token_html(tokenize(text), markup))  # noqa: S704 - every part escaped in _token_html


def normalize_edit(text: str) -> str:
    """An edit in its canonical spelling (the no-JS textarea accepts ``<g id='1'>`` and the like)."""
    return canonical(tokenize(text.replace("\r\n", "\n"))).strip()


# ------------------------------------------------------------------------------------------ diff

_Piece = tuple[str, Token | None]
"""A word, a run of spaces or a punctuation mark (``token`` None), or a placeholder (its token)."""


def _pieces(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    for token in tokenize(text):
        if token.kind == "text":
            pieces.extend((word, None) for word in _WORD_RE.findall(token.value))
        else:
            pieces.append((f"\x00{token.kind}:{token.value}", token))
    return pieces


def _render(pieces: list[_Piece], markup: Mapping[str, str], stack: list[str]) -> str:
    out: list[str] = []
    for word, token in pieces:
        if token is None:
            out.append(html.escape(word, quote=False))
        elif token.kind == "open":
            stack.append(token.value)
            out.append(chip("open", token.value, Placeholder.of(markup.get(token.value))))
        elif token.kind == "close":
            pid = stack.pop() if stack else ""
            out.append(chip("close", pid, Placeholder.of(markup.get(pid))))
        else:
            out.append(chip("empty", token.value, Placeholder.of(markup.get(token.value))))
    return "".join(out)


def source_diff(before: str, after: str, markup: Mapping[str, str]) -> Markup:
    """Word-level diff of two source texts: removed words in ``<del>``, added ones in ``<ins>``."""
    old, new = _pieces(before), _pieces(after)
    matcher = SequenceMatcher(None, [w for w, _ in old], [w for w, _ in new], autojunk=False)
    out: list[str] = []
    old_stack: list[str] = []
    new_stack: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(_render(new[j1:j2], markup, new_stack))
            _render(old[i1:i2], markup, old_stack)
            continue
        if i2 > i1:
            out.append("<del>" + _render(old[i1:i2], markup, old_stack) + "</del>")
        if j2 > j1:
            out.append("<ins>" + _render(new[j1:j2], markup, new_stack) + "</ins>")
    return Markup("".join(out))  # noqa: S704 - every part escaped in _render
