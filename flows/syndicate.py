"""Prefect flow ``syndicate``: poll → extract → translate → queue for review → deliver approved.

Thin on purpose: each task is one pipeline stage (``syndication.pipeline.run_stage``); all logic
lives in the package. Run it with ``python -m flows.syndicate`` or ``syndicate run``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from prefect import flow, task

from syndication.pipeline import run_stage
from syndication.summary import RunSummary


@task(name="poll feeds")
def poll_feeds(config: str | None, feed: str | None) -> dict[str, Any]:
    return run_stage("poll", config, feed=feed)


@task(name="extract posts and linked articles")
def extract_posts(config: str | None) -> dict[str, Any]:
    return run_stage("extract", config)


@task(name="translate and queue for review")
def translate_posts(config: str | None) -> dict[str, Any]:
    return run_stage("translate", config)


@task(name="deliver approved")
def deliver_approved(config: str | None, dry_run: bool) -> dict[str, Any]:
    return run_stage("deliver", config, dry_run=dry_run)


@flow(name="syndicate")
def syndicate_flow(
    config: str | None = None, feed: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    summary = RunSummary(dry_run=dry_run)
    for part in (poll_feeds(config, feed), extract_posts(config), translate_posts(config)):
        summary.merge(RunSummary.from_dict(part))
    summary.merge(RunSummary.from_dict(deliver_approved(config, dry_run)))
    return summary.as_dict()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.syndicate", description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--feed", default=None)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    print(json.dumps(syndicate_flow(config=args.config, feed=args.feed, dry_run=args.dry_run), default=str))


if __name__ == "__main__":
    main()
