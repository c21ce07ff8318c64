"""How a ``syndicate`` command that cannot do its work ends: one line on stderr (or, with
``--json``, one JSON object with ``errors`` on stdout) and an exit code from
``syndication.exit_codes`` — never a page of tracebacks."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

import click

from syndication import exit_codes

if TYPE_CHECKING:
    from syndication.store import Store


class CommandFailed(click.ClickException):
    """A ``ClickException`` with our exit code, printed as JSON when the command got ``--json``."""

    def __init__(self, message: str, *, exit_code: int, stage: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class
        self.stage = stage
        # Decided now, inside the command: click shows the error after its context is gone.
        context = click.get_current_context(silent=True)
        self.as_json = bool(context is not None and context.params.get("as_json"))

    def show(self, file: IO[Any] | None = None) -> None:
        if not self.as_json:
            super().show(file)
            return
        from syndication.cli_support import echo_json

        echo_json({"errors": json_errors(self), "exit_code": self.exit_code})


def json_errors(failure: CommandFailed | None) -> list[dict[str, str | None]]:
    """The ``errors`` list of a command's JSON output (the shape of ``RunSummary.errors``)."""
    if failure is None:
        return []
    return [
        {"stage": failure.stage, "kind": "terminal", "message": failure.message}
        | {"post": None, "lang": None, "channel": None}
    ]


def unwritable_store(store: Store) -> CommandFailed | None:
    """``None`` when a run could write to ``store``, else its failure (exit 3)."""
    from syndication.errors import StoreError
    from syndication.store import check_writable

    try:
        check_writable(store)
    except StoreError as exc:
        return command_failed(exc)
    return None


def command_failed(
    exc: BaseException, *, store_url: str | None = None, exit_code: int = exit_codes.WORK_FAILED
) -> CommandFailed:
    """The ``CommandFailed`` for one of our errors: a store problem exits 3 (a database error that
    got past the store's own checks is one too), anything else ``exit_code``."""
    from sqlalchemy.exc import DBAPIError

    from syndication.errors import ConfigError, StoreError
    from syndication.store import store_problem

    if isinstance(exc, DBAPIError):
        exc = store_problem(store_url or "(the configured store)", exc)
    if isinstance(exc, StoreError):
        return CommandFailed(str(exc), exit_code=exit_codes.STORE_UNAVAILABLE, stage="store")
    stage = "config" if isinstance(exc, ConfigError) else "run"
    return CommandFailed(str(exc), exit_code=exit_code, stage=stage)
