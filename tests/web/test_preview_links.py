"""The review preview says which links will point to a translation, channel by channel."""

from __future__ import annotations

from sqlalchemy import select

from syndication import pipeline
from syndication.review import approve
from syndication.store import Translation
from tests.web.conftest import Env, login
from tests.web.support import store_post, translate


def test_preview_lists_links_to_items_and_where_each_will_point(env: Env, client):
    # The test post links to https://lokaltliv.example.dk/program/ : make that a post of the store
    # (spelled differently), delivered to the outbox in nb only.
    target = store_post(
        env.ctx,
        key="https://lokaltliv.example.dk/?p=8",
        title="Programmet",
        html="<p>Programmet for aftenen.</p>",
        url="http://www.lokaltliv.example.dk/program",
    )
    translate(env.ctx)
    with env.ctx.store.session() as session:
        nb = session.scalars(
            select(Translation.id).where(Translation.post_id == target, Translation.lang == "nb")
        ).one()
        approve(session, nb, actor="test", confirm_flags=True)
    pipeline.deliver(env.ctx, post_ids=[target])

    login(client)
    page = client.get(f"/items/{env.translation_id('nb')}/preview").text
    assert "Links to other posts" in page
    assert "<code>https://lokaltliv.example.dk/program/</code> on <strong>outbox</strong>" in page
    assert "points to its translation there, <code>program.html</code>" in page
    sv = client.get(f"/items/{env.translation_id('sv')}/preview").text
    assert "keeps the original (not delivered there in this language yet" in sv


def test_preview_without_links_to_items_lists_nothing(env: Env, client):
    login(client)
    assert "Links to other posts" not in client.get(f"/items/{env.translation_id('nb')}/preview").text
