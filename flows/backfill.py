"""Prefect flow ``backfill``: older posts through the WordPress feed's ``?paged=N`` pages (or a date
range), then extract → translate → deliver in chunks, with a progress artifact.

On demand only: ``prefect deployment run 'backfill/backfill' --param pages=20`` or
``--param since=2026-01-01 --param until=2026-03-31``; in a terminal ``syndicate backfill`` shows a
progress bar instead. Running it again skips what is already stored.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any
from uuid import UUID

from prefect import flow, task

from flows.params import BackfillOptions, ConfigPath, FeedRef, Languages, Pages, check_options
from syndication.orchestration.artifacts import ProgressArtifact
from syndication.orchestration.outcome import call_flow, exit_status, run_outcome
from syndication.orchestration.pipeline_lock import exclusive_run
from syndication.orchestration.report import report_run
from syndication.orchestration.tasks import run_logged_stage
from syndication.pipeline import Progress, chunked
from syndication.settings import load_settings
from syndication.summary import RunSummary


@task(name="read older feed pages")
def walk_feed(
    config: str | None,
    feed: str | None,
    pages: int | None,
    since: date | None,
    until: date | None,
    progress_id: UUID | None,
) -> dict[str, Any]:
    return run_logged_stage(
        "backfill_walk",
        config,
        feed=feed,
        pages=pages,
        since=since,
        until=until,
        progress=ProgressArtifact(artifact_id=progress_id),
    )


@task(name="extract, translate and deliver a chunk")
def process_chunk(
    config: str | None, post_ids: list[int], languages: list[str] | None, dry_run: bool
) -> dict[str, Any]:
    return run_logged_stage("process", config, dry_run=dry_run, post_ids=post_ids, languages=languages)


@task(name="report")
def report(config: str | None, summary: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    return report_run(config, summary, flow="backfill", parameters=parameters)


@flow(name="backfill")
def backfill_flow(
    config: ConfigPath = None,
    feed: FeedRef = None,
    pages: Pages = None,
    since: date | None = None,
    until: date | None = None,
    languages: Languages = None,
    dry_run: bool = False,
) -> Any:
    """Older posts, through the feed's ?paged=N pages or a date range.

    Args:
        config: Config file on the worker (default: $SYNDICATION_CONFIG, else config/syndication.toml).
        feed: Only this configured feed (URL or name); default: every feed.
        pages: How many feed pages to read, newest first (WordPress: 10 posts a page).
        since: First day of a date range (posts published on or after it, UTC).
        until: Last day of the date range (inclusive).
        languages: Only these target languages (default: all configured).
        dry_run: Fetch, extract and translate; send nothing.
    """
    check_options(BackfillOptions, pages=pages, since=since, until=until)
    progress = ProgressArtifact()
    progress(Progress("pages", 0, pages))
    # Never side by side with a syndicate run on the same store: both work on queued posts.
    with exclusive_run(config, flow="backfill"):
        walked = walk_feed(config, feed, pages, since, until, progress.artifact_id)
        summary = RunSummary(dry_run=dry_run).merge(RunSummary.from_dict(walked))
        post_ids: list[int] = list(walked.get("result") or [])
        size = load_settings(config).orchestration.backfill_chunk
        done = 0
        progress(Progress("posts", 0, len(post_ids)))
        for chunk in chunked(post_ids, size):
            summary.merge(RunSummary.from_dict(process_chunk(config, chunk, languages, dry_run)))
            done += len(chunk)
            progress(Progress("posts", done, len(post_ids)))
    parameters = {"feed": feed, "pages": pages, "since": since, "until": until, "languages": languages}
    # Work that failed ends the run Failed (with the summary as its data), not Completed.
    return run_outcome(report(config, summary.as_dict(), {**parameters, "dry_run": dry_run}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.backfill", description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--feed", default=None)
    parser.add_argument("--pages", type=int, default=None)
    parser.add_argument("--since", type=date.fromisoformat, default=None)
    parser.add_argument("--until", type=date.fromisoformat, default=None)
    parser.add_argument("--lang", action="append", dest="languages", default=None)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    result = call_flow(
        backfill_flow,
        config=args.config,
        feed=args.feed,
        pages=args.pages,
        since=args.since,
        until=args.until,
        languages=args.languages,
        dry_run=args.dry_run,
    )
    print(json.dumps(result, default=str))
    raise SystemExit(exit_status(result))


if __name__ == "__main__":
    main()
