"""The wordpress channel against a real WordPress (Debian's package, MariaDB, `php -S` on 127.0.0.1),
started once per test session by scripts/wordpress_up.sh and stopped by scripts/wordpress_down.sh.

If WordPress cannot be started, every test here fails with the script's output (never a skip).
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import struct
import subprocess
import sys
import uuid
import zlib
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "deliveries" / "channels"
sys.path.insert(0, str(SUPPORT))

from channels_support import (  # noqa: E402
    HttpServer,
    Items,
    age_claims,
    deliveries,
    item_to_json,
    make_context,
    make_due,
    no_sleep,
    write_config,
)

from syndication.deliveries import stage  # noqa: E402
from syndication.deliveries.stage import deliver_approved  # noqa: E402
from syndication.models import Image  # noqa: E402
from syndication.store import open_store, utcnow  # noqa: E402

pytestmark = pytest.mark.e2e
STATUSES = "publish,future,draft,pending,private,trash"


@dataclass(frozen=True)
class WordPress:
    url: str
    user: str
    password: str

    def get(self, route: str, **params: str) -> requests.Response:
        return requests.get(
            f"{self.url}/wp-json/{route}", params=params, auth=(self.user, self.password), timeout=30
        )

    def copies(self, guid: str) -> list[dict]:
        """Every post (in any status) carrying this source GUID."""
        found = self.get(
            "wp/v2/posts", source_guid=guid, status=STATUSES, context="edit", per_page="50"
        ).json()
        return [p for p in found if p["meta"].get("syndication_source_guid") == guid]


@pytest.fixture(scope="session")
def wordpress():
    port = os.environ.get("SYNDICATION_TEST_WP_PORT", "8089")
    env = {**os.environ, "WP_PORT": port, "WP_FRESH": "1"}
    up = subprocess.run(
        ["bash", str(ROOT / "scripts" / "wordpress_up.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if up.returncode != 0:
        pytest.fail(
            f"scripts/wordpress_up.sh failed (exit {up.returncode}):\n{up.stdout}\n{up.stderr}", pytrace=False
        )
    env_file = next(line.split(" ", 1)[1] for line in up.stdout.splitlines() if line.startswith("env: "))
    values = {}
    for line in Path(env_file).read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value.strip("'")
    yield WordPress(values["WP_URL"], values["WP_USER"], values["WP_APP_PASSWORD"])
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "wordpress_down.sh")], env=env, capture_output=True, check=False
    )


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/syndication.db")
    yield store
    store.dispose()


@pytest.fixture
def items(store, monkeypatch):
    registry = Items(store)
    monkeypatch.setattr(stage, "approved_item", registry.approved_item)
    return registry


@pytest.fixture
def image_server():
    png = tiny_png()

    class Images(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/bilder/havet.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)
            else:
                self.send_error(404)

        def log_message(self, *args) -> None:
            pass

    server = HttpServer(Images)
    yield server
    server.stop()


def tiny_png(width: int = 8, height: int = 8) -> bytes:
    """A real PNG (blue square), made here so the test needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x20\x60\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def partner(wp: WordPress, **extra) -> dict:
    return {"type": "wordpress", "url": wp.url, "username": wp.user, "languages": ["nb"], **extra}


def run(tmp_path, store, wp: WordPress, *, password: str | None = None, **extra):
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/syndication.db", {"partner": partner(wp, **extra)})
    env = {"SYNDICATION__CHANNELS__PARTNER__PASSWORD": wp.password if password is None else password}
    ctx = make_context(store, config, env)
    deliver_approved(ctx, sleep=no_sleep)
    return ctx


def new_key() -> str:
    return f"https://bloggen.example/?p={uuid.uuid4().int % 10**9}"


def test_create_update_retract_with_terms_image_and_canonical(
    tmp_path, store, items, wordpress, image_server
):
    wp = wordpress
    item = items.approve(
        new_key(),
        "nb",
        title="Nettverk er gull",
        html='<p>Første avsnitt.</p><p>Andre <a href="https://example.no/">lenke</a>.</p><script>x()</script>',
        excerpt="<p>Kort fortalt</p>",
        categories=("Netværk", "Tips"),
        tags=("gull", "råd"),
        image=Image(src=f"{image_server.url}/bilder/havet.png", alt="Havet ved Skagen"),
    )
    guid = f"{item.post_key}#nb"
    settings = {
        "status": "publish",
        "retract": "draft",
        "seo": "canonical",
        "categories": {"Netværk": "Nettverk"},
        "allow_private_hosts": ["127.0.0.1"],
    }
    ctx = run(tmp_path, store, wp, **settings)
    assert not ctx.summary.errors, ctx.summary.errors
    (post,) = wp.copies(guid)
    assert post["status"] == "publish" and post["title"]["raw"] == "Nettverk er gull"
    content = post["content"]["raw"]
    assert "Første avsnitt." in content and "<script" not in content
    assert item.source_url in content, "the attribution line links the original"
    assert post["excerpt"]["raw"] == "Kort fortalt"
    categories = {
        c["name"] for c in wp.get("wp/v2/categories", include=",".join(map(str, post["categories"]))).json()
    }
    tags = {t["name"] for t in wp.get("wp/v2/tags", include=",".join(map(str, post["tags"]))).json()}
    assert categories == {"Nettverk", "Tips"} and tags == {"gull", "råd"}
    media = wp.get(f"wp/v2/media/{post['featured_media']}", context="edit").json()
    assert media["alt_text"] == "Havet ved Skagen" and media["mime_type"] == "image/png"
    (row,) = deliveries(store)
    assert row.state == "sent" and row.remote_id == str(post["id"]) and row.remote_url == post["link"]
    assert wp.password not in json.dumps(row.receipt)
    page = requests.get(post["link"], timeout=30).text
    assert f'<link rel="canonical" href="{item.source_url}"' in page, "canonical to the original"

    items.edit(
        item,
        title="Nettverk er gull verdt",
        featured_image=Image(src=item.featured_image.src, alt="Havet en vinterdag"),
    )
    run(tmp_path, store, wp, **settings)
    (updated,) = wp.copies(guid)
    assert updated["id"] == post["id"] and updated["title"]["raw"] == "Nettverk er gull verdt"
    assert updated["slug"] == post["slug"], "the address does not move on an edit"
    assert updated["featured_media"] == post["featured_media"], "the image is not uploaded twice"
    assert (
        wp.get(f"wp/v2/media/{post['featured_media']}", context="edit").json()["alt_text"]
        == "Havet en vinterdag"
    )

    items.decide(item, "rejected")
    run(tmp_path, store, wp, **settings)
    assert [p["status"] for p in wp.copies(guid)] == ["draft"]

    items.decide(item, "approved")
    run(tmp_path, store, wp, **settings)
    (back,) = wp.copies(guid)
    assert back["id"] == post["id"] and back["status"] == "publish"
    assert [(r.action, r.state) for r in deliveries(store)] == [
        ("publish", "sent"),
        ("update", "sent"),
        ("retract", "sent"),
        ("publish", "sent"),
    ]


@pytest.mark.parametrize("mode", ["trash", "delete"])
def test_retract_by_trash_or_delete(tmp_path, store, items, wordpress, mode):
    item = items.approve(new_key(), "nb", title=f"Skal bort ({mode})")
    run(tmp_path, store, wordpress, status="draft", retract=mode)
    (post,) = wordpress.copies(f"{item.post_key}#nb")
    assert post["status"] == "draft"
    items.retract_post(item.post_key)
    run(tmp_path, store, wordpress, status="draft", retract=mode)
    response = wordpress.get(f"wp/v2/posts/{post['id']}", context="edit")
    if mode == "trash":
        assert response.json()["status"] == "trash"
    else:
        assert response.status_code == 404
    assert deliveries(store)[-1].action == "retract" and deliveries(store)[-1].state == "sent"


def test_noindex_policy_and_pending_status(tmp_path, store, items, wordpress):
    item = items.approve(new_key(), "nb", title="Ikke indekser meg")
    run(tmp_path, store, wordpress, status="publish", seo="noindex")
    (post,) = wordpress.copies(f"{item.post_key}#nb")
    page = requests.get(post["link"], timeout=30).text
    assert "noindex" in page.split("<meta name='robots'")[1].split(">")[0]
    other = items.approve(new_key(), "nb", title="Venter på redaktør")
    run(tmp_path, store, wordpress, status="pending")
    assert wordpress.copies(f"{other.post_key}#nb")[0]["status"] == "pending"


def test_wrong_password_is_terminal_with_a_clear_message(tmp_path, store, items, wordpress):
    item = items.approve(new_key(), "nb", title="Feil passord")
    other = items.approve(new_key(), "nb", title="Feil passord igjen")
    wrong = "abcd efgh ijkl mnop qrst uvwx"
    ctx = run(tmp_path, store, wordpress, password=wrong)
    (row,) = deliveries(store)  # one refused login per run, not one per post (security plugins block)
    assert any("1 more deliveries wait for the next run" in n for n in ctx.summary.delivery_notes)
    assert row.state == "failed" and row.error_kind == "terminal"
    assert f"WordPress at {wordpress.url} rejected the credentials for user {wordpress.user}" in row.error
    assert "SYNDICATION__CHANNELS__PARTNER__PASSWORD" in row.error and "Application Password" in row.error
    assert wrong not in row.error and wrong not in str(ctx.summary.as_dict())
    assert wordpress.copies(f"{item.post_key}#nb") == []
    make_due(store)
    # The same wrong password: the failed post is not tried again (the waiting one costs this run's
    # one login, and fails the same way).
    run(tmp_path, store, wordpress, password=wrong)
    first, second = deliveries(store)
    assert first.attempts == 1 and second.state == "failed" and second.error_kind == "terminal"
    assert wordpress.copies(f"{item.post_key}#nb") == []
    run(tmp_path, store, wordpress)  # the password fixed: what waited and what failed go out, once
    assert len(wordpress.copies(f"{other.post_key}#nb")) == 1
    assert len(wordpress.copies(f"{item.post_key}#nb")) == 1
    assert {r.state for r in deliveries(store)} == {"sent"}
    run(tmp_path, store, wordpress)
    assert len(wordpress.copies(f"{item.post_key}#nb")) == 1


class FlakyProxy:
    """A proxy in front of the real site; ``fails(method, path, number)`` (``number`` counts every
    request) says whether to answer 503 instead of forwarding."""

    def __init__(self, wordpress: WordPress, fails, retry_after: str | None = None) -> None:
        self.seen: list[str] = []
        proxy = self

        class Flaky(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.seen.append(f"{self.command} {self.path.split('?')[0]}")
                if fails(self.command, self.path.split("?")[0].rstrip("/"), len(proxy.seen)):
                    self.send_response(503)
                    if retry_after is not None:
                        self.send_header("Retry-After", retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                answer = requests.request(
                    self.command,
                    wordpress.url + self.path,
                    data=body,
                    headers=headers,
                    timeout=60,
                    allow_redirects=False,
                )
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in (
                        "transfer-encoding",
                        "content-encoding",
                        "content-length",
                        "connection",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = HttpServer(Flaky)
        self.url = self.server.url

    def creates(self) -> int:
        return self.seen.count("POST /wp-json/wp/v2/posts")

    def stop(self) -> None:
        self.server.stop()


def never_sleep(seconds: float) -> None:
    raise AssertionError(f"the run slept {seconds} s: a failure waits for the next run")


def through(tmp_path, store, wordpress: WordPress, url: str):
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path}/syndication.db", {"partner": {**partner(wordpress), "url": url}}
    )
    ctx = make_context(store, config, {"SYNDICATION__CHANNELS__PARTNER__PASSWORD": wordpress.password})
    deliver_approved(ctx, sleep=never_sleep)
    return ctx


def test_partner_503_is_retried_on_later_runs_not_before_retry_after(tmp_path, store, items, wordpress):
    """A proxy in front of the real site answers 503 + ``Retry-After: 1`` to the first two creates:
    one attempt per run, the next not before the time the partner asked for."""
    failures = {"left": 2}

    def fails(method: str, path: str, number: int) -> bool:
        if method == "POST" and path.endswith("/wp/v2/posts") and failures["left"] > 0:
            failures["left"] -= 1
            return True
        return False

    proxy = FlakyProxy(wordpress, fails, retry_after="1")
    try:
        item = items.approve(new_key(), "nb", title="Travel partner")
        for run in (1, 2):
            before = utcnow()
            through(tmp_path, store, wordpress, proxy.url)
            assert proxy.creates() == run, "one create per run"
            (row,) = deliveries(store)
            assert row.state == "failed" and row.error_kind == "transient"
            assert row.next_attempt_at is not None and row.next_attempt_at >= before + timedelta(seconds=1)
            make_due(store)
        ctx = through(tmp_path, store, wordpress, proxy.url)
    finally:
        proxy.stop()
    assert proxy.creates() == 3 and ctx.summary.deliveries_sent == 1
    assert len(wordpress.copies(f"{item.post_key}#nb")) == 1
    assert deliveries(store)[0].state == "sent"


def test_a_partner_failing_every_third_request_is_bounded_and_recovers_once(
    tmp_path, store, items, wordpress
):
    """Every third request through the proxy answers 503. An item's attempt is a few requests
    (lookups, then the create), so the failing slot can fall on every attempt alike: in-run retries
    met it each time (0 of 25 delivered in two runs, 3 attempts each). Now each item is tried once
    per run and the channel pauses after 5 failures in a row: the run is bounded, says why, loses
    nothing, and once the partner is healthy everything goes out exactly once."""
    failing = {"on": True}
    proxy = FlakyProxy(wordpress, lambda method, path, number: failing["on"] and number % 3 == 0)
    posted = [items.approve(new_key(), "nb", title=f"Hvert tredje {n}") for n in range(10)]
    try:
        ctx = through(tmp_path, store, wordpress, proxy.url)
        summary = ctx.summary
        rows = deliveries(store)
        assert proxy.creates() <= len(rows) and {r.attempts for r in rows} == {1}, "one attempt per item"
        assert summary.deliveries_failed <= 5, "the breaker stops the run after 5 failures in a row"
        assert summary.deliveries_sent + summary.deliveries_failed + summary.deliveries_deferred == 10
        if summary.deliveries_deferred:
            (note,) = summary.delivery_notes
            assert "5 failures in a row" in note and "answered 503" in note
        failing["on"] = False
        make_due(store)
        ctx = through(tmp_path, store, wordpress, proxy.url)
    finally:
        proxy.stop()
    assert not ctx.summary.errors
    for item in posted:
        assert len(wordpress.copies(f"{item.post_key}#nb")) == 1, "exactly one copy each"
    assert {r.state for r in deliveries(store)} == {"sent"} and len(deliveries(store)) == 10


def killed_after_the_first_send(tmp_path, config, item, wordpress) -> None:
    """A worker process delivers ``item`` and is SIGKILLed right after the partner answered, before
    the ledger records it (``crash_child.py``)."""
    items_path = tmp_path / "items.json"
    items_path.write_text(json.dumps({item.translation_id: item_to_json(item)}))
    env = {
        **os.environ,
        "SYNDICATION__CHANNELS__PARTNER__PASSWORD": wordpress.password,
        "PYTHONPATH": os.pathsep.join([str(SUPPORT), str(ROOT)]),
    }
    child = subprocess.run(
        [sys.executable, str(SUPPORT / "crash_child.py"), str(config), str(items_path), "partner", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr


@pytest.mark.parametrize("lookup", ["meta", "slug"])
def test_killed_after_the_remote_create_makes_no_duplicate(tmp_path, store, items, wordpress, lookup):
    item = items.approve(new_key(), "nb", title=f"Krasj midt i ({lookup})")
    guid = f"{item.post_key}#nb"
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/syndication.db",
        {"partner": partner(wordpress, status="publish", lookup=lookup)},
    )
    killed_after_the_first_send(tmp_path, config, item, wordpress)
    (created,) = wordpress.copies(guid)
    (row,) = deliveries(store)
    assert row.state == "sending" and row.remote_id is None, "the ledger never heard of the create"

    age_claims(store)  # the dead worker's lease runs out; the next run takes the row over
    ctx = make_context(store, config, {"SYNDICATION__CHANNELS__PARTNER__PASSWORD": wordpress.password})
    deliver_approved(ctx, sleep=no_sleep)
    (row,) = deliveries(store)
    assert row.state == "sent" and row.remote_id == str(created["id"])
    assert row.receipt["meta"]["found_existing"] is True
    assert [p["id"] for p in wordpress.copies(guid)] == [created["id"]], "exactly one post at the partner"


def test_a_copy_left_by_a_crash_is_withdrawn_when_the_post_is_retracted(tmp_path, store, items, wordpress):
    """The worker dies after WordPress created the post, and the Danish post is retracted before the
    next run: the copy the ledger never heard of must still come down (not stay published forever)."""
    item = items.approve(new_key(), "nb", title="Krasj og tilbaketrekking")
    guid = f"{item.post_key}#nb"
    config = write_config(
        tmp_path,
        f"sqlite:///{tmp_path}/syndication.db",
        {"partner": partner(wordpress, status="publish", retract="draft")},
    )
    killed_after_the_first_send(tmp_path, config, item, wordpress)
    (created,) = wordpress.copies(guid)
    assert created["status"] == "publish"

    items.retract_post(item.post_key)
    age_claims(store)
    ctx = make_context(store, config, {"SYNDICATION__CHANNELS__PARTNER__PASSWORD": wordpress.password})
    deliver_approved(ctx, sleep=no_sleep)
    assert not ctx.summary.errors, ctx.summary.errors
    assert [(p["id"], p["status"]) for p in wordpress.copies(guid)] == [(created["id"], "draft")]
    assert [(r.action, r.state) for r in deliveries(store)] == [("publish", "sending"), ("retract", "sent")]
    deliver_approved(
        make_context(store, config, {"SYNDICATION__CHANNELS__PARTNER__PASSWORD": wordpress.password}),
        sleep=no_sleep,
    )
    assert len(deliveries(store)) == 2, "nothing more to do on the next run"


def test_missing_password_names_the_variable(tmp_path, store, items, wordpress):
    items.approve(new_key(), "nb", title="Uten passord")
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/syndication.db", {"partner": partner(wordpress)})
    ctx = make_context(store, config, {})
    deliver_approved(ctx, sleep=no_sleep)
    (row,) = deliveries(store)
    assert row.error_kind == "terminal" and "set SYNDICATION__CHANNELS__PARTNER__PASSWORD" in row.error


def test_image_from_a_private_address_is_left_out_not_fatal(tmp_path, store, items, wordpress, image_server):
    item = items.approve(
        new_key(),
        "nb",
        title="Bilde fra intranett",
        image=Image(src=f"{image_server.url}/bilder/havet.png", alt="Havet"),
    )
    run(tmp_path, store, wordpress)
    (post,) = wordpress.copies(f"{item.post_key}#nb")
    assert post["featured_media"] == 0
    (note,) = deliveries(store)[0].receipt["meta"]["media_notes"]
    assert "could not be fetched" in note and "loopback" in note


def test_title_and_excerpt_arrive_as_text_never_as_markup(tmp_path, store, items, wordpress):
    """WordPress stores titles and excerpts as HTML, and an Editor's (or admin's) post is not filtered:
    a translated title that *mentions* a tag must show as text on the partner's site, not run there."""
    title = 'Hvorfor <script>alert("x")</script> & <b>fed</b> skrift er farlig'
    excerpt = "Kort: &lt;img src=x onerror=alert(2)&gt; er ikke et billede"
    item = items.approve(new_key(), "nb", title=title, excerpt=excerpt)
    ctx = run(tmp_path, store, wordpress, status="publish")
    assert not ctx.summary.errors, ctx.summary.errors
    (post,) = wordpress.copies(f"{item.post_key}#nb")
    assert html.unescape(post["title"]["raw"]) == title, "the title reads as written"
    assert "<script" not in post["title"]["rendered"] and "<b>" not in post["title"]["rendered"]
    assert "<img" not in post["excerpt"]["rendered"]
    assert "&lt;img src=x onerror=alert(2)&gt;" in post["excerpt"]["rendered"]
    page = requests.get(post["link"], timeout=30).text
    assert '<script>alert("x")</script>' not in page and "<b>fed</b>" not in page
    assert "&lt;script&gt;" in page


# ------------------------------------------------------------------ links to translations, language


def linking_pair(store, items, *, with_target: bool = True):
    """Post A (a feed post) links to B (a linked article) with another spelling of B's address."""
    from sqlalchemy import update

    from syndication.store import Post

    b_key = f"https://bloggen.example/messebesog-{uuid.uuid4().hex[:8]}/"
    spelled = "http://www." + b_key.removeprefix("https://").rstrip("/")
    a = items.approve(
        new_key(), "nb", title="Nettverk er gull", html=f'<p>Jeg skrev om <a href="{spelled}">messen</a>.</p>'
    )
    b = items.approve(b_key, "nb", title="Messebesøk i Berlin") if with_target else None
    with store.session() as session:
        session.execute(update(Post).where(Post.post_key == b_key).values(kind="linked", url=b_key))
    return a, b, b_key, spelled


def test_a_post_links_to_the_partners_copy_of_the_linked_article(tmp_path, store, items, wordpress):
    a, b, _, spelled = linking_pair(store, items)
    run(tmp_path, store, wordpress, status="publish")
    (copy_a,) = wordpress.copies(f"{a.post_key}#nb")
    (copy_b,) = wordpress.copies(f"{b.post_key}#nb")
    content = copy_a["content"]["raw"]
    assert f'href="{copy_b["link"]}"' in content and spelled not in content
    assert [r.action for r in deliveries(store)] == ["publish", "publish"], "one send each, no update"


def test_a_target_delivered_later_heals_the_link_in_one_update(tmp_path, store, items, wordpress):
    a, _, b_key, spelled = linking_pair(store, items, with_target=False)
    run(tmp_path, store, wordpress, status="publish")
    (copy_a,) = wordpress.copies(f"{a.post_key}#nb")
    assert f'href="{spelled}"' in copy_a["content"]["raw"], "not on the partner yet: the original"

    b = items.approve(b_key, "nb", title="Messebesøk i Berlin")
    ctx = run(tmp_path, store, wordpress, status="publish")
    (healed,) = wordpress.copies(f"{a.post_key}#nb")
    (copy_b,) = wordpress.copies(f"{b.post_key}#nb")
    assert healed["id"] == copy_a["id"] and f'href="{copy_b["link"]}"' in healed["content"]["raw"]
    assert (ctx.summary.deliveries_sent, ctx.summary.deliveries_updated) == (1, 1)
    ctx = run(tmp_path, store, wordpress, status="publish")
    assert (ctx.summary.deliveries_sent, ctx.summary.deliveries_updated) == (0, 0)
    assert [r.action for r in deliveries(store)] == ["publish", "publish", "update"]


def test_the_page_carries_its_language_and_hreflang_alternates(tmp_path, store, items, wordpress):
    key = new_key()
    nb = items.approve(key, "nb", title="Nettverk er gull")
    items.approve(key, "sv", title="Nätverk är guld")
    run(tmp_path, store, wordpress, status="publish", languages=["nb", "sv"])
    (copy_nb,) = wordpress.copies(f"{key}#nb")
    (copy_sv,) = wordpress.copies(f"{key}#sv")
    page = requests.get(copy_nb["link"], timeout=30).text
    assert '<html lang="nb"' in page
    alternates = dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)"', page))
    assert alternates == {"nb": copy_nb["link"], "sv": copy_sv["link"], "da": nb.source_url}
    public = requests.get(f"{wordpress.url}/wp-json/wp/v2/posts/{copy_sv['id']}", timeout=30).json()
    assert public["syndication_lang"] == "sv", "readable without logging in"


class LanguagePluginProxy:
    """The real site behind a proxy whose REST index also names ``namespace`` (as Polylang's or
    WPML's would); records the query of every write."""

    def __init__(self, wordpress: WordPress, namespace: str) -> None:
        self.writes: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "POST" and self.path.startswith("/wp-json/wp/v2/posts"):
                    proxy.writes.append(self.path)
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                answer = requests.request(
                    self.command, wordpress.url + self.path, data=body, headers=headers, timeout=60
                )
                content = answer.content
                if self.path.split("?")[0] == "/wp-json/":
                    index = answer.json()
                    index["namespaces"].append(namespace)
                    content = json.dumps(index).encode()
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = HttpServer(Handler)
        self.url = self.server.url


@pytest.mark.parametrize(("namespace", "plugin"), [("pll/v1", "polylang"), ("wpml/v1", "wpml")])
def test_a_partner_running_polylang_or_wpml_gets_the_language_set(
    tmp_path, store, items, wordpress, namespace, plugin
):
    """Only the detection and the request are ours to test: the real plugins are not installed here."""
    item = items.approve(new_key(), "nb", title="Nettverk er gull")
    proxy = LanguagePluginProxy(wordpress, namespace)
    try:
        config = write_config(
            tmp_path,
            f"sqlite:///{tmp_path}/syndication.db",
            {"partner": {**partner(wordpress), "url": proxy.url, "language_codes": {"nb": "no"}}},
        )
        ctx = make_context(store, config, {"SYNDICATION__CHANNELS__PARTNER__PASSWORD": wordpress.password})
        deliver_approved(ctx, sleep=no_sleep)
    finally:
        proxy.server.stop()
    assert not ctx.summary.errors, ctx.summary.errors
    assert [w.split("?", 1)[1] for w in proxy.writes] == ["lang=no"]
    (row,) = deliveries(store)
    assert row.receipt["meta"]["language_plugin"] == plugin
    assert len(wordpress.copies(f"{item.post_key}#nb")) == 1


def test_a_partner_without_a_language_plugin_gets_no_lang_parameter(tmp_path, store, items, wordpress):
    items.approve(new_key(), "nb", title="Nettverk er gull")
    run(tmp_path, store, wordpress)
    (row,) = deliveries(store)
    assert "language_plugin" not in row.receipt["meta"]


# ------------------------------------------------------------------------------- media (issue 14)


@pytest.fixture
def photos():
    """A source blog's images on loopback: one shared by several posts, one too large to copy."""
    from tests.httpserver import FixtureServer

    stem = f"skagen-{uuid.uuid4().hex[:10]}"
    with FixtureServer() as server:
        server.add(f"/bilder/{stem}.png", tiny_png(), headers={"Content-Type": "image/png"})
        server.add(
            f"/bilder/{stem}-stor.png", tiny_png(64, 64) + b"\0" * 4000, headers={"Content-Type": "image/png"}
        )
        server.stem = stem  # type: ignore[attr-defined]
        yield server


def media_named(wp: WordPress, stem: str) -> list[dict]:
    found = wp.get("wp/v2/media", search=stem, context="edit", per_page="50").json()
    return [m for m in found if stem in m["source_url"]]


def test_images_are_uploaded_once_and_the_body_points_to_the_partners_copy(
    tmp_path, store, items, wordpress, photos
):
    wp, stem = wordpress, photos.stem
    shared = photos.url(f"/bilder/{stem}.png")
    body = {
        "nb": f'<p>Utsikten:</p><figure><img src="{shared}" alt="Havet ved Skagen">'
        "<figcaption>Havet en morgen</figcaption></figure>",
        "sv": f'<p>Utsikten:</p><figure><img src="{shared}" alt="Havet vid Skagen">'
        "<figcaption>Havet en morgon</figcaption></figure>",
    }
    first = items.approve(new_key(), "nb", title="Første innlegg", html=body["nb"])
    second = items.approve(
        new_key(),
        "nb",
        title="Andre innlegg",
        html=body["nb"],
        image=Image(src=shared, alt="Havet ved Skagen"),
    )
    settings = {"allow_private_hosts": ["127.0.0.1"], "languages": ["nb", "sv"]}
    ctx = run(tmp_path, store, wp, **settings)
    assert not ctx.summary.errors and not ctx.summary.delivery_notes, ctx.summary
    (library,) = media_named(wp, stem)
    assert library["alt_text"] == "Havet ved Skagen" and library["caption"]["raw"] == "Havet en morgen"
    partner_url = library["source_url"]
    assert partner_url.startswith(wp.url) and partner_url != shared
    for item in (first, second):
        (post,) = wp.copies(f"{item.post_key}#nb")
        content = post["content"]["raw"]
        assert f'src="{partner_url}"' in content and shared not in content
        assert 'alt="Havet ved Skagen"' in content
    (with_featured,) = wp.copies(f"{second.post_key}#nb")
    assert with_featured["featured_media"] == library["id"]

    # A later run, another post with the same image: found in the library, not uploaded again.
    third = items.approve(new_key(), "nb", title="Tredje innlegg", html=body["nb"])
    run(tmp_path, store, wp, **settings)
    assert [m["id"] for m in media_named(wp, stem)] == [library["id"]]
    (post,) = wp.copies(f"{third.post_key}#nb")
    assert f'src="{partner_url}"' in post["content"]["raw"]
    receipt = deliveries(store)[-1].receipt
    assert receipt["meta"]["media"][0]["id"] == library["id"], "the ledger records the copy"

    # The Swedish translation carries its own alt text and caption: one upload for sv.
    swedish = items.approve(first.post_key, "sv", title="Första inlägget", html=body["sv"])
    run(tmp_path, store, wp, **settings)
    (sv_media,) = [m for m in media_named(wp, stem) if m["id"] != library["id"]]
    assert sv_media["alt_text"] == "Havet vid Skagen" and sv_media["caption"]["raw"] == "Havet en morgon"
    (sv_post,) = wp.copies(f"{swedish.post_key}#sv")
    assert f'src="{sv_media["source_url"]}"' in sv_post["content"]["raw"]
    assert len(media_named(wp, stem)) == 2


def test_an_oversized_image_keeps_the_original_address_with_a_note(tmp_path, store, items, wordpress, photos):
    wp, stem = wordpress, photos.stem
    small, large = photos.url(f"/bilder/{stem}.png"), photos.url(f"/bilder/{stem}-stor.png")
    item = items.approve(
        new_key(),
        "nb",
        title="Et stort bilde",
        html=f'<p><img src="{small}" alt="Lite"></p><p><img src="{large}" alt="Stort"></p>',
    )
    ctx = run(tmp_path, store, wp, allow_private_hosts=["127.0.0.1"], max_image_bytes=1000)
    assert not ctx.summary.errors, ctx.summary.errors
    (post,) = wp.copies(f"{item.post_key}#nb")
    content = post["content"]["raw"]
    assert f'src="{large}"' in content, "the large image is shown from the original, never broken"
    assert f'src="{small}"' not in content and len(media_named(wp, stem)) == 1
    (note,) = ctx.summary.delivery_notes
    assert large in note and "larger than 0.001 MB" in note and item.post_key in note
    assert deliveries(store)[0].state == "sent"


def test_one_site_carries_nb_and_sv_in_categories_of_their_own(tmp_path, store, items, wordpress):
    """The docs/channels.md example: two channels, one site, ``default_categories`` per language."""
    wp = wordpress
    channels = {
        "partner_nb": partner(wp, languages=["nb"], default_categories=["Norsk"], status="publish"),
        "partner_sv": partner(wp, languages=["sv"], default_categories=["Svenska"], status="publish"),
    }
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/syndication.db", channels)
    env = {f"SYNDICATION__CHANNELS__{name.upper()}__PASSWORD": wp.password for name in channels}
    key = new_key()
    items.approve(key, "nb", title="Nettverk er gull", categories=("Netværk",))
    items.approve(key, "sv", title="Nätverk är guld", categories=("Netværk",))
    ctx = make_context(store, config, env)
    deliver_approved(ctx, sleep=no_sleep)
    assert not ctx.summary.errors, ctx.summary.errors

    def category_names(post: dict) -> set[str]:
        found = wp.get("wp/v2/categories", include=",".join(map(str, post["categories"]))).json()
        return {html.unescape(c["name"]) for c in found}

    (nb,) = wp.copies(f"{key}#nb")
    (sv,) = wp.copies(f"{key}#sv")
    assert category_names(nb) == {"Norsk", "Netværk"} and category_names(sv) == {"Svenska", "Netværk"}
    assert {r.channel for r in deliveries(store)} == {"partner_nb", "partner_sv"}
    page = requests.get(sv["link"], timeout=30).text
    assert '<html lang="sv' in page and f'hreflang="nb" href="{nb["link"]}"' in page
