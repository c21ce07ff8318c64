"""URLs inside article bodies: made absolute, checked the way nh3 will check them, lazy images."""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from lxml import etree

URL_SCHEMES = {"http", "https", "mailto", "tel"}
_LAZY_SRC_ATTRS = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-orig-src", "data-url")
_LAZY_SRCSET_ATTRS = ("data-srcset", "data-lazy-srcset", "srcset")
_PLACEHOLDER_SRC = re.compile(r"^data:|blank\.gif|spacer\.gif|pixel\.gif|placeholder|lazy[_-]?load", re.I)
# Browsers strip these from URLs before parsing them; so do we, so "java\tscript:" is caught too.
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")


# Code points a WHATWG URL parser (nh3 uses one) refuses in a host; a URL that nh3 would strip
# must be stripped here already, or cleaning twice would differ from cleaning once.
_FORBIDDEN_HOST = re.compile(r"[\x00-\x20%<>\"'\\^|`{}\[\]#?/@:\x7f]")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _host_ok(host: str) -> bool:
    # libxml2 percent-encodes non-ASCII in URL attributes when it serializes, so a host can
    # come back as "landliv%C3%A9.dk"; a URL parser decodes that before judging it.
    host = unquote(host)
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return host.endswith("]")
    if not host or _FORBIDDEN_HOST.search(host):
        return False
    labels = host.rstrip(".").split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        # A host ending in a number must be an IPv4 address.
        try:
            ipaddress.IPv4Address(host.rstrip("."))
        except ValueError:
            return False
        return True
    try:
        host.encode("idna").decode("idna")  # also rejects broken punycode such as "xn--zz"
    except UnicodeError:
        return False
    return True


def _http_url_ok(parts: SplitResult) -> bool:
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if netloc.startswith("["):
        host = netloc[: netloc.find("]") + 1] if "]" in netloc else netloc
    else:
        host = netloc.split(":", 1)[0]
    try:
        parts.port  # noqa: B018 -- raises ValueError for a port out of range or not a number
    except ValueError:
        return False
    return _host_ok(host)


def absolute_url(href: str | None, base_url: str) -> str | None:
    """``href`` resolved against ``base_url``; None for empty, scriptable or unparseable URLs."""
    if not href:
        return None
    href = _URL_JUNK.sub("", href.strip()) if any(c in href for c in "\t\n\r") else href.strip()
    if not href:
        return None
    lowered = href[:16].lower().replace(" ", "")
    if lowered.startswith(("javascript:", "vbscript:", "data:", "file:")):
        return None
    try:
        resolved = urljoin(base_url, href) if base_url else href
        parts = urlsplit(resolved)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme and scheme not in URL_SCHEMES:
        return None
    if scheme in ("http", "https") and not _http_url_ok(parts):
        return None
    return resolved


def first_srcset_url(srcset: str) -> str | None:
    """The first candidate of a ``srcset`` (``"a.jpg 300w, b.jpg 600w"`` → ``a.jpg``)."""
    for candidate in srcset.split(","):
        url = candidate.strip().split(" ")[0].strip()
        if url and not url.startswith("data:"):
            return url
    return None


def image_source(img: etree._Element) -> str | None:
    """The real image URL of an ``<img>``, looking through lazy-loading attributes."""
    attrs = img.attrib
    for name in _LAZY_SRC_ATTRS:
        value = attrs.get(name, "").strip()
        if value and not _PLACEHOLDER_SRC.search(value):
            return str(value)
    src = attrs.get("src", "").strip()
    if src and not _PLACEHOLDER_SRC.search(src):
        return str(src)
    for name in _LAZY_SRCSET_ATTRS:
        value = attrs.get(name, "")
        if value:
            url = first_srcset_url(value)
            if url:
                return url
    return None


def is_valid_http(url: str) -> bool:
    """Already absolute http(s) and valid: no need to resolve it again."""
    if not url.startswith(("http://", "https://")) or _URL_JUNK.search(url):
        return False
    try:
        return _http_url_ok(urlsplit(url))
    except ValueError:
        return False
