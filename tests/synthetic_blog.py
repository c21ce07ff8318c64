"""A synthetic WordPress blog of any size, served on loopback: for backfill tests and benchmarks.

``SyntheticBlog(posts=1000)`` makes ``posts`` Danish posts (newest first, one every six hours
back from 2026-11-20), each with a title, an excerpt, three to five paragraphs and a list, written
from a small vocabulary that Apertium's da→nb and da→sv dictionaries know (no unknown-word QA flags,
so an auto-approve config publishes everything). Text is generated from a seeded RNG: the same
arguments give the same blog, and sentences rarely repeat, so translation memory does not make a
big backfill look cheap.

``serve_blog(blog)`` answers like WordPress:

- ``/feed/`` and ``/feed/?paged=N``: RSS 2.0, ``per_page`` entries a page, newest first,
  ``content:encoded`` with the full text (unless ``full_content=False``), GUIDs ``{base}/?p=ID``;
  a page past the last is a 404; ``ETag``/``If-None-Match`` gives 304;
- ``/YYYY/MM/DD/slug/``: the post page (``.entry-content``);
- anything else: 404. ``server.requests`` lists the paths asked for.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SUBJECTS = [
    "Foreningen", "Kommunen", "Skolen", "Biblioteket", "Købmanden", "Landmanden", "Præsten",
    "Borgmesteren", "Klubben", "Familien", "Naboen", "Læreren", "Kirken", "Museet", "Koret",
    "Spejderne", "Hallen", "Havnen",
]  # fmt: skip
VERBS = [
    "holder", "bygger", "åbner", "planlægger", "viser", "fejrer", "støtter", "maler",
    "renoverer", "sælger", "køber", "finder",
]  # fmt: skip
# (noun, article): common gender "en", neuter "et". Every noun is spelled differently in Norwegian,
# so no sentence comes back from da→nb unchanged (which QA would flag as untranslated).
NOUNS = [
    ("møde", "et"), ("koncert", "en"), ("udstilling", "en"), ("cykelsti", "en"), ("legeplads", "en"),
    ("have", "en"), ("bænk", "en"), ("bog", "en"), ("gade", "en"), ("vej", "en"),
]  # fmt: skip
ADJECTIVES = ["ny", "stor", "lille", "smuk", "lang", "grøn", "gammel", "varm"]
PLACES = ["i landsbyen", "i byen", "på egnen", "i området", "ved havnen", "ved skoven", "ved stranden"]
TIMES = [
    "på lørdag", "på søndag", "på fredag", "i sommer", "i vinter", "i efteråret", "i foråret",
    "om morgenen", "om aftenen",
]  # fmt: skip
EXTRAS = [
    "Børn og voksne kan komme.", "Der er kaffe og kage til alle gæster.", "Der er musik og sang.",
    "Der er blomster og træer langs vejen.", "Mange gæster kommer.",
]  # fmt: skip

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STEP = timedelta(hours=6)


@dataclass(frozen=True)
class BlogPost:
    wp_id: int
    slug: str
    title: str
    published: datetime
    excerpt: str
    html: str
    """The post body as WordPress renders it in ``content:encoded`` and ``.entry-content``."""

    def path(self) -> str:
        return f"/{self.published:%Y/%m/%d}/{self.slug}/"


def _adjective(adjective: str, article: str) -> str:
    # Neuter singular takes -t in Danish ("et nyt møde", "et stort marked"); "lille" never changes.
    if article == "et" and adjective not in ("lille", "gammel"):
        return adjective + "t"
    if article == "et" and adjective == "gammel":
        return "gammelt"
    return adjective


def _sentence(rng: random.Random) -> str:
    noun, article = rng.choice(NOUNS)
    adjective = _adjective(rng.choice(ADJECTIVES), article)
    return (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {article} {adjective} {noun} "
        f"{rng.choice(PLACES)} {rng.choice(TIMES)}."
    )


@dataclass
class SyntheticBlog:
    posts: int
    seed: int = 7
    per_page: int = 10
    full_content: bool = True
    items: list[BlogPost] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.items = []
        for n in range(self.posts):
            wp_id = 10_000 + self.posts - n
            title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(NOUNS)[0]} nummer {wp_id}"
            paragraphs = [" ".join(_sentence(rng) for _ in range(3)) for _ in range(rng.randint(3, 5))]
            items = "".join(f"<li>{escape(_sentence(rng))}</li>" for _ in range(3))
            body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
            body += f"<h2>{escape(rng.choice(EXTRAS))}</h2><ul>{items}</ul>"
            self.items.append(
                BlogPost(
                    wp_id=wp_id,
                    slug=f"indlaeg-{wp_id}",
                    title=title,
                    published=START - n * STEP,
                    excerpt=paragraphs[0],
                    html=body,
                )
            )

    @property
    def pages(self) -> int:
        return -(-self.posts // self.per_page)

    def page(self, number: int) -> list[BlogPost]:
        return self.items[(number - 1) * self.per_page : number * self.per_page]

    def feed(self, base: str, number: int) -> bytes:
        entries = []
        for post in self.page(number):
            content = (
                f"<content:encoded><![CDATA[{post.html}]]></content:encoded>" if self.full_content else ""
            )
            entries.append(
                f"<item><title>{escape(post.title)}</title><link>{base}{post.path()}</link>"
                f"<pubDate>{format_datetime(post.published)}</pubDate>"
                f"<dc:creator><![CDATA[Redaktionen]]></dc:creator>"
                f'<guid isPermaLink="false">{base}/?p={post.wp_id}</guid>'
                f"<description><![CDATA[{escape(post.excerpt)}]]></description>{content}</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>Egnsbladet</title><link>{base}/</link><description>Nyt fra egnen</description>"
            f"<language>da-DK</language>{''.join(entries)}</channel></rss>"
        ).encode()

    def post_page(self, base: str, post: BlogPost) -> bytes:
        return (
            '<!DOCTYPE html><html lang="da-DK"><head><meta charset="UTF-8">'
            f"<title>{escape(post.title)} – Egnsbladet</title>"
            f"<link rel='shortlink' href='{base}/?p={post.wp_id}'>"
            f'<link rel="canonical" href="{base}{post.path()}"></head><body>'
            f'<article class="post-{post.wp_id} post"><h1 class="entry-title">{escape(post.title)}</h1>'
            f'<div class="entry-content">{post.html}</div></article></body></html>'
        ).encode()


class BlogServer:
    """A running synthetic blog; ``with serve_blog(blog) as server: server.url("/feed/")``."""

    def __init__(self, blog: SyntheticBlog, host: str = "127.0.0.1") -> None:
        self.blog = blog
        self.requests: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._by_path = {post.path(): post for post in blog.items}
        self._httpd = ThreadingHTTPServer((host, 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.base_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return self.base_url + path

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BlogServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                status, body, ctype = server._answer(parts.path, parse_qs(parts.query))
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                with server._lock:
                    server.requests.append((self.path, status))
                self.send_response(status)
                if status != 304:
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes, str]:
        if path == "/robots.txt":
            return 200, b"User-agent: *\nDisallow: /wp-admin/\n", "text/plain; charset=UTF-8"
        if path in ("/feed/", "/feed"):
            raw = (query.get("paged") or ["1"])[0]
            number = int(raw) if raw.isdigit() else 1
            if number < 1 or number > self.blog.pages:
                return 404, b"<html><body>Siden blev ikke fundet</body></html>", "text/html; charset=UTF-8"
            return 200, self.blog.feed(self.base_url, number), "application/rss+xml; charset=UTF-8"
        post = self._by_path.get(path)
        if post is not None:
            return 200, self.blog.post_page(self.base_url, post), "text/html; charset=UTF-8"
        return 404, b"<html><body>Siden blev ikke fundet</body></html>", "text/html; charset=UTF-8"


def serve_blog(blog: SyntheticBlog) -> BlogServer:
    return BlogServer(blog)


def blog_config(
    base_url: str, *, store_url: str, outbox: str, auto_approve: bool = True, extra: str = ""
) -> str:
    """A config for the synthetic blog: Apertium to nb and sv, the outbox channel."""
    approve = '["nb", "sv"]' if auto_approve else "[]"
    return f"""
[store]
url = "{store_url}"

[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 20

[links]
depth = 0

[[feeds]]
url = "{base_url}/feed/"
name = "egnsbladet"

[translation]
targets = ["nb", "sv"]
default_engine = "apertium"

[engines.apertium]
type = "apertium"

[review]
auto_approve = {approve}

[channels.outbox]
type = "outbox"
path = "{outbox}"
{extra}
"""
