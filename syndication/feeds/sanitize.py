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
from collections.abc import Callable
from typing import Any, cast

import nh3

_GENERIC_ATTRIBUTES = {"class", "lang", "dir", "translate", "title"}
_ATTRIBUTES: dict[str, set[str]] = {
    tag: set(attributes) | _GENERIC_ATTRIBUTES for tag, attributes in nh3.ALLOWED_ATTRIBUTES.items()
}
_ATTRIBUTES["*"] = _GENERIC_ATTRIBUTES
_ATTRIBUTES["img"] = _ATTRIBUTES.get("img", set()) | {"srcset", "sizes", "loading"} | _GENERIC_ATTRIBUTES
_ATTRIBUTES["time"] = {"datetime"} | _GENERIC_ATTRIBUTES
_DROP_WITH_CONTENT = {"script", "style"}

_OPTIONS: dict[str, Any] = {
    "tags": nh3.ALLOWED_TAGS,
    "clean_content_tags": _DROP_WITH_CONTENT,
    "attributes": _ATTRIBUTES,
    "link_rel": None,
}
Clean = Callable[[str], str]


def _cleaner(**options: Any) -> Clean:
    """A reusable ``nh3.Cleaner`` where available: ``nh3.clean()`` converts the allow-lists on every
    call, which is 15× slower on short fragments. Older nh3 releases only have ``nh3.clean``."""
    factory = getattr(nh3, "Cleaner", None)
    if factory is not None:
        return cast(Clean, factory(**options).clean)
    return lambda fragment: str(nh3.clean(fragment, **options))


_CLEANER = _cleaner(**_OPTIONS)
_TEXT_ONLY = _cleaner(tags=set(), clean_content_tags=_DROP_WITH_CONTENT)


def clean_html(fragment: str, *, base: str | None = None) -> str:
    """Sanitized HTML fragment; with ``base``, relative URLs in it are made absolute against it."""
    clean = _CLEANER
    if base:
        try:
            clean = _cleaner(**_OPTIONS, url_relative=("rewrite_with_base", base))
        except ValueError:  # a base nh3 cannot parse: keep the URLs as they are
            clean = _CLEANER
    try:
        return str(clean(fragment))
    except ValueError:  # the same, raised lazily by nh3.clean
        return str(_CLEANER(fragment))


def text_to_html(text: str) -> str:
    """Plain text (Atom ``type="text"``) as an HTML fragment."""
    return html.escape(text, quote=False)


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment (for titles and names that arrive with markup or entities)."""
    return html.unescape(_TEXT_ONLY(fragment))
