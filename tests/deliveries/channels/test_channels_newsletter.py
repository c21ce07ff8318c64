"""The newsletter channel against a real SMTP server (aiosmtpd on loopback), through the real deliver
stage and ledger. Messages are checked by parsing the bytes the server received."""

from __future__ import annotations

import email
import json
import os
import signal
import ssl
import subprocess
import sys
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
import requests
from channels_support import (
    UvicornServer,
    age_claims,
    deliveries,
    item_to_json,
    make_context,
    make_due,
    no_sleep,
    self_signed_tls,
    start_smtp,
    write_config,
)
from sqlalchemy import update

from syndication.deliveries import stage, subscribers
from syndication.deliveries.stage import deliver_approved
from syndication.deliveries.unsubscribe import unsubscribe_routes
from syndication.models import Image
from syndication.store import Delivery, utcnow

SECRET = "unsubscribe-signing-key-7f3a9c"
HERE = Path(__file__).parent


def news_config(smtp_port: int, **extra):
    config = {
        "type": "newsletter",
        "host": "127.0.0.1",
        "port": smtp_port,
        "security": "none",
        "from": "Bloggen <nyhedsbrev@bloggen.example>",
        "reply_to": "redaktion@bloggen.example",
        "list_id": "news.bloggen.example",
        "list_title": "Bloggen",
        "unsubscribe_url_base": "https://bloggen.example/unsubscribe/news",
        "unsubscribe_mailto": "afmeld@bloggen.example",
        "languages": ["nb", "sv"],
    }
    config.update(extra)
    return config


@pytest.fixture
def setup(tmp_path, store, db_url, mail):
    def build(*, env=None, dry_run=False, **extra):
        config = write_config(tmp_path, db_url, {"news": news_config(mail.port, **extra)})
        environment = {"SYNDICATION__CHANNELS__NEWS__SECRET": SECRET, **(env or {})}
        return make_context(store, config, environment, dry_run=dry_run)

    return build


def subscribe(store, *emails, lang="nb", when=None):
    with store.session() as session:
        for address in emails:
            row, _ = subscribers.add(session, address, lang=lang, list_name="news")
            if when is not None:
                row.created_at = when
    return list(emails)


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=default_policy)


def test_one_message_per_subscriber_over_one_connection_with_list_headers(setup, store, items, mail):
    nb = subscribe(
        store, "ase@example.no", "Bjorn@Example.no", "cecilie@example.no", when=utcnow() - timedelta(days=1)
    )
    sv = subscribe(store, "sven@example.se", lang="sv", when=utcnow() - timedelta(days=1))
    items.approve(
        "https://bloggen.example/?p=11",
        "nb",
        title="Små skritt: æøå i norsk",
        html='<p>Første avsnitt med <a href="/om/">lenke</a>.</p><script>alert(1)</script>'
        "<ul><li>én</li><li>to</li></ul>",
        image=Image(src="/bilder/hav.jpg", alt="Havet ved Skagen"),
    )
    items.approve("https://bloggen.example/?p=11", "sv", title="Små steg på svenska")
    ctx = setup()

    deliver_approved(ctx, sleep=no_sleep)

    assert mail.per_recipient() == {
        "ase@example.no": 1,
        "bjorn@example.no": 1,
        "cecilie@example.no": 1,
        "sven@example.se": 1,
    }
    assert mail.connections == 1, "one SMTP connection carries the whole batch"
    assert ctx.summary.deliveries_sent == 4 and not ctx.summary.errors

    raw = mail.received_by("ase@example.no")[0]
    message = parse(raw)
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert b"Subject: =?utf-8?" in header_block, "non-ASCII subject is an RFC 2047 encoded-word"
    assert b"\r\nList-Unsubscribe: <https://bloggen.example/unsubscribe/news?t=" in header_block, (
        "mail clients read the one-click URL as it stands on the wire: never an encoded-word"
    )
    assert message["Subject"] == "Små skritt: æøå i norsk"
    assert message["From"] == "Bloggen <nyhedsbrev@bloggen.example>"
    assert message["To"] == "ase@example.no"
    assert message["Reply-To"] == "redaktion@bloggen.example"
    assert message["List-Id"] == "Bloggen (nb) <nb.news.bloggen.example>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    targets = [part.strip().strip("<>") for part in message["List-Unsubscribe"].split(",")]
    assert targets[0].startswith("https://bloggen.example/unsubscribe/news?t=")
    assert targets[1].startswith("mailto:afmeld@bloggen.example?subject=unsubscribe%20")
    assert message.get_content_type() == "multipart/alternative"
    plain, html_part = message.get_payload()
    assert plain.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    text, html_body = plain.get_content(), html_part.get_content()
    assert "Første avsnitt med lenke <https://bloggen.example/om/>." in text
    assert "- én" in text and "- to" in text
    assert "<script" not in html_body and "alert(1)" not in html_body
    assert 'href="https://bloggen.example/om/"' in html_body, "links are absolute"
    assert (
        'src="https://bloggen.example/bilder/hav.jpg"' in html_body and 'alt="Havet ved Skagen"' in html_body
    )
    assert 'style="' in html_body and "<style" not in html_body, "CSS is inline"
    assert "https://bloggen.example/indlaeg-11" in html_body, "attribution links the original"
    assert "Meld deg av nyhetsbrevet" in html_body and targets[0].replace("&", "&amp;") in html_body

    sven = parse(mail.received_by("sven@example.se")[0])
    assert sven["Subject"] == "Små steg på svenska" and sven["List-Id"].endswith("<sv.news.bloggen.example>")
    assert "Avsluta prenumerationen" in sven.get_payload()[1].get_content()

    ids = {parse(data)["Message-ID"] for _, _, data in mail.messages}
    assert len(ids) == 4, "one Message-ID per (issue, subscriber)"
    rows = deliveries(store, channel="news")
    assert {r.state for r in rows} == {"sent"} and {r.remote_id for r in rows} == ids
    deliver_approved(setup(), sleep=no_sleep)
    assert len(mail.messages) == 4, "a second run sends nothing"
    assert len(nb) == 3 and len(sv) == 1


def test_message_id_is_deterministic_per_issue_and_subscriber(setup, store, items, mail):
    subscribe(store, "ase@example.no", when=utcnow() - timedelta(days=1))
    items.approve("https://bloggen.example/?p=12", "nb", title="Stabil")
    first = deliver_approved(setup(dry_run=True), sleep=no_sleep)
    second = deliver_approved(setup(dry_run=True), sleep=no_sleep)
    assert [p.meta["message_id"] for p in first] == [p.meta["message_id"] for p in second]
    deliver_approved(setup(), sleep=no_sleep)
    assert parse(mail.messages[0][2])["Message-ID"] == first[0].meta["message_id"]


def test_451_for_part_of_a_batch_delivers_the_rest_and_retries_the_refused(setup, store, items, mail):
    subscribe(store, "a@example.no", "b@example.no", "c@example.no", when=utcnow() - timedelta(days=1))
    mail.refuse_temporarily["b@example.no"] = 1
    items.approve("https://bloggen.example/?p=13", "nb", title="Grålisting")

    ctx = setup()
    deliver_approved(ctx, sleep=no_sleep)
    assert mail.per_recipient() == {"a@example.no": 1, "c@example.no": 1}
    assert mail.rcpt_attempts["b@example.no"] == 1, "one attempt per run; backoff is across runs"
    (failed,) = deliveries(store, state="failed")
    assert failed.target == "b@example.no" and failed.error_kind == "transient"
    assert "451" in failed.error and "refused the address b@example.no" in failed.error

    ctx = setup()
    deliver_approved(ctx, sleep=no_sleep)  # backoff not over yet: left alone
    assert mail.rcpt_attempts["b@example.no"] == 1 and ctx.summary.deliveries_waiting_retry == 1

    make_due(store)
    deliver_approved(setup(), sleep=no_sleep)
    assert mail.per_recipient() == {"a@example.no": 1, "b@example.no": 1, "c@example.no": 1}, (
        "nobody gets two"
    )
    assert {r.state for r in deliveries(store, channel="news")} == {"sent"}
    assert mail.connections == 2, "one connection per run that sends; the idle run never connected"


def test_an_unreachable_server_stops_the_channel_for_the_run_and_loses_nothing(
    tmp_path, store, db_url, items, mail
):
    """SMTP down: one subscriber's attempt shows it, then the run stops sending to that server instead
    of connecting once per subscriber; everyone gets the issue on a later run."""
    from channels_support import free_port

    everyone = subscribe(store, *(f"s{i}@example.no" for i in range(5)), when=utcnow() - timedelta(days=1))
    items.approve("https://bloggen.example/?p=19", "nb", title="Serveren er nede")
    environment = {"SYNDICATION__CHANNELS__NEWS__SECRET": SECRET}
    down = write_config(tmp_path, db_url, {"news": news_config(free_port())})  # nothing listens there
    waits: list[float] = []
    ctx = make_context(store, down, environment)
    deliver_approved(ctx, sleep=waits.append)

    assert waits == [], "no waiting inside the run"
    (failed,) = deliveries(store)
    assert failed.state == "failed" and failed.error_kind == "transient" and "cannot reach" in failed.error
    (note,) = ctx.summary.delivery_notes
    assert note.startswith("news: stopped sending") and "4 more deliveries wait for the next run" in note
    assert ctx.summary.deliveries_deferred == 4

    make_due(store)
    deliver_approved(setup_context(tmp_path, store, db_url, mail.port, environment), sleep=no_sleep)
    assert mail.per_recipient() == dict.fromkeys(everyone, 1), "everyone, once"
    assert {r.state for r in deliveries(store)} == {"sent"}


def setup_context(tmp_path, store, db_url, port, environment):
    return make_context(store, write_config(tmp_path, db_url, {"news": news_config(port)}), environment)


def test_550_is_terminal_for_that_address_only(setup, store, items, mail):
    subscribe(store, "gone@example.no", "here@example.no", when=utcnow() - timedelta(days=1))
    mail.refuse_permanently.add("gone@example.no")
    items.approve("https://bloggen.example/?p=14", "nb", title="Adresse borte")
    ctx = setup()
    deliver_approved(ctx, sleep=no_sleep)
    assert mail.per_recipient() == {"here@example.no": 1}
    (failed,) = deliveries(store, state="failed")
    assert failed.error_kind == "terminal" and mail.rcpt_attempts["gone@example.no"] == 1
    assert "550" in failed.error and "syndicate subscribers remove" in failed.error
    make_due(store)
    deliver_approved(setup(), sleep=no_sleep)
    assert mail.rcpt_attempts["gone@example.no"] == 1, "terminal failures wait for an operator"


def test_crash_after_the_server_accepted_is_reported_never_resent(
    tmp_path, setup, store, db_url, items, mail
):
    subscribe(store, "a@example.no", "b@example.no", "c@example.no", when=utcnow() - timedelta(days=1))
    item = items.approve("https://bloggen.example/?p=15", "nb", title="Krasj")
    config = write_config(tmp_path, db_url, {"news": news_config(mail.port)})
    items_path = tmp_path / "items.json"
    items_path.write_text(json.dumps({item.translation_id: item_to_json(item)}))
    env = {**os.environ, "SYNDICATION__CHANNELS__NEWS__SECRET": SECRET, "PYTHONPATH": _pythonpath()}

    child = subprocess.run(
        [sys.executable, str(HERE / "crash_child.py"), str(config), str(items_path), "news", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    assert mail.per_recipient() == {"a@example.no": 1}, "the server had the first message when we died"
    assert [r.state for r in deliveries(store)] == ["sending"]

    age_claims(store)  # the killed worker's lease runs out
    ctx = setup()
    deliver_approved(ctx, sleep=no_sleep)
    assert mail.per_recipient() == {"a@example.no": 1, "b@example.no": 1, "c@example.no": 1}, "no second copy"
    states = {r.target: r.state for r in deliveries(store)}
    assert states == {"a@example.no": "uncertain", "b@example.no": "sent", "c@example.no": "sent"}
    assert any("uncertain" in e.message for e in ctx.summary.errors)
    deliver_approved(setup(), sleep=no_sleep)
    assert len(mail.messages) == 3


def test_starttls_with_login_and_a_wrong_password_is_terminal_without_leaking_it(
    tmp_path, setup, store, items
):
    from aiosmtpd.smtp import AuthResult, LoginPassword
    from channels_support import MailRecorder

    cert, key = self_signed_tls(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, data):
        ok = (
            isinstance(data, LoginPassword)
            and data.login == b"news"
            and data.password == b"right-horse-battery"
        )
        logins.append(ok)
        return AuthResult(success=ok, handled=False)

    logins: list[bool] = []

    recorder = MailRecorder()
    controller = start_smtp(
        recorder, tls_context=tls, require_starttls=True, authenticator=authenticator, auth_require_tls=True
    )
    try:
        subscribe(
            store, "ase@example.no", "bo@example.no", "cy@example.no", when=utcnow() - timedelta(days=1)
        )
        items.approve("https://bloggen.example/?p=16", "nb", title="Kryptert")
        wrong = "wrong-password-d41d8cd9"
        tls_settings = {
            "port": controller.port,
            "security": "starttls",
            "username": "news",
            "ca_file": str(cert),
            "timeout": 10,
        }
        ctx = setup(env={"SYNDICATION__CHANNELS__NEWS__PASSWORD": wrong}, **tls_settings)
        deliver_approved(ctx, sleep=no_sleep)
        assert recorder.messages == []
        # smtplib tries each mechanism the server offers (PLAIN, LOGIN) on one connection; what matters
        # is one connection's worth per run, not one per subscriber (servers lock accounts out).
        assert 1 <= len(logins) <= 2 and not any(logins)
        (failed,) = deliveries(store)
        assert failed.error_kind == "terminal"
        assert "rejected the credentials for news" in failed.error
        assert "SYNDICATION__CHANNELS__NEWS__PASSWORD" in failed.error
        with store.engine.connect() as connection:
            dump = "\n".join(
                str(tuple(row)) for row in connection.exec_driver_sql("SELECT * FROM deliveries")
            )
        assert wrong not in dump and wrong not in str(ctx.summary.as_dict())

        with store.session() as session:
            session.execute(update(Delivery).values(state="pending", error=None, error_kind=None))
        ctx = setup(env={"SYNDICATION__CHANNELS__NEWS__PASSWORD": "right-horse-battery"}, **tls_settings)
        deliver_approved(ctx, sleep=no_sleep)
        assert recorder.per_recipient() == {"ase@example.no": 1, "bo@example.no": 1, "cy@example.no": 1}
    finally:
        controller.stop()


def test_digest_batches_everything_since_the_last_issue(setup, store, items, mail):
    subscribe(store, "ase@example.no", "bo@example.no", when=utcnow() - timedelta(days=2))
    items.approve(
        "https://bloggen.example/?p=21",
        "nb",
        title="Første innlegg",
        approved_at=utcnow() - timedelta(hours=3),
    )
    items.approve(
        "https://bloggen.example/?p=22",
        "nb",
        title="Andre innlegg",
        approved_at=utcnow() - timedelta(hours=2),
    )

    ctx = setup(mode="digest", digest_interval_hours=24)
    deliver_approved(ctx, sleep=no_sleep)
    assert mail.per_recipient() == {"ase@example.no": 1, "bo@example.no": 1}, "one message per subscriber"
    first = parse(mail.received_by("ase@example.no")[0])
    assert first["Subject"] == "Bloggen: 2 nye innlegg"
    html_body = first.get_payload()[1].get_content()
    assert "Nytt siden sist" in html_body
    assert html_body.index("Første innlegg") < html_body.index("Andre innlegg"), "oldest first"
    assert "Første innlegg" in first.get_payload()[0].get_content()
    assert len(deliveries(store, state="sent")) == 4, "each item keeps its own ledger row per subscriber"

    items.approve("https://bloggen.example/?p=23", "nb", title="Tredje innlegg")
    deliver_approved(setup(mode="digest", digest_interval_hours=24), sleep=no_sleep)
    assert len(mail.messages) == 2, "the next issue is not due yet"

    with store.session() as session:  # a day passes
        session.execute(update(Delivery).values(sent_at=utcnow() - timedelta(hours=25)))
    deliver_approved(setup(mode="digest", digest_interval_hours=24), sleep=no_sleep)
    assert mail.per_recipient() == {"ase@example.no": 2, "bo@example.no": 2}
    second = parse(mail.received_by("ase@example.no")[1])
    assert second["Subject"] == "Bloggen: 1 nytt innlegg", "the singular, from the catalogue"
    body = second.get_payload()[1].get_content()
    assert "Tredje innlegg" in body and "Første innlegg" not in body
    assert second["Message-ID"] != first["Message-ID"]


def test_dry_run_writes_eml_files_and_sends_nothing(tmp_path, setup, store, items, mail):
    subscribe(store, "ase@example.no", "bo@example.no", when=utcnow() - timedelta(days=1))
    items.approve("https://bloggen.example/?p=31", "nb", title="Bare en prøve")
    ctx = setup(
        dry_run=True, env={"SYNDICATION__CHANNELS__NEWS__PASSWORD": "smtp-pass-never-shown"}, username="news"
    )
    payloads = deliver_approved(ctx, sleep=no_sleep)
    assert mail.messages == [] and mail.connections == 0
    assert deliveries(store) == [], "a dry run writes nothing to the ledger"
    files = sorted((tmp_path / "outbox" / "newsletter" / "nb").glob("*.eml"))
    assert len(files) == 2 and ctx.summary.deliveries_planned == 2
    for path in files:
        data = path.read_bytes()
        assert b"smtp-pass-never-shown" not in data and SECRET.encode() not in data
        message = parse(data)
        assert message["Subject"] == "Bare en prøve"
    assert {p.body for p in payloads} == {f.read_bytes() for f in files}, "the files are exactly the messages"


def test_edits_and_retractions_send_no_second_mail(setup, store, items, mail):
    subscribe(store, "ase@example.no", when=utcnow() - timedelta(days=1))
    item = items.approve("https://bloggen.example/?p=41", "nb", title="Original")
    deliver_approved(setup(), sleep=no_sleep)
    items.edit(item, title="Rettet tittel")
    deliver_approved(setup(), sleep=no_sleep)
    items.retract_post(item.post_key)
    deliver_approved(setup(), sleep=no_sleep)
    assert len(mail.messages) == 1
    actions = [(r.action, r.state) for r in deliveries(store)]
    assert actions == [("publish", "sent"), ("update", "sent"), ("retract", "sent")]
    assert deliveries(store, action="update")[0].receipt["meta"]["skipped"] == "e-mail cannot be edited"


def test_only_approved_items_reach_only_current_subscribers(setup, store, items, mail):
    subscribe(store, "early@example.no", when=utcnow() - timedelta(days=3))
    items.approve(
        "https://bloggen.example/?p=51", "nb", title="Gammel nyhet", approved_at=utcnow() - timedelta(days=2)
    )
    items.approve("https://bloggen.example/?p=52", "nb", title="Ikke godkjent", status="machine_translated")
    subscribe(store, "late@example.no")  # joined after the first post was approved
    subscribe(store, "left@example.no", when=utcnow() - timedelta(days=3))
    with store.session() as session:
        row = subscribers.find(session, "left@example.no", lang="nb", list_name="news")
        subscribers.unsubscribe(session, row.token)
    deliver_approved(setup(), sleep=no_sleep)
    assert mail.per_recipient() == {"early@example.no": 1}
    assert parse(mail.messages[0][2])["Subject"] == "Gammel nyhet"


def test_missing_signing_secret_is_a_clear_terminal_error(tmp_path, store, db_url, items, mail):
    subscribe(store, "ase@example.no", when=utcnow() - timedelta(days=1))
    items.approve("https://bloggen.example/?p=61", "nb", title="Uten nøkkel")
    config = write_config(tmp_path, db_url, {"news": news_config(mail.port)})
    ctx = make_context(store, config, {})
    deliver_approved(ctx, sleep=no_sleep)
    assert mail.messages == []
    assert "SYNDICATION__CHANNELS__NEWS__SECRET" in ctx.summary.errors[0].message


def test_one_click_unsubscribe_over_http(tmp_path, store, db_url, items, mail):
    server = UvicornServer(unsubscribe_routes(store, SECRET, path="/unsubscribe/news"))
    try:
        config = write_config(
            tmp_path,
            db_url,
            {"news": news_config(mail.port, unsubscribe_url_base=f"{server.url}/unsubscribe/news")},
        )
        env = {"SYNDICATION__CHANNELS__NEWS__SECRET": SECRET}
        subscribe(store, "ase@example.no", "bo@example.no", when=utcnow() - timedelta(days=1))
        items.approve("https://bloggen.example/?p=71", "nb", title="Første")
        deliver_approved(make_context(store, config, env), sleep=no_sleep)
        message = parse(mail.received_by("ase@example.no")[0])
        url = message["List-Unsubscribe"].split(",")[0].strip().strip("<>")

        tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
        assert requests.post(tampered, data="List-Unsubscribe=One-Click", timeout=5).status_code == 403
        page = requests.get(url, timeout=5)  # a link scanner: shows a button, unsubscribes nobody
        assert page.status_code == 200 and '<form method="post"' in page.text
        with store.session() as session:
            assert subscribers.find(session, "ase@example.no", lang="nb", list_name="news").status == "active"

        answer = requests.post(
            url,
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        )
        assert answer.status_code == 200 and "Du er meldt av" in answer.text, (
            "in the subscriber's language (nb)"
        )
        with store.session() as session:
            row = subscribers.find(session, "ase@example.no", lang="nb", list_name="news")
            assert row.status == "unsubscribed" and row.unsubscribed_at is not None
        assert (
            requests.post(url, data="List-Unsubscribe=One-Click", timeout=5).status_code == 200
        )  # idempotent

        items.approve("https://bloggen.example/?p=72", "nb", title="Andre")
        deliver_approved(make_context(store, config, env), sleep=no_sleep)
        assert mail.per_recipient() == {"ase@example.no": 1, "bo@example.no": 2}
    finally:
        server.stop()


def _pythonpath() -> str:
    root = Path(__file__).resolve().parents[3]
    return os.pathsep.join([str(HERE), str(root), os.environ.get("PYTHONPATH", "")])


def test_stage_module_is_patched_only_in_tests(items):
    # Guard for the fixture: the deliver stage reads our registered items.
    assert stage.approved_item == items.approved_item


def test_smtps_with_a_trusted_and_an_untrusted_certificate(tmp_path, setup, store, items):
    from channels_support import MailRecorder

    cert, key = self_signed_tls(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    recorder = MailRecorder()
    controller = start_smtp(recorder, ssl_context=tls)
    try:
        subscribe(store, "ase@example.no", when=utcnow() - timedelta(days=1))
        items.approve("https://bloggen.example/?p=81", "nb", title="Implisitt TLS")
        deliver_approved(setup(port=controller.port, security="ssl", timeout=10), sleep=no_sleep)
        (row,) = deliveries(store)
        assert row.state == "failed" and row.error_kind == "terminal"
        assert "is not trusted" in row.error and "ca_file" in row.error
        assert recorder.messages == []

        with store.session() as session:
            session.execute(update(Delivery).values(state="pending", error=None, error_kind=None))
        deliver_approved(setup(port=controller.port, security="ssl", ca_file=str(cert)), sleep=no_sleep)
        assert recorder.per_recipient() == {"ase@example.no": 1}
    finally:
        controller.stop()


# ------------------------------------------------------------------- the reader's language (issue 14)

FIXED_TEXTS = {
    # language: (digest heading, unsubscribe label, footer, read the original, confirmation title,
    #            button, done title, done text)
    "sv": (
        "Nytt sedan sist",
        "Avsluta prenumerationen",
        "Du får det här mejlet eftersom du prenumererar på Bloggen.",
        "Läs originalet",
        "Vill du avsluta prenumerationen?",
        "Avsluta min prenumeration",
        "Din prenumeration är avslutad",
        "Du får inga fler av de här mejlen.",
    ),
    "nb": (
        "Nytt siden sist",
        "Meld deg av nyhetsbrevet",
        "Du får denne e-posten fordi du abonnerer på Bloggen.",
        "Les originalen",
        "Vil du melde deg av?",
        "Meld meg av",
        "Du er meldt av",
        "Du får ikke flere av disse e-postene.",
    ),
}


def test_digest_and_unsubscribe_pages_speak_the_subscribers_language(tmp_path, store, db_url, items, mail):
    server = UvicornServer(unsubscribe_routes(store, SECRET, path="/unsubscribe/news"))
    try:
        config = write_config(
            tmp_path,
            db_url,
            {
                "news": news_config(
                    mail.port,
                    mode="digest",
                    digest_interval_hours=24,
                    unsubscribe_url_base=f"{server.url}/unsubscribe/news",
                )
            },
        )
        env = {"SYNDICATION__CHANNELS__NEWS__SECRET": SECRET}
        subscribe(store, "ase@example.no", lang="nb", when=utcnow() - timedelta(days=1))
        subscribe(store, "sven@example.se", lang="sv", when=utcnow() - timedelta(days=1))
        for n, (lang, title) in enumerate(
            [("nb", "Første"), ("nb", "Andre"), ("sv", "Första"), ("sv", "Andra")]
        ):
            items.approve(f"https://bloggen.example/?p={90 + n}", lang, title=title)
        deliver_approved(make_context(store, config, env), sleep=no_sleep)

        for address, lang, subject in [
            ("ase@example.no", "nb", "Bloggen: 2 nye innlegg"),
            ("sven@example.se", "sv", "Bloggen: 2 nya inlägg"),
        ]:
            heading, label, footer, original, confirm, button, done, done_text = FIXED_TEXTS[lang]
            (raw,) = mail.received_by(address)
            message = parse(raw)
            assert message["Subject"] == subject
            text, html_body = (part.get_content() for part in message.get_payload())
            for body in (text, html_body):
                assert heading in body and label in body and footer in body and original in body
            assert "Unsubscribe" not in text and "Read the original" not in text

            url = message["List-Unsubscribe"].split(",")[0].strip().strip("<>")
            page = requests.get(url, timeout=5)  # the List-Unsubscribe landing page
            assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
            assert confirm in page.text and button in page.text
            answer = requests.post(url, data="List-Unsubscribe=One-Click", timeout=5)
            assert answer.status_code == 200 and done in answer.text and done_text in answer.text

        # A broken link names nobody: the page follows the browser's Accept-Language.
        broken = f"{server.url}/unsubscribe/news?t=nobody&s=0"
        swedish = requests.get(broken, headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}, timeout=5)
        assert swedish.status_code == 403 and "Den här avregistreringslänken är inte giltig" in swedish.text
        danish = requests.get(broken, headers={"Accept-Language": "da"}, timeout=5)
        assert "Dette afmeldingslink er ikke gyldigt" in danish.text and '<html lang="da">' in danish.text
        neither = requests.get(broken, headers={"Accept-Language": "fr"}, timeout=5)
        assert "This unsubscribe link is not valid" in neither.text
    finally:
        server.stop()
