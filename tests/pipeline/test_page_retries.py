"""Pages that fail are tried again on a schedule and stay visible; a host that says "later" is
not asked again in the same run; linked articles are re-checked for corrections.

Everything runs through the plain pipeline against a loopback blog (``tests/httpserver.py``) with
real Apertium and SQLite. Time moves by moving the stored timestamps (``next_attempt_at``,
``checked_at``) into the past, never by sleeping; Retry-After waits go to a fake clock.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select

from syndication import pipeline
from syndication.cli import main
from syndication.context import RunContext
from syndication.fetch import Fetcher
from syndication.review import approve, item_detail, list_items
from syndication.status import status
from syndication.store import Post, TranslatedSegment, utcnow
from syndication.summary import RunSummary
from tests.fetch.conftest import FakeTime
from tests.httpserver import FixtureServer, ReceivedRequest, Reply

PAGE = """<!DOCTYPE html><html lang="da"><head><meta charset="utf-8"><title>{title}</title></head>
<body><article><h1>{title}</h1>{body}</article></body></html>"""
HTML = {"Content-Type": "text/html; charset=utf-8"}


def page(title: str, *paragraphs: str) -> bytes:
    return PAGE.format(title=title, body="".join(f"<p>{p}</p>" for p in paragraphs)).encode()


def rss(base: str, items: list[tuple[int, str, str | None]]) -> bytes:
    """Items without content (``None``) are read from their page."""
    entries = "".join(
        f"<item><title>{title}</title><link>{base}/p{number}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={number}</guid>"
        f"<pubDate>Thu, 19 Nov 2026 07:40:12 +0000</pubDate><description>Kort nyt.</description>"
        + (f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content else "")
        + "</item>"
        for number, title, content in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link><language>da</language>{entries}</channel></rss>"
    ).encode()


def write_config(
    tmp_path: Path, base: str, *, fetch: str = "", extra: str = "", auto_approve: bool = True
) -> Path:
    path = tmp_path / "syndication.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/pages.db"
[fetch]
allow_private_hosts = ["127.0.0.1"]
min_host_interval = 0
timeout = 3
{fetch}
{extra}
[[feeds]]
url = "{base}/feed/"
name = "landsbyen"
[translation]
targets = ["nb"]
[review]
auto_approve = {'["nb"]' if auto_approve else "[]"}
[channels.outbox]
type = "outbox"
path = "{tmp_path}/outbox"
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *, time: FakeTime | None = None) -> RunSummary:
    ctx = RunContext.open(config)
    if time is not None:
        ctx.fetcher_override = Fetcher(ctx.settings.fetch, sleep=time.sleep, clock=time.clock)
    try:
        return pipeline.syndicate(ctx)
    finally:
        ctx.close()


def stored(config: Path) -> dict[str, Post]:
    ctx = RunContext.open(config)
    try:
        with ctx.store.session() as session:
            return {post.url: post for post in session.scalars(select(Post))}
    finally:
        ctx.close()


def move_back(config: Path, **columns: timedelta) -> None:
    """Move stored moments into the past, as if that much time had gone by."""
    ctx = RunContext.open(config)
    try:
        with ctx.store.session() as session:
            for post in session.scalars(select(Post)):
                for column, by in columns.items():
                    if getattr(post, column) is not None:
                        setattr(post, column, getattr(post, column) - by)
    finally:
        ctx.close()


def status_of(config: Path) -> dict[str, Any]:
    ctx = RunContext.open(config)
    try:
        with ctx.store.session() as session:
            return status(session, pages=ctx.settings.pages)
    finally:
        ctx.close()


def page_requests(server: FixtureServer) -> list[str]:
    return [r.path for r in server.requests if r.path not in ("/feed/", "/robots.txt")]


def test_terminal_page_failures_are_retried_on_the_schedule_then_failed_and_listed(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    base = http_server.url("").rstrip("/")
    items = [(n, f"Indlæg {n}", None) for n in range(1, 6)]
    http_server.add("/feed/", body=rss(base, items), headers={"Content-Type": "application/rss+xml"})
    http_server.add("/robots.txt", body=b"User-agent: *\nDisallow: /p3/\n")
    http_server.add("/p1/", status=404, body=b"not yet")
    http_server.add("/p2/", status=403, body=b"WAF says no")
    http_server.stream("/p4/", total=300_000, content_length=None, headers=HTML)
    http_server.add("/p5/", status=401, body=b"log in")
    config = write_config(tmp_path, base, fetch="max_bytes = 100_000")
    failing = {f"{base}/p{n}/" for n in range(1, 6)}

    before = utcnow()
    first = run(config)
    after = utcnow()
    assert first.extraction_failed == 5 and len([e for e in first.errors if e.stage == "extract"]) == 5
    posts = stored(config)
    for url in failing:
        post = posts[url]
        assert (post.status, post.attempts, post.error_kind) == ("waiting", 1, "terminal"), url
        assert post.next_attempt_at is not None
        assert before + timedelta(seconds=600) <= post.next_attempt_at <= after + timedelta(seconds=600)
    assert "404" in (posts[f"{base}/p1/"].last_error or "")
    assert "robots.txt" in (posts[f"{base}/p3/"].last_error or "")
    assert "100,000 byte cap" in (posts[f"{base}/p4/"].last_error or "")
    shown = status_of(config)["pages"]
    assert shown["waiting"] == 5 and {p["url"] for p in shown["listed"]} == failing
    assert all(p["next_try"].startswith(("in 9 min", "in 10 min")) for p in shown["listed"])

    # Not due yet: the next run leaves them alone, and has nothing to report as failed.
    count = len(http_server.requests)
    second = run(config)
    assert page_requests_since(http_server, count) == []
    assert second.errors == [] and second.extraction_failed == 0

    # Each scheduled retry (10 min, 1 h, 6 h, 1 d, 3 d by default) asks again once, then waits
    # for the next step; moving the stored moments past it stands in for the time going by.
    for attempt, wait in enumerate([3600, 6 * 3600, 86_400, 3 * 86_400], start=2):
        move_back(config, next_attempt_at=timedelta(days=4))
        count = len(http_server.requests)
        before = utcnow()
        run(config)
        assert sorted(page_requests_since(http_server, count)) == [f"/p{n}/" for n in (1, 2, 4, 5)]
        posts = stored(config)
        for url in failing:
            post = posts[url]
            assert (post.status, post.attempts) == ("waiting", attempt), url
            assert post.next_attempt_at is not None
            assert post.next_attempt_at - before >= timedelta(seconds=wait)
            assert post.next_attempt_at - before < timedelta(seconds=wait + 60)

    move_back(config, next_attempt_at=timedelta(days=4))
    run(config)  # the sixth and last try
    posts = stored(config)
    assert {(posts[url].status, posts[url].attempts, posts[url].next_attempt_at) for url in failing} == {
        ("failed", 6, None)
    }

    # Failed for good: not tried again, but listed until someone acts.
    count = len(http_server.requests)
    move_back(config, updated_at=timedelta(days=30), created_at=timedelta(days=30))
    later = run(config)
    assert page_requests_since(http_server, count) == [] and later.errors == []
    data = status_of(config)
    assert data["pages"]["failed"] == 5
    assert {p["next_try"] for p in data["pages"]["listed"]} == {"after `syndicate posts retry`"}
    assert {f["post"] for f in data["failures"] if f["stage"] == "extract"} == {
        f"{base}/?p={n}" for n in range(1, 6)
    }

    # The site is fixed; `syndicate posts retry --all` makes them due and the next run delivers.
    http_server.add("/robots.txt", body=b"User-agent: *\nDisallow:\n")
    for n in range(1, 6):
        http_server.add(
            f"/p{n}/", body=page(f"Indlæg {n}", f"Indlæg nummer {n} om købmanden i byen."), headers=HTML
        )
    result = CliRunner().invoke(main, ["posts", "retry", "--all", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert result.output.count("due now") == 5
    fixed = run(config)
    assert fixed.errors == [] and fixed.deliveries_sent == 5
    assert {post.status for post in stored(config).values()} == {"extracted"}


def page_requests_since(server: FixtureServer, count: int) -> list[str]:
    return [r.path for r in server.requests[count:] if r.path not in ("/feed/", "/robots.txt")]


def test_the_retry_schedule_is_configurable(http_server: FixtureServer, tmp_path: Path) -> None:
    base = http_server.url("").rstrip("/")
    http_server.add(
        "/feed/", body=rss(base, [(1, "Nyt", None)]), headers={"Content-Type": "application/rss+xml"}
    )
    http_server.add("/p1/", status=403, body=b"no")
    config = write_config(tmp_path, base, extra="[pages]\nretry_schedule = [120]")
    before = utcnow()
    run(config)
    post = stored(config)[f"{base}/p1/"]
    assert post.status == "waiting" and post.next_attempt_at is not None
    assert timedelta(seconds=120) <= post.next_attempt_at - before < timedelta(seconds=180)
    move_back(config, next_attempt_at=timedelta(minutes=3))
    run(config)
    post = stored(config)[f"{base}/p1/"]
    assert (post.status, post.attempts) == ("failed", 2)
    assert len(http_server.requests_to("/p1/")) == 2


def test_status_and_posts_commands_name_the_reason_and_next_try(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    base = http_server.url("").rstrip("/")
    http_server.add(
        "/feed/", body=rss(base, [(1, "Nyt", None)]), headers={"Content-Type": "application/rss+xml"}
    )
    http_server.add("/p1/", status=404, body=b"not yet")
    config = write_config(tmp_path, base)
    run(config)
    cli = CliRunner()

    shown = cli.invoke(main, ["status", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    line = next(line for line in shown.output.splitlines() if f"{base}/p1/" in line)
    assert "waiting" in line and "HTTP 404" in line and "try 1 of 6 failed" in line
    assert "next try in 9 min" in line or "next try in 10 min" in line
    assert "e+" not in shown.output

    listed = cli.invoke(main, ["posts", "list", "--state", "waiting", "--json", "--config", str(config)])
    rows = json.loads(listed.output)
    assert [(r["url"], r["attempts"], r["tries"], r["error_kind"]) for r in rows] == [
        (f"{base}/p1/", 1, 6, "terminal")
    ]
    assert (
        "no post" in cli.invoke(main, ["posts", "list", "--state", "failed", "--config", str(config)]).output
    )

    assert cli.invoke(main, ["posts", "retry", "--config", str(config)]).exit_code == 2
    assert cli.invoke(main, ["posts", "retry", "1", "--all", "--config", str(config)]).exit_code == 2
    unknown = cli.invoke(main, ["posts", "retry", "999", "--config", str(config)])
    assert unknown.exit_code == 1 and "no post matches '999'" in unknown.output

    retried = cli.invoke(main, ["posts", "retry", f"{base}/?p=1", "--config", str(config)])  # by GUID
    assert retried.exit_code == 0 and "due now" in retried.output
    post = stored(config)[f"{base}/p1/"]
    assert post.status == "waiting" and post.next_attempt_at is None and post.attempts == 1
    assert "on the next run" in cli.invoke(main, ["posts", "list", "--config", str(config)]).output

    http_server.add("/p1/", body=page("Nyt", "Nu er siden her, og købmanden har åbent."), headers=HTML)
    assert run(config).deliveries_sent == 1
    again = cli.invoke(main, ["posts", "retry", str(post.id), "--config", str(config)])
    assert again.exit_code == 0 and "is extracted, not waiting or failed" in again.output


def test_a_host_in_maintenance_costs_one_wait_and_its_other_pages_are_deferred(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    base = http_server.url("").rstrip("/")
    items = [(n, f"Indlæg {n}", None) for n in range(1, 6)]
    feed = rss(base, items)

    def maintenance(request: ReceivedRequest) -> Reply:
        if request.path == "/feed/":
            return Reply(200, {"Content-Type": "application/rss+xml"}, feed)
        return Reply(503, {"Retry-After": "30", "Content-Type": "text/plain"}, b"maintenance")

    for path in ("/feed/", "/robots.txt", *(f"/p{n}/" for n in range(1, 6))):
        http_server.add(path, handler=maintenance)
    config = write_config(tmp_path, base)
    clock = FakeTime()

    before = utcnow()
    summary = run(config, time=clock)

    assert clock.sleeps == [30.0]  # one wait for the host, not one per page
    assert page_requests(http_server) == ["/p1/"]
    assert summary.pages_deferred == 4
    # Only the page that was tried is an error of this run; the deferred ones are not.
    assert [(e.stage, e.post) for e in summary.errors] == [("extract", f"{base}/?p=1")]
    posts = stored(config)
    tried = posts[f"{base}/p1/"]
    assert (tried.status, tried.attempts, tried.error_kind) == ("waiting", 1, "transient")
    for n in range(2, 6):
        post = posts[f"{base}/p{n}/"]
        assert (post.status, post.attempts, post.error_kind) == ("waiting", 0, "deferred")
        assert "asked us to wait (HTTP 503, Retry-After 30 s)" in (post.last_error or "")
        assert post.next_attempt_at is not None
        assert post.next_attempt_at - before < timedelta(seconds=40)
    listed = status_of(config)["pages"]["listed"]
    assert len(listed) == 5 and sum(p["error_kind"] == "deferred" for p in listed) == 4

    # Maintenance is over: the next run (the deferral has passed) takes every page up again.
    http_server.add("/robots.txt", status=404, body=b"")
    for n in range(1, 6):
        http_server.add(
            f"/p{n}/", body=page(f"Indlæg {n}", f"Indlæg nummer {n} om byens købmand."), headers=HTML
        )
    move_back(config, next_attempt_at=timedelta(minutes=11))
    clock = FakeTime()
    after = run(config, time=clock)
    assert clock.sleeps == [] and after.errors == [] and after.deliveries_sent == 5
    assert {post.status for post in stored(config).values()} == {"extracted"}


def test_a_linked_article_is_rechecked_and_a_correction_reopens_only_the_changed_segment(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    base = http_server.url("").rstrip("/")
    body = f'<p>Læs om <a href="{base}/posts/cebit/">CeBIT-messen</a> her.</p><p>Tak fordi du læste med.</p>'
    http_server.add(
        "/feed/",
        body=rss(base, [(7, "Nyt fra landsbyen", body)]),
        headers={"Content-Type": "application/rss+xml"},
    )
    article = {
        "etag": '"v1"',
        "paragraphs": [
            "Messen i Hannover samlede mange besøgende i år.",
            "Standen fra landsbyen viste tre nye maskiner.",
            "Vi ses igen næste forår.",
        ],
    }

    def cebit(request: ReceivedRequest) -> Reply:
        if request.header("if-none-match") == article["etag"]:
            return Reply(304, {"ETag": str(article["etag"])})
        return Reply(200, {**HTML, "ETag": str(article["etag"])}, page("CeBIT 2026", *article["paragraphs"]))

    http_server.add("/posts/cebit/", handler=cebit)
    config = write_config(tmp_path, base, auto_approve=False)
    linked_url = f"{base}/posts/cebit/"

    run(config)
    ctx = RunContext.open(config)
    with ctx.store.session() as session:
        for item in list_items(session):
            approve(session, item.translation_id, actor="editor", confirm_flags=True)
    assert pipeline.publish(ctx).deliveries_sent == 2
    ctx.close()

    # Within the week: not fetched again.
    count = len(http_server.requests)
    run(config)
    assert page_requests_since(http_server, count) == []

    # A week later, unchanged: one conditional request, answered 304, nothing new.
    move_back(config, checked_at=timedelta(days=8))
    count = len(http_server.requests)
    unchanged = run(config)
    asked = [r for r in http_server.requests[count:] if r.path == "/posts/cebit/"]
    assert [r.header("if-none-match") for r in asked] == ['"v1"']
    assert unchanged.pages_rechecked == 1 and unchanged.revisions_new == 0 and unchanged.engine_calls == 0

    # The publisher corrects one paragraph: the next re-check brings it in as a new revision, only
    # that paragraph is translated by the engine and reopened, the rest stays approved.
    article["etag"] = '"v2"'
    article["paragraphs"][1] = "Standen fra landsbyen viste fire nye maskiner."
    count = len(http_server.requests)
    assert run(config).pages_rechecked == 0  # checked a moment ago
    move_back(config, checked_at=timedelta(days=8))
    corrected = run(config)
    assert corrected.pages_rechecked == 1 and corrected.revisions_new == 1
    assert corrected.segments_translated == 1
    assert [r.header("if-none-match") for r in http_server.requests[count:] if r.path == "/posts/cebit/"] == [
        '"v1"'
    ]
    ctx = RunContext.open(config)
    with ctx.store.session() as session:
        linked = session.scalars(select(Post).where(Post.url == linked_url)).one()
        assert linked.etag == '"v2"' and linked.status == "extracted"
        awaiting = list_items(session)
        assert [item.post_id for item in awaiting] == [linked.id]
        states = [
            s.state
            for s in session.scalars(
                select(TranslatedSegment).where(
                    TranslatedSegment.translation_id == awaiting[0].translation_id
                )
            )
        ]
        assert states.count("open") == 1 and states.count("approved") >= 3, states
        detail = item_detail(session, awaiting[0].translation_id)
        reopened = [s for s in detail.segments if s.state == "open"]
        assert "fire nye maskiner" in reopened[0].source and "tre nye" in (reopened[0].previous_source or "")
    ctx.close()


def test_rechecks_follow_the_configured_interval_and_can_be_switched_off(
    http_server: FixtureServer, tmp_path: Path
) -> None:
    base = http_server.url("").rstrip("/")
    body = f'<p>Se <a href="{base}/posts/gammel/">den gamle artikel</a>.</p>'
    http_server.add(
        "/feed/", body=rss(base, [(1, "Nyt", body)]), headers={"Content-Type": "application/rss+xml"}
    )
    http_server.add(
        "/posts/gammel/", body=page("Gammel", "Købmanden på hjørnet får nye ejere."), headers=HTML
    )
    config = write_config(tmp_path, base, extra="[pages]\nrecheck_interval = 3600")
    run(config)
    move_back(config, checked_at=timedelta(hours=2))
    assert run(config).pages_rechecked == 1

    config.write_text(config.read_text().replace("recheck_interval = 3600", "recheck_interval = 0"))
    move_back(config, checked_at=timedelta(days=365))
    count = len(http_server.requests)
    assert run(config).pages_rechecked == 0
    assert page_requests_since(http_server, count) == []
