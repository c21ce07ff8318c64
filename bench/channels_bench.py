"""Channel benchmarks: newsletter throughput to a local SMTP server and WordPress publish latency.

- newsletter: 1,000 subscribers, one approved post, one SMTP connection reused (aiosmtpd on
  loopback). Measured twice: through the deliver stage (ledger row, claim and completion per
  message — what a real run does) and the channel alone (render + SMTP).
- wordpress: a real WordPress (scripts/wordpress_up.sh), each post created through the channel
  (lookup-before-create, terms, the post), then updated; median and p90 per post.
"""

from __future__ import annotations

import hashlib
import os
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SUBSCRIBERS = 1000
WP_POSTS = 10


def run() -> list[tuple[str, float, str]]:
    results = _newsletter()
    results += _wordpress()
    return results


# ------------------------------------------------------------------------------------- newsletter


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_SMTP_SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def _smtp_sink() -> tuple[subprocess.Popen[str], int]:
    """aiosmtpd in its own process: in-process it would compete with the client for the GIL and the
    benchmark would measure thread switching instead of the channel."""
    import sys

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", _SMTP_SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process, port


def _newsletter() -> list[tuple[str, float, str]]:
    from syndication.context import RunContext
    from syndication.deliveries import stage
    from syndication.deliveries.channel import ChannelContext
    from syndication.deliveries.newsletter import NewsletterChannel
    from syndication.settings import load_settings

    sink, smtp_port = _smtp_sink()
    results: list[tuple[str, float, str]] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            store, item, config = newsletter_store(tmp, smtp_port, SUBSCRIBERS)
            settings = load_settings(
                tmp / "bench.toml", environ={"SYNDICATION__CHANNELS__NEWS__SECRET": "bench"}
            )
            ctx = RunContext(settings=settings, store=store)
            original = stage.approved_item
            stage.approved_item = lambda session, translation_id: item  # type: ignore[assignment]
            try:
                started = time.perf_counter()
                stage.deliver_approved(ctx, sleep=lambda _: None)
                with_ledger = time.perf_counter() - started
            finally:
                stage.approved_item = original  # type: ignore[assignment]
            assert ctx.summary.deliveries_sent == SUBSCRIBERS, ctx.summary.errors
            results.append(("newsletter_with_ledger", SUBSCRIBERS / with_ledger, "messages/s"))

            channel = NewsletterChannel(
                ChannelContext(
                    name="news", config=config, secrets={"secret": "bench"}, store=store, base_dir=tmp
                )
            )
            targets = channel.targets(item)
            started = time.perf_counter()
            for n, target in enumerate(targets):
                channel.send(channel.render(item, target=target), key=f"bench-{n}")
            channel.close()
            smtp_only = time.perf_counter() - started
            results.append(("newsletter_channel_only", len(targets) / smtp_only, "messages/s"))
            store.dispose()
    finally:
        sink.communicate("", timeout=30)
    return results


def newsletter_store(tmp: Path, port: int, subscribers_count: int) -> tuple[Any, Any, dict[str, Any]]:
    """A SQLite store in ``tmp`` with ``subscribers_count`` nb subscribers and one approved item, and
    ``tmp/bench.toml`` naming a newsletter channel ``news`` on the SMTP server at ``port``; returns
    the store, the item (for ``stage.approved_item``) and the channel's options."""
    from syndication.deliveries import subscribers
    from syndication.store import Post, Revision, Translation, open_store, utcnow

    store = open_store(f"sqlite:///{tmp}/bench.db")
    with store.session() as session:
        for n in range(subscribers_count):
            row, _ = subscribers.add(session, f"reader{n:04d}@example.no", lang="nb", list_name="news")
            row.created_at = utcnow().replace(year=2020)
        post = Post(post_key="https://bloggen.example/?p=1", url="https://bloggen.example/a/", title="Bench")
        session.add(post)
        session.flush()
        revision = Revision(post_id=post.id, content_hash="r1", title="Nyhetsbrev", html="", text="")
        session.add(revision)
        session.flush()
        translation = Translation(
            revision_id=revision.id,
            post_id=post.id,
            lang="nb",
            status="approved",
            decided_at=utcnow(),
        )
        session.add(translation)
        session.flush()
        item = _bench_item(translation.id, translation.decided_at)
    config = {
        "type": "newsletter",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "Bloggen <nyhedsbrev@bloggen.example>",
        "list_id": "news.bloggen.example",
        "list": "news",
        "unsubscribe_url_base": "https://bloggen.example/u",
        "languages": ["nb"],
    }
    (tmp / "bench.toml").write_text(_toml(store_url=f"sqlite:///{tmp}/bench.db", channel=config))
    return store, item, config


def _bench_item(translation_id: int, approved_at: Any) -> Any:
    from syndication.models import ApprovedTranslation

    body = "".join(
        f"<p>Avsnitt {n} med litt tekst om nettverk, æøå og <a href='/x/{n}'>en lenke</a>.</p>"
        for n in range(12)
    )
    return ApprovedTranslation(
        translation_id=translation_id,
        post_key="https://bloggen.example/?p=1",
        revision="r1",
        lang="nb",
        source_lang="da",
        source_url="https://bloggen.example/a/",
        source_title="Netværk er guld",
        title="Nettverk er gull – ukens brev",
        html=body,
        excerpt="",
        author="Mette Hansen",
        approved_at=approved_at,
        site_name="Bloggen",
        content_version=hashlib.sha256(body.encode()).hexdigest()[:32],
    )


def _toml(*, store_url: str, channel: dict[str, Any]) -> str:
    import tomli_w

    return tomli_w.dumps(
        {"store": {"url": store_url}, "translation": {"targets": ["nb"]}, "channels": {"news": channel}}
    )


# -------------------------------------------------------------------------------------- wordpress


def _wordpress() -> list[tuple[str, float, str]]:
    from syndication.deliveries.channel import ChannelContext
    from syndication.deliveries.wordpress import WordPressChannel
    from syndication.models import ApprovedTranslation

    port = os.environ.get("SYNDICATION_BENCH_WP_PORT", "8089")
    env = {**os.environ, "WP_PORT": port}
    up = subprocess.run(
        ["bash", str(ROOT / "scripts" / "wordpress_up.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if up.returncode != 0:
        raise RuntimeError(f"scripts/wordpress_up.sh failed:\n{up.stdout}\n{up.stderr}")
    try:
        env_file = next(line.split(" ", 1)[1] for line in up.stdout.splitlines() if line.startswith("env: "))
        values = dict(line.split("=", 1) for line in Path(env_file).read_text().splitlines() if "=" in line)
        channel = WordPressChannel(
            ChannelContext(
                name="partner",
                config={
                    "type": "wordpress",
                    "url": values["WP_URL"],
                    "username": values["WP_USER"],
                    "status": "publish",
                },
                secrets={"password": values["WP_APP_PASSWORD"].strip("'")},
            )
        )
        run_id = uuid.uuid4().hex[:8]
        creates: list[float] = []
        updates: list[float] = []
        for n in range(WP_POSTS + 1):
            item = ApprovedTranslation(
                translation_id=n,
                post_key=f"https://bloggen.example/?p=bench-{run_id}-{n}",
                revision="r",
                lang="nb",
                source_lang="da",
                source_url=f"https://bloggen.example/{n}/",
                source_title="Bench",
                title=f"Benkmerke {n}",
                html="<p>Tekst</p>" * 20,
                excerpt="Kort",
                categories=("Netværk", "Tips"),
                tags=("bench",),
                content_version="v1",
            )
            started = time.perf_counter()
            receipt = channel.send(channel.render(item), key=f"c{n}")
            created = time.perf_counter() - started
            edited = ApprovedTranslation(
                **{**item.__dict__, "title": f"Benkmerke {n} (rettet)", "action": "update"}
            )
            started = time.perf_counter()
            channel.send(channel.render(edited), key=f"u{n}", previous=receipt)
            updated = time.perf_counter() - started
            if n:  # the first post also pays for the credential check and term creation
                creates.append(created)
                updates.append(updated)
        channel.close()
    finally:
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "wordpress_down.sh")], env=env, capture_output=True, check=False
        )
    return [
        ("wordpress_create_median", statistics.median(creates) * 1000, "ms/post"),
        ("wordpress_create_p90", sorted(creates)[int(len(creates) * 0.9) - 1] * 1000, "ms/post"),
        ("wordpress_update_median", statistics.median(updates) * 1000, "ms/post"),
    ]
