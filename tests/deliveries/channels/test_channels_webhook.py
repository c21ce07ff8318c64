"""The webhook channel against a real HTTP receiver on loopback that checks signatures and applies
each idempotency key once."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from channels_support import HttpServer, deliveries, make_context, make_due, no_sleep, write_config

from syndication.deliveries.stage import deliver_approved
from syndication.deliveries.webhook import signature, verify_signature

SECRET = "whsec-test-0123456789"


def hook_config(url, **extra):
    return {"type": "webhook", "url": url, "languages": ["nb"], **extra}


def context(tmp_path, store, db_url, url, *, secret=SECRET, dry_run=False, **extra):
    config = write_config(tmp_path, db_url, {"partner_hook": hook_config(url, **extra)})
    env = {"SYNDICATION__CHANNELS__PARTNER_HOOK__SECRET": secret} if secret else {}
    return make_context(store, config, env, dry_run=dry_run)


def test_published_updated_retracted_signed_with_idempotency_keys(tmp_path, store, db_url, items, receiver):
    item = items.approve(
        "https://bloggen.example/?p=5",
        "nb",
        title="Hei æøå",
        html="<p>Tekst<script>x()</script></p>",
        categories=("Netværk",),
    )
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    items.edit(item, title="Hei igjen")
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    items.decide(item, "rejected")
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)

    assert all(r["valid"] for r in receiver.requests), "every body carries a valid signature"
    events = [json.loads(r["body"])["event"] for r in receiver.requests]
    assert events == ["item.published", "item.updated", "item.retracted"]
    first = receiver.requests[0]
    body = json.loads(first["body"])
    assert first["headers"]["Idempotency-Key"] == body["id"] == deliveries(store)[0].key
    assert first["headers"]["X-Syndication-Event"] == "item.published"
    assert body["item"]["lang"] == "nb" and body["item"]["title"] == "Hei æøå"
    assert "<script" not in body["item"]["html"] and "Tekst" in body["item"]["html"]
    assert "bloggen.example/indlaeg-5" in body["item"]["attribution_html"]
    assert body["item"]["categories"] == ["Netværk"]
    assert len(receiver.applied) == 3
    assert [r.state for r in deliveries(store)] == ["sent", "sent", "sent"]


def test_503_is_retried_on_later_runs_and_applied_once(tmp_path, store, db_url, items, receiver):
    receiver.fail_next = 2
    items.approve("https://bloggen.example/?p=6", "nb", title="Travelt")
    waits: list[float] = []
    for run in range(3):
        ctx = context(tmp_path, store, db_url, receiver.url)
        deliver_approved(ctx, sleep=waits.append)
        assert len(receiver.requests) == run + 1, "one attempt per run"
        (row,) = deliveries(store)
        assert row.attempts == run + 1
        if run < 2:
            assert row.state == "failed" and row.error_kind == "transient"
            assert row.next_attempt_at is not None and row.next_attempt_at > row.updated_at, "backoff"
            make_due(store)
    assert waits == [], "nothing waits inside a run"
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(keys) == 1, "every retry carries the same idempotency key"
    assert len(receiver.applied) == 1 and ctx.summary.deliveries_sent == 1


def test_still_failing_after_the_run_is_left_for_the_next_run(tmp_path, store, db_url, items, receiver):
    receiver.fail_next = 1
    items.approve("https://bloggen.example/?p=7", "nb", title="Nede")
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    (row,) = deliveries(store)
    assert row.state == "failed" and row.error_kind == "transient" and "answered 503" in row.error
    make_due(store)
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    assert deliveries(store)[0].state == "sent" and len(receiver.applied) == 1


def test_a_lost_answer_is_resent_with_the_same_key_and_applied_once(tmp_path, store, db_url, items):
    """The receiver applies the event but the answer never arrives (timeout): the retry carries the
    same idempotency key, so the partner ends up with the event once."""
    applied: dict[str, bytes] = {}
    calls = []
    release = threading.Event()

    class Slow(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert verify_signature(body, self.headers["X-Syndication-Signature"], SECRET)
            key = self.headers["Idempotency-Key"]
            applied.setdefault(key, body)  # a receiver that honours idempotency keys
            calls.append(key)
            if len(calls) == 1:
                release.wait(5)  # the client has given up by now
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HttpServer(Slow)
    try:
        items.approve("https://bloggen.example/?p=8", "nb", title="Treg")
        deliver_approved(context(tmp_path, store, db_url, server.url + "/hook", timeout=0.5), sleep=no_sleep)
        assert deliveries(store)[0].state == "failed" and len(calls) == 1, "one attempt per run"
        make_due(store)
        deliver_approved(context(tmp_path, store, db_url, server.url + "/hook", timeout=0.5), sleep=no_sleep)
    finally:
        release.set()
        time.sleep(0.05)
        server.stop()
    assert len(calls) == 2 and len(set(calls)) == 1
    assert list(applied) == [calls[0]]
    assert deliveries(store)[0].state == "sent"


def test_client_errors_are_terminal_with_a_useful_message(tmp_path, store, db_url, items, receiver):
    items.approve("https://bloggen.example/?p=9", "nb", title="Feil nøkkel")
    deliver_approved(
        context(tmp_path, store, db_url, receiver.url, secret="not-the-partners-secret"), sleep=no_sleep
    )
    (row,) = deliveries(store)
    assert row.error_kind == "terminal" and len(receiver.requests) == 1, "401 is not retried"
    assert "SYNDICATION__CHANNELS__PARTNER_HOOK__SECRET" in row.error
    assert "not-the-partners-secret" not in row.error


def test_a_terminal_failure_waits_for_a_fixed_config_then_goes_out_once(
    tmp_path, store, db_url, items, receiver
):
    items.approve("https://bloggen.example/?p=11", "nb", title="Ny nøkkel")
    wrong = "not-the-partners-secret"
    deliver_approved(context(tmp_path, store, db_url, receiver.url, secret=wrong), sleep=no_sleep)
    (row,) = deliveries(store)
    assert row.state == "failed" and row.error_kind == "terminal" and row.config_fingerprint
    make_due(store)
    deliver_approved(context(tmp_path, store, db_url, receiver.url, secret=wrong), sleep=no_sleep)
    assert len(receiver.requests) == 1, "the same configuration does not try again"
    assert deliveries(store)[0].state == "failed"

    # The operator puts the right secret in the environment; nobody names the delivery.
    ctx = context(tmp_path, store, db_url, receiver.url)
    deliver_approved(ctx, sleep=no_sleep)
    (row,) = deliveries(store)
    assert row.state == "sent" and ctx.summary.deliveries_sent == 1
    assert len(receiver.requests) == 2 and len(receiver.applied) == 1
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    assert len(receiver.requests) == 2, "sent once, not again"


def test_a_changed_config_that_still_fails_is_tried_once_then_waits_again(
    tmp_path, store, db_url, items, receiver
):
    items.approve("https://bloggen.example/?p=12", "nb", title="Fortsatt feil")
    deliver_approved(context(tmp_path, store, db_url, receiver.url, secret="wrong-one"), sleep=no_sleep)
    first = deliveries(store)[0].config_fingerprint
    deliver_approved(context(tmp_path, store, db_url, receiver.url, secret="wrong-two"), sleep=no_sleep)
    (row,) = deliveries(store)
    assert len(receiver.requests) == 2 and row.state == "failed" and row.error_kind == "terminal"
    assert row.config_fingerprint not in (None, first)
    deliver_approved(context(tmp_path, store, db_url, receiver.url, secret="wrong-two"), sleep=no_sleep)
    assert len(receiver.requests) == 2
    # A non-secret option counts as configuration too.
    deliver_approved(
        context(tmp_path, store, db_url, receiver.url, secret="wrong-two", timeout=20), sleep=no_sleep
    )
    assert len(receiver.requests) == 3


def test_missing_secret_sends_nothing(tmp_path, store, db_url, items, receiver):
    items.approve("https://bloggen.example/?p=10", "nb", title="Uten hemmelighet")
    ctx = context(tmp_path, store, db_url, receiver.url, secret=None)
    deliver_approved(ctx, sleep=no_sleep)
    assert receiver.requests == []
    assert "SYNDICATION__CHANNELS__PARTNER_HOOK__SECRET" in deliveries(store)[0].error


def test_dry_run_shows_the_exact_body_that_is_sent(tmp_path, store, db_url, items, receiver):
    items.approve("https://bloggen.example/?p=11", "nb", title="Forhåndsvisning")
    (preview,) = deliver_approved(
        context(tmp_path, store, db_url, receiver.url, dry_run=True), sleep=no_sleep
    )
    assert receiver.requests == [] and deliveries(store) == []
    assert SECRET.encode() not in preview.body
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    sent = receiver.requests[0]["body"]
    assert receiver.requests[0]["headers"]["X-Syndication-Signature"] == signature(sent, SECRET)

    def apart_from_the_time(body: bytes) -> dict:
        document = json.loads(body)
        assert isinstance(document.pop("sent_at"), int)
        return document

    assert apart_from_the_time(sent) == apart_from_the_time(preview.body)


def test_signed_timestamp_lets_receivers_refuse_replays(tmp_path, store, db_url, items, receiver):
    items.approve("https://bloggen.example/?p=12", "nb", title="Gammelt nytt")
    before = int(time.time())
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    after = int(time.time())
    (request,) = receiver.requests
    body, header = request["body"], request["headers"]["X-Syndication-Signature"]
    sent_at = json.loads(body)["sent_at"]
    assert before <= sent_at <= after, "sent_at is the time of sending, inside the signed body"
    assert verify_signature(body, header, SECRET, now=sent_at + 60)
    assert not verify_signature(body, header, SECRET, now=sent_at + 301), "replayed later: refused"
    assert not verify_signature(body, header, SECRET, now=sent_at - 301), "from the future: refused"
    assert verify_signature(body, header, SECRET, max_age=None, now=sent_at + 10**6), "window off on request"
    moved = body.replace(f'"sent_at":{sent_at}'.encode(), f'"sent_at":{sent_at + 3600}'.encode())
    assert moved != body and not verify_signature(moved, header, SECRET, now=sent_at + 3600), "time is signed"
    assert not verify_signature(body, header, "not-the-secret", now=sent_at)


def test_approved_again_after_a_retraction_or_an_undone_edit_goes_out_again(
    tmp_path, store, db_url, items, receiver
):
    """The same content can be due twice: re-approved after a rejection, or an edit undone and made
    again. Each is a new delivery (the partner must end up with what is approved), not "already done"."""
    item = items.approve("https://bloggen.example/?p=13", "nb", title="Frem og tilbake")

    def publish():
        deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)

    publish()
    items.decide(item, "rejected")
    publish()
    items.decide(item, "approved")
    publish()
    edited = items.edit(item, title="Frem og tilbake, rettet")
    publish()
    items.edit(edited, title="Frem og tilbake")
    publish()
    items.edit(edited, title="Frem og tilbake, rettet")
    publish()
    publish()

    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["event"] for b in bodies] == [
        "item.published",
        "item.retracted",
        "item.published",
        "item.updated",
        "item.updated",
        "item.updated",
    ]
    assert [b["item"]["title"] for b in bodies if b["event"] != "item.retracted"] == [
        "Frem og tilbake",
        "Frem og tilbake",
        "Frem og tilbake, rettet",
        "Frem og tilbake",
        "Frem og tilbake, rettet",
    ]
    assert len({b["id"] for b in bodies}) == 6 and len(receiver.applied) == 6, "six keys, each applied once"
    assert all(r.state == "sent" for r in deliveries(store))


def test_an_unreachable_receiver_stops_the_channel_for_the_run(tmp_path, store, db_url, items, receiver):
    from channels_support import free_port

    for number in (14, 15, 16):
        items.approve(f"https://bloggen.example/?p={number}", "nb", title=f"Nede {number}")
    waits: list[float] = []
    ctx = context(tmp_path, store, db_url, f"http://127.0.0.1:{free_port()}/hook")
    deliver_approved(ctx, sleep=waits.append)
    assert waits == [] and len(deliveries(store)) == 1, "one event's attempt, then the channel pauses"
    assert any("2 more deliveries wait for the next run" in n for n in ctx.summary.delivery_notes)
    assert ctx.summary.deliveries_failed == 1 and ctx.summary.deliveries_deferred == 2
    make_due(store)
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    assert len(receiver.applied) == 3 and {r.state for r in deliveries(store)} == {"sent"}


def test_dry_run_of_an_update_shows_the_id_that_is_sent(tmp_path, store, db_url, items, receiver):
    """An update's key names the ledger row it follows: the dry run must show that same id."""
    item = items.approve("https://bloggen.example/?p=17", "nb", title="Før")
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    items.edit(item, title="Etter")
    dry = context(tmp_path, store, db_url, receiver.url, dry_run=True)
    (preview,) = deliver_approved(dry, sleep=no_sleep)
    deliver_approved(context(tmp_path, store, db_url, receiver.url), sleep=no_sleep)
    update = receiver.requests[-1]
    previewed, sent = json.loads(preview.body), json.loads(update["body"])
    assert previewed["event"] == sent["event"] == "item.updated"
    assert previewed["id"] == sent["id"] == update["headers"]["Idempotency-Key"] == deliveries(store)[-1].key
