"""The item page tells the editor what the translation lacks: content the sanitizer removed from
the source ("1 embedded video removed") and a source that was not read whole, whose approval
needs confirming. Real extraction, real Apertium, real HTTP (no browser)."""

from __future__ import annotations

from sqlalchemy import select

from syndication.posts import extract_article, parsing
from syndication.posts.ingest import store_revision
from syndication.store import Post, Translation
from tests.posts.test_extraction_losses import AFTER, BEFORE, wordpress_page
from tests.web.conftest import Env, login
from tests.web.support import translate
from tests.web.test_review import decide, translation

URL = "https://lokaltliv.example.dk/2024/06/festen/"
BODY = (
    f"<p>{BEFORE}</p>"
    '<figure class="wp-block-embed"><iframe src="https://player.vimeo.com/video/42"></iframe></figure>'
    '<p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="Kort" width="300"></p>'
)


def store_extracted(env: Env, html: str) -> int:
    article = extract_article(html, URL)
    with env.ctx.store.session() as session:
        post = Post(post_key=URL, url=URL, kind="post", status="extracted")
        session.add(post)
        session.flush()
        store_revision(session, post, article)
        post_id = post.id
    translate(env.ctx)
    with env.ctx.store.session() as session:
        return session.scalars(
            select(Translation.id).where(Translation.post_id == post_id, Translation.lang == "nb")
        ).one()


def test_the_item_page_lists_what_the_sanitizer_removed(env: Env, client):
    tid = store_extracted(env, wordpress_page(BODY + f"<p>{AFTER}</p>"))
    login(client)
    page = client.get(f"/items/{tid}")
    assert page.status_code == 200
    assert 'id="source-notes"' in page.text
    assert "1 embedded video removed (player.vimeo.com)" in page.text
    assert "1 image with an inline (data:) or unusable address removed (image/gif)" in page.text
    assert "extraction_incomplete" not in page.text


def test_a_source_not_read_whole_is_shown_and_its_approval_needs_confirming(env: Env, client, monkeypatch):
    head = wordpress_page(f"<p>{BEFORE}</p><p>")
    monkeypatch.setattr(parsing, "MAX_HTML_CHARS", len(head))
    tid = store_extracted(env, head + f"{AFTER}</p>" + "<p>Resten af historien.</p>" * 30)
    token = login(client)
    page = client.get(f"/items/{tid}").text
    assert 'data-flag="extraction_incomplete"' in page
    assert "The source could not be read whole" in page and "“Teksten efter den dybe blok" in page
    assert "the Danish source was not read whole" in page  # the confirm box is offered
    refused = decide(client, tid, "approve", token)
    assert refused.status_code == 422 and "not read whole" in refused.text
    assert translation(env, tid).status == "machine_translated"
    confirmed = decide(client, tid, "approve", token, confirm_flags="1")
    assert confirmed.status_code == 303
    assert translation(env, tid).status == "approved"
