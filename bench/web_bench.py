"""Review app benchmark: server time to render the item page of a 60-segment post.

The post is ``bench/argos_post.py``'s 60 Danish blocks (title + 59 body blocks: headings, paragraphs
with links, bold and italics), stored in a temporary SQLite database and translated da→nb by real
Apertium. The app runs under uvicorn on loopback; a logged-in client fetches the item page
``ROUNDS`` times after a warm-up. The figure is the median of the app's own ``Server-Timing`` (from
the request entering the app to the response head: session lookup, the database reads, chips and
template rendering); the round trip seen by the client is reported beside it.

A second item of ``LONG_SEGMENTS`` segments (the same blocks repeated) is opened ``BROWSER_ROUNDS``
times in Debian's Chromium (headless, through Playwright): the figure is the median time from the
navigation's start to the end of its load event (``PerformanceNavigationTiming.loadEventEnd``),
the preview iframe included; the page's size is given as sent (gzip) and uncompressed.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 40
BROWSER_ROUNDS = 7
LONG_SEGMENTS = 500
PASSWORD = "benchmark password"
CHROMIUM = "/usr/bin/chromium"


def _block_html(block: str) -> str:
    # Short lines without a full stop are the post's headings, the rest paragraphs.
    text = re.sub(r"<[^>]+>", "", block)
    heading = len(text) < 60 and not text.rstrip().endswith((".", ":", "!", "?", "“"))
    return f"<h2>{block}</h2>" if heading else f"<p>{block}</p>"


def _setup(folder: Path) -> tuple[object, int, int]:
    from sqlalchemy import select

    from bench.argos_post import BLOCKS
    from syndication.context import RunContext
    from syndication.posts.ingest import add_segments
    from syndication.segments import split
    from syndication.settings import load_settings
    from syndication.store import Post, Revision, Translation, open_store
    from syndication.translations.stage import translate_pending
    from syndication.web.users import add_user

    config = folder / "syndication.toml"
    config.write_text(
        textwrap.dedent(
            """
            [store]
            url = "sqlite:///bench.db"
            [translation]
            targets = ["nb"]
            default_engine = "apertium"
            [channels.outbox]
            type = "outbox"
            path = "./outbox"
            """
        ),
        encoding="utf-8",
    )
    settings = load_settings(config, environ={})
    ctx = RunContext(settings=settings, store=open_store(settings.store_url()))
    title = BLOCKS[0]
    body_blocks = BLOCKS[1:]
    long_blocks = [body_blocks[i % len(body_blocks)] for i in range(LONG_SEGMENTS - 1)]
    with ctx.store.session() as session:
        for key, blocks in (("bench-1", body_blocks), ("bench-long", long_blocks)):
            body = "".join(_block_html(b) for b in blocks)
            doc = split(body, title=title)
            post = Post(post_key=key, url=f"https://example.dk/{key}/", title=title, status="extracted")
            session.add(post)
            session.flush()
            revision = Revision(
                post_id=post.id,
                content_hash=hashlib.sha256(body.encode()).hexdigest(),
                title=title,
                html=body,
                text=title,
                skeleton=doc.skeleton,
            )
            session.add(revision)
            session.flush()
            add_segments(session, revision, doc.segments)
            post.current_revision_id = revision.id
        add_user(session, "bench", PASSWORD)
    translate_pending(ctx)
    with ctx.store.session() as session:
        ids = dict(
            session.execute(
                select(Post.post_key, Translation.id).join(Post, Post.id == Translation.post_id)
            ).all()
        )
    return ctx, ids["bench-1"], ids["bench-long"]


def _measure(ctx: object, tid: int) -> tuple[list[float], list[float], int, int]:
    import requests

    from syndication.context import RunContext
    from syndication.store import TranslatedSegment
    from syndication.web.app import create_app
    from syndication.web.publishing import Publisher

    sys.path.insert(0, str(ROOT))
    from tests.web.live import LiveServer

    assert isinstance(ctx, RunContext)
    with ctx.store.session() as session:
        segments = session.query(TranslatedSegment).filter_by(translation_id=tid).count()
    app = create_app(ctx, publisher=Publisher(ctx, prefect_api_url=None), channel_routes=False)
    server_ms: list[float] = []
    client_ms: list[float] = []
    size = 0
    with LiveServer(app) as server, requests.Session() as http:
        page = http.get(server.url + "/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        http.post(
            server.url + "/login",
            data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)},
            timeout=30,
        )
        url = f"{server.url}/items/{tid}"
        for _ in range(5):  # warm-up: template compilation, connection pool, SQLite page cache
            http.get(url, timeout=30)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = http.get(url, timeout=30)
            client_ms.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            timing = re.search(r"app;dur=([0-9.]+)", response.headers["Server-Timing"])
            assert timing
            server_ms.append(float(timing.group(1)))
            size = len(response.content)
    return server_ms, client_ms, segments, size


def _browser_load(ctx: object, tid: int) -> tuple[dict[str, list[float]], int, int, int]:
    """({phase: ms per round}, segments, gzip bytes, uncompressed bytes) of item ``tid``: the
    phases are the navigation's responseEnd, domContentLoadedEventEnd and loadEventEnd."""
    import requests
    from playwright.sync_api import sync_playwright

    from syndication.context import RunContext
    from syndication.store import TranslatedSegment
    from syndication.web.app import create_app
    from syndication.web.publishing import Publisher

    sys.path.insert(0, str(ROOT))
    from tests.web.live import LiveServer

    assert isinstance(ctx, RunContext)
    with ctx.store.session() as session:
        segments = session.query(TranslatedSegment).filter_by(translation_id=tid).count()
    app = create_app(ctx, publisher=Publisher(ctx, prefect_api_url=None), channel_routes=False)
    phases: dict[str, list[float]] = {"responseEnd": [], "domContentLoadedEventEnd": [], "loadEventEnd": []}
    with LiveServer(app) as server, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            context = chromium.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(server.url + "/login")
            page.get_by_label("User name").fill("bench")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("button", name="Log out").wait_for()
            url = f"{server.url}/items/{tid}"
            page.goto(url)  # warm-up
            for _ in range(BROWSER_ROUNDS):
                page.goto(url, wait_until="load")
                entry = page.evaluate("performance.getEntriesByType('navigation')[0].toJSON()")
                for phase, values in phases.items():
                    values.append(float(entry[phase]))
            cookies = {c["name"]: c["value"] for c in context.cookies()}
        finally:
            chromium.close()
        with requests.Session() as http:
            http.cookies.update(cookies)
            sent = http.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
            assert sent.headers.get("content-encoding") == "gzip", sent.headers
            compressed = len(sent.raw.read(decode_content=False))
            plain = len(http.get(url, headers={"Accept-Encoding": "identity"}, timeout=30).content)
    return phases, segments, compressed, plain


def run() -> list[tuple[str, float, str]]:
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        ctx, tid, long_tid = _setup(Path(tmp))
        try:
            server_ms, client_ms, segments, size = _measure(ctx, tid)
            phases, long_segments, gz_bytes, plain_bytes = _browser_load(ctx, long_tid)
        finally:
            ctx.close()  # type: ignore[attr-defined]
    return [
        ("web_long_item_segments", float(long_segments), "segments"),
        (
            "web_long_item_response_end_ms",
            statistics.median(phases["responseEnd"]),
            "ms median, HTML received",
        ),
        (
            "web_long_item_dom_ready_ms",
            statistics.median(phases["domContentLoadedEventEnd"]),
            "ms median, DOMContentLoaded handlers done (review.js set up)",
        ),
        (
            "web_long_item_load_event_ms",
            statistics.median(phases["loadEventEnd"]),
            f"ms median Chromium load event end, {BROWSER_ROUNDS} loads",
        ),
        ("web_long_item_load_event_max_ms", max(phases["loadEventEnd"]), "ms slowest load"),
        ("web_long_item_gzip_kib", gz_bytes / 1024, "KiB sent (gzip)"),
        ("web_long_item_plain_kib", plain_bytes / 1024, "KiB HTML uncompressed"),
        ("web_item_page_segments", float(segments), "segments"),
        ("web_item_page_render_ms", statistics.median(server_ms), f"ms median server time, {ROUNDS} runs"),
        ("web_item_page_render_p90_ms", statistics.quantiles(server_ms, n=10)[-1], "ms p90 server time"),
        ("web_item_page_roundtrip_ms", statistics.median(client_ms), "ms median client round trip"),
        ("web_item_page_kib", size / 1024, "KiB HTML"),
    ]


if __name__ == "__main__":
    for name, value, unit in run():
        print(f"{name} {value:.4g} {unit}")
