"""Test data for the review app: a real SQLite store, posts split by the real splitter and translated
by real Apertium (da→nb, da→sv), users with real Argon2 hashes.

Posts are stored the way ``syndication.posts.ingest.store_revision`` stores them (a revision, its
segments, the post's current revision), so the translate stage, review actions and the deliver stage
run unchanged on them.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

from sqlalchemy import select

from syndication.context import RunContext
from syndication.posts.ingest import add_segments
from syndication.segments import split
from syndication.settings import load_settings
from syndication.store import Post, Revision, open_store
from syndication.translations.stage import translate_pending
from syndication.web.users import add_user

PASSWORD = "correct horse battery staple"

POST_HTML = (
    "<p>Vi holdt et <strong>stort</strong> møde i forsamlingshuset med "
    '<a href="https://lokaltliv.example.dk/program/">hele programmet</a> på plads.</p>'
    "<h2>Hvad skete der?</h2>"
    "<p>Frivillige fra byen lavede mad til 120 gæster.</p>"
    '<p>Se billedet: <img src="https://lokaltliv.example.dk/img/hus.png" '
    'alt="Forsamlingshuset om aftenen"></p>'
    "<ul><li>Kaffe og kage</li><li>Musik til klokken 23</li></ul>"
)


def write_config(tmp_path: Path, *, targets: tuple[str, ...] = ("nb", "sv"), extra: str = "") -> Path:
    config = tmp_path / "syndication.toml"
    langs = ", ".join(f'"{t}"' for t in targets)
    config.write_text(
        textwrap.dedent(
            f"""
            [store]
            url = "sqlite:///syndication.db"
            [translation]
            source_lang = "da"
            targets = [{langs}]
            default_engine = "apertium"
            [engines.apertium]
            type = "apertium"
            [channels.outbox]
            type = "outbox"
            path = "./outbox"
            """
        )
        + extra,
        encoding="utf-8",
    )
    return config


def open_context(config: Path) -> RunContext:
    settings = load_settings(config, environ={})
    return RunContext(settings=settings, store=open_store(settings.store_url()))


def store_post(
    ctx: RunContext,
    *,
    key: str,
    title: str,
    html: str,
    excerpt: str | None = None,
    url: str | None = None,
    kind: str = "post",
) -> int:
    """Store (or update) a post with ``html`` as its current revision; returns the post id."""
    url = url or f"https://lokaltliv.example.dk/{key}/"
    digest = hashlib.sha256("\x1f".join((title, excerpt or "", html)).encode()).hexdigest()
    with ctx.store.session() as session:
        post = session.scalars(select(Post).where(Post.post_key == key)).one_or_none()
        if post is None:
            post = Post(post_key=key, url=url, kind=kind, title=title, site_name="Lokalt Liv")
            session.add(post)
            session.flush()
        doc = split(html, title=title, excerpt=excerpt)
        revision = Revision(
            post_id=post.id,
            content_hash=digest,
            title=title,
            html=html,
            text=title,
            excerpt=excerpt,
            author="Mette Ærø",
            lang="da",
            canonical=url,
            skeleton=doc.skeleton,
        )
        session.add(revision)
        session.flush()
        add_segments(session, revision, doc.segments)
        post.current_revision_id = revision.id
        post.status = "extracted"
        post.title = title
        return post.id


def translate(ctx: RunContext) -> None:
    translate_pending(ctx)


def add_users(ctx: RunContext) -> None:
    with ctx.store.session() as session:
        add_user(session, "anna", PASSWORD, role="editor")
        add_user(session, "bo", PASSWORD, role="editor")
        add_user(session, "admin", PASSWORD, role="admin")
