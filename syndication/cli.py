"""``syndicate``: the command line.

Heavy modules (Prefect, SQLAlchemy, engines) are imported inside commands so ``syndicate --help``
starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from syndication.cli_support import (
    actor_name,
    config_option,
    config_path,
    echo_json,
    json_option,
    open_context,
    prefect_quiet,
)
from syndication.orchestration.command_lock import command_lock, wait_options, wait_seconds

if TYPE_CHECKING:
    from syndication.context import RunContext
    from syndication.settings import Settings
    from syndication.summary import RunSummary

prefect_option = click.option(
    "--prefect",
    is_flag=True,
    help="Run as a Prefect flow (artifacts, events, notification blocks) even without a configured "
    "server: a temporary one is started for it. Default: a flow when PREFECT_API_URL is set, else "
    "in this process.",
)


def _print_summary(summary: RunSummary, as_json: bool) -> None:
    if as_json:
        echo_json(summary.as_dict())
        return
    if summary.failed:
        click.echo(f"FAILED: {summary.failure_headline()} (the rest of the run went on)", err=True)
    for line in summary.lines():
        click.echo(line)
    for error in summary.errors:
        where = ", ".join(
            f"{k} {v}"
            for k, v in (("post", error.post), ("language", error.lang), ("channel", error.channel))
            if v
        )
        click.echo(
            f"  ! {error.stage} [{error.kind}] {error.message}" + (f" ({where})" if where else ""), err=True
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="syndication", message="%(prog)s %(version)s")
def main() -> None:
    """Translate a Danish blog offline, have editors review it, republish it."""


# ----------------------------------------------------------------------------------------- init


@main.command()
@click.option(
    "--path", type=click.Path(dir_okay=False, path_type=Path), default=Path("config/syndication.toml")
)
@click.option("--feed", "feed_url", default="https://example.dk/feed/", help="The blog's feed URL.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, feed_url: str, force: bool) -> None:
    """Write a commented config file to edit."""
    from syndication.config_template import render

    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(feed_url=feed_url), encoding="utf-8")
    click.echo(f"wrote {path}; edit the feed URL and languages, then run `syndicate run`")


# ------------------------------------------------------------------------------------------ run


@main.command()
@config_option
@click.option("--dry-run", is_flag=True, help="Do everything except send: show what would go out.")
@click.option("--feed", default=None, help="Poll only this feed (URL or name).")
@click.option(
    "--post",
    "post_url",
    default=None,
    metavar="URL",
    help="Syndicate just this post (its URL or GUID), re-extracted even if seen; no poll.",
)
@click.option("--force", is_flag=True, help="With --post: re-translate it with fresh engine output too.")
@click.option("--lang", "languages", multiple=True, help="Only this target language (repeatable).")
@prefect_option
@wait_options
@json_option
def run(
    config: Path | None,
    dry_run: bool,
    feed: str | None,
    post_url: str | None,
    force: bool,
    languages: tuple[str, ...],
    prefect: bool,
    wait: float | None,
    no_wait: bool,
    as_json: bool,
) -> None:
    """One cycle: poll → extract → translate → queue for review → deliver approved.

    In this process; as the Prefect flow `syndicate` when a Prefect server is configured
    (PREFECT_API_URL) or with --prefect. Waits while another syndicate or backfill run holds the
    store's pipeline lock (saying whose); --no-wait or --wait SECONDS exit 1 instead when it stays
    taken.
    """
    from syndication.summary import RunSummary

    if force and not post_url:
        raise click.UsageError("--force re-translates one post: give it with --post URL")
    path = config_path(config)
    settings = _check_config(path)
    if feed is not None and not any(feed in (f.url, f.name) for f in settings.feeds):
        names = ", ".join(f.name or f.url for f in settings.feeds) or "none"
        raise click.UsageError(f"--feed {feed!r} matches no configured feed (configured: {names})")
    _check_store(settings)
    seconds = wait_seconds(wait, no_wait)
    parameters: dict[str, Any] = {
        "config": path,
        "feed": feed,
        "dry_run": dry_run,
        "post_url": post_url,
        "force": force,
        "languages": list(languages) or None,
    }
    with command_lock(settings.store_url(), holder="syndicate run (command line)", wait=seconds):
        if _use_prefect(settings, prefect):
            _prefect_env()
            from flows.syndicate import syndicate_flow

            data = _run_flow(syndicate_flow, **parameters)
        else:
            from syndication.orchestration import embedded

            data = _run_here(embedded.syndicate, **parameters)
    summary = RunSummary.from_dict(data)
    _print_summary(summary, as_json)
    _exit_for(summary)


def _use_prefect(settings: Settings | None, requested: bool) -> bool:
    from syndication.orchestration.embedded import use_prefect

    return use_prefect(settings, requested=requested)


def _run_here(run: Callable[..., dict[str, Any]], **parameters: Any) -> dict[str, Any]:
    """A flow's work in this process (``orchestration.embedded``), with the errors the flow path
    turns into command-line errors turned into the same ones (and the same exit codes)."""
    from syndication import exit_codes
    from syndication.cli_failures import CommandFailed, command_failed
    from syndication.errors import SyndicationError

    try:
        with _warnings_on_stderr():
            return run(**parameters)
    except SyndicationError as exc:
        raise command_failed(exc) from exc
    except ValueError as exc:  # the flow's parameter checks (flows.params)
        raise CommandFailed(str(exc), exit_code=exit_codes.USAGE, stage="config") from exc


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """The pipeline's warnings (a feed that failed, a notification not sent) on stderr, one line
    each naming post, language and channel, as the flow path shows them through Prefect's log."""
    import logging

    from syndication.orchestration.runlog import PACKAGE_LOGGER, ItemFormatter

    package = logging.getLogger(PACKAGE_LOGGER)
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(ItemFormatter())
    package.addHandler(handler)
    try:
        yield
    finally:
        package.removeHandler(handler)


def _exit_for(summary: RunSummary) -> None:
    """Exit 1 when any feed, page, translation or delivery failed in this run (``exit_codes``)."""
    from syndication import exit_codes

    if summary.failed:
        sys.exit(exit_codes.WORK_FAILED)


PREFECT_STARTUP_TIMEOUT = "120"
"""Seconds the temporary local Prefect server may take to start (Prefect's own default is 20)."""


def _prefect_env() -> None:
    """Environment for commands that run flows; call before Prefect is imported (it reads its
    settings from the environment once)."""
    prefect_quiet()
    # The temporary server takes ≈5 s on an idle machine, but on a busy 2-core one it can take
    # more than Prefect's 20 s, and `syndicate demo` would end in a traceback on its first run.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", PREFECT_STARTUP_TIMEOUT)


def _prefect_unavailable(exc: RuntimeError) -> click.ClickException | None:
    """A readable error for a temporary Prefect server that did not come up, else None."""
    from syndication.orchestration.local_server import TemporaryServerError

    if not isinstance(exc, TemporaryServerError) and "ephemeral Prefect API server" not in str(exc):
        return None
    timeout = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", PREFECT_STARTUP_TIMEOUT)
    return click.ClickException(
        f"the temporary local Prefect server did not start within {timeout} s (a busy machine?); "
        "nothing was run. Try again, allow it longer with "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=180, or start one with "
        "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api"
    )


def _run_flow(flow: Callable[..., Any], **parameters: Any) -> Any:
    """Call a flow; a parameter Prefect rejects, a configuration error inside, or a temporary
    Prefect server that does not start is a clean command-line error rather than a traceback."""
    from prefect.exceptions import ParameterTypeError

    from syndication import exit_codes
    from syndication.cli_failures import CommandFailed, command_failed
    from syndication.errors import SyndicationError
    from syndication.orchestration.local_server import prefect_api_for_command
    from syndication.orchestration.outcome import call_flow

    try:
        # Without a configured server: a temporary one that dies with this command (even kill -9).
        with prefect_api_for_command():
            return call_flow(flow, **parameters)
    except SyndicationError as exc:
        raise command_failed(exc) from exc
    except (ParameterTypeError, ValueError) as exc:  # ValueError: pydantic's cross-field checks
        raise CommandFailed(str(exc), exit_code=exit_codes.USAGE, stage="config") from exc
    except RuntimeError as exc:
        if (error := _prefect_unavailable(exc)) is not None:
            raise error from exc
        raise


def _check_config(path: str | None) -> Settings:
    """Fail fast with a readable message before Prefect starts."""
    from syndication import exit_codes
    from syndication.cli_failures import command_failed
    from syndication.errors import SyndicationError
    from syndication.settings import load_settings

    try:
        return load_settings(path)
    except SyndicationError as exc:
        raise command_failed(exc, exit_code=exit_codes.USAGE) from exc


def _check_store(settings: Settings) -> None:
    """Open the store and try a write before Prefect starts: a read-only file, a missing folder or
    a database server that is down is one line and exit 3, not a failed flow's tracebacks."""
    from syndication.cli_failures import command_failed
    from syndication.errors import StoreError
    from syndication.store import check_writable, open_store

    try:
        store = open_store(settings.store_url())
        try:
            check_writable(store)
        finally:
            store.dispose()
    except StoreError as exc:
        raise command_failed(exc) from exc


@main.command()
@config_option
@click.option("--dry-run", is_flag=True, help="Render what each channel would send, send nothing.")
@click.option("--channel", default=None, help="Only this channel.")
@prefect_option
@json_option
def publish(config: Path | None, dry_run: bool, channel: str | None, prefect: bool, as_json: bool) -> None:
    """Deliver everything approved (in this process; as the Prefect flow `publish` when a Prefect
    server is configured or with --prefect)."""
    from syndication.summary import RunSummary

    path = config_path(config)
    settings = _check_config(path)
    _check_store(settings)
    if _use_prefect(settings, prefect):
        _prefect_env()
        from flows.publish import publish_flow

        data = _run_flow(publish_flow, config=path, dry_run=dry_run, channel=channel)
    else:
        from syndication.orchestration import embedded

        data = _run_here(embedded.publish, config=path, dry_run=dry_run, channel=channel)
    summary = RunSummary.from_dict(data)
    _print_summary(summary, as_json)
    _exit_for(summary)


# ------------------------------------------------------------------------------------- backfill


class _ProgressBars:
    """Terminal progress of a backfill: feed pages, then posts (on stderr, so --json stays clean)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.phase: str | None = None
        self.shown = 0

    def __call__(self, progress: Any) -> None:
        if not self.enabled:
            return
        if progress.phase != self.phase:
            self.close()
            self.phase, self.shown = progress.phase, 0
            label = "feed pages" if progress.phase == "pages" else "posts     "
            if progress.total is None:
                click.echo(f"{label.strip()}: reading until the date range is passed", err=True)
            else:
                self.bar = click.progressbar(
                    length=progress.total, label=label, file=sys.stderr, show_pos=True
                )
                self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(progress.done - self.shown)
            self.shown = progress.done
        elif progress.total is None:
            click.echo(f"  page {progress.done}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@main.command()
@config_option
@click.option("--pages", type=click.IntRange(1, 10_000), default=None, help="Read this many feed pages.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Posts from this day on.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Posts up to this day.")
@click.option("--feed", default=None, help="Only this feed (URL or name); default: every configured feed.")
@click.option("--lang", "languages", multiple=True, help="Only this target language (repeatable).")
@click.option("--dry-run", is_flag=True, help="Fetch, extract and translate; send nothing.")
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
@click.option(
    "--prefect",
    is_flag=True,
    help="Run as the Prefect flow `backfill` (a progress artifact instead of bars).",
)
@wait_options
@json_option
def backfill(
    config: Path | None,
    pages: int | None,
    since: Any,
    until: Any,
    feed: str | None,
    languages: tuple[str, ...],
    dry_run: bool,
    progress: bool,
    prefect: bool,
    wait: float | None,
    no_wait: bool,
    as_json: bool,
) -> None:
    """Older posts through the WordPress feed's ?paged=N pages, or a date range (whole days, UTC).

    Walks until --pages, the first empty page or 404, or past --since; then extracts, translates and
    delivers in chunks. Running it again skips what is stored. Runs in this process, also with a
    Prefect server configured; --prefect runs the `backfill` flow (with a progress artifact).
    """
    from syndication import pipeline

    seconds = wait_seconds(wait, no_wait)
    if pages is None and since is None:
        raise click.UsageError("give --pages N, or --since DATE (and optionally --until DATE)")
    if since is not None and until is not None and until < since:
        raise click.UsageError("--until is before --since")
    if prefect:
        _backfill_flow(
            config,
            seconds,
            as_json,
            feed=feed,
            pages=pages,
            since=since,
            until=until,
            languages=list(languages) or None,
            dry_run=dry_run,
        )
        return
    bars = _ProgressBars(progress and not as_json)
    with (
        open_context(config, dry_run=dry_run) as ctx,
        # Not side by side with a scheduled syndicate or backfill run on the same store.
        command_lock(ctx.settings.store_url(), holder="syndicate backfill (command line)", wait=seconds),
    ):
        try:
            summary = pipeline.backfill(
                ctx,
                feed=feed,
                pages=pages,
                since=since.date() if since else None,
                until=until.date() if until else None,
                languages=list(languages) or None,
                progress=bars,
            )
        finally:
            bars.close()
    _print_summary(summary, as_json)
    _exit_for(summary)


def _backfill_flow(config: Path | None, wait: float | None, as_json: bool, **parameters: Any) -> None:
    from syndication.summary import RunSummary

    path = config_path(config)
    settings = _check_config(path)
    _check_store(settings)
    for day in ("since", "until"):
        if parameters[day] is not None:
            parameters[day] = parameters[day].date()
    with command_lock(settings.store_url(), holder="syndicate backfill (command line)", wait=wait):
        _prefect_env()
        from flows.backfill import backfill_flow

        summary = RunSummary.from_dict(_run_flow(backfill_flow, config=path, **parameters))
    _print_summary(summary, as_json)
    _exit_for(summary)


# --------------------------------------------------------------------------------------- deploy


POOL = "syndication"
"""The work pool prefect.yaml names (edit both there to use another)."""


@main.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Checkout the workers run flows from (default: this one); the pull step's $SYNDICATION_HOME.",
)
def deploy(home: Path | None) -> None:
    """Create the `syndication` process work pool if missing, `prefect deploy --all` from prefect.yaml,
    and create or update the automations in contrib/prefect/automations/ (zombie runs → Crashed).

    Needs PREFECT_API_URL (a running `prefect server start`). Afterwards start workers with
    `bash scripts/worker.sh` (see docs/operations.md).
    """
    import subprocess

    root = (home or Path(__file__).resolve().parent.parent).resolve()
    if not (root / "prefect.yaml").is_file():
        raise click.ClickException(f"no prefect.yaml in {root}; give --home with the checkout's folder")
    prefect_quiet()
    env = {**os.environ, "SYNDICATION_HOME": str(root)}
    prefect = [sys.executable, "-m", "prefect"]
    listed = subprocess.run([*prefect, "work-pool", "inspect", POOL], env=env, capture_output=True, text=True)
    if listed.returncode != 0:
        created = subprocess.run(
            [*prefect, "work-pool", "create", POOL, "--type", "process"],
            env=env,
            capture_output=True,
            text=True,
        )
        if created.returncode != 0:
            raise click.ClickException(f"cannot create work pool {POOL!r}:\n{created.stdout}{created.stderr}")
        click.echo(f"created work pool {POOL!r} (type process)")
    result = subprocess.run([*prefect, "--no-prompt", "deploy", "--all"], cwd=root, env=env, check=False)
    if result.returncode != 0:
        raise click.ClickException("prefect deploy failed (see above)")
    from syndication.orchestration.automations import apply_automations

    for line in apply_automations(root):
        click.echo(line)
    config = os.environ.get("SYNDICATION_CONFIG") or str(root / "config" / "syndication.toml")
    api = os.environ.get("PREFECT_API_URL") or "http://PREFECT-SERVER:4200/api"
    click.echo(
        f"deployed from {root}; start a worker (stops cleanly on SIGTERM; or as a service: "
        f"{root}/contrib/systemd/syndication-worker.service) with:\n"
        f"  PREFECT_API_URL={api} SYNDICATION_HOME={root} SYNDICATION_CONFIG={config} "
        f"bash {root}/scripts/worker.sh"
    )


# --------------------------------------------------------------------------------------- status


@main.command()
@config_option
@json_option
def status(config: Path | None, as_json: bool) -> None:
    """Counts per stage and per delivery state, and the last errors."""
    from syndication.cli_failures import json_errors, unwritable_store
    from syndication.feeds.health import feed_lines
    from syndication.posts_cli import page_lines
    from syndication.status import status as collect

    with open_context(config) as ctx:
        with ctx.store.session() as session:
            data = collect(session, settings=ctx.settings)
        store_failure = unwritable_store(ctx.store)  # readable; would a run fail at its first write?
    if as_json:
        echo_json({**data, "errors": json_errors(store_failure)})
        if store_failure is not None:
            sys.exit(store_failure.exit_code)
        return
    for feed in data["feeds"]:
        click.echo("\n".join(feed_lines(feed)))
    for section in ("posts", "translations", "deliveries"):
        counts = data[section]
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
        click.echo(f"{section}: {text}")
    for line in page_lines(data["pages"]):
        click.echo(line)
    # Failed pages are listed above with their next step.
    failures = [f for f in data["failures"] if f["stage"] != "extract"]
    if failures:
        click.echo("failures:")
        for failure in failures:
            where = " ".join(f"{k}={failure[k]}" for k in ("post", "lang", "channel", "id") if failure.get(k))
            click.echo(f"  {failure['stage']}: {where}: {failure['error']}")
    if store_failure is not None:
        raise store_failure


# --------------------------------------------------------------------------------------- review


@main.group()
def review() -> None:
    """List, show, approve and reject translations."""


def _selected(
    ctx: RunContext, session: Any, post: str | None, lang: str | None, all_items: bool
) -> list[int]:
    from syndication.review import current_translation, list_items, resolve_post

    if all_items and post is not None:
        # `approve 412 --all` must not approve every other post too.
        raise click.UsageError("name a POST or use --all, not both (--lang limits either)")
    if all_items:
        return [item.translation_id for item in list_items(session, lang=lang)]
    if post is None:
        raise click.UsageError("name a POST (id, GUID or URL) or use --all")
    found = resolve_post(session, post)
    langs = [lang] if lang else ctx.settings.translation.targets
    return [current_translation(session, found, code).id for code in langs]


@review.command("list")
@config_option
@click.option("--lang", default=None)
@click.option("--feed", default=None)
@click.option(
    "--status",
    "state",
    type=click.Choice(
        ["machine_translated", "approved", "rejected", "failed", "pending", "superseded", "all"]
    ),
    default="machine_translated",
    show_default=True,
    help="Items in this state (a typo would otherwise list nothing).",
)
@click.option(
    "--sort",
    type=click.Choice(["newest", "weakest"]),
    default="newest",
    show_default=True,
    help="weakest: lowest engine confidence of an open segment first.",
)
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=0),
    help="Items to list (0: all of them).",
)
@click.option("--offset", default=0, type=click.IntRange(min=0), help="Skip this many first.")
@json_option
def review_list(
    config: Path | None,
    lang: str | None,
    feed: str | None,
    state: str,
    sort: str,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Items awaiting review (newest first, or weakest first), a page at a time; says when more
    exist."""
    from dataclasses import asdict

    from syndication.review import count_items, list_items

    status = None if state == "all" else state
    with open_context(config) as ctx, ctx.store.session() as session:
        items = list_items(
            session, status=status, lang=lang, feed=feed, sort=sort, limit=limit or None, offset=offset
        )
        total = count_items(session, status=status, lang=lang, feed=feed)
    more = max(0, total - offset - len(items))
    note = (
        f"{more} more (listed {offset + 1}–{offset + len(items)} of {total}): "
        f"--offset {offset + len(items)} for the next {min(limit, more)}, --limit 0 for all"
        if more
        else None
    )
    if as_json:
        echo_json([asdict(item) for item in items])
        if note:
            click.echo(note, err=True)  # stdout stays one JSON list
        return
    if not items:
        click.echo("nothing to review" if not offset else f"nothing past item {offset} ({total} in all)")
    for item in items:
        flags = f", {item.flagged_segments} flagged" if item.flagged_segments else ""
        if item.min_confidence is not None:
            flags += f", confidence ≥ {item.min_confidence:.2f}"
        click.echo(
            f"post {item.post_id:<4} {item.lang:<3} {item.status:<19} "
            f"{item.open_segments}/{item.segments} open{flags}  {item.title}  <{item.url}>"
        )
        if item.error:
            click.echo(f"{'':9}! {item.error}")
    if note:
        click.echo(note)


@review.command("show")
@config_option
@click.argument("post")
@click.option("--lang", required=True)
@click.option("--width", default=None, type=int, help="Total width (default: terminal).")
@json_option
def review_show(config: Path | None, post: str, lang: str, width: int | None, as_json: bool) -> None:
    """Source and translation side by side, segment by segment, with QA flags."""
    from dataclasses import asdict

    from syndication.review import current_translation, item_detail, resolve_post

    with open_context(config) as ctx, ctx.store.session() as session:
        translation = current_translation(session, resolve_post(session, post), lang)
        detail = item_detail(session, translation.id)
    if as_json:
        echo_json(asdict(detail))
        return
    item = detail.item
    click.echo(
        f"{item.title} [{item.lang}] — {item.status}, engine {item.engine}, revision {item.revision[:12]}"
    )
    click.echo(f"source: {item.url}")
    if item.error:
        click.echo(f"error: {item.error}")
    for flag in detail.source_flags:
        click.echo(f"⚑ {flag['code']}: {flag['message']}")
    for removed in detail.removed:
        click.echo(f"removed from the source: {removed['summary']}")
    total = width or _terminal_width()
    col = max(30, (total - 14) // 2)
    for seg in detail.segments:
        mark = "✓" if seg.state == "approved" else "·"
        left = _wrap(seg.source, col)
        right = _wrap(seg.target, col)
        for i in range(max(len(left), len(right))):
            label = f"{mark} {seg.key:<7}" if i == 0 else " " * 9
            click.echo(
                f"{label} {left[i] if i < len(left) else '':<{col}} │ {right[i] if i < len(right) else ''}"
            )
        if seg.confidence is not None and seg.state != "approved":
            click.echo(f"{'':9}   confidence {seg.confidence:.2f}")
        for flag in seg.flags:
            click.echo(f"{'':9}   ⚑ {flag['code']}: {flag['message']}")
        if seg.previous_source:
            click.echo(f"{'':9}   was: {seg.previous_source}")


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 40)).columns


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


@review.command("approve")
@config_option
@click.argument("post", required=False)
@click.option("--lang", default=None, help="Default: every target language.")
@click.option("--all", "all_items", is_flag=True, help="Every item awaiting review (of --lang if given).")
@click.option("--comment", default=None)
@click.option("--yes", "confirm_flags", is_flag=True, help="Approve even with QA-flagged segments.")
@click.option("--as", "actor", default=None, help="Reviewer name (default: your user name).")
def review_approve(
    config: Path | None,
    post: str | None,
    lang: str | None,
    all_items: bool,
    comment: str | None,
    confirm_flags: bool,
    actor: str | None,
) -> None:
    """Approve a post's translation (or --all awaiting)."""
    from syndication.review import approve

    _decide(
        config,
        post,
        lang,
        all_items,
        lambda s, tid: approve(s, tid, actor=actor_name(actor), comment=comment, confirm_flags=confirm_flags),
        "approved",
    )


@review.command("reject")
@config_option
@click.argument("post", required=False)
@click.option("--lang", default=None)
@click.option("--all", "all_items", is_flag=True)
@click.option("--comment", default=None)
@click.option("--as", "actor", default=None)
def review_reject(
    config: Path | None,
    post: str | None,
    lang: str | None,
    all_items: bool,
    comment: str | None,
    actor: str | None,
) -> None:
    """Reject a post's translation; anything already sent is withdrawn on the next publish."""
    from syndication.review import reject

    _decide(
        config,
        post,
        lang,
        all_items,
        lambda s, tid: reject(s, tid, actor=actor_name(actor), comment=comment),
        "rejected",
    )


def _decide(
    config: Path | None,
    post: str | None,
    lang: str | None,
    all_items: bool,
    action: Callable[[Any, int], Any],
    verb: str,
) -> None:
    from syndication.errors import SyndicationError

    failures = 0
    with open_context(config) as ctx:
        with ctx.store.session() as session:
            ids = _selected(ctx, session, post, lang, all_items)
        if not ids:
            click.echo("nothing to do")
        for tid in ids:
            try:
                with ctx.store.session() as session:
                    translation = action(session, tid)
                    click.echo(f"{verb} translation {tid} ({translation.lang})")
            except SyndicationError as exc:
                failures += 1
                click.echo(f"translation {tid}: {exc}", err=True)
    if failures:
        sys.exit(1)


# ----------------------------------------------------------------------------------- deliveries


@main.command()
@config_option
@click.argument("post")
@click.option("--comment", default=None)
@click.option("--as", "actor", default=None)
def retract(config: Path | None, post: str, comment: str | None, actor: str | None) -> None:
    """Withdraw a post's translations from every channel on the next publish."""
    from syndication.review import resolve_post, retract_post

    with open_context(config) as ctx, ctx.store.session() as session:
        found = resolve_post(session, post)
        retract_post(session, found, actor=actor_name(actor), comment=comment)
        click.echo(f"post {found.id} marked retracted; `syndicate publish` withdraws it")


# ----------------------------------------------------------------------------------------- demo


@main.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where outbox/ and the demo database go.",
)
@click.option("--port", default=8765, show_default=True, help="Loopback port for the demo blog.")
@click.option(
    "--serve/--no-serve", "keep_serving", default=False, help="Keep the demo site up after the run."
)
@prefect_option
@json_option
def demo(workdir: Path, port: int, keep_serving: bool, prefect: bool, as_json: bool) -> None:
    """Run the whole pipeline on the bundled Danish demo blog, publishing to ./outbox/."""
    from syndication.demo import run_demo

    echo = None if as_json else click.echo
    if not _use_prefect(None, prefect):
        with _warnings_on_stderr():
            result = run_demo(
                workdir.resolve(), port=port, keep_serving=keep_serving, echo=echo, prefect=False
            )
        if as_json:
            echo_json(result)
        from syndication.summary import RunSummary

        _exit_for(RunSummary.from_dict(result["summary"]))
        return
    from syndication.orchestration.local_server import prefect_api_for_command

    _prefect_env()
    try:
        with prefect_api_for_command():
            result = run_demo(
                workdir.resolve(), port=port, keep_serving=keep_serving, echo=echo, prefect=True
            )
    except RuntimeError as exc:
        if (error := _prefect_unavailable(exc)) is not None:
            raise error from exc
        raise
    if as_json:
        echo_json(result)
    from syndication.summary import RunSummary

    _exit_for(RunSummary.from_dict(result["summary"]))


def _mount_optional() -> None:
    """Commands that live with their feature (models, users, serve …), when present."""
    import importlib

    for module_name, attr in (
        ("syndication.translations.models_cli", "models"),
        ("syndication.web.cli", "serve"),
        ("syndication.web.cli", "users"),
        ("syndication.deliveries.subscribers_cli", "subscribers"),
        ("syndication.feeds.cli", "feeds"),
        ("syndication.posts_cli", "posts"),
        ("syndication.corrections_cli", "corrections"),
        ("syndication.deliveries.cli", "deliveries"),
        ("syndication.translations.evaluate", "evaluate_command"),
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        main.add_command(getattr(module, attr))


_mount_optional()
