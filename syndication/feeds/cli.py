"""``syndicate feeds``: what the scheduler does with each feed, and the two ways to overrule it.

``list`` shows every feed with its state (``active``, ``failing``, ``retired``), its next poll,
its last error and its notes. ``poll-now`` polls one feed at once, whatever backoff, ``Retry-After``
or retirement deferred it, and stores the answer as a scheduled poll would (new entries are
extracted and translated by the next ``syndicate run``). A retired feed that answers then is
active again; one that still answers 410 stays retired (``resume`` puts it back on the schedule
regardless). ``resume`` makes a failing or retired feed active at its configured URL, polled on the
next run; it makes no request.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndication.cli_support import config_option, echo_json, json_option, open_context

if TYPE_CHECKING:
    from syndication.context import RunContext
    from syndication.settings import FeedSettings


@click.group()
def feeds() -> None:
    """List feeds with their state and next poll; poll one now; resume a retired one."""


def _config_for(ctx: RunContext, wanted: str) -> FeedSettings:
    from syndication.feeds.health import find_config
    from syndication.feeds.ingest import _feed_names

    found = find_config(ctx.settings.feeds, wanted)
    if found is None:
        raise click.UsageError(f"no configured feed matches {wanted!r}; {_feed_names(ctx.settings.feeds)}")
    return found


@feeds.command("list")
@config_option
@json_option
def list_feeds(config: Path | None, as_json: bool) -> None:
    """Every feed: state, next poll (or probe), last error, notes."""
    from syndication.feeds.health import feed_lines, feed_report

    now = datetime.now(UTC)
    with open_context(config) as ctx, ctx.store.session() as session:
        report = feed_report(session, ctx.settings.feeds, ctx.settings.polling, now)
    if as_json:
        echo_json({"feeds": report})
        return
    if not report:
        click.echo("no feeds: add [[feeds]] to the config")
    for item in report:
        click.echo("\n".join(feed_lines(item, now)))


@feeds.command("poll-now")
@click.argument("feed")
@config_option
@json_option
def poll_now(feed: str, config: Path | None, as_json: bool) -> None:
    """Poll FEED (name or URL) at once, whatever backoff, Retry-After or retirement deferred it.

    The answer is stored as a scheduled poll's would be; new entries are extracted and translated
    by the next `syndicate run`. Exits 1 when the poll failed.
    """
    from syndication.feeds.health import describe, feed_lines, feed_row_for
    from syndication.feeds.ingest import poll_one
    from syndication.orchestration.pipeline_lock import pipeline_lock

    with (
        open_context(config) as ctx,
        # Entries are stored as a scheduled run stores them: not side by side with one.
        pipeline_lock(
            ctx.settings.store_url(),
            holder="syndicate feeds poll-now (command line)",
            on_wait=lambda line: click.echo(line, err=True),
        ),
    ):
        chosen = _config_for(ctx, feed)
        result = poll_one(ctx, chosen, now=datetime.now(UTC), force=True)
        with ctx.store.session() as session:
            state = describe(feed_row_for(session, chosen), chosen, ctx.settings.polling, datetime.now(UTC))
    summary = ctx.summary
    label = chosen.name or chosen.url
    if as_json:
        echo_json(
            {
                "feed": label,
                "outcome": result.outcome,
                "status": result.status,
                "error": result.error,
                "notes": result.notes,
                "summary": summary.as_dict(),
                "state": state,
            }
        )
    else:
        if result.outcome == "ok":
            click.echo(
                f"{label}: HTTP {result.status}, {summary.entries_new} new and {summary.entries_updated} "
                "updated entries (the next `syndicate run` extracts and translates them)"
            )
        elif result.outcome == "not_modified":
            click.echo(f"{label}: not modified since the last poll")
        # The run's errors say more (backoff, retirement); a retired feed's failed probe has none.
        errors = [e.message for e in summary.errors] or ([result.error] if result.error else [])
        for message in errors:
            click.echo(f"{label}: {message}", err=True)
        click.echo("\n".join(feed_lines(state)))
    if result.outcome in ("gone", "error") or summary.errors:
        sys.exit(1)


@feeds.command()
@click.argument("feed")
@config_option
def resume(feed: str, config: Path | None) -> None:
    """Put FEED (name or URL) back on the normal schedule at its configured URL: a retired or
    failing feed is polled again on the next run. Makes no request."""
    from syndication.feeds.health import resume as resume_feed
    from syndication.feeds.ingest import feed_row

    with open_context(config) as ctx, ctx.store.session() as session:
        chosen = _config_for(ctx, feed)
        row = feed_row(session, chosen)
        was = resume_feed(row)
    label = chosen.name or chosen.url
    if was == "active":
        click.echo(f"{label} was active already; it is polled on the next run")
    else:
        click.echo(f"{label} was {was}; it is active again and polled on the next run at {chosen.url}")
