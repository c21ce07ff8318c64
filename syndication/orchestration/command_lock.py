"""The pipeline lock as a terminal command holds it: ``--wait SECONDS`` / ``--no-wait``, and a line on
stderr naming the run it waits for (``syndicate run``, ``syndicate backfill``).

The command takes the lock before it starts anything (its flow, a temporary Prefect server), so a
busy store is reported at once and ``--no-wait`` costs nothing; the flow inside the same process
finds the lock shared with it. A lock still busy when the command stops waiting exits 1 (work was
not done), with the holder named; a script can retry later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def wait_options(func: F) -> F:
    """``--wait SECONDS`` and ``--no-wait``; the command gets ``wait`` and ``no_wait``."""
    func = click.option(
        "--no-wait",
        is_flag=True,
        help="If another run holds the pipeline lock, exit 1 at once instead of waiting.",
    )(func)
    return click.option(
        "--wait",
        "wait",
        type=click.FloatRange(min=0),
        default=None,
        metavar="SECONDS",
        help="Wait at most this long for another run's pipeline lock, then exit 1 (default: until free).",
    )(func)


def wait_seconds(wait: float | None, no_wait: bool) -> float | None:
    if no_wait and wait is not None:
        raise click.UsageError("give --wait SECONDS or --no-wait, not both")
    return 0.0 if no_wait else wait


@contextmanager
def command_lock(store_url: str, *, holder: str, wait: float | None) -> Iterator[None]:
    """Hold the pipeline lock for the command; say on stderr whom it waits for and when it got in."""
    from syndication.errors import PipelineBusyError, SyndicationError
    from syndication.orchestration.pipeline_lock import pipeline_lock
    from syndication.timefmt import human_duration

    started = time.monotonic()
    told: list[str] = []

    def tell(line: str) -> None:
        told.append(line)
        click.echo(line, err=True)

    entered = False
    try:
        with pipeline_lock(store_url, holder=holder, on_wait=tell, wait=wait, shared_with_process=True):
            entered = True
            if told:
                waited = human_duration(time.monotonic() - started)
                click.echo(f"the pipeline lock is free (waited {waited}): starting", err=True)
            yield
    except PipelineBusyError as exc:
        if entered:
            raise
        if wait == 0:
            raise click.ClickException(
                f"{exc}; --no-wait: nothing was run. Try again later, or give --wait SECONDS"
            ) from exc
        raise click.ClickException(
            f"{exc}, still after {human_duration(exc.waited)} (--wait {wait:g}): nothing was run"
        ) from exc
    except SyndicationError as exc:
        if entered:
            raise
        from syndication.cli_failures import command_failed

        raise command_failed(exc) from exc  # a store problem exits 3
