"""``syndicate deliveries``: list the ledger page by page, retry failures in bulk, redeliver."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syndication.cli_support import config_option, echo_json, json_option, open_context
from syndication.deliveries.states import RETRYABLE_STATES, STATES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from syndication.deliveries.bulk import RetryPlan, Selection


@click.group()
def deliveries() -> None:
    """Inspect and retry deliveries in the ledger."""


def _filters(func: Any) -> Any:
    """The selection options ``list`` and ``retry`` share."""
    func = click.option("--post", "post_ref", default=None, help="Only this post (id, GUID or URL).")(func)
    func = click.option(
        "--since", default=None, help="Changed since a date (2026-12-01) or a duration back (30m, 12h, 3d)."
    )(func)
    func = click.option("--state", type=click.Choice(STATES), default=None, help="Only rows in this state.")(
        func
    )
    return click.option("--channel", default=None, help="Only this channel.")(func)


def _selection(
    session: Session,
    ids: tuple[int, ...],
    channel: str | None,
    state: str | None,
    since: str | None,
    post_ref: str | None,
) -> Selection:
    from syndication.deliveries.bulk import Selection, parse_since, resolve_post_ref

    return Selection(
        ids=ids,
        channel=channel,
        state=state,
        since=parse_since(since) if since else None,
        post_id=resolve_post_ref(session, post_ref) if post_ref else None,
    )


def _line(r: dict[str, Any]) -> str:
    extra = f" — {r['error']}" if r["error"] else (f" → {r['remote_url']}" if r["remote_url"] else "")
    return (
        f"{r['id']:>6}  post {r['post_id']} {r['lang']} {r['channel']}:{r['target'] or '-'} "
        f"{r['action']} {r['state']}{extra}"
    )


@deliveries.command("list")
@config_option
@_filters
@click.option("--limit", type=click.IntRange(1, 100_000), default=None, help="Rows per page (default 50).")
@click.option("--offset", type=click.IntRange(0), default=0, help="Skip this many rows (newest first).")
@json_option
def deliveries_list(
    config: Path | None,
    channel: str | None,
    state: str | None,
    since: str | None,
    post_ref: str | None,
    limit: int | None,
    offset: int,
    as_json: bool,
) -> None:
    """Ledger rows, newest first, one page at a time."""
    from syndication.deliveries.bulk import DEFAULT_LIMIT, list_page

    size = limit or DEFAULT_LIMIT
    with open_context(config) as ctx, ctx.store.session() as session:
        selection = _selection(session, (), channel, state, since, post_ref)
        page = list_page(session, selection, limit=size, offset=offset)
    if as_json:
        data = {"total": page.total, "offset": offset, "limit": size, "more": page.more, "rows": page.rows}
        echo_json(data)
        return
    for r in page.rows:
        click.echo(_line(r))
    if not page.rows:
        click.echo("no deliveries match" if offset == 0 else f"nothing after row {offset} of {page.total}")
    if page.more:
        click.echo(f"{page.more} more: use --offset {offset + len(page.rows)}")


@deliveries.command("retry")
@config_option
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_rows", is_flag=True, help="Every failed delivery (uncertain ones: see below).")
@_filters
@click.option(
    "--include-uncertain",
    is_flag=True,
    help="Also resend uncertain e-mails (they may have arrived: recipients may get a second copy).",
)
@click.option("--dry-run", is_flag=True, help="Only show what would be retried.")
@click.option("--yes", is_flag=True, help="Go ahead (needed above 10 rows).")
@json_option
def deliveries_retry(
    config: Path | None,
    ids: tuple[int, ...],
    all_rows: bool,
    channel: str | None,
    state: str | None,
    since: str | None,
    post_ref: str | None,
    include_uncertain: bool,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Queue failed deliveries (IDS, or every one matching the filters) for the next publish.

    Above 10 rows nothing changes without --yes: the rows are shown first. Uncertain e-mails
    (a send that may have arrived) are left out unless --include-uncertain."""
    from syndication.deliveries.bulk import CONFIRM_ABOVE, apply_retry, plan_retry

    if all_rows and ids:
        raise click.UsageError("give ids or --all, not both")
    if state is not None and state not in RETRYABLE_STATES:
        raise click.UsageError(f"--state {state}: only failed or uncertain deliveries can be retried")
    if not (ids or all_rows or channel or state or since or post_ref):
        raise click.UsageError("say which deliveries: IDS, --all, --channel, --state, --since or --post")
    with open_context(config) as ctx, ctx.store.session() as session:
        selection = replace(_selection(session, ids, channel, state, since, post_ref), every=all_rows)
        plan = plan_retry(session, selection, include_uncertain=include_uncertain)
        rows = plan.to_queue
        go = bool(rows) and not dry_run and (yes or len(rows) <= CONFIRM_ABOVE)
        queued = apply_retry(session, [r["id"] for r in rows]) if go else 0
    if as_json:
        echo_json(
            {
                "would_retry": len(rows),
                "queued": queued,
                "uncertain_left_out": 0 if include_uncertain else len(plan.uncertain),
                "recipients_may_get_second_copy": plan.recipients_at_risk if include_uncertain else 0,
                "not_failed": plan.not_failed,
                "rows": rows,
            }
        )
    else:
        _report(plan, rows, go=go, queued=queued, dry_run=dry_run)
    if ids and not rows and not plan.uncertain:
        sys.exit(1)


def _report(plan: RetryPlan, rows: list[dict[str, Any]], *, go: bool, queued: int, dry_run: bool) -> None:
    from syndication.deliveries.bulk import CONFIRM_ABOVE

    if rows:
        click.echo(f"{'id':>6}  {'post':<32} {'lang':<5} {'channel':<16} {'target':<24} {'state':<16} error")
        for r in rows:
            click.echo(
                f"{r['id']:>6}  {_cut(r['post'], 32):<32} {r['lang']:<5} {_cut(r['channel'], 16):<16} "
                f"{_cut(r['target'] or '-', 24):<24} {r['state']:<16} {_cut(r['error'] or '', 60)}"
            )
    if plan.uncertain:
        who = plan.recipients_at_risk
        if plan.include_uncertain:
            click.echo(
                f"{len(plan.uncertain)} uncertain e-mail(s) included: "
                f"{who} recipient(s) may get a second copy"
            )
        else:
            click.echo(
                f"{len(plan.uncertain)} uncertain e-mail(s) left out: they may have arrived; "
                f"--include-uncertain resends them ({who} recipient(s) may get a second copy)"
            )
    if plan.not_failed:
        click.echo(f"{plan.not_failed} matching row(s) are not failed: nothing to retry there")
    if not rows:
        click.echo("nothing to retry")
    elif go:
        click.echo(f"{queued} delivery(ies) queued for the next publish (`syndicate publish`)")
    elif dry_run:
        click.echo(f"dry run: {len(rows)} delivery(ies) would be queued for the next publish")
    else:
        click.echo(
            f"{len(rows)} deliveries would be queued (more than {CONFIRM_ABOVE}): nothing changed; "
            "add --yes to queue them"
        )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@deliveries.command("redeliver")
@config_option
@click.argument("post")
@click.option("--lang", required=True, help="Language of the item.")
@click.option("--channel", required=True, help="Channel to send it to again.")
@click.option("--dry-run", is_flag=True, help="Render and preview, change nothing.")
@json_option
def deliveries_redeliver(
    config: Path | None, post: str, lang: str, channel: str, dry_run: bool, as_json: bool
) -> None:
    """Send one approved item (POST × --lang) to one --channel again, although it went out."""
    from syndication import pipeline
    from syndication.cli import _exit_for, _print_summary

    with open_context(config, dry_run=dry_run) as ctx:
        summary = pipeline.redeliver(ctx, post, lang, channel)
    _print_summary(summary, as_json)
    _exit_for(summary)
