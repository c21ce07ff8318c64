"""The review queue a page at a time: in the web app (page, per_page, newer/older links, counts)
and in `syndicate review list` (--limit/--offset, and a line saying how many more there are)."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select

from syndication.cli import main
from syndication.review import approve, queue_page
from syndication.store import Post, Translation
from tests.web.conftest import Env, login
from tests.web.support import POST_HTML, store_post, translate

ITEM_RE = re.compile(r'<td class="title"><a href="/items/(\d+)"')


@pytest.fixture
def queue(env: Env) -> list[int]:
    """Four posts waiting in nb and sv (eight items); their ids newest first, as the queue lists them."""
    for n in (1, 2, 3):
        key = f"https://lokaltliv.example.dk/?p={100 + n}"
        store_post(env.ctx, key=key, title=f"Indlæg {n}", html=POST_HTML)
    translate(env.ctx)
    with env.ctx.store.session() as session:
        ids = list(
            session.scalars(
                select(Translation.id)
                .where(Translation.status == "machine_translated")
                .order_by(Translation.created_at.desc(), Translation.id.desc())
            )
        )
    assert len(ids) == 8
    return ids


def listed(html: str) -> list[int]:
    return [int(i) for i in ITEM_RE.findall(html)]


def lang_of(env: Env, ids: list[int]) -> set[str]:
    with env.ctx.store.session() as session:
        return set(session.scalars(select(Translation.lang).where(Translation.id.in_(ids))))


def test_pages_follow_each_other_with_counts_and_links(env: Env, client, queue):
    login(client)
    first = client.get("/", params={"per_page": 3}).text
    assert listed(first) == queue[:3]
    assert "Items 1–3 of 8" in first
    assert 'rel="next" href="/?per_page=3&amp;page=2"' in first and 'rel="prev"' not in first

    second = client.get("/", params={"per_page": 3, "page": 2}).text
    assert listed(second) == queue[3:6], "page 2 shows the next items"
    assert "Items 4–6 of 8" in second
    assert 'rel="prev" href="/?per_page=3"' in second and 'href="/?per_page=3&amp;page=3"' in second

    third = client.get("/", params={"per_page": 3, "page": 3}).text
    assert listed(third) == queue[6:] and "Items 7–8 of 8" in third and 'rel="next"' not in third

    beyond = client.get("/", params={"per_page": 3, "page": 9}).text
    assert listed(beyond) == [] and "past the end: 8 items match" in beyond
    assert 'href="/?per_page=3&amp;page=3">Last page' in beyond
    # The language tabs count every waiting item, not the page's.
    assert re.search(r'lang="nb">nb</span> <span class="count">4<', first)


def test_filters_are_kept_from_page_to_page(env: Env, client, queue):
    login(client)
    sv = client.get("/", params={"lang": "sv", "per_page": 3}).text
    assert "Items 1–3 of 4" in sv and lang_of(env, listed(sv)) == {"sv"}
    link = re.search(r'rel="next" href="([^"]+)"', sv)
    assert link is not None
    assert link.group(1).replace("&amp;", "&") == "/?lang=sv&per_page=3&page=2"
    rest = client.get(link.group(1).replace("&amp;", "&")).text
    assert lang_of(env, listed(rest)) == {"sv"} and "Items 4–4 of 4" in rest
    assert set(listed(sv) + listed(rest)) == {i for i in queue if lang_of(env, [i]) == {"sv"}}

    every = client.get("/", params={"state": "all", "per_page": 5}).text
    assert "Items 1–5 of 8" in every
    assert 'rel="next" href="/?state=all&amp;per_page=5&amp;page=2"' in every


def test_a_bad_page_or_page_size_falls_back_to_the_defaults(env: Env, client, queue):
    login(client)
    for params in ({"page": "x"}, {"page": "-3"}, {"per_page": "0"}, {"per_page": "lots"}):
        page = client.get("/", params=params)
        assert page.status_code == 200
        assert listed(page.text)[0] == queue[0]
    assert len(listed(client.get("/", params={"per_page": "100000"}).text)) == 8  # capped at 500


def test_a_page_reads_only_its_own_items(env: Env, queue):
    loaded: list[int] = []

    def on_load(target: Translation, _context: object) -> None:
        loaded.append(target.id)

    event.listen(Translation, "load", on_load)
    try:
        with env.ctx.store.session() as session:
            page = queue_page(session, limit=2, offset=2)
    finally:
        event.remove(Translation, "load", on_load)
    assert [item.translation_id for item in page.items] == queue[2:4]
    assert sorted(loaded) == sorted(queue[2:4]), "the other items are counted, never loaded"
    assert (page.total, page.first, page.last, page.more) == (8, 3, 4, 4)
    assert (page.previous_offset, page.next_offset) == (0, 4)


def test_review_list_pages_and_says_when_more_exist(env: Env, queue):
    runner = CliRunner()
    config = str(env.config)
    with env.ctx.store.session() as session:
        post_of = dict(session.execute(select(Translation.id, Post.id).join(Post)).all())

    def posts_listed(output: str) -> list[int]:
        return [int(n) for n in re.findall(r"^post (\d+)", output, re.MULTILINE)]

    first = runner.invoke(main, ["review", "list", "--config", config, "--limit", "3"])
    assert first.exit_code == 0, first.output
    assert posts_listed(first.output) == [post_of[i] for i in queue[:3]]
    assert "5 more (listed 1–3 of 8): --offset 3 for the next 3" in first.output

    second = runner.invoke(main, ["review", "list", "--config", config, "--limit", "3", "--offset", "3"])
    assert posts_listed(second.output) == [post_of[i] for i in queue[3:6]]
    assert "2 more (listed 4–6 of 8): --offset 6 for the next 2" in second.output

    sv = runner.invoke(main, ["review", "list", "--config", config, "--lang", "sv", "--limit", "3"])
    assert len(posts_listed(sv.output)) == 3 and "1 more (listed 1–3 of 4)" in sv.output
    assert " sv " in sv.output and " nb " not in sv.output

    everything = runner.invoke(main, ["review", "list", "--config", config, "--limit", "0"])
    assert len(posts_listed(everything.output)) == 8 and "more" not in everything.output

    as_json = runner.invoke(main, ["review", "list", "--config", config, "--json", "--limit", "2"])
    assert [i["translation_id"] for i in json.loads(as_json.stdout)] == queue[:2]
    assert "6 more" in as_json.stderr, "the note goes beside the JSON, never into it"

    past = runner.invoke(main, ["review", "list", "--config", config, "--offset", "20"])
    assert past.exit_code == 0 and "nothing past item 20 (8 in all)" in past.output


def test_the_all_view_counts_every_state_and_the_tabs_only_what_waits(env: Env, client, queue):
    with env.ctx.store.session() as session:
        approve(session, queue[0], actor="anna", confirm_flags=True)
    (approved_lang,) = lang_of(env, queue[:1])
    login(client)
    assert "Items 1–7 of 7" in client.get("/").text
    every = client.get("/", params={"state": "all"}).text
    assert "Items 1–8 of 8" in every and listed(every)[0] == queue[0]
    assert re.search(rf'lang="{approved_lang}">{approved_lang}</span> <span class="count">3<', every)
    one_lang = client.get("/", params={"state": "all", "lang": approved_lang}).text
    assert "Items 1–4 of 4" in one_lang
    approved = client.get("/", params={"state": "approved"}).text
    assert listed(approved) == [queue[0]] and "Items 1–1 of 1" in approved


def test_weakest_first_pages_through_the_whole_queue_in_confidence_order(env: Env, client, queue):
    """Weakest first is decided by the database over every matching item, not within one page: the
    three least confident items come first, the order and the filter carry on to page 2."""
    from sqlalchemy import update

    from syndication.store import TranslatedSegment

    # Every item gets its own lowest confidence: the oldest item is the weakest.
    weakest_first = list(reversed(queue))
    with env.ctx.store.session() as session:
        for rank, translation_id in enumerate(weakest_first):
            session.execute(
                update(TranslatedSegment)
                .where(TranslatedSegment.translation_id == translation_id)
                .values(confidence=0.1 + rank / 20, state="open", origin="machine")
            )
    login(client)
    first = client.get("/", params={"sort": "weakest", "per_page": 3}).text
    assert listed(first) == weakest_first[:3]
    link = re.search(r'rel="next" href="([^"]+)"', first)
    assert link is not None and "sort=weakest" in link.group(1)
    second = client.get(link.group(1).replace("&amp;", "&")).text
    assert listed(second) == weakest_first[3:6]


def test_an_editor_limited_to_one_language_pages_through_it_alone(env: Env, queue):
    from tests.web.conftest import make_client, real_login
    from tests.web.support import PASSWORD

    added = CliRunner().invoke(
        main,
        ["users", "add", "sven", "--lang", "sv", "--password-stdin", "--config", str(env.config)],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    with make_client(env) as own:
        real_login(own, "sven")
        first = own.get("/", params={"per_page": 3}).text
        assert "Items 1–3 of 4" in first, "the count is of sv items only"
        assert lang_of(env, listed(first)) == {"sv"}
        second = own.get("/", params={"per_page": 3, "page": 2}).text
        assert lang_of(env, listed(second)) == {"sv"} and "Items 4–4 of 4" in second
