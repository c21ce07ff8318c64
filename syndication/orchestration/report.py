"""The last task of every flow run: count what waits, leave the artifacts, tell people."""

from __future__ import annotations

import logging
from typing import Any

from syndication.orchestration.runlog import forward_to_run_logger

log = logging.getLogger(__name__)


def report_run(
    config: str | None, summary_data: dict[str, Any], *, flow: str, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Inside a Prefect run: the final ``RunSummary`` (review queue counted now, once, whatever
    ran before), its markdown and review-table artifacts, events and notifications (``notify``).
    Returns the summary as plain data: what the flow returns and ``syndicate run --json`` prints."""
    from syndication.context import RunContext
    from syndication.orchestration.artifacts import build_report, publish_report, review_url
    from syndication.orchestration.notify import emit_events, notices, send_notices
    from syndication.summary import RunSummary
    from syndication.translations.stage import count_awaiting_review

    with forward_to_run_logger():
        ctx = RunContext.open(config)
        try:
            summary = RunSummary.from_dict(summary_data)
            with ctx.store.session() as session:
                summary.awaiting_review = count_awaiting_review(session)
                report = build_report(ctx.settings, session, summary, flow=flow, parameters=parameters)
            publish_report(report, flow=flow)
            options = ctx.settings.orchestration
            found = notices(
                summary, flow=flow, base_url=review_url(ctx.settings), notify_on=options.notify_on
            )
            emit_events(found)
            if found and options.notify_block:
                send_notices(options.notify_block, found)
            for line in summary.lines():
                log.info("%s", line)
            return summary.as_dict()
        finally:
            ctx.close()
