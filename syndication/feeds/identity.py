"""Entry identity and content fingerprints.

``entry_id`` is chosen once and kept through the whole chain (post, revisions, translations,
deliveries), so it must not change when a feed is re-rendered, re-ordered or served over another
scheme. In order of preference:

1. **A WordPress GUID** (``https://example.dk/?p=123``, ``isPermaLink="false"``): normalized to
   ``{scheme}://{host}{path}?p={id}`` with the scheme and host in lower case, any other query
   junk (``post_type=...``), fragment and whitespace dropped. WordPress writes the GUID once, when
   the post is first saved, and never rewrites it, even when the site later moves to https or drops
   ``www.``; so the scheme and host are kept as given (only their case is normalized): merging
   variants would buy nothing and could merge two sites. The path is kept too (usually ``/``)
   because a multisite network in sub-directory mode numbers the posts of ``/blog-a/`` and
   ``/blog-b/`` independently.
2. **Any other GUID / Atom ``id``**, exactly as given (stripped of surrounding whitespace): ids are
   opaque strings and publishers compare them byte for byte. A relative GUID (``<guid>4711</guid>``)
   stays relative: resolving it against the feed URL, as feedparser would, would change every id
   the day the feed moves.
3. **The link**, normalized: fragment and ``utm_*`` tracking parameters removed, scheme and host in
   lower case.
4. ``sha256:`` + a hash of the normalized title and content, for entries with neither.

``content_hash`` fingerprints what an entry *says*: the normalized title, content (full text, else
summary) and link. Whitespace-only differences (re-indented HTML, CRLF vs LF, runs of spaces, space
between tags) and Unicode composition (``å`` as one code point or as ``a`` + ring) do not change it;
any change of a word, markup attribute or link does. That way an edit is detected by content, not by
a ``<updated>`` stamp that some sites bump on every comment and others never bump.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_WHITESPACE = re.compile(r"\s+")
_SPACE_BETWEEN_TAGS = re.compile(r">\s+<")
_WORDPRESS_EXTRA_PARAMS = {"post_type"}
_TRACKING_PREFIXES = ("utm_",)


def normalize_text(text: str | None) -> str:
    """NFC, whitespace runs collapsed, no space between tags, stripped."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)
    text = _WHITESPACE.sub(" ", text).strip()
    return _SPACE_BETWEEN_TAGS.sub("><", text)


def wordpress_guid(guid: str | None) -> str | None:
    """``{scheme}://{host}{path}?p={id}`` for a WordPress-style GUID, else ``None``."""
    if not guid:
        return None
    try:
        parts = urlsplit(guid.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    params = parse_qsl(parts.query, keep_blank_values=True)
    post_ids = [value for name, value in params if name == "p"]
    others = {name for name, _ in params if name != "p"}
    if len(post_ids) != 1 or not post_ids[0].isascii() or not post_ids[0].isdigit():
        return None
    if others - _WORDPRESS_EXTRA_PARAMS:
        return None  # ?p= among other parameters is some other application's URL
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    post_id = str(int(post_ids[0]))  # "0123" and "123" are the same post
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", f"p={post_id}", ""))


def normalize_link(link: str) -> str:
    """Link without fragment or ``utm_*`` parameters, scheme and host in lower case."""
    link = link.strip()
    try:
        parts = urlsplit(link)
    except ValueError:
        return link
    query = parts.query
    if query:
        params = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in params if not k.lower().startswith(_TRACKING_PREFIXES)]
        if len(kept) != len(params):
            query = urlencode(kept)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, query, ""))


def content_hash(title: str | None, content: str | None, link: str | None) -> str:
    """sha256 hex of the normalized title, content and link (see the module docstring)."""
    parts = (normalize_text(title), normalize_text(content), normalize_link(link) if link else "")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def entry_id(guid: str | None, link: str | None, title: str | None, content: str | None) -> str:
    """The stable identity of an entry (see the module docstring for the order)."""
    wordpress = wordpress_guid(guid)
    if wordpress:
        return wordpress
    if guid and guid.strip():
        return guid.strip()
    if link and link.strip():
        return normalize_link(link)
    fingerprint = "\x1f".join((normalize_text(title), normalize_text(content)))
    return "sha256:" + hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()
