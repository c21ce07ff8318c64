"""``syndicate subscribers add|import|list|remove|unsubscribe``: the newsletter's subscriber lists.

``--list`` names the list (a newsletter channel's ``list`` setting, by default the channel's name);
when the config has exactly one newsletter channel it is the default.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from syndication.cli_support import config_option, echo_json, json_option, open_context

if TYPE_CHECKING:
    from syndication.context import RunContext


def _list_name(ctx: RunContext, given: str | None) -> str:
    if given:
        return given
    names = [
        str((config.model_extra or {}).get("list") or name)
        for name, config in ctx.settings.channels.items()
        if config.type == "newsletter"
    ]
    if len(names) == 1:
        return names[0]
    if not names:
        raise click.UsageError("no newsletter channel in the config: pass --list NAME")
    raise click.UsageError(f"several newsletter lists ({', '.join(sorted(names))}): pass --list NAME")


list_option = click.option(
    "--list", "list_name", default=None, help="List name (default: the only newsletter)."
)


@click.group()
def subscribers() -> None:
    """Newsletter subscribers per list and language."""


@subscribers.command("add")
@config_option
@click.argument("emails", nargs=-1, required=True)
@click.option("--lang", required=True, help="Language of the newsletter they get (nb, sv, …).")
@list_option
@click.option("--name", default=None)
@click.option("--resubscribe", is_flag=True, help="Add again someone who unsubscribed (only if they asked).")
def add_command(
    config: Path | None,
    emails: tuple[str, ...],
    lang: str,
    list_name: str | None,
    name: str | None,
    resubscribe: bool,
) -> None:
    """Add one or more addresses."""
    from syndication.deliveries.subscribers import SubscriberError, add

    failures = 0
    with open_context(config) as ctx:
        target = _list_name(ctx, list_name)
        for email in emails:
            try:
                with ctx.store.session() as session:
                    row, outcome = add(
                        session, email, lang=lang, list_name=target, name=name, resubscribe=resubscribe
                    )
                    click.echo(f"{row.email}: {outcome} ({target}, {row.lang})")
            except SubscriberError as exc:
                failures += 1
                click.echo(f"{email}: {exc.message}", err=True)
    if failures:
        sys.exit(1)


@subscribers.command("import")
@config_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, help="Language for rows without a lang column.")
@list_option
@json_option
def import_command(
    config: Path | None, csv_file: Path, lang: str | None, list_name: str | None, as_json: bool
) -> None:
    """Import addresses from a CSV file (columns: email[, lang][, name])."""
    from dataclasses import asdict

    from syndication.deliveries.subscribers import SubscriberError, import_csv

    with open_context(config) as ctx:
        target = _list_name(ctx, list_name)
        try:
            with ctx.store.session() as session:
                report = import_csv(session, csv_file, list_name=target, default_lang=lang)
        except SubscriberError as exc:
            raise click.ClickException(exc.message) from exc
    if as_json:
        echo_json(asdict(report))
        return
    click.echo(
        f"{target}: {report.added} added, {report.existing} already there, "
        f"{report.skipped_unsubscribed} skipped (unsubscribed earlier), {len(report.invalid)} invalid"
    )
    for line, reason in report.invalid:
        click.echo(f"  line {line}: {reason}", err=True)


@subscribers.command("list")
@config_option
@click.option("--lang", default=None)
@list_option
@click.option("--status", default="active", show_default=True, help="active, unsubscribed or all.")
@json_option
def list_command(
    config: Path | None, lang: str | None, list_name: str | None, status: str, as_json: bool
) -> None:
    """Show subscribers."""
    from syndication.deliveries.subscribers import list_subscribers

    with open_context(config) as ctx:
        target = _list_name(ctx, list_name)
        with ctx.store.session() as session:
            rows = [
                {
                    "email": row.email,
                    "lang": row.lang,
                    "list": row.list_name,
                    "status": row.status,
                    "name": row.name,
                    "created_at": row.created_at.isoformat(),
                }
                for row in list_subscribers(
                    session, list_name=target, lang=lang, status=None if status == "all" else status
                )
            ]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no subscribers")
    for r in rows:
        click.echo(f"{r['email']:<40} {r['lang']:<4} {r['status']:<13} {str(r['created_at'])[:10]}")


@subscribers.command("remove")
@config_option
@click.argument("emails", nargs=-1, required=True)
@click.option("--lang", default=None, help="Only from this language (default: all).")
@list_option
def remove_command(
    config: Path | None, emails: tuple[str, ...], lang: str | None, list_name: str | None
) -> None:
    """Delete addresses entirely (erasure). To stop mail but remember the choice: `unsubscribe`."""
    from syndication.deliveries.subscribers import SubscriberError, remove

    failures = 0
    with open_context(config) as ctx:
        target = _list_name(ctx, list_name)
        for email in emails:
            try:
                with ctx.store.session() as session:
                    count = remove(session, email, list_name=target, lang=lang)
            except SubscriberError as exc:
                failures += 1
                click.echo(f"{email}: {exc.message}", err=True)
                continue
            click.echo(f"{email}: {'removed' if count else 'not on the list'}")
            failures += 0 if count else 1
    if failures:
        sys.exit(1)


@subscribers.command("unsubscribe")
@config_option
@click.argument("email")
@click.option("--lang", default=None, help="Only from this language (default: all).")
@list_option
def unsubscribe_command(config: Path | None, email: str, lang: str | None, list_name: str | None) -> None:
    """Stop sending to an address (kept as unsubscribed, so an import does not add it back)."""
    from syndication.deliveries.subscribers import (
        SubscriberError,
        list_subscribers,
        normalize_email,
        unsubscribe,
    )

    with open_context(config) as ctx:
        target = _list_name(ctx, list_name)
        try:
            address = normalize_email(email)
        except SubscriberError as exc:
            raise click.ClickException(exc.message) from exc
        with ctx.store.session() as session:
            rows = [r for r in list_subscribers(session, list_name=target, lang=lang) if r.email == address]
            for row in rows:
                unsubscribe(session, row.token)
    if not rows:
        raise click.ClickException(f"{address} is not on {target}")
    click.echo(f"{address}: unsubscribed ({', '.join(r.lang for r in rows)})")
