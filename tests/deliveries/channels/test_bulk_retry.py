"""Bulk recovery: ``syndicate deliveries retry`` by filter (a real webhook receiver that refused a
batch, then was fixed; a real SMTP server for uncertain e-mails) and ``deliveries list`` by pages."""

from __future__ import annotations

import json
from datetime import timedelta

from channels_support import age_claims, deliveries, make_context, no_sleep, write_config
from click.testing import CliRunner
from sqlalchemy import update
from test_channels_newsletter import SECRET as NEWS_SECRET
from test_channels_newsletter import news_config, subscribe
from test_channels_webhook import SECRET, hook_config

from syndication.cli import main
from syndication.deliveries.stage import deliver_approved
from syndication.store import Delivery, Post, utcnow


def cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_a_refused_batch_is_retried_by_channel_after_a_preview(tmp_path, store, db_url, items, receiver):
    """The partner refused 12 events (422), then fixed its side: one command, no ids typed, queues
    all 12 — after showing them, since they are more than 10 — and each reaches the partner once."""
    config = write_config(tmp_path, db_url, {"partner_hook": hook_config(receiver.url)})
    env = {"SYNDICATION__CHANNELS__PARTNER_HOOK__SECRET": SECRET}
    for number in range(1, 13):
        items.approve(f"https://bloggen.example/?p={number}", "nb", title=f"Innlegg {number}")
    receiver.fail_status, receiver.fail_next = 422, 12
    # The channel's breaker pauses it after 5 failures in a row: three runs refuse 5 + 5 + 2.
    for _run in range(3):
        deliver_approved(make_context(store, config, env), sleep=no_sleep)
    assert [(r.state, r.error_kind) for r in deliveries(store)] == [("failed", "terminal")] * 12
    assert receiver.applied == {}

    selection = ["--channel", "partner_hook", "--state", "failed-terminal"]
    preview = cli("deliveries", "retry", "--config", str(config), *selection)
    assert preview.exit_code == 0, preview.output
    assert "12 deliveries would be queued (more than 10): nothing changed; add --yes" in preview.output
    assert "https://bloggen.example/?p=7" in preview.output, "the table names each post"
    assert {r.state for r in deliveries(store)} == {"failed"}, "a preview changes nothing"

    queued = cli("deliveries", "retry", "--config", str(config), "--channel", "partner_hook", "--yes")
    assert "12 delivery(ies) queued for the next publish" in queued.output
    deliver_approved(make_context(store, config, env), sleep=no_sleep)
    deliver_approved(make_context(store, config, env), sleep=no_sleep)
    assert len(receiver.applied) == 12 and len(receiver.requests) == 24, "each refused once, applied once"
    assert {r.state for r in deliveries(store)} == {"sent"}

    again = cli("deliveries", "retry", "--config", str(config), "--all")
    assert "nothing to retry" in again.output


def test_uncertain_emails_are_resent_only_when_asked_saying_who_may_get_two(
    tmp_path, store, db_url, items, mail
):
    subscribe(store, "a@example.no", "b@example.no", "c@example.no", when=utcnow() - timedelta(days=1))
    items.approve("https://bloggen.example/?p=40", "nb", title="Usikker")
    config = write_config(tmp_path, db_url, {"news": news_config(mail.port)})
    env = {"SYNDICATION__CHANNELS__NEWS__SECRET": NEWS_SECRET}
    deliver_approved(make_context(store, config, env), sleep=no_sleep)
    assert mail.per_recipient() == {"a@example.no": 1, "b@example.no": 1, "c@example.no": 1}
    # Two sends the server accepted but a killed worker never recorded: uncertain after the lease.
    with store.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.target.in_(["a@example.no", "b@example.no"]))
            .values(state="sending", claimed_at=utcnow(), sent_at=None)
        )
    age_claims(store)
    deliver_approved(make_context(store, config, env), sleep=no_sleep)
    assert sorted(r.state for r in deliveries(store)) == ["sent", "uncertain", "uncertain"]

    refused = cli("deliveries", "retry", "--config", str(config), "--all")
    assert "2 uncertain e-mail(s) left out" in refused.output
    assert "--include-uncertain resends them (2 recipient(s) may get a second copy)" in refused.output
    assert "nothing to retry" in refused.output
    by_id = cli("deliveries", "retry", "--config", str(config), *[str(r.id) for r in deliveries(store)])
    assert "left out" in by_id.output, "naming the ids is not enough either"
    deliver_approved(make_context(store, config, env), sleep=no_sleep)
    assert len(mail.messages) == 3, "nothing resent without --include-uncertain"

    included = cli("deliveries", "retry", "--config", str(config), "--all", "--include-uncertain")
    assert "2 uncertain e-mail(s) included: 2 recipient(s) may get a second copy" in included.output
    assert "2 delivery(ies) queued" in included.output
    deliver_approved(make_context(store, config, env), sleep=no_sleep)
    assert mail.per_recipient() == {"a@example.no": 2, "b@example.no": 2, "c@example.no": 1}


def test_list_pages_instead_of_cutting_at_200_rows(tmp_path, store, db_url):
    config = write_config(tmp_path, db_url, {"partner_hook": hook_config("https://partner.example/hook")})
    now = utcnow()
    with store.session() as session:
        post = Post(post_key="https://bloggen.example/?p=1", url="https://bloggen.example/indlaeg-1")
        session.add(post)
        session.flush()
        session.add_all(
            Delivery(
                key=f"k{number}",
                post_id=post.id,
                revision="r",
                lang="nb",
                channel="partner_hook" if number % 2 else "other",
                target=f"t{number}",
                state="failed" if number % 2 else "sent",
                error_kind="terminal" if number % 2 else None,
                updated_at=now - timedelta(days=number),
            )
            for number in range(1, 461)
        )

    first = cli("deliveries", "list", "--config", str(config), "--channel", "partner_hook")
    lines = first.output.splitlines()
    assert len(lines) == 51 and lines[-1] == "180 more: use --offset 50", "230 rows: 50 shown, 180 more"
    last = cli("deliveries", "list", "--config", str(config), "--state", "failed-terminal", "--offset", "200")
    assert len(last.output.splitlines()) == 30 and "more" not in last.output
    recent = cli("deliveries", "list", "--config", str(config), "--since", "10d", "--json", "--limit", "3")
    data = json.loads(recent.output)
    assert data["total"] == 9 and data["more"] == 6 and len(data["rows"]) == 3
    assert cli("deliveries", "list", "--config", str(config), "--post", "1").output.endswith(
        "410 more: use --offset 50\n"
    )
    bad = CliRunner().invoke(main, ["deliveries", "list", "--config", str(config), "--since", "last week"])
    assert bad.exit_code != 0 and "give a date (2026-12-01)" in bad.output
