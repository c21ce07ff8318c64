"""Feed HTML made safe to store and show, keeping what later stages need.

Feed content is somebody else's HTML, so it is cleaned with ``nh3`` before it leaves
``parse_feed``: scripts, styles, event handlers, iframes, forms and ``javascript:`` URLs go.
feedparser's own sanitizer is switched off because it also drops ``translate="no"``, which the
segmenter relies on to protect text from translation; the allow-list below keeps it, along with
``class`` (``notranslate``, WordPress block classes), ``lang`` and ``dir``. The extraction stage
sanitizes again with its own, stricter rules; this pass is defence in depth.
"""

from __future__ import annotations

import html
from typing import Any

import nh3

_GENERIC_ATTRIBUTES = {"class", "lang", "dir", "translate", "title"}
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attributes) | _GENERIC_ATTRIBUTES for tag, attributes in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES["*"] = _GENERIC_ATTRIBUTES
_ATTRIBUTES["img"] = _ATTRIBUTES.get("img", set()) | {"srcset", "sizes", "loading"} | _GENERIC_ATTRIBUTES
_ATTRIBUTES["time"] = {"datetime"} | _GENERIC_ATTRIBUTES
_DROP_WITH_CONTENT = {"script", "style"}

# Built once (and per base URL): nh3.clean() converts the allow-lists on every call, which is 15×
# slower on short fragments.
_OPTIONS: dict[str, Any] = {
    "tags": nh3.ALLOWED_TAGS,
    "clean_content_tags": _DROP_WITH_CONTENT,
    "attributes": _ATTRIBUTES,
    "link_rel": None,
}
_CLEANER = nh3.Cleaner(**_OPTIONS)
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=_DROP_WITH_CONTENT)


def clean_html(fragment: str, *, base: str | None = None) -> str:
    """Sanitized HTML fragment; with ``base``, relative URLs in it are made absolute against it."""
    cleaner = _CLEANER
    if base:
        try:
            cleaner = nh3.Cleaner(**_OPTIONS, url_relative=("rewrite_with_base", base))
        except ValueError:  # a base nh3 cannot parse: keep the URLs as they are
            cleaner = _CLEANER
    return str(cleaner.clean(fragment))


def text_to_html(text: str) -> str:
    """Plain text (Atom ``type="text"``) as an HTML fragment."""
    return html.escape(text, quote=False)


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment (for titles and names that arrive with markup or entities)."""
    return html.unescape(str(_TEXT_ONLY.clean(fragment)))
