"""Progress and navigation (issue 11): segments become done as the editor works, the next item
follows a decision, the queue and the item can be searched, a second approval changes nothing,
history shows word diffs and a rejection comment sits at the top."""

from __future__ import annotations

import gzip
import html as htmllib
import re

import requests
from sqlalchemy import select

from syndication.store import ReviewEvent, TranslatedSegment
from tests.web.conftest import Env, login, make_client
from tests.web.support import store_post, translate

JSON = {"Accept": "application/json"}


def state_of(env: Env, tid: int, key: str) -> str:
    with env.ctx.store.session() as session:
        return session.scalars(
            select(TranslatedSegment.state).where(
                TranslatedSegment.translation_id == tid, TranslatedSegment.key == key
            )
        ).one()


def actions(env: Env, tid: int) -> list[str]:
    with env.ctx.store.session() as session:
        return list(session.scalars(select(ReviewEvent.action).where(ReviewEvent.translation_id == tid)))


def open_count(page: str) -> int:
    found = re.search(r'<span id="open-count">(\d+)</span>', page)
    assert found is not None
    return int(found.group(1))


def queue_counts(page: str, tid: int) -> tuple[int, int]:
    row = page.split(f'href="/items/{tid}"', 1)[1]
    found = re.search(r"<td>(\d+) open / (\d+)</td>", row)
    assert found is not None
    return int(found.group(1)), int(found.group(2))


def fields(page: str, name: str) -> str:
    return page.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


def test_saved_and_confirmed_segments_are_done_in_page_queue_and_after_reload(env: Env, client):
    token = login(client, "anna")
    tid = env.translation_id("nb")
    page = client.get(f"/items/{tid}").text
    before = open_count(page)
    queued_open, total = queue_counts(client.get("/", params={"lang": "nb"}).text, tid)
    assert queued_open == before
    saved = client.post(
        f"/items/{tid}/segments/b5",
        data={"csrf_token": token, "version": "1", "text": "Kaffe og kaker"},
        headers=JSON,
    )
    assert saved.status_code == 200 and saved.json()["segment"]["state"] == "done"
    # Ctrl+Enter on an unchanged segment sends its text as it stands: confirmed, no edit recorded.
    unchanged = page.split('id="raw-b3"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    confirmed = client.post(
        f"/items/{tid}/segments/b3",
        data={"csrf_token": token, "version": "1", "text": htmllib.unescape(unchanged)},
        headers=JSON,
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["segment"]["state"] == "done"
    assert confirmed.json()["segment"]["version"] == 1
    assert (state_of(env, tid, "b5"), state_of(env, tid, "b3")) == ("done", "done")
    assert actions(env, tid).count("edit") == 1
    reloaded = client.get(f"/items/{tid}").text
    assert open_count(reloaded) == before - 2
    assert f'<span class="open-left">{before - 2}</span> of' in reloaded  # the decision bar
    assert 'class="seg seg-done' in reloaded and "badge-done seg-state" in reloaded
    assert queue_counts(client.get("/", params={"lang": "nb"}).text, tid) == (queued_open - 2, total)
    # Approval then makes every segment approved.
    decided = client.post(
        f"/items/{tid}/approve",
        data={
            "csrf_token": token,
            "revision": fields(reloaded, "revision"),
            "item_version": fields(reloaded, "item_version"),
            "confirm_flags": "1",
        },
    )
    assert decided.status_code == 303
    assert state_of(env, tid, "b5") == "approved"


def test_approving_an_approved_item_again_records_nothing(env: Env, client):
    token = login(client, "anna")
    tid = env.translation_id("sv")
    page = client.get(f"/items/{tid}").text
    data = {
        "csrf_token": token,
        "revision": fields(page, "revision"),
        "item_version": fields(page, "item_version"),
        "confirm_flags": "1",
    }
    assert client.post(f"/items/{tid}/approve", data=data).status_code == 303
    # The same form again (a second tab, a double submit): no second approval event.
    again = client.post(f"/items/{tid}/approve", data=data, headers=JSON)
    assert again.status_code == 200
    assert again.json()["message"] == "Already approved; nothing changed."
    assert actions(env, tid).count("approve") == 1


def test_a_decision_goes_on_to_the_next_item_of_the_language(env: Env, client):
    token = login(client, "anna")
    second = store_post(env.ctx, key="second", title="Et andet indlæg", html="<p>Kaffe og kage.</p>")
    translate(env.ctx)
    first_nb, second_nb = env.translation_id("nb"), env.translation_id("nb", second)
    page = client.get(f"/items/{second_nb}").text
    # Newest first: the second post's item comes first, the first post's next.
    assert f'<a href="/items/{first_nb}" id="next-item" rel="next">' in page
    response = client.post(
        f"/items/{second_nb}/reject",
        data={
            "csrf_token": token,
            "revision": fields(page, "revision"),
            "item_version": fields(page, "item_version"),
            "comment": "Forkert sprog",
        },
    )
    assert response.status_code == 303 and response.headers["location"] == f"/items/{first_nb}"
    following = client.get(f"/items/{first_nb}").text
    assert f"Item {second_nb}: Rejected." in following
    assert 'id="next-item-none"' in following  # nothing else waits in nb
    # The rejection comment sits at the top of the rejected item, not only in its history.
    rejected = client.get(f"/items/{second_nb}").text
    top = rejected.split('<section class="segments"', 1)[0]
    assert 'id="rejection"' in top and "<q>Forkert sprog</q>" in top and "Rejected by anna" in top


def test_queue_search_finds_title_and_text_and_pages(env: Env, client):
    login(client, "anna")
    other = store_post(env.ctx, key="kage", title="Bagedyst i hallen", html="<p>Rugbrød og 100% kage.</p>")
    translate(env.ctx)
    first_nb, other_nb = env.translation_id("nb"), env.translation_id("nb", other)
    by_title = client.get("/", params={"lang": "nb", "q": "bagedyst"}).text
    assert f'href="/items/{other_nb}"' in by_title and f'href="/items/{first_nb}"' not in by_title
    by_text = client.get("/", params={"lang": "nb", "q": "rugbrød"}).text
    assert f'href="/items/{other_nb}"' in by_text and f'href="/items/{first_nb}"' not in by_text
    # LIKE wildcards in the query are literal.
    assert f'href="/items/{first_nb}"' not in client.get("/", params={"lang": "nb", "q": "%"}).text
    assert f'href="/items/{other_nb}"' in client.get("/", params={"lang": "nb", "q": "100%"}).text
    # The search stays in the paging links.
    paged = client.get("/", params={"q": "e", "per_page": "1"}).text
    assert "q=e" in paged and 'value="e"' in paged


def test_history_shows_a_word_diff_of_each_edit(env: Env, client):
    token = login(client, "anna")
    tid = env.translation_id("nb")
    client.post(
        f"/items/{tid}/segments/b5",
        data={"csrf_token": token, "version": "1", "text": "Kaffe og kaker"},
        headers=JSON,
    )
    client.post(
        f"/items/{tid}/segments/b5",
        data={"csrf_token": token, "version": "2", "text": "Kaffe og boller"},
        headers=JSON,
    )
    history = client.get(f"/items/{tid}").text.split('id="history"', 1)[1]
    assert '<div class="change word-diff">Kaffe og <del>kaker</del><ins>boller</ins></div>' in history


def test_conflicts_name_the_other_editor(env: Env, client):
    token = login(client, "bo")
    tid = env.translation_id("nb")
    page = client.get(f"/items/{tid}").text
    with make_client(env) as anna:
        anna_token = login(anna, "anna")
        anna.post(
            f"/items/{tid}/segments/b5",
            data={"csrf_token": anna_token, "version": "1", "text": "Kaffe og kaker"},
            headers=JSON,
        )
    conflict = client.post(
        f"/items/{tid}/segments/b5",
        data={"csrf_token": token, "version": "1", "text": "Kaffe og bakst"},
        headers=JSON,
    )
    assert conflict.status_code == 409
    assert "their text is shown above yours, which is kept" in conflict.json()["error"]
    stale = client.post(
        f"/items/{tid}/approve",
        data={
            "csrf_token": token,
            "revision": fields(page, "revision"),
            "item_version": fields(page, "item_version"),
            "confirm_flags": "1",
        },
        headers=JSON,
    )
    assert stale.status_code == 409
    assert "changed since you opened it (last by anna)" in stale.json()["error"]


def test_pages_are_sent_compressed(env: Env, client):
    login(client, "anna")
    tid = env.translation_id("nb")
    raw = client.get(f"/items/{tid}", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert raw.headers.get("content-encoding") == "gzip"
    body = gzip.decompress(raw.raw.read(decode_content=False))
    assert b'id="open-count"' in body
    assert isinstance(raw, requests.Response)


def test_the_csrf_token_differs_in_every_compressed_page_and_each_works(env: Env, client):
    """gzip plus a reflected search box must not carry an unchanging secret (BREACH)."""
    login(client, "anna")
    tid = env.translation_id("nb")
    pattern = re.compile(r'name="csrf_token" value="([^"]+)"')
    first = pattern.search(client.get("/", params={"q": "csrf_token"}).text)
    second = pattern.search(client.get("/", params={"q": "csrf_token"}).text)
    assert first and second and first.group(1) != second.group(1)
    for version, token in enumerate((first.group(1), second.group(1)), start=1):
        saved = client.post(
            f"/items/{tid}/segments/b5",
            data={"csrf_token": token, "version": str(version), "text": f"Kaffe og kaker {version}"},
            headers=JSON,
        )
        assert saved.status_code == 200
    tampered = first.group(1)[:-4] + ("AAAA" if not first.group(1).endswith("AAAA") else "BBBB")
    refused = client.post(
        f"/items/{tid}/segments/b5",
        data={"csrf_token": tampered, "version": "3", "text": "Kaffe og boller"},
        headers=JSON,
    )
    assert refused.status_code == 403
