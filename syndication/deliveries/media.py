"""Images of a translated post, copied to where the translation lives (issue 14, "Media").

Channels that keep their own copy of a post's images (the WordPress media library, the outbox's
``media/`` folder) use these helpers: find the images of a body, fetch one through the project's
``Fetcher`` (address guard, redirect checks, deadline, size cap), and point a body at the copies.

An image that cannot be fetched or is larger than the channel's ``max_image_bytes`` (10 MB by
default) is not copied: the post keeps the original URL (a working image, never a broken one) and
the channel records a note saying why, which the deliver stage shows in the run's summary.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import lxml.html

from syndication.errors import FetchError, ResponseTooLargeError
from syndication.fetch.fetcher import Fetcher
from syndication.settings import FetchSettings

DEFAULT_MAX_IMAGE_BYTES = 10_000_000


@dataclass(frozen=True)
class ImageRef:
    """One ``<img>`` of a body: its source, alt text and the caption of its ``<figure>`` (if any)."""

    src: str
    alt: str = ""
    caption: str = ""


@dataclass(frozen=True)
class FetchedImage:
    src: str
    data: bytes
    content_type: str
    sha256: str
    filename: str
    """A safe file name from the URL's last path segment, with the extension of its type."""

    @property
    def extension(self) -> str:
        return _extension(self.content_type)


def body_images(fragment: str) -> list[ImageRef]:
    """The distinct absolute http(s) images of an HTML fragment, in document order."""
    if "<img" not in fragment.lower():
        return []
    found: dict[str, ImageRef] = {}
    for element in lxml.html.fragment_fromstring(fragment, create_parent="div").iter("img"):
        src = (element.get("src") or "").strip()
        if urlsplit(src).scheme not in ("http", "https") or src in found:
            continue
        caption = ""
        figure = next((a for a in element.iterancestors("figure")), None)
        if figure is not None:
            captions = figure.findall(".//figcaption")
            caption = " ".join(captions[0].text_content().split()) if captions else ""
        found[src] = ImageRef(src=src, alt=element.get("alt") or "", caption=caption)
    return list(found.values())


def replace_sources(fragment: str, copies: Mapping[str, str]) -> str:
    """``fragment`` with every ``<img src>`` found in ``copies`` pointing to its copy; ``srcset``
    and ``sizes`` of those images go, since they name the original's renditions."""
    if not copies or "<img" not in fragment.lower():
        return fragment
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    changed = False
    for element in root.iter("img"):
        copy = copies.get((element.get("src") or "").strip())
        if copy is None:
            continue
        element.set("src", copy)
        for attribute in ("srcset", "sizes"):
            element.attrib.pop(attribute, None)
        changed = True
    if not changed:
        return fragment
    inner = (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode", method="html") for child in root
    )
    return inner


class ImageFetcher:
    """Fetches images for one channel through a ``Fetcher`` of its own (the channel's size cap and
    private-host allowance), remembering each URL's answer for the run."""

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
        allow_private_hosts: Iterable[str] = (),
        timeout: float = 30.0,
        user_agent: str | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        settings = FetchSettings(
            max_bytes=max_bytes,
            allow_private_hosts=list(allow_private_hosts),
            timeout=timeout,
            deadline=max(timeout * 2, 60.0),
            # Images are embedded content the publisher shows to every reader, not crawled pages.
            respect_robots=False,
            min_host_interval=0.25,
            **({"user_agent": user_agent} if user_agent else {}),
        )
        self._fetcher = Fetcher(settings)
        self._seen: dict[str, FetchedImage | str] = {}

    def get(self, src: str) -> FetchedImage | str:
        """The image — or a note saying why it is not copied (the caller keeps the original URL)."""
        if src not in self._seen:
            self._seen[src] = self._get(src)
        return self._seen[src]

    def _get(self, src: str) -> FetchedImage | str:
        try:
            result = self._fetcher.get(src, accept="image/*")
        except ResponseTooLargeError:
            return (
                f"image {src} is larger than {_megabytes(self.max_bytes)} (max_image_bytes): not copied, "
                "the post shows it from the original address"
            )
        except FetchError as exc:
            return f"image {src} could not be fetched ({exc}): the post shows it from the original address"
        content_type = str(result.headers.get("content-type", "")).split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            return (
                f"image {src} is {content_type or 'of no type'}, not an image: the post keeps the original "
                "address"
            )
        stem = PurePosixPath(urlsplit(result.final_url).path).stem or "image"
        safe = "".join(c if c.isalnum() or c in "_-" else "-" for c in stem)[-60:] or "image"
        return FetchedImage(
            src=src,
            data=result.content,
            content_type=content_type,
            sha256=hashlib.sha256(result.content).hexdigest(),
            filename=f"{safe}{_extension(content_type)}",
        )

    def close(self) -> None:
        self._fetcher.close()
        self._seen.clear()


def _extension(content_type: str) -> str:
    known = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
    return known.get(content_type) or mimetypes.guess_extension(content_type) or ".img"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"
