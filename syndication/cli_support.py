"""Options and helpers shared by every ``syndicate`` command group (main CLI, ``models``,
``serve``/``users``, ``subscribers``), kept apart from ``syndication.cli`` so the groups it mounts
can use them without a circular import. Light on purpose: only click and the standard library load
here, so ``syndicate --help`` stays fast."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from syndication.context import RunContext

F = TypeVar("F", bound=Callable[..., Any])


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "-c",
        "config",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        envvar="SYNDICATION_CONFIG",
        help="Config file (default: config/syndication.toml, or $SYNDICATION_CONFIG).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(func)


def config_path(config: Path | None) -> str | None:
    """The config file to use, absolute (flows and workers may run elsewhere), or None for defaults."""
    if config is not None:
        return str(config.resolve())
    default = Path("config/syndication.toml")
    return str(default.resolve()) if default.exists() else None


@contextmanager
def open_context(config: Path | None, *, dry_run: bool = False) -> Iterator[RunContext]:
    """A run context for one command; our errors (and database errors) become one-line CLI errors
    with the exit codes of ``syndication.exit_codes``."""
    from sqlalchemy.exc import DBAPIError

    from syndication.cli_failures import command_failed
    from syndication.context import RunContext
    from syndication.errors import SyndicationError

    try:
        ctx = RunContext.open(config_path(config), dry_run=dry_run)
    except SyndicationError as exc:
        raise command_failed(exc) from exc  # exit 3 for the store
    try:
        yield ctx
    except (SyndicationError, DBAPIError) as exc:
        raise command_failed(exc, store_url=ctx.store.url) from exc
    finally:
        ctx.close()


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, default=str, ensure_ascii=False, indent=2))


def actor_name(name: str | None) -> str:
    """Who did it, for the audit trail: ``--as NAME`` or the login name."""
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def prefect_quiet() -> None:
    # No internet here or on many workers: Prefect must not try to phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
