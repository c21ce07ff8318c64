"""Pour translations back into the skeleton of a split document.

``join`` never raises on a bad translation: placeholders it cannot place are dropped, open ones
are closed, unknown ones ignored, so the HTML stays well formed; ``placeholder_problems`` is what
tells an editor that something was lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from syndication.models import Segment
from syndication.segments.markup import paired_ids, plain_text, tokenize
from syndication.segments.serialize import escape_attr, escape_text
from syndication.segments.split import SplitDocument, parse_declaration, slot_pattern

_TAG_NAME_RE = re.compile(r"<([^\s>/]+)")
_ALT_RE = re.compile(r' alt="([^"]*)"')
# Restoring these where the translation lost them would only add noise.
_DISPOSABLE = frozenset({"<br>", "<wbr>"})


@dataclass(frozen=True)
class JoinedDocument:
    html: str
    title: str | None
    excerpt: str | None


def join(doc: SplitDocument, translations: Mapping[str, str]) -> JoinedDocument:
    """Fill every slot of ``doc`` with its translation, or with the source where there is none.

    A translation that is missing, not a string, or blank falls back to the segment's source.
    """
    segments = {s.key: s for s in doc.segments}

    def chosen(key: str) -> str | None:
        value = translations.get(key)
        return value if isinstance(value, str) and value.strip() else None

    def alt_text(key: str) -> str:
        value = chosen(key)
        if value is not None:
            return plain_text(value).strip()
        segment = segments.get(key)
        return plain_text(segment.source) if segment is not None else ""

    def fill(match: re.Match[str]) -> str:
        segment = segments.get(match.group(1))
        if segment is None:
            return ""
        if segment.kind == "alt":
            return escape_attr(alt_text(segment.key))
        alts = {}
        for pair in match.group(2).split():
            pid, _, key = pair.partition("=")
            alts[pid] = alt_text(key)
        return render_segment(segment, chosen(segment.key) or segment.source, alts=alts)

    marker, skeleton = parse_declaration(doc.skeleton)
    html = slot_pattern(marker).sub(fill, skeleton)

    def plain(key: str, original: str | None) -> str | None:
        value = chosen(key)
        if value is not None and key in segments:
            return plain_text(value).strip()
        if original is None and key in segments:
            return plain_text(segments[key].source)
        return original

    return JoinedDocument(html=html, title=plain("title", doc.title), excerpt=plain("excerpt", doc.excerpt))


def render_segment(segment: Segment, text: str, *, alts: Mapping[str, str] | None = None) -> str:
    """HTML for one segment's ``text`` (its source or a translation) with the original tags back.

    ``alts`` gives new alt text for image placeholders (placeholder id → plain text).
    """
    paired = paired_ids(segment.source)
    used: set[str] = set()
    closers: list[str] = []  # "" for an opening placeholder that was dropped
    out: list[str] = []
    for token in tokenize(text):
        if token.kind == "text":
            out.append(escape_text(token.value))
        elif token.kind == "open":
            markup = segment.markup.get(token.value)
            closer = _closing_tag(markup) if markup is not None else ""
            # A link inside a link is not HTML (a parser would tear both apart): keep the outer one.
            nested_link = closer == "</a>" and "</a>" in closers
            if markup is not None and token.value in paired and token.value not in used and not nested_link:
                used.add(token.value)
                out.append(markup)
                closers.append(closer)
            else:
                closers.append("")
        elif token.kind == "close":
            if closers:
                out.append(closers.pop())
        else:
            markup = segment.markup.get(token.value)
            # An element holding a link cannot go inside an open link either: it goes to the end.
            link_in_link = "</a>" in closers and markup is not None and _LINK_RE.search(markup) is not None
            if (
                markup is not None
                and token.value not in paired
                and token.value not in used
                and not link_in_link
            ):
                used.add(token.value)
                out.append(_with_alt(markup, (alts or {}).get(token.value)))
    out.extend(reversed(closers))
    # Content-bearing empties the translation lost (inline code, an image) go at the end rather
    # than vanish; the QA flag says where they were.
    for pid, markup in segment.markup.items():
        if pid not in used and pid not in paired and markup not in _DISPOSABLE:
            if out and not out[-1][-1:].isspace():
                out.append(" ")
            out.append(_with_alt(markup, (alts or {}).get(pid)))
    return "".join(out)


_LINK_RE = re.compile(r"<a[\s>]", re.IGNORECASE)


def _closing_tag(markup: str) -> str:
    match = _TAG_NAME_RE.match(markup)
    return f"</{match.group(1)}>" if match else ""


def _with_alt(markup: str, alt: str | None) -> str:
    """Replace the alt text of an ``<img>`` start tag written by our serializer."""
    if alt is None:
        return markup

    def replace(match: re.Match[str]) -> str:
        original = plain_text(match.group(1))
        lead = original[: len(original) - len(original.lstrip())]
        trail = original[len(original.rstrip()) :]
        return f' alt="{escape_attr(lead + alt + trail)}"'

    return _ALT_RE.sub(replace, markup, count=1)
