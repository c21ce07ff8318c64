"""``syndicate posts list|retry``: posts whose page failed or was deferred, and trying them again.

A page that fails is tried again on ``[pages] retry_schedule`` (see ``syndication.page_retries``);
after the last try the post is ``failed`` and stays listed here and in ``syndicate status`` until
someone runs ``syndicate posts retry``. (Outside the ``syndication.posts`` package on purpose: that
package loads the extraction stack, and ``syndicate --help`` must stay fast.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from syndication.cli_support import config_option, echo_json, json_option, open_context


def page_lines(pages: dict[str, Any]) -> list[str]:
    """``status``'s pages section as text: one line per waiting or failed post."""
    if not pages["listed"]:
        return []
    lines = [f"pages: waiting {pages['waiting']}, failed {pages['failed']} (syndicate posts list)"]
    for page in pages["listed"]:
        lines.append("  " + _line(page))
    hidden = pages["waiting"] + pages["failed"] - len(pages["listed"])
    if hidden > 0:
        lines.append(f"  … and {hidden} more (syndicate posts list)")
    return lines


def _line(page: dict[str, Any]) -> str:
    if page["error_kind"] == "deferred":
        tries = "deferred"
    else:
        tries = f"try {page['attempts']} of {page['tries']} failed"
    # The reason names the URL too (it is the error's text); once per line is enough.
    reason = (page["reason"] or "").replace(f" (url {page['url']})", "")
    head = f"{page['id']:>5} {page['state']:<7} {page['url']}"
    return f"{head}: {reason} — {tries}, next try {page['next_try']}"


@click.group()
def posts() -> None:
    """Posts whose page failed (404, 403, robots.txt, too large ...) or was deferred."""


@posts.command("list")
@config_option
@click.option(
    "--state",
    type=click.Choice(["waiting", "failed", "all"]),
    default="all",
    show_default=True,
    help="waiting: a retry is scheduled; failed: every try failed, waits for `posts retry`.",
)
@json_option
def posts_list(config: Path | None, state: str, as_json: bool) -> None:
    """Waiting and failed posts with the reason and the next try."""
    from syndication.page_retries import describe, problem_posts
    from syndication.store import utcnow

    with open_context(config) as ctx, ctx.store.session() as session:
        now = utcnow()
        rows = [
            describe(post, ctx.settings.pages, now=now)
            for post in problem_posts(session, state=None if state == "all" else state)
        ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no post is waiting for a retry or failed")
    for row in rows:
        click.echo(_line(row))


@posts.command("retry")
@config_option
@click.argument("post", required=False)
@click.option("--all", "all_posts", is_flag=True, help="Every waiting and failed post.")
def posts_retry(config: Path | None, post: str | None, all_posts: bool) -> None:
    """Make a waiting or failed POST (id, GUID or URL) due now: the next run tries it.

    A failed post gets the whole retry schedule again.
    """
    from syndication.errors import SyndicationError
    from syndication.page_retries import problem_posts, retry_now
    from syndication.review import resolve_post

    if all_posts and post is not None:
        raise click.UsageError("name a POST or use --all, not both")
    if not all_posts and post is None:
        raise click.UsageError("name a POST (id, GUID or URL) or use --all")
    with open_context(config) as ctx, ctx.store.session() as session:
        if all_posts:
            chosen = problem_posts(session)
        else:
            assert post is not None
            try:
                chosen = [resolve_post(session, post)]
            except SyndicationError as exc:
                raise click.ClickException(str(exc)) from exc
        changed = retry_now(chosen)
        for row in changed:
            click.echo(f"post {row.id} ({row.url}): due now; the next run tries it")
        skipped = [row for row in chosen if row not in changed]
    if all_posts and not changed:
        click.echo("no post is waiting for a retry or failed")
    for row in skipped:
        click.echo(f"post {row.id} ({row.url}) is {row.status}, not waiting or failed: nothing to do")
