"""Telling people: items wait for review, or a delivery failed for good.

Two ways, both configured in ``[orchestration]``:

- **Events** (always, inside a Prefect run): ``syndication.review.waiting`` and
  ``syndication.delivery.failed`` with the counts in the payload. A Prefect automation on the server
  turns them into messages through any notification block (``docs/operations.md`` has one); this
  also works for blocks whose code the workers do not have.
- **A notification block** named in ``notify_block`` (``custom-webhook/editors``,
  ``syndication-email/editors``, ``slack-webhook/…``): the flow itself sends the message at the end
  of the run. Failures to notify are logged, never fail the run.

A run notifies about what *it* changed: items it queued for review (not the ones already waiting,
which would repeat every 30 minutes) and everything that failed in it (feeds, pages, translations,
deliveries: "3 deliveries failed"), whether or not a later run retries it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from syndication.summary import ItemError, RunSummary

log = logging.getLogger(__name__)

REVIEW_EVENT = "syndication.review.waiting"
FAILURE_EVENT = "syndication.delivery.failed"
RESOURCE_ID = "syndication.pipeline"


@dataclass(frozen=True)
class Notice:
    event: str
    subject: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)


def notices(
    summary: RunSummary,
    *,
    flow: str,
    base_url: str | None = None,
    notify_on: Sequence[str] = ("review", "failure"),
) -> list[Notice]:
    """What this run should tell people (empty when nothing changed)."""
    found: list[Notice] = []
    queued = max(0, summary.translations_new - summary.auto_approved)
    if "review" in notify_on and queued and summary.awaiting_review:
        where = f"Review them at {base_url}/" if base_url else "See them with `syndicate review list`"
        found.append(
            Notice(
                event=REVIEW_EVENT,
                subject=f"{queued} new translation(s) wait for review",
                body=(
                    f"The {flow} run queued {queued} new translation(s) for review; "
                    f"{summary.awaiting_review} item(s) are waiting in all. {where}."
                ),
                payload={"new": queued, "waiting": summary.awaiting_review, "flow": flow},
            )
        )
    failed = summary.errors
    if "failure" in notify_on and failed:
        lines = [_failure_line(e) for e in failed[:20]]
        if len(failed) > 20:
            lines.append(f"- … and {len(failed) - 20} more")
        terminal = sum(e.kind == "terminal" for e in failed)
        later = (
            f"{terminal} will not be retried until someone acts; the rest are retried on later runs"
            if terminal
            else "they are retried on later runs"
        )
        found.append(
            Notice(
                event=FAILURE_EVENT,
                subject=summary.failure_headline(),
                body=(
                    f"The {flow} run could not do everything ({later}):\n"
                    + "\n".join(lines)
                    + "\nSee `syndicate status`; failed deliveries: `syndicate deliveries list "
                    "--state failed`, then `syndicate deliveries retry` once the cause is fixed."
                ),
                payload={
                    "failed": len(failed),
                    "terminal": terminal,
                    "by_stage": summary.failure_counts(),
                    "flow": flow,
                    "items": [
                        {"stage": e.stage, "post": e.post, "lang": e.lang, "channel": e.channel}
                        for e in failed[:50]
                    ],
                },
            )
        )
    return found


def _failure_line(error: ItemError) -> str:
    if error.stage == "deliver":
        return f"- post {error.post or '?'} ({error.lang or '?'}) to {error.channel or '?'}: {error.message}"
    where = ", ".join(v for v in (error.post, error.lang, error.channel) if v)
    return f"- {error.stage}{f' {where}' if where else ''}: {error.message}"


def emit_events(found: Sequence[Notice]) -> int:
    """Emit each notice as a Prefect event (for automations); returns how many were emitted."""
    from prefect.events import emit_event

    emitted = 0
    for notice in found:
        event = emit_event(
            event=notice.event,
            resource={"prefect.resource.id": RESOURCE_ID, "prefect.resource.name": "syndication"},
            payload={"subject": notice.subject, "body": notice.body, **notice.payload},
        )
        emitted += event is not None
    return emitted


def send_notices(block: str, found: Sequence[Notice]) -> list[str]:
    """Send each notice through the notification block ``block`` (``type-slug/name``); returns the
    problems met (logged, never raised: a message that cannot be sent must not fail the run)."""
    if not found:
        return []
    problems: list[str] = []
    try:
        from prefect.blocks.core import Block

        import syndication.orchestration.email_block  # noqa: F401 - registers syndication-email

        loaded = Block.load(block)
    except Exception as exc:
        message = f"cannot load the notification block {block!r}: {exc}"
        log.warning("%s", message)
        return [message]
    notify = getattr(loaded, "notify", None)
    if not callable(notify):
        message = f"block {block!r} is not a notification block"
        log.warning("%s", message)
        return [message]
    for notice in found:
        try:
            notify(notice.body, subject=notice.subject)
        except Exception as exc:
            message = f"notification {notice.subject!r} through {block!r} failed: {exc}"
            log.warning("%s", message)
            problems.append(message)
    return problems
