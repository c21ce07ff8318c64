"""What the cleaner removes from a body that a reader of the original would have seen.

Removing embeds, ``data:`` images, inline SVG and forms is right (nothing executable or
unreviewable leaves this package), but an editor approving the translation must know the copy
lacks them. The cleaning passes record each such element here; the extract stage stores the
result on the revision and the review CLI and web page show it ("1 embedded video removed").

Page chrome (share buttons with their SVG icons, comment and search forms inside boilerplate
blocks), decorative icons and scripts are not recorded: they are not part of the article.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from syndication.models import Removed
from syndication.posts.boilerplate import DROP_TAGS, is_boilerplate_element

_VIDEO_HOSTS = (
    "youtube.com", "youtube-nocookie.com", "youtu.be", "vimeo.com", "dailymotion.com", "twitch.tv",
    "tiktok.com", "wistia.com", "wistia.net", "videopress.com", "ted.com", "tv2.dk", "dr.dk",
)  # fmt: skip
_AUDIO_HOSTS = ("soundcloud.com", "spotify.com", "podbean.com", "anchor.fm", "mixcloud.com")
_KIND_OF_TAG = {
    "iframe": "embed", "frame": "embed", "object": "embed", "embed": "embed", "applet": "embed",
    "video": "video", "audio": "audio", "svg": "graphic", "math": "formula", "canvas": "canvas",
    "form": "form",
}  # fmt: skip
REPORTED_TAGS = tuple(_KIND_OF_TAG)
_LABELS = {
    "video": ("embedded video", "embedded videos"),
    "audio": ("embedded audio player", "embedded audio players"),
    "embed": ("embedded frame", "embedded frames"),
    "image": ("image with an inline (data:) or unusable address",
              "images with inline (data:) or unusable addresses"),
    "graphic": ("inline SVG graphic", "inline SVG graphics"),
    "formula": ("formula (MathML)", "formulas (MathML)"),
    "canvas": ("canvas drawing", "canvas drawings"),
    "form": ("form", "forms"),
}  # fmt: skip
_ICON_SIZE = 48
_DETAIL_CHARS = 60
_MAX_DETAILS = 3


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return (urlsplit(url.strip()).hostname or "").removeprefix("www.")
    except ValueError:
        return ""


def _on(host: str, hosts: Iterable[str]) -> bool:
    return any(host == h or host.endswith("." + h) for h in hosts)


def _is_icon(el: etree._Element) -> bool:
    """An SVG that decorates (a link's or button's icon, hidden from screen readers, tiny)."""
    if el.get("aria-hidden") == "true" or el.get("role") == "presentation":
        return True
    for name in ("width", "height"):
        value = (el.get(name) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= _ICON_SIZE:
            return True
    return any(a.tag in ("a", "button") for a in el.iterancestors())


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1].rstrip() + "…"


class Removals:
    """Collects what one body's cleaning removed."""

    def __init__(self) -> None:
        self._found: dict[str, tuple[int, list[str]]] = {}

    def add(self, kind: str, detail: str = "") -> None:
        count, details = self._found.get(kind, (0, []))
        if detail and detail not in details:
            details.append(detail)
        self._found[kind] = (count + 1, details)

    def element(self, el: etree._Element, root: etree._Element) -> None:
        """Record ``el`` (about to be removed with its content) if a reader would miss it."""
        tag = el.tag
        kind = _KIND_OF_TAG.get(tag) if isinstance(tag, str) else None
        if kind is None:
            return
        for ancestor in el.iterancestors():
            if ancestor is root:
                break
            # Inside something removed anyway, or inside page chrome: not the article's.
            if ancestor.tag in DROP_TAGS or is_boilerplate_element(ancestor):
                return
        if is_boilerplate_element(el):
            return
        detail = ""
        if tag in ("iframe", "frame", "embed", "object", "video", "audio"):
            source = el.get("src") or el.get("data") or el.get("data-src") or ""
            if not source and tag in ("video", "audio"):
                inner = next(el.iterdescendants("source"), None)
                source = inner.get("src", "") if inner is not None else ""
            host = _host(source)
            if kind == "embed" and _on(host, _VIDEO_HOSTS):
                kind = "video"
            elif kind == "embed" and _on(host, _AUDIO_HOSTS):
                kind = "audio"
            detail = host or (el.get("title") or "")
        elif tag == "svg":
            if _is_icon(el):
                return
            detail = _short(el.get("aria-label") or el.findtext("title") or "")
        elif tag == "form":
            detail = _short(" ".join(el.itertext()))
        self.add(kind, _short(detail))

    def image(self, el: etree._Element, src: str | None) -> None:
        """An image dropped because its address is inline (``data:``) or unusable."""
        for name in ("width", "height"):
            size = (el.get(name) or "").strip().removesuffix("px")
            if size.isdigit() and int(size) <= 2:
                return  # a spacer or tracking pixel
        value = (src or "").strip()
        if value.lower().startswith("data:"):
            detail = value[5:].split(";", 1)[0].split(",", 1)[0] or "data:"
        else:
            detail = _short(value) if value else "no address"
        self.add("image", detail)

    def result(self) -> list[Removed]:
        found = []
        for kind, (count, details) in self._found.items():
            shown = ", ".join(details[:_MAX_DETAILS]) + (", …" if len(details) > _MAX_DETAILS else "")
            found.append(Removed(kind, count, shown))
        return found


def describe(removed: Mapping[str, Any] | Removed) -> str:
    """ "1 embedded video removed (youtube.com)": one line for an editor."""
    if isinstance(removed, Removed):
        kind, count, detail = removed.kind, removed.count, removed.detail
    else:
        kind, count, detail = str(removed["kind"]), int(removed["count"]), str(removed.get("detail") or "")
    one, many = _LABELS.get(kind, (kind, kind))
    line = f"{count} {one if count == 1 else many} removed"
    return f"{line} ({detail})" if detail else line
