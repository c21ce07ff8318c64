"""Failures bounded and counted honestly (issue 10), against real servers on loopback: an SMTP
server (aiosmtpd) that drops the connection after the final dot, a webhook receiver that fails.

Each item is tried once per run; a channel pauses for the run on a failure of the whole channel
(a message handed over and its answer lost, among others), after ``pause_after_failures`` failures
in a row, or when its time budget is used up; the summary counts every state apart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels_support import (
    MailRecorder,
    deliveries,
    make_context,
    make_due,
    start_smtp,
    write_config,
)

from syndication.deliveries.stage import deliver_approved
from syndication.store import utcnow

SECRET = "unsubscribe-signing-key-7f3a9c"
HOOK_SECRET = "whsec-test-0123456789"


def never_sleep(seconds: float) -> None:
    raise AssertionError(f"the run slept {seconds} s: failures wait for the next run, not inside this one")


class DropsAfterData(MailRecorder):
    """Takes the whole message, then closes the connection instead of answering 250: the client
    cannot know whether the message was accepted."""

    def __init__(self) -> None:
        super().__init__()
        self.dropping = True

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
            )
        if self.dropping:
            server.transport.close()
        return "250 2.0.0 queued"


def news(port: int) -> dict[str, Any]:
    return {
        "type": "newsletter",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "Bloggen <nyhedsbrev@bloggen.example>",
        "list_id": "news.bloggen.example",
        "unsubscribe_url_base": "https://bloggen.example/unsubscribe/news",
        "languages": ["nb"],
        "timeout": 10,
    }


def news_context(tmp_path, store, db_url, port):
    config = write_config(tmp_path, db_url, {"news": news(port)})
    return make_context(store, config, {"SYNDICATION__CHANNELS__NEWS__SECRET": SECRET})


def subscribe(store, *emails):
    from syndication.deliveries import subscribers

    with store.session() as session:
        for address in emails:
            row, _ = subscribers.add(session, address, lang="nb", list_name="news")
            row.created_at = utcnow() - timedelta(days=1)


def test_smtp_drop_after_data_makes_one_message_uncertain_and_pauses_the_channel(
    tmp_path, store, db_url, items
):
    everyone = [f"s{i}@example.no" for i in range(6)]
    subscribe(store, *everyone)
    items.approve("https://bloggen.example/?p=41", "nb", title="Serveren svikter")
    server = DropsAfterData()
    controller = start_smtp(server)
    try:
        ctx = news_context(tmp_path, store, db_url, controller.port)
        deliver_approved(ctx, sleep=never_sleep)

        assert len(server.messages) == 1, "one message handed over, then the channel pauses"
        (row,) = deliveries(store)
        assert row.state == "uncertain" and row.target == server.messages[0][1][0]
        assert "may have arrived" in row.error and "--include-uncertain" in row.error
        summary = ctx.summary
        assert summary.deliveries_uncertain == 1 and summary.deliveries_sent == 0
        assert summary.deliveries_deferred == 5 and summary.deliveries_failed == 0
        (error,) = summary.errors
        assert "handed over" in error.message and error.channel == "news"
        (note,) = summary.delivery_notes
        assert note.startswith("news: stopped sending for this run") and "5 more deliveries" in note
        assert "uncertain 1" in "\n".join(summary.lines())

        # The next run probes with one message; the server still drops: paused again after it.
        ctx = news_context(tmp_path, store, db_url, controller.port)
        deliver_approved(ctx, sleep=never_sleep)
        assert len(server.messages) == 2 and ctx.summary.deliveries_deferred == 4
        assert ctx.summary.deliveries_uncertain == 2, "this run's and the earlier one"
        assert len(ctx.summary.errors) == 1, "only this run's failure is an error"

        # The server fixed: the rest go out; the uncertain two are never resent automatically.
        server.dropping = False
        ctx = news_context(tmp_path, store, db_url, controller.port)
        deliver_approved(ctx, sleep=never_sleep)
    finally:
        controller.stop()
    assert server.per_recipient() == dict.fromkeys(everyone, 1), "everyone once, nobody twice"
    states = sorted(r.state for r in deliveries(store))
    assert states == ["sent"] * 4 + ["uncertain"] * 2
    assert ctx.summary.deliveries_sent == 4 and ctx.summary.deliveries_uncertain == 2
    assert not ctx.summary.errors


def hook_context(tmp_path, store, db_url, url, *, secret=HOOK_SECRET, deliveries_settings=None, **extra):
    channel = {"type": "webhook", "url": url, "languages": ["nb"], **extra}
    config = write_config(tmp_path, db_url, {"hook": channel}, deliveries=deliveries_settings)
    return make_context(store, config, {"SYNDICATION__CHANNELS__HOOK__SECRET": secret})


def approve_many(items, count: int, start: int = 100) -> None:
    for n in range(start, start + count):
        items.approve(f"https://bloggen.example/?p={n}", "nb", title=f"Innlegg {n}")


def test_five_failures_in_a_row_pause_the_channel_each_item_tried_once(
    tmp_path, store, db_url, items, receiver
):
    receiver.fail_next = 1000
    approve_many(items, 8)
    ctx = hook_context(tmp_path, store, db_url, receiver.url)
    deliver_approved(ctx, sleep=never_sleep)

    assert len(receiver.requests) == 5, "one attempt per item, five in a row, then the channel pauses"
    assert ctx.summary.deliveries_failed == 5 and ctx.summary.deliveries_deferred == 3
    (note,) = ctx.summary.delivery_notes
    assert "5 failures in a row" in note and "503" in note and "3 more deliveries" in note
    rows = deliveries(store)
    assert len(rows) == 5 and {r.attempts for r in rows} == {1}

    receiver.fail_next = 0
    make_due(store)
    ctx = hook_context(tmp_path, store, db_url, receiver.url)
    deliver_approved(ctx, sleep=never_sleep)
    assert ctx.summary.deliveries_sent == 8 and len(receiver.applied) == 8


def test_the_breaker_limit_comes_from_the_config_and_a_success_resets_it(
    tmp_path, store, db_url, items, receiver
):
    receiver.fail_next = 2
    approve_many(items, 6)
    settings = {"pause_after_failures": 3}
    ctx = hook_context(tmp_path, store, db_url, receiver.url, deliveries_settings=settings)
    deliver_approved(ctx, sleep=never_sleep)
    assert ctx.summary.deliveries_failed == 2 and ctx.summary.deliveries_sent == 4
    assert not ctx.summary.delivery_notes, "two failures, then successes: under the limit of three"

    receiver.fail_next = 1000
    approve_many(items, 5, start=200)
    ctx = hook_context(tmp_path, store, db_url, receiver.url, deliveries_settings=settings)
    deliver_approved(ctx, sleep=never_sleep)
    assert ctx.summary.deliveries_failed == 3 and ctx.summary.deliveries_deferred == 2
    assert "3 failures in a row" in ctx.summary.delivery_notes[0]


class StepClock:
    """A clock that moves ``step`` seconds each time it is read (one read per send)."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_used_up_time_budget_leaves_the_rest_for_the_next_run(tmp_path, store, db_url, items, receiver):
    approve_many(items, 6)
    settings = {"channel_time_budget_seconds": 250}
    ctx = hook_context(tmp_path, store, db_url, receiver.url, deliveries_settings=settings)
    deliver_approved(ctx, sleep=never_sleep, clock=StepClock(100))
    # Sends start at 0, 100 and 200 s into the channel's budget; at 300 s it is used up.
    assert ctx.summary.deliveries_sent == 3 and ctx.summary.deliveries_deferred == 3
    assert len(deliveries(store)) == 3, "what is left is not even claimed"
    assert "time budget of 4 min 10 s for one run is used up" in ctx.summary.delivery_notes[0]
    assert not ctx.summary.errors, "a budget used up is no failure"
    ctx = hook_context(tmp_path, store, db_url, receiver.url, deliveries_settings=settings)
    deliver_approved(ctx, sleep=never_sleep, clock=StepClock(100))
    assert ctx.summary.deliveries_sent == 3 and ctx.summary.deliveries_deferred == 0
    assert len(receiver.applied) == 6


def test_retry_after_is_a_not_before_for_the_next_run(tmp_path, store, db_url, items):
    from http.server import BaseHTTPRequestHandler

    from channels_support import HttpServer

    posts: list[str] = []

    class Busy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            posts.append(self.path)
            self.send_response(503)
            self.send_header("Retry-After", "120")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HttpServer(Busy)
    try:
        items.approve("https://bloggen.example/?p=51", "nb", title="Vent litt")
        before = utcnow()
        ctx = hook_context(tmp_path, store, db_url, server.url + "/hook")
        deliver_approved(ctx, sleep=never_sleep)
        assert len(posts) == 1, "no second attempt inside the run"
        (row,) = deliveries(store)
        assert row.state == "failed" and row.error_kind == "transient"
        assert row.next_attempt_at is not None and row.next_attempt_at >= before + timedelta(seconds=120)
        ctx = hook_context(tmp_path, store, db_url, server.url + "/hook")
        deliver_approved(ctx, sleep=never_sleep)
        assert len(posts) == 1, "not before the time the partner asked for"
        assert ctx.summary.deliveries_waiting_retry == 1 and ctx.summary.deliveries_skipped == 0
        assert not ctx.summary.errors, "waiting is no failure of this run"
    finally:
        server.stop()


def test_summary_never_calls_failures_already_done(tmp_path, store, db_url, items, receiver):
    approve_many(items, 3)
    wrong = "not-the-partners-secret"
    ctx = hook_context(tmp_path, store, db_url, receiver.url, secret=wrong)
    deliver_approved(ctx, sleep=never_sleep)
    # A refused signature is the channel's failure: one request, the rest left for the next run.
    assert ctx.summary.deliveries_failed == 1 and ctx.summary.deliveries_failed_terminal == 1
    assert ctx.summary.deliveries_deferred == 2
    assert "failed 1 (0 transient, 1 terminal)" in "\n".join(ctx.summary.lines())

    ctx = hook_context(tmp_path, store, db_url, receiver.url, secret=wrong)
    deliver_approved(ctx, sleep=never_sleep)
    summary = ctx.summary
    assert summary.deliveries_waiting_fix == 1 and summary.deliveries_skipped == 0
    assert summary.deliveries_failed == 1 and summary.deliveries_deferred == 1
    text = "\n".join(summary.lines())
    assert "already sent 0" in text and "waiting for a fix 1" in text and "left for the next run 1" in text
    assert summary.as_dict()["deliveries_waiting_fix"] == 1


def test_newsletter_edits_and_retractions_count_as_not_mailed(tmp_path, store, db_url, items, mail):
    subscribe(store, "ase@example.no", "bo@example.no")
    item = items.approve("https://bloggen.example/?p=61", "nb", title="Første utgave")
    ctx = news_context(tmp_path, store, db_url, mail.port)
    deliver_approved(ctx, sleep=never_sleep)
    assert ctx.summary.deliveries_sent == 2

    items.edit(item, title="Rettet utgave")
    ctx = news_context(tmp_path, store, db_url, mail.port)
    deliver_approved(ctx, sleep=never_sleep)
    assert len(mail.messages) == 2, "no e-mail for an edit"
    assert ctx.summary.deliveries_sent == 0 and ctx.summary.deliveries_updated == 0
    assert ctx.summary.deliveries_not_mailed == 2
    assert "not sent 2 (newsletter: edits are not re-mailed)" in "\n".join(ctx.summary.lines())

    items.retract_post(item.post_key)
    ctx = news_context(tmp_path, store, db_url, mail.port)
    deliver_approved(ctx, sleep=never_sleep)
    assert len(mail.messages) == 2, "no e-mail for a retraction"
    assert ctx.summary.deliveries_not_mailed == 2 and ctx.summary.deliveries_updated == 0
