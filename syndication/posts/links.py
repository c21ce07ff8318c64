"""Which links inside an article are worth fetching as linked articles."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syndication.models import Article
from syndication.posts.parsing import parse_fragment

_SKIP_EXTENSIONS = frozenset(
    {
        "jpg", "jpeg", "png", "gif", "webp", "svg", "bmp", "tif", "tiff", "ico", "avif", "heic",
        "pdf", "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "mp3", "mp4", "m4a", "m4v",
        "mov", "avi", "wmv", "mkv", "webm", "ogg", "oga", "ogv", "wav", "flac", "aac", "doc",
        "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "csv", "epub", "exe",
        "dmg", "apk", "iso", "msi", "ics", "vcf", "rss", "atom", "xml", "json", "txt",
    }
)  # fmt: skip
# WordPress archive, admin and feed URLs, and search pages: not articles.
_SKIP_PATH = re.compile(
    r"(?:^|/)(?:wp-admin|wp-login\.php|wp-json|wp-includes|wp-content|xmlrpc\.php|feed|rss|atom|"
    r"comments/feed|tag|category|author|search|cart|checkout|my-account)(?:/|$)"
    r"|/page/\d+/?$",
    re.IGNORECASE,
)
_SKIP_QUERY_KEYS = frozenset(
    {"replytocom", "s", "share", "feed", "attachment_id", "print", "preview", "action", "unapproved"}
)
_SKIP_FRAGMENTS = frozenset({"comments", "respond", "reply", "comment"})
# Share dialogs of the usual networks: links *about* the post, never to another article.
_SHARE_URL = re.compile(
    r"^(?:[\w-]+\.)?(?:facebook\.com/(?:sharer|share|dialog)|twitter\.com/(?:intent|share)|"
    r"x\.com/intent|linkedin\.com/(?:sharearticle|shareArticle|cws/share)|"
    r"pinterest\.\w+/pin/create|reddit\.com/submit|api\.whatsapp\.com/send|wa\.me/|"
    r"t\.me/share|telegram\.me/share|tumblr\.com/(?:share|widgets/share)|getpocket\.com/save|"
    r"bsky\.app/intent|mastodonshare\.com)",
    re.IGNORECASE,
)
# Query parameters that only track the click; dropped so one article has one URL.
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|ref|amp)$", re.I)


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].lower()
    if host.startswith("["):
        return host
    host = host.split(":", 1)[0].rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _netloc(value: str) -> str:
    if "//" not in value:
        return value
    try:
        return urlsplit(value).netloc
    except ValueError:
        return ""


def normalize_url(url: str) -> str | None:
    """``url`` with scheme and host lower-cased, default port, fragment and tracking removed.

    None for anything that is not an absolute http(s) URL.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _worth_fetching(url: str, fragment: str) -> bool:
    parts = urlsplit(url)
    if fragment.lower() in _SKIP_FRAGMENTS or fragment.lower().startswith("comment-"):
        return False
    if _SHARE_URL.match(parts.netloc + parts.path):
        return False
    last = parts.path.rsplit("/", 1)[-1]
    if "." in last and last.rsplit(".", 1)[-1].lower() in _SKIP_EXTENSIONS:
        return False
    if _SKIP_PATH.search(parts.path):
        return False
    keys = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    return keys.isdisjoint(_SKIP_QUERY_KEYS)


def linked_articles(
    article: Article,
    *,
    site_url: str,
    allowed_hosts: Sequence[str] = (),
    limit: int = 10,
) -> list[str]:
    """The links in ``article``'s body worth fetching as linked articles, in body order.

    Same-site links (host equal ignoring ``www.``) and links to ``allowed_hosts``; never the post
    itself, comment/reply links, media and document files, feeds, WordPress admin/login, tag,
    category, author, pagination and search pages, or share dialogs. URLs come back normalized
    (:func:`normalize_url`), without duplicates, at most ``limit``.
    """
    if limit <= 0:
        return []
    # The site and the allowed hosts may be given as URLs or bare ("example.net").
    hosts = {_host(_netloc(h)) for h in (site_url, *allowed_hosts) if h}
    hosts.discard("")
    own = {normalize_url(u) for u in (article.url, article.canonical) if u}
    own |= {u.rstrip("/") for u in own if u}
    found: list[str] = []
    for a in parse_fragment(article.html).iter("a"):
        href = (a.get("href") or "").strip()
        if not href.lower().startswith(("http://", "https://")):
            continue
        fragment = href.partition("#")[2]
        url = normalize_url(href)
        if url is None or url in found or url in own or url.rstrip("/") in own:
            continue
        if _host(urlsplit(url).netloc) not in hosts or not _worth_fetching(url, fragment):
            continue
        found.append(url)
        if len(found) >= limit:
            break
    return found
