"""Prefect flow ``publish``: deliver everything approved and not yet out, through the ledger."""

from __future__ import annotations

import argparse
import json
from typing import Any

from prefect import flow, task

from syndication.pipeline import run_stage


@task(name="deliver approved")
def deliver_approved(
    config: str | None, dry_run: bool, channel: str | None, post_ids: list[int] | None = None
) -> dict[str, Any]:
    return run_stage("deliver", config, dry_run=dry_run, channel=channel, post_ids=post_ids)


@flow(name="publish")
def publish_flow(
    config: str | None = None,
    dry_run: bool = False,
    channel: str | None = None,
    post_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Deliver everything approved; ``post_ids`` limits it to those posts (the review app starts the
    deployment with the one just approved)."""
    return deliver_approved(config, dry_run, channel, post_ids)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.publish", description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--channel", default=None)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    print(
        json.dumps(publish_flow(config=args.config, dry_run=args.dry_run, channel=args.channel), default=str)
    )


if __name__ == "__main__":
    main()
