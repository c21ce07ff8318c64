"""Links to translations: a link to another item of the same source points to that item's copy on
the same channel and language once it is there (outbox: a relative file name; feed: the entry's
page), heals in one update when the copy comes later, and settles without loops."""

from __future__ import annotations

import re

import pytest
from channels_support import deliveries, make_context, no_sleep, write_config
from sqlalchemy import select

from syndication.deliveries import stage
from syndication.deliveries.links import link_identity, rewrite
from syndication.deliveries.stage import deliver_approved
from syndication.store import Post

A_KEY = "https://bloggen.example/?p=101"
B_KEY = "https://bloggen.example/?p=202"
B_URL = "https://bloggen.example/indlaeg-202"  # what Items gives a post as its URL


@pytest.mark.parametrize(
    "spelling",
    [
        "https://bloggen.example/indlaeg-202",
        "http://bloggen.example/indlaeg-202/",
        "https://www.bloggen.example/indlaeg-202",
        "https://BLOGGEN.example:443/indlaeg-202/?utm_source=x#kommentarer",
        "https://bloggen.example/?p=202",
        "http://www.bloggen.example/?p=0202",
    ],
)
def test_every_spelling_of_a_post_link_resolves_to_it(tmp_path, store, items, db_url, spelling):
    assert link_identity(spelling) in {link_identity(B_KEY), link_identity(B_URL)}
    a = items.approve(A_KEY, "nb", title="Nettverk", html=f'<p>Se <a href="{spelling}">messen</a>.</p>')
    items.approve(B_KEY, "nb", title="Messebesøk")
    publish(tmp_path, db_url, store)
    page = (tmp_path / "outbox" / "nb" / slug_of(store, a.post_key)).read_text()
    assert 'href="indlaeg-202.html' in page, page


@pytest.mark.parametrize(
    "url",
    [
        "https://blog.dk/indlaeg-1/",
        "http://www.blog.dk/?p=0412",
        "https://blog.dk",
        "https://blog.dk/a%C3%A6b/",
        "https://blog.dk/æøå/",
        "https://sub.blog-x.dk/2024/01/02/slug/",
        "https://blog.dk/a/b?p=12",
        "https://www.dk/",
    ],
)
def test_the_quick_path_agrees_with_the_general_one(url):
    from syndication.deliveries.links import _general_identity

    assert link_identity(url) == _general_identity(url)


def test_other_sites_and_other_posts_are_left_alone():
    assert link_identity("https://bloggen.example/?p=202") != link_identity("https://bloggen.example/?p=203")
    assert link_identity("https://bloggen.example/a") != link_identity("https://andre.example/a")
    assert link_identity("mailto:x@example.org") is None
    html = '<p><a href="https://x.example/a">x</a> <a href="https://y.example/">y</a></p>'
    assert rewrite(html, {"https://x.example/a": "a.html"}) == (
        '<p><a href="a.html">x</a> <a href="https://y.example/">y</a></p>'
    )


def channels(tmp_path):
    return {
        "files": {"type": "outbox", "path": str(tmp_path / "outbox")},
        "feeds": {"type": "feed", "path": str(tmp_path / "feeds"), "base_url": "https://example.org/feeds"},
    }


def publish(tmp_path, db_url, store):
    config = write_config(tmp_path, db_url, channels(tmp_path), targets=["nb"])
    ctx = make_context(store, config, {})
    deliver_approved(ctx, sleep=no_sleep)
    assert not ctx.summary.errors, ctx.summary.errors
    return ctx


def post_id(store, post_key: str) -> int:
    with store.session() as session:
        return session.scalars(select(Post.id).where(Post.post_key == post_key)).one()


def slug_of(store, post_key: str) -> str:
    row = deliveries(store, channel="files", post_id=post_id(store, post_key))[-1]
    return f"{row.receipt['meta']['slug']}.html"


def rows(store, post_key: str, channel: str = "files") -> list[tuple[str, str]]:
    return [(r.action, r.state) for r in deliveries(store, channel=channel, post_id=post_id(store, post_key))]


def feed_page(tmp_path, post_key_fragment: str) -> str:
    pages = [p.read_text() for p in (tmp_path / "feeds" / "nb").glob("*.html")]
    return next(p for p in pages if post_key_fragment in p)


def test_a_link_to_an_item_sent_in_the_same_run_points_to_its_copy_at_once(tmp_path, store, items, db_url):
    a = items.approve(
        A_KEY, "nb", title="Nettverk er gull", html=f'<p>Jeg skrev om <a href="{B_URL}/">messen</a>.</p>'
    )
    items.approve(B_KEY, "nb", title="Messebesøk i Berlin", html="<p>Messe.</p>")
    publish(tmp_path, db_url, store)
    page = (tmp_path / "outbox" / "nb" / slug_of(store, a.post_key)).read_text()
    assert 'href="indlaeg-202.html"' in page and B_URL not in page.split("attribution")[0]
    # The linking item waited for its target: one send each, no update needed.
    assert rows(store, A_KEY) == [("publish", "sent")] and rows(store, B_KEY) == [("publish", "sent")]
    (b_feed,) = deliveries(store, channel="feeds", post_id=post_id(store, B_KEY))
    assert rows(store, A_KEY, "feeds") == [("publish", "sent")]
    assert b_feed.remote_url in html_unescape(feed_page(tmp_path, "Nettverk er gull")), "feed: the entry page"


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_a_target_delivered_later_heals_the_link_in_one_update(tmp_path, store, items, db_url):
    a = items.approve(A_KEY, "nb", title="Nettverk", html=f'<p>Se <a href="{B_URL}">messen</a>.</p>')
    publish(tmp_path, db_url, store)
    page = tmp_path / "outbox" / "nb" / slug_of(store, a.post_key)
    assert f'href="{B_URL}"' in page.read_text(), "not delivered there yet: the original"

    items.approve(B_KEY, "nb", title="Messebesøk")
    ctx = publish(tmp_path, db_url, store)
    assert 'href="indlaeg-202.html"' in page.read_text()
    assert rows(store, A_KEY) == [("publish", "sent"), ("update", "sent")]
    assert rows(store, A_KEY, "feeds") == [("publish", "sent"), ("update", "sent")]
    assert ctx.summary.deliveries_updated == 2

    before = len(deliveries(store))
    for _ in range(2):
        ctx = publish(tmp_path, db_url, store)
        assert ctx.summary.deliveries_sent == ctx.summary.deliveries_updated == 0
    assert len(deliveries(store)) == before, "nothing is sent twice without a change"


def test_two_items_linking_to_each_other_settle_in_one_extra_delivery_each(tmp_path, store, items, db_url):
    items.approve(A_KEY, "nb", title="Første", html=f'<p><a href="{B_KEY}">B</a></p>')
    items.approve(
        B_KEY, "nb", title="Andre", html='<p><a href="https://www.bloggen.example/indlaeg-101/">A</a></p>'
    )
    publish(tmp_path, db_url, store)
    for _ in range(2):
        publish(tmp_path, db_url, store)
    for key in (A_KEY, B_KEY):
        history = rows(store, key)
        assert history[0] == ("publish", "sent") and len(history) <= 2, history
        assert all(action != "update" for action, _ in history[2:])
    assert 'href="indlaeg-202.html"' in (tmp_path / "outbox" / "nb" / "indlaeg-101.html").read_text()
    assert 'href="indlaeg-101.html"' in (tmp_path / "outbox" / "nb" / "indlaeg-202.html").read_text()


def test_a_run_that_died_before_healing_is_caught_up_by_the_next_one(
    tmp_path, store, items, db_url, monkeypatch
):
    """The target's copy was recorded but the run stopped before updating the items linking to it:
    the next full run finds them through the channel's mark (``_linkers_since_marks``)."""
    items.approve(A_KEY, "nb", title="Nettverk", html=f'<p><a href="{B_URL}">messen</a></p>')
    publish(tmp_path, db_url, store)
    publish(tmp_path, db_url, store)  # nothing new: the channels' marks move past A's send
    items.approve(B_KEY, "nb", title="Messebesøk")
    monkeypatch.setattr(stage, "HEAL_ROUNDS", 0)
    publish(tmp_path, db_url, store)
    page = tmp_path / "outbox" / "nb" / "indlaeg-101.html"
    assert f'href="{B_URL}"' in page.read_text()
    monkeypatch.setattr(stage, "HEAL_ROUNDS", 3)
    publish(tmp_path, db_url, store)
    assert 'href="indlaeg-202.html"' in page.read_text()
    assert rows(store, A_KEY) == [("publish", "sent"), ("update", "sent")]


def test_a_withdrawn_target_sends_the_link_back_to_the_original(tmp_path, store, items, db_url):
    items.approve(A_KEY, "nb", title="Nettverk", html=f'<p><a href="{B_URL}">messen</a></p>')
    b = items.approve(B_KEY, "nb", title="Messebesøk")
    publish(tmp_path, db_url, store)
    page = tmp_path / "outbox" / "nb" / "indlaeg-101.html"
    assert 'href="indlaeg-202.html"' in page.read_text()
    items.decide(b, "rejected")
    publish(tmp_path, db_url, store)
    assert re.search(rf'href="{re.escape(B_URL)}"', page.read_text())
    assert rows(store, B_KEY)[-1] == ("retract", "sent")
    assert rows(store, A_KEY)[-1] == ("update", "sent")


def test_redeliver_sends_the_copy_with_its_localized_links_again(tmp_path, store, items, db_url):
    """``syndicate deliveries redeliver`` requeues the ledger row of the current content: the
    version with the channel's localized links, not the bare one (which the ledger never saw)."""
    items.approve(A_KEY, "nb", title="Nettverk", html=f'<p><a href="{B_URL}">messen</a></p>')
    items.approve(B_KEY, "nb", title="Messebesøk")
    publish(tmp_path, db_url, store)
    page = tmp_path / "outbox" / "nb" / "indlaeg-101.html"
    page.unlink()  # a partner lost it
    config = write_config(tmp_path, db_url, channels(tmp_path), targets=["nb"])
    ctx = make_context(store, config, {})
    stage.redeliver(ctx, post_id(store, A_KEY), "nb", "files", sleep=no_sleep)
    assert not ctx.summary.errors, ctx.summary.errors
    assert 'href="indlaeg-202.html"' in page.read_text()
    assert rows(store, A_KEY) == [("publish", "sent")], "the same row, sent again"
