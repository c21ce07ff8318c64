"""What all partner channels share, channel settings validation, and hostile content in e-mails."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest
from channels_support import UvicornServer, make_context, write_config

from syndication.deliveries import email_render
from syndication.deliveries.channel import ChannelContext
from syndication.deliveries.outgoing import retry_after_seconds, safe_html, slugify, wants
from syndication.deliveries.routes import channel_routes
from syndication.deliveries.webhook import WebhookChannel
from syndication.deliveries.wordpress import WordPressChannel
from syndication.errors import ConfigError
from syndication.models import ApprovedTranslation


def item(**changes) -> ApprovedTranslation:
    values = {
        "translation_id": 1,
        "post_key": "https://bloggen.example/?p=1",
        "revision": "r",
        "lang": "nb",
        "source_lang": "da",
        "source_url": "https://bloggen.example/a/",
        "source_title": "A",
        "title": "A",
        "html": "<p>x</p>",
        "excerpt": "",
    }
    values.update(changes)
    return ApprovedTranslation(**values)


def test_slugs_and_retry_after():
    assert slugify("Ærlig talt: Søren på Åland!") == "aerlig-talt-soren-pa-aland"
    assert slugify("!!!") == "post"
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("999999") == 3600.0, "capped"
    later = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)
    assert retry_after_seconds("Tue, 01 Jan 2030 12:00:30 GMT", now=later - timedelta(seconds=30)) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_partner_filters():
    assert wants(item(categories=("Netværk",)), {"only_categories": ["netværk"]})
    assert not wants(item(categories=("Mad",)), {"only_categories": ["Netværk"]})
    assert not wants(item(kind="linked"), {"kinds": ["post"]})
    assert wants(item(), {})


def test_outgoing_html_is_sanitized():
    dirty = (
        '<p onclick="x()">Hei<script>alert(1)</script><iframe src="https://evil"></iframe>'
        '<a href="javascript:alert(1)">a</a><img src="x" onerror="y()"></p><style>p{}</style>'
    )
    clean = safe_html(dirty)
    for bad in ("onclick", "<script", "alert", "<iframe", "javascript:", "onerror", "<style"):
        assert bad not in clean
    assert "Hei" in clean


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"url": "http://partner.example.no", "username": "u"}, "plain HTTP"),
        ({"url": "https://u:p@partner.example.no", "username": "u"}, "no credentials in url"),
        ({"url": "https://partner.example.no", "username": "u", "status": "published"}, "status"),
        ({"url": "https://partner.example.no", "username": "u", "categorys": {}}, "categorys"),
        ({"url": "ftp://partner.example.no", "username": "u"}, "http(s)"),
    ],
)
def test_wordpress_settings_errors_are_clear(config, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        WordPressChannel(ChannelContext(name="partner", config={"type": "wordpress", **config}))


def test_newsletter_refuses_to_log_in_without_encryption(store):
    from syndication.deliveries.newsletter import NewsletterChannel

    config = {
        "type": "newsletter",
        "host": "smtp.bloggen.example",
        "security": "none",
        "username": "news",
        "from": "Bloggen <news@bloggen.example>",
        "list_id": "news.bloggen.example",
        "unsubscribe_url_base": "https://bloggen.example/unsubscribe",
    }
    with pytest.raises(ConfigError, match="unencrypted"):
        NewsletterChannel(ChannelContext(name="news", config=config, store=store))
    NewsletterChannel(ChannelContext(name="news", config={**config, "security": "starttls"}, store=store))
    NewsletterChannel(ChannelContext(name="news", config={**config, "host": "127.0.0.1"}, store=store))


def test_webhook_needs_an_http_url():
    with pytest.raises(ConfigError, match="http"):
        WebhookChannel(
            ChannelContext(name="hook", config={"type": "webhook", "url": "partner.example.se/hook"})
        )


def test_hostile_titles_cannot_inject_headers():
    envelope = email_render.Envelope(
        sender="Bloggen <n@bloggen.example>",
        to="ase@example.no",
        subject="Hei\r\nBcc: victim@example.no\r\n\r\nbody",
        message_id="<1@bloggen.example>",
        list_id="<nb.news.bloggen.example>",
        unsubscribe_url="https://bloggen.example/u?t=1&s=2",
    )
    message = email_render.build_message(
        envelope, lang="nb", html_content="<p>x</p>", text_content="x", templates=email_render.Templates()
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=default_policy)
    assert parsed["Bcc"] is None and parsed["Subject"] == "Hei Bcc: victim@example.no body"


def test_list_unsubscribe_is_sent_as_plain_urls_never_encoded_words():
    """RFC 2369/8058: mail clients read List-Unsubscribe as bare <URL>s; an RFC 2047 encoded-word there
    (what a long header gets when folded as text) makes Gmail and others ignore one-click unsubscribe."""
    token = "Zq3" * 15
    url = "https://bloggen.example/unsubscribe/news?t=" + token + "&s=" + "ab12" * 10
    envelope = email_render.Envelope(
        sender="Bløggen <n@bloggen.example>",
        to="ase@example.no",
        subject="Små skritt",
        message_id="<1@bloggen.example>",
        list_id="Bløggen (nb) <nb.news.bloggen.example>",
        unsubscribe_url=url,
        unsubscribe_mailto=email_render.mailto("afmeld@bloggen.example", token),
    )
    message = email_render.build_message(
        envelope, lang="nb", html_content="<p>x</p>", text_content="x", templates=email_render.Templates()
    )
    raw = message.as_bytes()
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r\n[ \t]+", " ", header_block)
    (line,) = [h for h in unfolded.split("\r\n") if h.startswith("List-Unsubscribe:")]
    assert "=?" not in line
    assert line == f"List-Unsubscribe: <{url}>, <mailto:afmeld@bloggen.example?subject=unsubscribe%20{token}>"
    assert all(len(physical) <= 998 for physical in header_block.split("\r\n"))
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in unfolded.split("\r\n")
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert (
        parsed["List-Unsubscribe"]
        == f"<{url}>, <mailto:afmeld@bloggen.example?subject=unsubscribe%20{token}>"
    )


def test_plain_text_part_keeps_structure():
    text = email_render.html_to_text(
        '<h2>Tittel</h2><p>Et avsnitt med <a href="https://example.no/x">en lenke</a>.</p>'
        "<ul><li>første</li><li>andre</li></ul><blockquote><p>sitat</p></blockquote>"
    )
    assert text.split("\n\n") == [
        "Tittel",
        "Et avsnitt med en lenke <https://example.no/x>.",
        "- første",
        "- andre",
        "> sitat",
    ]


def test_channel_routes_mount_unsubscribe_and_feeds(tmp_path, store, db_url):
    import requests

    config = write_config(
        tmp_path,
        db_url,
        {
            "news": {
                "type": "newsletter",
                "from": "n@bloggen.example",
                "list_id": "news.bloggen.example",
                "unsubscribe_url_base": "https://bloggen.example/u/news",
            },
            "feeds": {"type": "feed", "path": "feeds", "base_url": "https://bloggen.example/oversatt"},
        },
    )
    with pytest.raises(ConfigError, match="SYNDICATION__CHANNELS__NEWS__SECRET"):
        channel_routes(make_context(store, config, {}))
    ctx = make_context(store, config, {"SYNDICATION__CHANNELS__NEWS__SECRET": "k"})
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "nb.atom").write_text("<feed xmlns='http://www.w3.org/2005/Atom'/>")
    server = UvicornServer(channel_routes(ctx))
    try:
        assert requests.get(f"{server.url}/oversatt/nb.atom", timeout=5).status_code == 200
        assert requests.post(f"{server.url}/u/news?t=x&s=y", timeout=5).status_code == 403
    finally:
        server.stop()


def test_dry_run_writes_what_each_channel_would_send_and_no_secret(tmp_path, store, db_url, items):
    from channels_support import deliveries, no_sleep

    from syndication.deliveries.stage import deliver_approved

    config = write_config(
        tmp_path,
        db_url,
        {
            "partner": {
                "type": "wordpress",
                "url": "https://partner.example.no",
                "username": "syndication",
                "status": "pending",
                "categories": {"Netværk": "Nettverk"},
            },
            "hook": {"type": "webhook", "url": "https://partner.example.se/hook"},
            "feeds": {"type": "feed", "path": "feeds", "base_url": "https://bloggen.example/feeds"},
        },
        targets=["nb"],
    )
    env = {
        "SYNDICATION__CHANNELS__PARTNER__PASSWORD": "wp-app-pass-secret",
        "SYNDICATION__CHANNELS__HOOK__SECRET": "hook-secret-value",
    }
    items.approve("https://bloggen.example/?p=9", "nb", title="Tørrtrening", categories=("Netværk",))
    ctx = make_context(store, config, env, dry_run=True)
    payloads = deliver_approved(ctx, sleep=no_sleep)
    assert {p.channel for p in payloads} == {
        "partner",
        "hook",
        "feeds",
    } and ctx.summary.deliveries_planned == 3
    assert deliveries(store) == [] and not (tmp_path / "feeds").exists(), "nothing sent, nothing published"
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "dry-run" in str(p))
    assert len(files) == 3
    wordpress_file = next(f for f in files if "/partner/" in str(f))
    assert '"status": "pending"' in wordpress_file.read_text() and "Tørrtrening" in wordpress_file.read_text()
    for path in files:
        data = path.read_bytes()
        assert b"wp-app-pass-secret" not in data and b"hook-secret-value" not in data
    assert {f.read_bytes() for f in files} == {p.body for p in payloads}
