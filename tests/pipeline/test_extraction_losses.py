"""Extraction losses on a real loopback blog, through the whole run and the review CLI.

A post with a 5,000-deep block arrives whole, fetched as a page and from ``content:encoded``; a
post whose source could not be read whole is flagged ``extraction_incomplete``, never
auto-approved, and shown to the editor with what was lost; what the sanitizer removed is listed in
``review show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from syndication import pipeline
from syndication.cli import main
from syndication.context import RunContext
from syndication.posts import parsing
from syndication.store import Post, Revision, Translation
from tests.posts.test_extraction_losses import AFTER, BEFORE, INSIDE, deep_body, wordpress_page

VIDEO_POST = (
    f"<p>{BEFORE}</p>"
    '<figure class="wp-block-embed"><iframe src="https://www.youtube.com/embed/abc123"></iframe></figure>'
    f"<p>{AFTER}</p>"
)


def rss(base: str, items: list[tuple[int, str, str | None]]) -> bytes:
    """``items``: (post number, title, content:encoded or None to make the page the source)."""
    entries = "".join(
        f"<item><title>{title}</title><link>{base}/posts/{n}/</link>"
        f"<guid isPermaLink='false'>{base}/?p={n}</guid><description>Kort resumé.</description>"
        + (f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content else "")
        + "</item>"
        for n, title, content in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Landsbyen</title>'
        f"<link>{base}/</link><language>da</language>{entries}</channel></rss>"
    ).encode()


def blog(
    http_server, tmp_path: Path, items: list[tuple[int, str, str | None]], pages: dict[int, str]
) -> Path:
    base = http_server.url("").rstrip("/")
    http_server.add("/feed/", body=rss(base, items), headers={"Content-Type": "application/rss+xml"})
    http_server.add("/robots.txt", body=b"User-agent: *\nDisallow: /wp-admin/\n")
    for n, page in pages.items():
        http_server.add(
            f"/posts/{n}/", body=page.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
        )
    host = http_server.url("").split("//", 1)[1].split(":", 1)[0]
    config = tmp_path / "syndication.toml"
    config.write_text(
        f"""
[store]
url = "sqlite:///{tmp_path}/losses.db"
[fetch]
allow_private_hosts = ["{host}"]
min_host_interval = 0
timeout = 5
[[feeds]]
url = "{base}/feed/"
name = "landsbyen"
[translation]
targets = ["nb"]
[review]
auto_approve = ["nb"]
[channels.outbox]
type = "outbox"
path = "{tmp_path}/outbox"
""",
        encoding="utf-8",
    )
    return config


def revisions(ctx: RunContext) -> dict[str, Revision]:
    with ctx.store.session() as session:
        rows = session.execute(
            select(Post.post_key, Revision).join(Revision, Revision.id == Post.current_revision_id)
        )
        return {key.rsplit("=", 1)[1]: revision for key, revision in rows}


def test_a_5000_deep_block_arrives_whole_from_a_page_and_from_content_encoded(http_server, tmp_path):
    config = blog(
        http_server,
        tmp_path,
        [(1, "Dyb side", None), (2, "Dybt feedindlæg", deep_body())],
        {1: wordpress_page(deep_body()), 2: wordpress_page("<p>Kun på siden.</p>")},
    )
    ctx = RunContext.open(config)
    try:
        pipeline.poll(ctx)
        pipeline.extract(ctx)
        found = revisions(ctx)
    finally:
        ctx.close()
    assert set(found) == {"1", "2"}
    for title, revision in found.items():
        assert BEFORE in revision.text and INSIDE in revision.text and AFTER in revision.text, title
        assert revision.extraction is not None and revision.extraction["flattened_depth"] >= 5000
        assert "incomplete" not in revision.extraction
    assert len(http_server.requests_to("/posts/1/")) == 1  # the page was the source of post 1


@pytest.fixture
def cut_blog(http_server, tmp_path, monkeypatch):
    """Post 1's page is longer than the extractor reads; post 2 had a video the sanitizer removed."""
    head = wordpress_page(f"<p>{BEFORE}</p><p>")
    rest = f"{AFTER}</p>" + "<p>Resten fortæller om festen.</p>" * 40 + "</div></article></body></html>"
    monkeypatch.setattr(parsing, "MAX_HTML_CHARS", len(head))
    config = blog(
        http_server,
        tmp_path,
        [(1, "Lang side", None), (2, "Video fra festen", VIDEO_POST)],
        {1: head + rest},
    )
    return config, http_server.url("").rstrip("/")


def test_a_source_not_read_whole_is_flagged_never_auto_approved_and_shown(cut_blog):
    config, base = cut_blog
    ctx = RunContext.open(config)
    try:
        pipeline.syndicate(ctx)
        with ctx.store.session() as session:
            rows = session.execute(select(Post.post_key, Translation.status).join(Translation)).all()
            status = {key.rsplit("=", 1)[1]: state for key, state in rows}
    finally:
        ctx.close()
    # The whole post goes out on its own (auto-approve); the cut one waits for a person.
    assert status == {"1": "machine_translated", "2": "approved"}

    runner = CliRunner()
    post = f"{base}/?p=1"
    shown = runner.invoke(main, ["review", "show", post, "--lang", "nb", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    assert "⚑ extraction_incomplete: The source could not be read whole" in shown.output
    assert "starting “Teksten efter den dybe blok" in shown.output
    as_json = runner.invoke(main, ["review", "show", post, "--lang", "nb", "--config", str(config), "--json"])
    detail = json.loads(as_json.stdout)
    assert [f["code"] for f in detail["source_flags"]] == ["extraction_incomplete"]
    assert detail["item"]["extraction_incomplete"] is True

    refused = runner.invoke(main, ["review", "approve", post, "--lang", "nb", "--config", str(config)])
    assert refused.exit_code != 0 and "not read whole" in refused.output
    confirmed = runner.invoke(
        main, ["review", "approve", post, "--lang", "nb", "--config", str(config), "--yes"]
    )
    assert confirmed.exit_code == 0, confirmed.output


def test_review_show_lists_what_the_sanitizer_removed(cut_blog):
    config, base = cut_blog
    ctx = RunContext.open(config)
    try:
        pipeline.syndicate(ctx)
    finally:
        ctx.close()
    runner = CliRunner()
    args = ["review", "show", f"{base}/?p=2", "--lang", "nb", "--config", str(config)]
    shown = runner.invoke(main, args)
    assert shown.exit_code == 0, shown.output
    assert "removed from the source: 1 embedded video removed (youtube.com)" in shown.output
    detail = json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    assert detail["removed"] == [
        {
            "kind": "video",
            "count": 1,
            "detail": "youtube.com",
            "summary": "1 embedded video removed (youtube.com)",
        }
    ]
    assert detail["source_flags"] == []
