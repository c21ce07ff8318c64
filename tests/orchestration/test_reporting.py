"""What a run reports (markdown summary, review table, progress), who it notifies, and how its
log lines read — the content, built without a Prefect server."""

from __future__ import annotations

import logging
import threading
from dataclasses import fields
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest

from syndication.orchestration.artifacts import overall_percent, review_rows, review_url, summary_markdown
from syndication.orchestration.email_block import EmailNotification
from syndication.orchestration.notify import FAILURE_EVENT, REVIEW_EVENT, notices
from syndication.orchestration.runlog import ItemFormatter, RunLogHandler, item_prefix
from syndication.pipeline import Progress
from syndication.review.queries import QueueItem
from syndication.settings import load_settings
from syndication.summary import RunSummary


def queue_item(n: int, title: str = "Netværk er guld") -> QueueItem:
    return QueueItem(
        translation_id=100 + n,
        post_id=n,
        post_key=f"https://blog.example.dk/?p={n}",
        url=f"https://blog.example.dk/{n}/",
        title=title,
        lang="nb",
        status="machine_translated",
        kind="post",
        feed=None,
        revision="abc",
        is_current=True,
        segments=12,
        open_segments=3,
        flagged_segments=1,
        engine="apertium",
        created_at=datetime(2026, 11, 27, 8, 30, tzinfo=UTC),
        decided_by=None,
        decided_at=None,
        error=None,
    )


def test_summary_markdown_has_every_count_of_run_json():
    summary = RunSummary(
        feeds_polled=1, entries_new=2, segments_translated=31, deliveries_sent=4, awaiting_review=1
    )
    summary.error(
        "deliver", "HTTP 401 from partner", post="https://blog.example.dk/?p=1", lang="nb", channel="wp"
    )
    text = summary_markdown(
        summary,
        flow="syndicate",
        waiting=[queue_item(7, "Pipe | in title")],
        base_url="https://review.example.dk",
        parameters={"languages": ["nb"], "dry_run": False},
    )
    for f in fields(RunSummary):
        if f.type in ("int", int):
            assert f"| {f.name} | {getattr(summary, f.name)} |" in text
    assert "Parameters: `languages=['nb']`" in text and "dry_run" not in text.split("```")[0]
    assert (
        "**deliver** [terminal] HTTP 401 from partner (post https://blog.example.dk/?p=1, language nb" in text
    )
    assert "[Pipe \\| in title](https://review.example.dk/items/107) — nb" in text


def test_review_rows_link_into_the_review_app_or_name_the_command():
    rows = review_rows([queue_item(1), queue_item(2)], "https://review.example.dk")
    assert rows[0]["review"] == "https://review.example.dk/items/101"
    assert rows[0]["open segments"] == "3/12" and rows[0]["QA flags"] == 1
    assert review_rows([queue_item(1)], None)[0]["review"] == "syndicate review show 1 --lang nb"


def test_review_url_from_the_orchestration_settings(tmp_path):
    config = tmp_path / "syndication.toml"
    config.write_text('[orchestration]\nreview_url = "https://review.example.dk/"\n')
    assert review_url(load_settings(config, environ={})) == "https://review.example.dk"


def test_progress_is_one_figure_from_pages_to_posts():
    assert overall_percent(Progress("pages", 1, 4)) == 2.5
    assert overall_percent(Progress("posts", 0, 50)) == 10.0
    assert overall_percent(Progress("posts", 25, 50)) == 55.0
    assert overall_percent(Progress("posts", 0, 0)) == 100.0
    creeping = [overall_percent(Progress("pages", n, None)) for n in (1, 10, 100)]
    assert creeping == sorted(creeping) and creeping[-1] < 10


def test_notices_for_newly_queued_items_and_failures():
    quiet = RunSummary(translations_new=2, auto_approved=2, awaiting_review=5)
    assert notices(quiet, flow="syndicate") == []  # nothing new for an editor: no repeat message

    summary = RunSummary(translations_new=3, auto_approved=1, awaiting_review=6)
    summary.error("deliver", "401 Unauthorized", post="https://b.dk/?p=9", lang="sv", channel="partner")
    found = notices(summary, flow="syndicate", base_url="https://review.example.dk")
    assert [n.event for n in found] == [REVIEW_EVENT, FAILURE_EVENT]
    assert found[0].subject == "2 new translation(s) wait for review"
    assert "6 item(s) are waiting" in found[0].body and "https://review.example.dk/" in found[0].body
    assert "post https://b.dk/?p=9 (sv) to partner: 401 Unauthorized" in found[1].body
    assert found[1].payload["items"] == [
        {"stage": "deliver", "post": "https://b.dk/?p=9", "lang": "sv", "channel": "partner"}
    ]
    assert [n.event for n in notices(summary, flow="x", notify_on=["failure"])] == [FAILURE_EVENT]
    assert found[1].subject == "1 delivery failed"


def test_every_failure_of_the_run_is_notified_not_only_terminal_deliveries():
    """A transient delivery failure, a feed that did not answer and a page that 404s are failures
    of the run too: the default notification says so ("3 deliveries and 1 feed failed")."""
    summary = RunSummary()
    summary.error("poll", "connection refused", post="https://b.dk/feed/")
    summary.error("extract", "HTTP 404", post="https://b.dk/?p=3")
    for n in range(3):
        summary.error("deliver", "HTTP 503", post=f"https://b.dk/?p={n}", lang="nb", channel="partner")
    summary.errors[-1].kind = "transient"
    [notice] = notices(summary, flow="publish")
    assert notice.event == FAILURE_EVENT
    assert notice.subject == "1 feed, 1 page and 3 deliveries failed"
    assert notice.payload["by_stage"] == {"poll": 1, "extract": 1, "deliver": 3}
    assert notice.payload["terminal"] == 4
    assert "- extract https://b.dk/?p=3: HTTP 404" in notice.body
    assert "post https://b.dk/?p=2 (nb) to partner: HTTP 503" in notice.body


def test_log_lines_name_post_language_and_channel():
    record = logging.LogRecord("syndication.x", logging.INFO, __file__, 1, "sent %s", ("ok",), None)
    record.post, record.lang = "https://b.dk/?p=1", "nb"
    assert item_prefix(record) == "post=https://b.dk/?p=1 lang=nb channel=-"
    assert (
        ItemFormatter().format(record)
        == "INFO syndication.x: post=https://b.dk/?p=1 lang=nb channel=- | sent ok"
    )


def test_run_log_handler_forwards_only_its_own_threads_records(caplog):
    target = logging.getLogger("test.run_logger")
    handler = RunLogHandler(target, threading.get_ident())
    source = logging.getLogger("syndication.test_runlog")
    source.addHandler(handler)
    source.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.INFO, logger="test.run_logger"):
            source.info("mine", extra={"channel": "outbox"})
            other = threading.Thread(target=lambda: source.info("theirs"))
            other.start()
            other.join()
    finally:
        source.removeHandler(handler)
    forwarded = [r.getMessage() for r in caplog.records if r.name == "test.run_logger"]
    assert forwarded == ["post=- lang=- channel=outbox | mine"]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    from tests.deliveries.channels.channels_support import MailRecorder, free_port

    recorder = MailRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, recorder
    controller.stop()


def test_email_block_sends_a_real_message(smtp_server):
    controller, recorder = smtp_server
    block = EmailNotification(
        host="127.0.0.1",
        port=controller.port,
        security="none",
        from_addr="Syndication <robot@bloggen.example>",
        to=["redaktion@bloggen.example", "vagt@bloggen.example"],
    )
    block.notify("2 oversættelser venter på gennemsyn.", subject="Klar til gennemsyn: æøå")
    raw = recorder.received_by("redaktion@bloggen.example")
    assert len(raw) == 1 and len(recorder.received_by("vagt@bloggen.example")) == 1
    message = message_from_bytes(raw[0], policy=default)
    assert message["Subject"] == "[syndication] Klar til gennemsyn: æøå"
    assert b"=?utf-8?" in raw[0].split(b"\r\n\r\n", 1)[0]  # RFC 2047 on the wire
    assert message.get_content().strip() == "2 oversættelser venter på gennemsyn."
    assert message["Auto-Submitted"] == "auto-generated"
