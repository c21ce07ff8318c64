"""Prefect flow ``publish``: deliver everything approved and not yet out, through the ledger.

``post_ids`` limits it to some posts (the review app starts it so for an approved post);
``redeliver`` sends one approved item to one channel again. Runs may overlap safely: the ledger's
conditional claim lets exactly one of them send each item.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from prefect import flow, task

from flows.params import ChannelName, ConfigPath, PostIds, Redelivery
from syndication.orchestration.outcome import call_flow, exit_status, run_outcome
from syndication.orchestration.report import report_run
from syndication.orchestration.tasks import run_logged_stage
from syndication.summary import RunSummary


@task(name="deliver approved")
def deliver_approved(
    config: str | None, dry_run: bool, channel: str | None, post_ids: list[int] | None
) -> dict[str, Any]:
    return run_logged_stage("deliver", config, dry_run=dry_run, channel=channel, post_ids=post_ids)


@task(name="redeliver one item")
def redeliver_item(config: str | None, dry_run: bool, post: str, lang: str, channel: str) -> dict[str, Any]:
    return run_logged_stage("redeliver", config, dry_run=dry_run, post=post, lang=lang, channel=channel)


@task(name="report")
def report(config: str | None, summary: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    return report_run(config, summary, flow="publish", parameters=parameters)


@flow(name="publish")
def publish_flow(
    config: ConfigPath = None,
    dry_run: bool = False,
    channel: ChannelName = None,
    post_ids: PostIds = None,
    redeliver: Redelivery | None = None,
) -> Any:
    """Deliver what is approved.

    Args:
        config: Config file on the worker (default: $SYNDICATION_CONFIG, else config/syndication.toml).
        dry_run: Render what would be sent, send nothing.
        channel: Only this channel.
        post_ids: Only these posts (ids as `syndicate review list` shows them).
        redeliver: Send one approved item to one channel again: {"post": …, "lang": …, "channel": …}.
    """
    if redeliver is not None:
        part = redeliver_item(config, dry_run, redeliver.post, redeliver.lang, redeliver.channel)
    else:
        part = deliver_approved(config, dry_run, channel, post_ids)
    summary = RunSummary(dry_run=dry_run).merge(RunSummary.from_dict(part))
    parameters = {
        "channel": channel,
        "post_ids": post_ids,
        "redeliver": redeliver.model_dump() if redeliver else None,
        "dry_run": dry_run,
    }
    # Work that failed ends the run Failed (with the summary as its data), not Completed.
    return run_outcome(report(config, summary.as_dict(), parameters))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.publish", description=__doc__)
    parser.add_argument("--config", default=None)
    parser.add_argument("--channel", default=None)
    parser.add_argument("--post-id", dest="post_ids", type=int, action="append", default=None)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    result = call_flow(
        publish_flow, config=args.config, dry_run=args.dry_run, channel=args.channel, post_ids=args.post_ids
    )
    print(json.dumps(result, default=str))
    raise SystemExit(exit_status(result))


if __name__ == "__main__":
    main()
