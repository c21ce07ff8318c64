"""Editing, approving and rejecting through HTTP, with the database checked after each step."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from syndication.errors import StaleRevisionError
from syndication.review.actions import approve, edit_segment
from syndication.store import ReviewEvent, TMEntry, TranslatedSegment, Translation
from syndication.web.publishing import Publisher
from tests.web.conftest import Env, login, make_client
from tests.web.support import POST_HTML, store_post, translate

JSON = {"Accept": "application/json"}


def segment(env: Env, tid: int, key: str) -> TranslatedSegment:
    with env.ctx.store.session() as session:
        return session.scalars(
            select(TranslatedSegment).where(
                TranslatedSegment.translation_id == tid, TranslatedSegment.key == key
            )
        ).one()


def translation(env: Env, tid: int) -> Translation:
    with env.ctx.store.session() as session:
        row = session.get(Translation, tid)
        assert row is not None
        return row


def events(env: Env, tid: int) -> list[ReviewEvent]:
    with env.ctx.store.session() as session:
        return list(session.scalars(select(ReviewEvent).where(ReviewEvent.translation_id == tid)))


# ------------------------------------------------------------------------------------------ queue


def test_queue_lists_items_per_language_with_flag_counts(env: Env, client):
    login(client)
    page = client.get("/").text
    nb, sv = env.translation_id("nb"), env.translation_id("sv")
    assert f'href="/items/{nb}"' in page and f'href="/items/{sv}"' in page
    assert "Et godt møde i forsamlingshuset" in page
    only_sv = client.get("/", params={"lang": "sv"}).text
    assert f'href="/items/{sv}"' in only_sv and f'href="/items/{nb}"' not in only_sv
    approved = client.get("/", params={"state": "approved"}).text
    assert f'href="/items/{nb}"' not in approved
    flagged = segment_flags(env, nb)
    if flagged:
        assert f"⚑ {flagged}" in page


def segment_flags(env: Env, tid: int) -> int:
    with env.ctx.store.session() as session:
        rows = session.scalars(select(TranslatedSegment).where(TranslatedSegment.translation_id == tid))
        return sum(1 for row in rows if row.flags)


def test_item_page_shows_every_kind_of_segment_side_by_side(env: Env, client):
    login(client)
    tid = env.translation_id("nb")
    page = client.get(f"/items/{tid}").text
    for label in ("Title", "Excerpt", "Image alt text"):
        assert f'<span class="seg-kind">{label}</span>' in page
    assert "Forsamlingshuset om aftenen" in page  # the image's alt text is a segment
    assert 'lang="da"' in page and 'lang="nb"' in page
    # placeholders as non-editable chips, the link's URL in the tooltip
    assert (
        'contenteditable="false" data-ph="open" data-id="2" title="link: https://lokaltliv.example.dk/program/"'
        in page
    )


def test_unknown_item_is_404(client):
    login(client)
    assert client.get("/items/9999").status_code == 404
    assert client.get("/items/9999/preview").status_code == 404


# ------------------------------------------------------------------------------------------- edit


def test_an_edit_is_saved_recorded_and_becomes_human_memory(env: Env, client):
    token = login(client, "anna")
    tid = env.translation_id("nb")
    before = segment(env, tid, "b3").target
    response = client.post(
        f"/items/{tid}/segments/b3",
        data={"csrf_token": token, "version": "1", "text": "Frivillige fra byen laget mat til 120 gjester."},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/items/{tid}#seg-b3"
    row = segment(env, tid, "b3")
    assert row.target == "Frivillige fra byen laget mat til 120 gjester."
    assert (row.origin, row.version, row.updated_by) == ("human", 2, "anna")
    edit = [e for e in events(env, tid) if e.action == "edit"][-1]
    assert (edit.actor, edit.segment_key, edit.before, edit.after) == ("anna", "b3", before, row.target)
    with env.ctx.store.session() as session:
        human = session.scalars(select(TMEntry).where(TMEntry.engine == "human")).one()
    assert human.target == row.target and human.target_lang == "nb" and human.created_by == "anna"
    page = client.get(f"/items/{tid}").text
    assert "Saved segment b3." in page
    assert "edited by anna" in page
    # The history names the segment by the number the page shows it under, and links to it.
    number = re.search(r'id="seg-b3".*?<span class="seg-num">(\d+)</span>', page, re.S)
    assert number is not None
    assert f'<strong>anna</strong> edited <a href="#seg-b3">segment {number.group(1)}</a>' in page


def test_human_memory_wins_for_the_same_segment_in_a_later_post(env: Env, client):
    token = login(client)
    tid = env.translation_id("nb")
    client.post(
        f"/items/{tid}/segments/b2",
        data={"csrf_token": token, "version": "1", "text": "Hva hendte egentlig?"},
        headers=JSON,
    )
    other = store_post(
        env.ctx, key="other", title="Et andet indlæg", html="<h2>Hvad skete der?</h2><p>Ny tekst.</p>"
    )
    translate(env.ctx)
    later = env.translation_id("nb", other)
    with env.ctx.store.session() as session:
        rows = {
            r.key: r
            for r in session.scalars(
                select(TranslatedSegment).where(TranslatedSegment.translation_id == later)
            )
        }
    assert rows["b1"].target == "Hva hendte egentlig?"
    assert rows["b1"].origin == "human"
    assert rows["b2"].origin == "machine"


def test_json_edit_returns_the_new_state(env: Env, client):
    token = login(client)
    tid = env.translation_id("sv")
    text = 'Vi höll ett <g id="1">stort</g> möte med <g id="2">hela programmet</g> klart.'
    response = client.post(
        f"/items/{tid}/segments/b1", data={"csrf_token": token, "version": "1", "text": text}, headers=JSON
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["segment"]["text"] == text
    assert body["segment"]["version"] == 2
    assert body["segment"]["origin"] == "human"
    assert 'data-ph="open" data-id="2"' in body["segment"]["html"]
    assert body["segment"]["item_version"] == translation(env, tid).version


def test_removing_a_placeholder_is_refused_with_a_message(env: Env, client):
    token = login(client)
    tid = env.translation_id("nb")
    before = segment(env, tid, "b1")
    lost_link = 'Vi holdt et <g id="1">stort</g> møte i forsamlingshuset med hele programmet på plass.'
    response = client.post(
        f"/items/{tid}/segments/b1",
        data={"csrf_token": token, "version": "1", "text": lost_link},
        headers=JSON,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert "Not saved" in error and "missing 2" in error and "lokaltliv.example.dk/program/" in error
    # Without JavaScript: the page again, the message at the segment, the editor's text kept.
    page = client.post(
        f"/items/{tid}/segments/b1", data={"csrf_token": token, "version": "1", "text": lost_link}
    )
    assert page.status_code == 422
    assert "missing 2" in page.text
    assert "med hele programmet på plass.</textarea>" in page.text
    after = segment(env, tid, "b1")
    assert (after.target, after.version) == (before.target, before.version)


def test_raw_placeholder_spellings_are_accepted_and_normalized(env: Env, client):
    token = login(client)
    tid = env.translation_id("nb")
    text = "Vi hadde et <g id='1'>stort</g> møte med <g id = \"2\">hele programmet</g>."
    response = client.post(
        f"/items/{tid}/segments/b1", data={"csrf_token": token, "version": "1", "text": text}
    )
    assert response.status_code == 303
    assert (
        segment(env, tid, "b1").target
        == 'Vi hadde et <g id="1">stort</g> møte med <g id="2">hele programmet</g>.'
    )


def test_two_editors_on_one_segment_the_second_gets_a_conflict(env: Env):
    tid = env.translation_id("nb")
    with make_client(env) as anna, make_client(env) as bo:
        anna_token, bo_token = login(anna, "anna"), login(bo, "bo")
        # Both opened the page at version 1.
        first = anna.post(
            f"/items/{tid}/segments/b5",
            data={"csrf_token": anna_token, "version": "1", "text": "Kaffe og kaker"},
            headers=JSON,
        )
        assert first.status_code == 200
        second = bo.post(
            f"/items/{tid}/segments/b5",
            data={"csrf_token": bo_token, "version": "1", "text": "Kaffe og bakst"},
            headers=JSON,
        )
        assert second.status_code == 409
        body = second.json()
        assert "anna changed this segment" in body["error"]
        assert body["segment"]["text"] == "Kaffe og kaker" and body["segment"]["version"] == 2
        assert segment(env, tid, "b5").target == "Kaffe og kaker"
        # Without JavaScript: 409 page with the other text shown and the own text still in the box.
        page = bo.post(
            f"/items/{tid}/segments/b5",
            data={"csrf_token": bo_token, "version": "1", "text": "Kaffe og bakst"},
        )
        assert page.status_code == 409
        assert "Kaffe og bakst</textarea>" in page.text
        assert "Current text (by anna)" in page.text
        # Having seen anna's version, bo saves deliberately over it.
        third = bo.post(
            f"/items/{tid}/segments/b5",
            data={"csrf_token": bo_token, "version": "2", "text": "Kaffe og bakst"},
            headers=JSON,
        )
        assert third.status_code == 200
    assert segment(env, tid, "b5").target == "Kaffe og bakst"
    edits = [e for e in events(env, tid) if e.action == "edit"]
    assert [(e.actor, e.after) for e in edits] == [("anna", "Kaffe og kaker"), ("bo", "Kaffe og bakst")]


# -------------------------------------------------------------------------------------- decisions


def decide(client, tid: int, action: str, token: str, **fields: str):
    page = client.get(f"/items/{tid}").text
    revision = page.split('name="revision" value="', 1)[1].split('"', 1)[0]
    version = page.split('name="item_version" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": token, "revision": revision, "item_version": version, **fields}
    return client.post(f"/items/{tid}/{action}", data=data)


def test_approve_records_who_when_and_says_what_happens_next(env: Env, client):
    token = login(client, "anna")
    tid = env.translation_id("sv")
    response = decide(client, tid, "approve", token, comment="Fint", confirm_flags="1")
    assert response.status_code == 303
    row = translation(env, tid)
    assert (row.status, row.decided_by, row.comment) == ("approved", "anna", "Fint")
    assert row.decided_at is not None
    page = client.get(f"/items/{tid}").text
    assert "Approved. It goes out with the next scheduled publish run." in page
    # Editors never run the CLI: the message names no command and shows no literal backticks.
    assert "`" not in page.split("Approved.")[1].split("<")[0]
    assert "syndicate publish" not in page.split("Approved.")[1].split("<")[0]
    assert [e.action for e in events(env, tid)][-1] == "approve"
    # Edits stay possible after approval, and go out without another decision: the page says so.
    assert "Edits saved to this approved translation go out as an update" in page


def test_approving_with_qa_flags_asks_for_confirmation(env: Env, client):
    token = login(client)
    tid = env.translation_id("nb")
    with env.ctx.store.session() as session:
        row = session.scalars(
            select(TranslatedSegment).where(
                TranslatedSegment.translation_id == tid, TranslatedSegment.key == "b2"
            )
        ).one()
        row.flags = [{"code": "unknown_words", "message": "unknown word: *skete"}]
    response = decide(client, tid, "approve", token)
    assert response.status_code == 422
    assert "still have QA flags" in response.text
    assert 'class="confirm needs-confirm"' in response.text
    assert translation(env, tid).status == "machine_translated"
    confirmed = decide(client, tid, "approve", token, confirm_flags="1")
    assert confirmed.status_code == 303
    assert translation(env, tid).status == "approved"


def test_reject_with_a_comment(env: Env, client):
    token = login(client, "bo")
    tid = env.translation_id("nb")
    response = decide(client, tid, "reject", token, comment="For mange fejl")
    assert response.status_code == 303
    row = translation(env, tid)
    assert (row.status, row.decided_by, row.comment) == ("rejected", "bo", "For mange fejl")
    reject = [e for e in events(env, tid) if e.action == "reject"]
    assert reject and reject[0].comment == "For mange fejl"


def test_approving_a_stale_revision_is_refused(env: Env, client):
    token = login(client)
    tid = env.translation_id("sv")
    page = client.get(f"/items/{tid}").text
    revision = page.split('name="revision" value="', 1)[1].split('"', 1)[0]
    version = page.split('name="item_version" value="', 1)[1].split('"', 1)[0]
    # The Danish post changes while the page is open.
    store_post(
        env.ctx,
        key="https://lokaltliv.example.dk/?p=7",
        title="Et godt møde i forsamlingshuset",
        html=POST_HTML.replace("120 gæster", "140 gæster"),
        excerpt="Kort om mødet",
    )
    response = client.post(
        f"/items/{tid}/approve",
        data={"csrf_token": token, "revision": revision, "item_version": version, "confirm_flags": "1"},
    )
    assert response.status_code == 409
    assert "changed since this translation was made" in response.text
    assert translation(env, tid).status == "machine_translated"


def test_deciding_on_a_translation_edited_since_it_was_opened_is_refused(env: Env):
    tid = env.translation_id("sv")
    with make_client(env) as anna, make_client(env) as bo:
        anna_token, bo_token = login(anna, "anna"), login(bo, "bo")
        page = anna.get(f"/items/{tid}").text
        revision = page.split('name="revision" value="', 1)[1].split('"', 1)[0]
        version = page.split('name="item_version" value="', 1)[1].split('"', 1)[0]
        bo.post(f"/items/{tid}/segments/b5", data={"csrf_token": bo_token, "version": "1", "text": "Fika"})
        response = anna.post(
            f"/items/{tid}/approve",
            data={
                "csrf_token": anna_token,
                "revision": revision,
                "item_version": version,
                "confirm_flags": "1",
            },
            headers=JSON,
        )
        assert response.status_code == 409
        assert "changed since you opened it" in response.json()["error"]
    assert translation(env, tid).status == "machine_translated"


def test_approval_starts_the_prefect_deployment_when_one_is_configured(env: Env):
    calls = []

    class FlowRun:
        id = "0b7c"
        name = "brave-otter"

    def run_deployment(**kwargs):
        calls.append(kwargs)
        return FlowRun()

    publisher = Publisher(env.ctx, prefect_api_url="http://127.0.0.1:4200/api", run_deployment=run_deployment)
    tid = env.translation_id("sv")
    with make_client(env, publisher) as client:
        token = login(client)
        assert "starts the Prefect deployment" in client.get(f"/items/{tid}").text
        assert decide(client, tid, "approve", token, confirm_flags="1").status_code == 303
        page = client.get(f"/items/{tid}").text
    assert calls == [{"name": "publish/publish", "parameters": {"post_ids": [env.post_id]}, "timeout": 0}]
    assert "Publishing started: Prefect flow run brave-otter" in page
    started = [e for e in events(env, tid) if e.action == "publish_started"]
    assert started and "brave-otter" in (started[0].comment or "")


def test_a_failing_prefect_server_does_not_undo_the_approval(env: Env):
    def run_deployment(**kwargs):
        raise ConnectionError("connection refused")

    publisher = Publisher(env.ctx, prefect_api_url="http://127.0.0.1:9/api", run_deployment=run_deployment)
    tid = env.translation_id("sv")
    with make_client(env, publisher) as client:
        token = login(client)
        assert decide(client, tid, "approve", token, confirm_flags="1").status_code == 303
        page = client.get(f"/items/{tid}").text
    assert translation(env, tid).status == "approved"
    assert "could not be started (connection refused)" in page


def test_publish_now_is_for_admins_only(env: Env, client):
    token = login(client, "anna")
    tid = env.translation_id("sv")
    decide(client, tid, "approve", token, confirm_flags="1")
    assert "Publish now" not in client.get(f"/items/{tid}").text
    assert client.post(f"/items/{tid}/publish", data={"csrf_token": token}).status_code == 403


# ---------------------------------------------------------------------------------------- reopen


def test_a_source_change_after_approval_reopens_only_the_changed_segment(env: Env, client):
    token = login(client)
    tid = env.translation_id("nb")
    assert decide(client, tid, "approve", token, confirm_flags="1").status_code == 303
    store_post(
        env.ctx,
        key="https://lokaltliv.example.dk/?p=7",
        title="Et godt møde i forsamlingshuset",
        html=POST_HTML.replace("lavede mad til 120 gæster", "lavede god mad til 140 gæster"),
        excerpt="Kort om mødet: æøå <script>alert(1)</script>",
    )
    translate(env.ctx)
    new = env.translation_id("nb")
    assert new != tid
    with env.ctx.store.session() as session:
        rows = {
            r.key: r
            for r in session.scalars(select(TranslatedSegment).where(TranslatedSegment.translation_id == new))
        }
    assert rows["b3"].state == "open"
    assert rows["b3"].previous_source == "Frivillige fra byen lavede mad til 120 gæster."
    assert all(r.state == "approved" for k, r in rows.items() if k != "b3")
    page = client.get(f"/items/{new}").text
    assert "1 changed in the Danish source" in page
    assert "<del>120</del><ins>140</ins>" in page
    assert "<ins>god</ins>" in page or "<ins>god </ins>" in page
    old_page = client.get(f"/items/{tid}").text
    assert "this revision can no longer be approved" in old_page
    assert f'action="/items/{tid}/approve"' not in old_page
    assert f'href="/items/{new}"' in old_page


# ------------------------------------------------------------- concurrent writers (two workers)


def test_an_approval_against_an_older_item_version_is_refused_even_from_a_stale_read(env: Env):
    tid = env.translation_id("sv")
    with env.ctx.store.session() as late:
        # This worker read the item before another one saved an edit: its in-memory copy is stale,
        # so only the database can tell that the version moved on.
        seen = late.get(Translation, tid).version
        with env.ctx.store.session() as early:
            edit_segment(early, tid, "b5", "Fika", actor="bo")
        with pytest.raises(StaleRevisionError, match="changed since you opened it"):
            approve(late, tid, actor="anna", confirm_flags=True, expected_version=seen)
    assert translation(env, tid).status == "machine_translated"
    with env.ctx.store.session() as session:
        current = session.get(Translation, tid).version
        approve(session, tid, actor="anna", confirm_flags=True, expected_version=current)
    assert translation(env, tid).status == "approved"
    assert translation(env, tid).version == current + 1


def test_item_page_shows_a_confidence_bar_per_machine_segment(env: Env, client):
    login(client)
    tid = env.translation_id("sv")
    with env.ctx.store.session() as session:
        confidences = [
            row.confidence
            for row in session.scalars(
                select(TranslatedSegment).where(TranslatedSegment.translation_id == tid)
            )
        ]
    assert confidences and None not in confidences
    page = client.get(f"/items/{tid}").text
    bars = re.findall(
        r'<meter min="0" max="1" low="([0-9.]+)" high="0.8" optimum="1" value="([0-9.]+)">', page
    )
    assert sorted(float(value) for _, value in bars) == sorted(confidences)
    assert {float(low) for low, _ in bars} == {0.0}  # the language's low_confidence threshold (off)


def test_queue_can_list_the_weakest_items_first(env: Env, client):
    login(client)
    nb, sv = env.translation_id("nb"), env.translation_id("sv")
    with env.ctx.store.session() as session:
        lowest = {
            tid: min(
                row.confidence
                for row in session.scalars(
                    select(TranslatedSegment).where(TranslatedSegment.translation_id == tid)
                )
                if row.confidence is not None
            )
            for tid in (nb, sv)
        }
    page = client.get("/", params={"sort": "weakest"}).text
    assert 'value="weakest" selected' in page
    weaker, stronger = sorted((nb, sv), key=lambda tid: lowest[tid])
    if lowest[weaker] < lowest[stronger]:
        assert page.index(f'href="/items/{weaker}"') < page.index(f'href="/items/{stronger}"')
    newest = client.get("/").text
    assert 'value="newest" selected' in newest
