"""The whole path on one machine, through the plain pipeline functions: the demo blog served on
loopback, real Apertium, real SQLite, the outbox channel writing real files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
from sqlalchemy import select

from syndication import pipeline
from syndication.review import (
    approve,
    current_translation,
    edit_segment,
    item_detail,
    list_items,
    resolve_post,
)
from syndication.store import Post, PostLink, TranslatedSegment, Translation

NEW_POST = "netvaerk-er-guld"
OLD_POST = "messebesoeg-i-berlin-og-landdistrikterne"


def outbox(ctx) -> Path:
    return ctx.settings.resolve_path(ctx.settings.channels["outbox"].model_extra["path"])


def test_first_run_translates_both_posts_and_publishes_them(make_ctx, site):
    ctx = make_ctx()
    summary = pipeline.syndicate(ctx)

    assert summary.feeds_polled == 1 and summary.feeds_failed == 0
    assert summary.entries_new == 2
    # The newest post comes with content:encoded; the earlier one has only a description, so its
    # (windows-1252) page is fetched — once, although the new post links to it too.
    assert summary.pages_fetched == 1
    assert summary.linked_articles == 1
    assert summary.engine_calls == 2  # one batched Apertium call per language
    assert summary.segments_translated > 20
    assert summary.deliveries_failed == 0
    assert summary.errors == [] or all(e.stage != "deliver" for e in summary.errors)

    with ctx.store.session() as session:
        new = resolve_post(session, f"{site.base_url}/?p=412")
        old = resolve_post(session, f"{site.base_url}/{OLD_POST}/")
        assert old.post_key == f"{site.base_url}/?p=398"
        assert session.get(PostLink, (new.id, old.id)) is not None
        approved = session.scalars(select(Translation).where(Translation.status == "approved")).all()
        awaiting = list_items(session)
    # Auto-approve covers every item without QA flags; flagged ones wait for an editor.
    assert len(approved) + len(awaiting) == 4
    assert summary.deliveries_sent == len(approved)

    for lang in ("nb", "sv"):
        feed = outbox(ctx) / lang / "feed.atom"
        assert feed.exists()
        parsed = feedparser.parse(feed.read_bytes())
        assert not parsed.bozo
        root = ET.parse(feed).getroot()
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == lang


def test_outbox_copy_keeps_structure_and_drops_boilerplate(make_ctx, site):
    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate(ctx)
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=412")
        translation = current_translation(session, post, "nb")
        approve(session, translation.id, actor="test", confirm_flags=True)
    pipeline.deliver(ctx)
    html = (outbox(ctx) / "nb" / f"{NEW_POST}.html").read_text(encoding="utf-8")
    assert f'href="{site.base_url}/{OLD_POST}/"' in html  # the link to the earlier post survived
    assert "<ul>" in html and "<h2>" in html and "<strong>" in html
    assert f'src="{site.base_url}/wp-content/' in html  # image, absolute
    for junk in ("<script", "onclick", "Skriv en kommentar", "Akismet", "Del dette"):
        assert junk not in html
    assert "dansk" in html.lower()  # the localized "originally published in Danish" line


def test_windows_1252_page_is_read_correctly(make_ctx, site):
    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate(ctx)
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=398")
        detail = item_detail(session, current_translation(session, post, "sv").id)
    source = " ".join(seg.source for seg in detail.segments)
    assert "æ" in source and "ø" in source and "å" in source
    assert "\ufffd" not in source and "Ã" not in source


def test_second_run_on_unchanged_feed_does_nothing(make_ctx, site):
    first = make_ctx()
    pipeline.syndicate(first)
    site.requests.clear()

    second = make_ctx()
    summary = pipeline.syndicate(second)
    assert summary.feeds_polled == 1 and summary.feeds_not_modified == 1
    assert summary.pages_fetched == 0
    assert summary.engine_calls == 0 and summary.segments_translated == 0
    assert summary.deliveries_sent == 0
    assert [(r.path, r.status) for r in site.requests] == [("/feed/", 304)]
    assert site.requests[0].headers.get("If-None-Match")


def test_editing_one_paragraph_translates_only_that_paragraph(make_ctx, site):
    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate(ctx)
    with ctx.store.session() as session:
        for item in list_items(session):
            approve(session, item.translation_id, actor="editor", confirm_flags=True)
    pipeline.deliver(ctx)

    feed = site.root / "feed" / "index.xml"
    text = feed.read_text(encoding="utf-8")
    heading = "Fra kaffemøde til kompagnonskab"
    assert text.count(heading) == 1
    feed.write_text(text.replace(heading, "Fra kaffemøde til fælles netværk"), encoding="utf-8")

    ctx2 = make_ctx(auto_approve=False)
    summary = pipeline.syndicate(ctx2)
    assert summary.entries_updated == 1
    assert summary.pages_fetched == 0
    assert summary.segments_translated == 2  # the one heading, once per language
    assert summary.engine_calls == 2
    with ctx2.store.session() as session:
        awaiting = list_items(session)
        assert {(item.lang, item.post_key) for item in awaiting} == {
            ("nb", f"{site.base_url}/?p=412"),
            ("sv", f"{site.base_url}/?p=412"),
        }
        for item in awaiting:
            states = [
                s.state
                for s in session.scalars(
                    select(TranslatedSegment).where(TranslatedSegment.translation_id == item.translation_id)
                )
            ]
            assert states.count("open") == 1, states
            detail = item_detail(session, item.translation_id)
            reopened = [s for s in detail.segments if s.state == "open"]
            assert reopened[0].previous_source is not None
            assert "netværk" in reopened[0].source.lower()


def test_editor_edit_wins_and_is_reused(make_ctx, site):
    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate(ctx)
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=412")
        translation = current_translation(session, post, "nb")
        title = next(s for s in item_detail(session, translation.id).segments if s.key == "title")
        edit_segment(
            session, translation.id, "title", "Nettverk er gull", actor="kari", expected_version=title.version
        )
        approve(session, translation.id, actor="kari", confirm_flags=True)
    pipeline.deliver(ctx)
    html = (outbox(ctx) / "nb" / f"{NEW_POST}.html").read_text(encoding="utf-8")
    assert "Nettverk er gull" in html
    with ctx.store.session() as session:
        post = session.scalars(select(Post).where(Post.post_key == f"{site.base_url}/?p=412")).one()
        assert post.status == "extracted"


def test_nothing_to_deliver_is_decided_from_the_ledger_alone(make_ctx, site, monkeypatch):
    """A no-op publish must stay cheap however much is published: items already sent, unchanged
    since, are not even joined for comparison."""
    from syndication.deliveries import stage

    ctx = make_ctx()
    pipeline.syndicate(ctx)
    built: list[int] = []
    real = stage.approved_item
    monkeypatch.setattr(stage, "approved_item", lambda session, tid: built.append(tid) or real(session, tid))
    summary = pipeline.publish(make_ctx())
    assert summary.deliveries_sent == 0 and built == []

    # An editor's edit of one approved translation: exactly that item is built and sent again.
    with ctx.store.session() as session:
        post = resolve_post(session, f"{site.base_url}/?p=412")
        translation = current_translation(session, post, "sv")
        title = next(s for s in item_detail(session, translation.id).segments if s.key == "title")
        edit_segment(
            session, translation.id, "title", "Nätverk är guld", actor="karin", expected_version=title.version
        )
    summary = pipeline.publish(make_ctx())
    assert built == [translation.id]
    assert summary.deliveries_updated == 1 and summary.deliveries_sent == 0  # an edit updates the copy


def test_the_nb_copy_links_to_the_nb_copy_of_the_linked_article(make_ctx, site):
    """The demo's post links to the CeBIT article; once both are approved in nb, the nb page links
    to the nb file (relative), while sv (not approved for the article) keeps the original."""
    from syndication.demo import localized_links

    ctx = make_ctx(auto_approve=False)
    pipeline.syndicate(ctx)
    with ctx.store.session() as session:
        for key in (f"{site.base_url}/?p=412", f"{site.base_url}/?p=398"):
            translation = current_translation(session, resolve_post(session, key), "nb")
            approve(session, translation.id, actor="test", confirm_flags=True)
        sv = current_translation(session, resolve_post(session, f"{site.base_url}/?p=412"), "sv")
        approve(session, sv.id, actor="test", confirm_flags=True)
    sent, updated = ctx.summary.deliveries_sent, ctx.summary.deliveries_updated
    pipeline.deliver(ctx)
    assert ctx.summary.deliveries_sent - sent == 3, "one send each"
    assert ctx.summary.deliveries_updated == updated, "the linking post waited: no update needed"
    nb = (outbox(ctx) / "nb" / f"{NEW_POST}.html").read_text(encoding="utf-8")
    assert f'href="{OLD_POST}.html"' in nb and f'href="{site.base_url}/{OLD_POST}/"' not in nb
    sv_page = (outbox(ctx) / "sv" / f"{NEW_POST}.html").read_text(encoding="utf-8")
    assert f'href="{site.base_url}/{OLD_POST}/"' in sv_page
    ((page, _text, href),) = localized_links(outbox(ctx), "nb")
    assert page.endswith(f"nb/{NEW_POST}.html") and href == f"{OLD_POST}.html"
