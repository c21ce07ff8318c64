"""``syndicate corrections list|remove``: the corrections learned from editors, from the shell.

The same list and removal as the review app's Corrections page (``/admin/corrections``); see
:mod:`syndication.review.corrections`. (Outside the ``syndication.review`` package on purpose: that
package loads SQLAlchemy at import, and ``syndicate --help`` must stay fast.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from syndication.cli_support import config_option, echo_json, json_option, open_context


@click.group()
def corrections() -> None:
    """Word fixes learned from editors' edits of machine output (suggested; applied when confirmed)."""


@corrections.command("list")
@config_option
@json_option
def corrections_list(config: Path | None, as_json: bool) -> None:
    """Every learned correction: pair, engine, Danish word, machine → editors' words, how often."""
    from syndication.review.corrections import describe, listing

    with open_context(config) as ctx, ctx.store.session() as session:
        threshold = ctx.settings.review.auto_apply_corrections
        rows: list[dict[str, Any]] = [describe(c, threshold) for c in listing(session)]
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no correction learned yet")
    for r in rows:
        status = "applied before review" if r["auto"] else "suggested" if r["suggested"] else "not suggested"
        click.echo(
            f"{r['id']:>5} {r['source_lang']}→{r['target_lang']} {r['engine']}: "
            f"{r['wrong']} → {r['right']} for {r['term']} "
            f"(made in {r['uses']}, kept in {r['declined']}, undone {r['reverted']}; {status})"
        )


@corrections.command("remove")
@config_option
@click.argument("correction_id", type=int)
def corrections_remove(config: Path | None, correction_id: int) -> None:
    """Forget correction CORRECTION_ID (from `corrections list`): never suggested or applied again."""
    from syndication.review.corrections import remove

    with open_context(config) as ctx, ctx.store.session() as session:
        removed = remove(session, correction_id)
    if not removed:
        raise click.BadParameter(f"no learned correction with id {correction_id}", param_hint="CORRECTION_ID")
    click.echo(f"correction {correction_id} removed: no longer suggested or applied")
