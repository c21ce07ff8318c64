"""Manual triggers through the plain pipeline functions: backfill by pages and by dates, one post by
URL (with and without force), a language filter, and redelivering one item to one channel."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from syndication import pipeline
from syndication.errors import ConfigError, DeliveryError, ExtractionError
from syndication.store import Delivery, Post, TMEntry, Translation


def feed_requests(blog):
    return [path for path, _ in blog.requests if path.startswith("/feed")]


def outbox_files(tmp_path, lang):
    return sorted(p.name for p in (tmp_path / "outbox" / lang).glob("*.html"))


# ------------------------------------------------------------------------------------------ backfill


def test_backfill_by_pages_processes_older_posts_and_reports_progress(make_ctx, blog, tmp_path):
    ctx = make_ctx()
    events: list[pipeline.Progress] = []
    summary = pipeline.backfill(ctx, pages=2, progress=events.append, chunk=8)

    assert feed_requests(blog) == ["/feed/", "/feed/?paged=2"]
    assert summary.feed_pages == 2 and summary.entries_new == 20
    assert summary.revisions_new == 20 and summary.pages_fetched == 0  # full text from the feed
    assert summary.engine_calls == 2 * 3  # one call per language per chunk of 8 posts (8+8+4)
    assert summary.deliveries_sent == 40 and summary.errors == []
    assert len(outbox_files(tmp_path, "nb")) == 20 and len(outbox_files(tmp_path, "sv")) == 20
    assert [(e.phase, e.done, e.total) for e in events] == [
        ("pages", 1, 2),
        ("pages", 2, 2),
        ("posts", 0, 20),
        ("posts", 8, 20),
        ("posts", 16, 20),
        ("posts", 20, 20),
    ]
    assert events[-1].fraction == 1.0


def test_backfill_to_the_end_stops_at_the_404_and_a_second_run_is_cheap(make_ctx, blog):
    first = pipeline.backfill(make_ctx(), pages=100)
    assert first.entries_new == 25 and first.feed_pages == 3
    assert feed_requests(blog)[-1] == "/feed/?paged=4"  # answered 404: past the last page
    blog.requests.clear()

    again = pipeline.backfill(make_ctx(), pages=100)
    assert again.entries_new == 0 and again.revisions_new == 0
    assert again.engine_calls == 0 and again.deliveries_sent == 0 and again.pages_fetched == 0
    assert len(feed_requests(blog)) == 4


def test_backfill_by_date_range_keeps_only_posts_inside_it(make_ctx, blog):
    # Posts are six hours apart back from START: the 2026-11-17 ones are posts 11 to 14.
    ctx = make_ctx()
    summary = pipeline.backfill(ctx, since=date(2026, 11, 17), until=date(2026, 11, 17))
    with ctx.store.session() as session:
        titles = set(session.scalars(select(Post.url)))
    expected = {
        f"{blog.base_url}{post.path()}"
        for post in blog.blog.items
        if post.published.date() == date(2026, 11, 17)
    }
    assert len(expected) == 4 and titles == expected
    assert summary.entries_new == 4
    # Page 2 (posts 10-19) already reaches before the start date: page 3 is never read.
    assert feed_requests(blog) == ["/feed/", "/feed/?paged=2"]


def test_backfill_needs_pages_or_a_start_date(make_ctx):
    with pytest.raises(ConfigError, match="page count"):
        pipeline.backfill(make_ctx())


def test_backfill_of_an_unknown_feed_is_a_config_error(make_ctx):
    with pytest.raises(ConfigError, match="no configured feed matches"):
        pipeline.backfill(make_ctx(), feed="https://elsewhere.example/feed/", pages=1)


# ---------------------------------------------------------------------------------------- one post


def test_one_post_by_url_is_fetched_translated_and_delivered(make_ctx, blog, tmp_path):
    post = blog.blog.items[3]
    url = blog.url(post.path())
    ctx = make_ctx()
    summary = pipeline.syndicate_url(ctx, url)
    assert summary.pages_fetched == 1 and summary.revisions_new == 1
    assert summary.translations_new == 2 and summary.deliveries_sent == 2
    assert outbox_files(tmp_path, "nb") == [f"{post.slug}.html"]
    assert not feed_requests(blog)  # no poll: only the page itself
    with ctx.store.session() as session:
        row = session.scalars(select(Post)).one()
        assert row.url == url and row.status == "extracted"
        feed_id = row.feed_id
    assert feed_id is not None  # the configured feed of the same site


def test_seen_post_is_re_extracted_but_not_retranslated_without_force(make_ctx, blog):
    url = blog.url(blog.blog.items[0].path())
    pipeline.syndicate_url(make_ctx(), url)
    again = pipeline.syndicate_url(make_ctx(), url)
    assert again.pages_fetched == 1  # re-extracted even though seen
    assert again.revisions_new == 0 and again.engine_calls == 0 and again.deliveries_sent == 0


def test_force_retranslates_with_fresh_engine_output_and_keeps_decisions(make_ctx, blog):
    url = blog.url(blog.blog.items[0].path())
    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate_url(ctx, url)
    with ctx.store.session() as session:
        nb = session.scalars(select(Translation).where(Translation.lang == "nb")).one()
        nb.status = "approved"  # an editor approved Norwegian; Swedish still waits
        # A stale memory entry (as if the glossary changed since): force must replace it.
        stale = session.scalars(select(TMEntry).where(TMEntry.target_lang == "sv")).first()
        stale.target = "GAMMAL ÖVERSÄTTNING"
        stale_id = stale.id
        before = session.scalar(select(func.count()).select_from(TMEntry))

    forced = make_ctx(auto_approve=False)
    summary = pipeline.syndicate_url(forced, url, force=True)
    assert summary.engine_calls == 1  # Swedish only: the approved Norwegian item is left alone
    assert summary.segments_translated > 0 and summary.translations_new == 1
    with forced.store.session() as session:
        statuses = dict(session.execute(select(Translation.lang, Translation.status)).all())
        refreshed = session.get(TMEntry, stale_id)
        entries = session.scalar(select(func.count()).select_from(TMEntry))
    assert statuses == {"nb": "approved", "sv": "machine_translated"}
    assert refreshed.target != "GAMMAL ÖVERSÄTTNING"
    assert entries == before  # memory entries replaced in place, not duplicated


def test_a_url_that_is_not_http_is_refused_with_its_value(make_ctx):
    with pytest.raises(ExtractionError, match="ftp://blog"):
        pipeline.syndicate_url(make_ctx(), "ftp://blog.example/post/")


def test_a_missing_page_is_reported_not_raised(make_ctx, blog):
    summary = pipeline.syndicate_url(make_ctx(), blog.url("/2026/01/01/findes-ikke/"))
    assert summary.extraction_failed == 1
    assert summary.errors and summary.errors[0].post.endswith("/findes-ikke/")


# ----------------------------------------------------------------------------------------- languages


def test_languages_filter_translates_only_those(make_ctx):
    ctx = make_ctx()
    summary = pipeline.syndicate(ctx, languages=["sv"])
    assert summary.engine_calls == 1
    with ctx.store.session() as session:
        assert set(session.scalars(select(Translation.lang))) == {"sv"}
    later = make_ctx()
    assert pipeline.syndicate(later).engine_calls == 1  # Norwegian is still missing: done now


def test_a_language_that_is_not_configured_is_refused(make_ctx):
    with pytest.raises(ConfigError, match="de not among the configured targets"):
        pipeline.syndicate(make_ctx(), languages=["de"])


# --------------------------------------------------------------------------------------- redeliver


def test_redeliver_sends_one_item_to_one_channel_again(make_ctx, blog, tmp_path):
    post = blog.blog.items[0]
    pipeline.syndicate_url(make_ctx(), blog.url(post.path()))
    lost = tmp_path / "outbox" / "nb" / f"{post.slug}.html"
    lost.unlink()

    ctx = make_ctx()
    summary = pipeline.redeliver(ctx, blog.url(post.path()), "nb", "outbox")
    assert summary.deliveries_sent == 1 and summary.deliveries_skipped == 0
    assert lost.exists()
    with ctx.store.session() as session:
        rows = session.execute(select(Delivery.lang, Delivery.state, Delivery.attempts)).all()
    assert sorted(rows) == [("nb", "sent", 1), ("sv", "sent", 1)]  # the same row, sent again

    # Nothing approved in that language: a clear error naming post, language and channel.
    with pytest.raises(ConfigError, match="does not receive 'de'"):
        pipeline.redeliver(make_ctx(), blog.url(post.path()), "de", "outbox")
    with pytest.raises(ConfigError, match="no channel named 'partner'"):
        pipeline.redeliver(make_ctx(), blog.url(post.path()), "nb", "partner")


def test_redeliver_of_an_unapproved_item_says_approve_first(make_ctx, blog):
    url = blog.url(blog.blog.items[0].path())
    pipeline.syndicate_url(make_ctx(auto_approve=False), url)
    with pytest.raises(DeliveryError, match="approve the translation first") as caught:
        pipeline.redeliver(make_ctx(auto_approve=False), url, "nb", "outbox")
    assert caught.value.lang == "nb" and caught.value.channel == "outbox"


def test_redeliver_dry_run_changes_nothing(make_ctx, blog, tmp_path):
    post = blog.blog.items[0]
    pipeline.syndicate_url(make_ctx(), blog.url(post.path()))
    (tmp_path / "outbox" / "nb" / f"{post.slug}.html").unlink()
    ctx = make_ctx(dry_run=True)
    summary = pipeline.redeliver(ctx, blog.url(post.path()), "nb", "outbox")
    assert summary.deliveries_planned == 1 and summary.deliveries_sent == 0
    assert not (tmp_path / "outbox" / "nb" / f"{post.slug}.html").exists()
    with ctx.store.session() as session:
        assert set(session.scalars(select(Delivery.attempts))) == {1}
