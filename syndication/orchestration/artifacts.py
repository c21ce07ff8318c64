"""What every Prefect run leaves behind: a markdown summary and a table of items awaiting review.

The summary carries the same counts as ``syndicate run --json`` (``RunSummary``); the table lists
the review queue (newest first, up to ``MAX_ROWS``) with a link to each item in the review web app.
Building the content is plain (``summary_markdown``, ``review_rows``) and tested without Prefect;
``publish_report`` hands it to ``prefect.artifacts`` inside a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from syndication.pipeline import Progress
from syndication.summary import RunSummary

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from syndication.review.queries import QueueItem
    from syndication.settings import Settings

MAX_ROWS = 200
"""Rows in the review table; the markdown says how many more are waiting."""
ERRORS_SHOWN = 20


def review_url(settings: Settings) -> str | None:
    """Base URL of the review web app: ``[orchestration] review_url``, else ``[web]``'s public URL
    (when the web app is part of this installation), else ``None``."""
    if settings.orchestration.review_url:
        return settings.orchestration.review_url.rstrip("/")
    web = getattr(settings, "web", None)
    public = getattr(web, "public_url", None)
    return str(public()).rstrip("/") if callable(public) else None


def item_link(base: str | None, translation_id: int) -> str | None:
    return f"{base}/items/{translation_id}" if base else None


def _cell(text: object) -> str:
    # Markdown table cells: a pipe or a line break would end the cell or the row.
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def summary_markdown(
    summary: RunSummary,
    *,
    flow: str,
    waiting: Sequence[QueueItem] = (),
    base_url: str | None = None,
    parameters: dict[str, Any] | None = None,
) -> str:
    """The run summary as markdown: every count of ``RunSummary``, the errors, the review queue."""
    lines = [f"# {flow}: run summary" + (" (dry run)" if summary.dry_run else ""), ""]
    if parameters:
        shown = ", ".join(f"`{k}={v}`" for k, v in parameters.items() if v not in (None, False, [], ""))
        if shown:
            lines += [f"Parameters: {shown}", ""]
    lines += ["```", *summary.lines(), "```", "", "| count | value |", "|---|---:|"]
    for f in fields(RunSummary):
        value = getattr(summary, f.name)
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        lines.append(f"| {f.name} | {value} |")
    if summary.errors:
        lines += ["", f"## Errors ({len(summary.errors)})", ""]
        for error in summary.errors[:ERRORS_SHOWN]:
            where = ", ".join(
                f"{k} {v}"
                for k, v in (("post", error.post), ("language", error.lang), ("channel", error.channel))
                if v
            )
            lines.append(
                f"- **{error.stage}** [{error.kind}] {_cell(error.message)}"
                + (f" ({where})" if where else "")
            )
        if len(summary.errors) > ERRORS_SHOWN:
            lines.append(f"- … and {len(summary.errors) - ERRORS_SHOWN} more (`syndicate status`)")
    lines += ["", f"## Awaiting review: {summary.awaiting_review}", ""]
    for item in waiting[:ERRORS_SHOWN]:
        link = item_link(base_url, item.translation_id)
        title = _cell(item.title or item.url)
        lines.append(
            f"- [{title}]({link}) — {item.lang}"
            if link
            else f"- {title} — {item.lang} (`syndicate review show {item.post_id} --lang {item.lang}`)"
        )
    if len(waiting) > ERRORS_SHOWN:
        lines.append(f"- … the table artifact `awaiting-review` lists {len(waiting)}")
    return "\n".join(lines) + "\n"


def review_rows(items: Sequence[QueueItem], base_url: str | None) -> list[dict[str, Any]]:
    """Rows of the ``awaiting-review`` table: one per item, with its review link."""
    rows = []
    for item in items[:MAX_ROWS]:
        rows.append(
            {
                "post": item.post_id,
                "language": item.lang,
                "title": item.title or item.url,
                "open segments": f"{item.open_segments}/{item.segments}",
                "QA flags": item.flagged_segments,
                "since": item.created_at.strftime("%Y-%m-%d %H:%M"),
                "review": item_link(base_url, item.translation_id)
                or f"syndicate review show {item.post_id} --lang {item.lang}",
            }
        )
    return rows


def waiting_items(session: Session) -> list[QueueItem]:
    """The newest ``MAX_ROWS`` items awaiting review: the table never holds more, so a long queue
    is never read whole (``count_items`` says how long it is)."""
    from syndication.review import list_items

    return list_items(session, limit=MAX_ROWS)


@dataclass(frozen=True)
class Report:
    markdown: str
    rows: list[dict[str, Any]]
    waiting: int


def build_report(
    settings: Settings,
    session: Session,
    summary: RunSummary,
    *,
    flow: str,
    parameters: dict[str, Any] | None = None,
) -> Report:
    from syndication.review import count_items

    base = review_url(settings)
    waiting = waiting_items(session)
    return Report(
        markdown=summary_markdown(summary, flow=flow, waiting=waiting, base_url=base, parameters=parameters),
        rows=review_rows(waiting, base),
        waiting=count_items(session) if len(waiting) >= MAX_ROWS else len(waiting),
    )


def publish_report(report: Report, *, flow: str) -> None:
    """Create the run's artifacts (inside a Prefect flow or task run)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(
        markdown=report.markdown, key=f"{flow}-summary", description=f"{flow}: what this run did"
    )
    create_table_artifact(
        table=report.rows or [{"post": "-", "language": "-", "title": "nothing waits for review"}],
        key="awaiting-review",
        description=f"{report.waiting} item(s) awaiting review",
    )


def overall_percent(progress: Progress) -> float:
    """One 0–100 figure for a backfill: reading feed pages is the first 10 %, posts the other 90 %.
    While the number of pages is unknown (a date range) the first part creeps towards 10 %."""
    if progress.phase == "pages":
        if progress.total:
            return 10.0 * min(1.0, progress.done / progress.total)
        return 10.0 * (1 - 1 / (1 + progress.done / 10))
    if not progress.total:
        return 100.0
    return 10.0 + 90.0 * min(1.0, progress.done / progress.total)


class ProgressArtifact:
    """A Prefect progress artifact fed by the pipeline's progress callback (created on first use)."""

    def __init__(
        self, key: str = "backfill-progress", description: str = "backfill", artifact_id: Any = None
    ) -> None:
        self.key = key
        self.description = description
        self.artifact_id: Any = artifact_id
        """Continue an artifact another task or the flow created (its id), else create one."""
        self.last: float | None = None

    def __call__(self, progress: Progress) -> None:
        from prefect.artifacts import create_progress_artifact, update_progress_artifact

        percent = round(overall_percent(progress), 1)
        if percent == self.last:
            return
        text = f"{self.description}: {progress.phase} {progress.done}" + (
            f"/{progress.total}" if progress.total is not None else ""
        )
        if self.artifact_id is None:
            self.artifact_id = create_progress_artifact(progress=percent, key=self.key, description=text)
        else:
            update_progress_artifact(self.artifact_id, progress=percent, description=text)
        self.last = percent
