"""Prefect flow ``syndicate``: poll → extract → translate → queue for review → deliver approved.

Thin on purpose: each task is one pipeline stage (``syndication.pipeline``); all logic lives in the
package. ``post_url`` syndicates one post instead of polling (re-extracted even when seen; ``force``
re-translates it too). Deployed from ``prefect.yaml`` (every 30 minutes); run it by hand with
``prefect deployment run 'syndicate/syndicate' --param post_url=…``, ``syndicate run`` or
``python -m flows.syndicate``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from prefect import flow, task

from flows.params import ConfigPath, FeedRef, Languages, PostURL, SyndicateOptions, check_options
from syndication.orchestration.outcome import call_flow, exit_status, run_outcome
from syndication.orchestration.pipeline_lock import exclusive_run
from syndication.orchestration.report import report_run
from syndication.orchestration.runners import translate_batches
from syndication.orchestration.tasks import run_logged_stage
from syndication.summary import RunSummary


@task(name="poll feeds")
def poll_feeds(config: str | None, feed: str | None, started_at: float | None = None) -> dict[str, Any]:
    return run_logged_stage("poll", config, feed=feed, started_at=started_at)


@task(name="extract posts and linked articles")
def extract_posts(config: str | None, started_at: float | None = None) -> dict[str, Any]:
    return run_logged_stage("extract", config, started_at=started_at)


@task(name="translate and queue for review")
def translate_posts(config: str | None, languages: list[str] | None) -> dict[str, Any]:
    return run_logged_stage("translate", config, languages=languages)


@task(name="deliver approved")
def deliver_approved(config: str | None, dry_run: bool) -> dict[str, Any]:
    return run_logged_stage("deliver", config, dry_run=dry_run)


@task(name="syndicate one post")
def syndicate_post(
    config: str | None, post_url: str, force: bool, languages: list[str] | None, dry_run: bool
) -> dict[str, Any]:
    return run_logged_stage(
        "syndicate_url", config, dry_run=dry_run, url=post_url, force=force, languages=languages
    )


@task(name="report")
def report(config: str | None, summary: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    return report_run(config, summary, flow="syndicate", parameters=parameters)


@flow(name="syndicate")
def syndicate_flow(
    config: ConfigPath = None,
    feed: FeedRef = None,
    languages: Languages = None,
    dry_run: bool = False,
    force: bool = False,
    post_url: PostURL = None,
) -> Any:
    """One syndication cycle, or one post.

    Args:
        config: Config file on the worker (default: $SYNDICATION_CONFIG, else config/syndication.toml).
        feed: Poll only this configured feed (URL or name).
        languages: Only these target languages, e.g. ["nb"] (default: all configured).
        dry_run: Do everything except send; deliveries are only rendered.
        force: With post_url: re-translate the post with fresh engine output.
        post_url: Syndicate just this post (URL or GUID), re-extracted even if seen; no poll.
    """
    check_options(SyndicateOptions, post_url=post_url, force=force)
    # Never side by side with another syndicate or a backfill run on the same store (any worker).
    # fetch.run_budget counts from when the lock is held, across the stage tasks.
    with exclusive_run(config, flow="syndicate") as started_at:
        if post_url:
            parts = [syndicate_post(config, post_url, force, languages, dry_run)]
        else:
            parts = [poll_feeds(config, feed, started_at), extract_posts(config, started_at)]
            parts += translate_batches(translate_posts, config, languages)
            parts.append(deliver_approved(config, dry_run))
    summary = RunSummary(dry_run=dry_run)
    for part in parts:
        summary.merge(RunSummary.from_dict(part))
    parameters = {
        "feed": feed,
        "languages": languages,
        "dry_run": dry_run,
        "force": force,
        "post_url": post_url,
    }
    # Work that failed ends the run Failed (with the summary as its data), not Completed.
    return run_outcome(report(config, summary.as_dict(), parameters))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.syndicate", description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--feed", default=None)
    parser.add_argument("--lang", action="append", dest="languages", default=None)
    parser.add_argument("--post", dest="post_url", default=None)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    result = call_flow(
        syndicate_flow,
        config=args.config,
        feed=args.feed,
        languages=args.languages,
        dry_run=args.dry_run,
        force=args.force,
        post_url=args.post_url,
    )
    print(json.dumps(result, default=str))
    raise SystemExit(exit_status(result))


if __name__ == "__main__":
    main()
