"""Migration 0006: posts given up for good under the old rules get the retry schedule."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import select, text

from syndication.store import MIGRATIONS, Post, make_engine, open_store


def test_posts_failed_under_the_old_rules_wait_for_a_retry_after_the_upgrade(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        for key, kind, state, kind_of_error in (
            ("https://blog.example/a/", "post", "failed", "terminal"),
            ("https://blog.example/b/", "linked", "failed", "transient"),
            ("https://blog.example/c/", "linked", "extracted", None),
        ):
            connection.execute(
                text(
                    "INSERT INTO posts (post_key, kind, url, source_lang, depth, status, error_kind,"
                    " last_error, created_at, updated_at)"
                    " VALUES (:key, :kind, :key, 'da', 0, :state, :error_kind, 'HTTP 404', :at, :at)"
                ),
                {
                    "key": key,
                    "kind": kind,
                    "state": state,
                    "error_kind": kind_of_error,
                    "at": datetime(2026, 11, 1),
                },
            )
    engine.dispose()

    store = open_store(url)
    with store.session() as session:
        posts = {p.url: p for p in session.scalars(select(Post))}
    store.dispose()
    for url_ in ("https://blog.example/a/", "https://blog.example/b/"):
        post = posts[url_]
        assert (post.status, post.attempts, post.next_attempt_at, post.last_error) == (
            "waiting",
            0,
            None,
            "HTTP 404",
        )
    linked = posts["https://blog.example/c/"]
    assert linked.status == "extracted" and linked.checked_at is not None
    assert linked.checked_at.replace(tzinfo=None) == datetime(2026, 11, 1)
