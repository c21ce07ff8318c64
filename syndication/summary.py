"""What one run did, in numbers: printed by ``syndicate run`` and stored as a Prefect artifact."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from typing import Any

log = logging.getLogger("syndication.run")


@dataclass
class ItemError:
    stage: str
    message: str
    kind: str = "terminal"
    post: str | None = None
    lang: str | None = None
    channel: str | None = None


@dataclass
class RunSummary:
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    entries_new: int = 0
    entries_updated: int = 0
    entries_baselined: int = 0
    feed_pages: int = 0
    """Older feed pages (``?paged=N``) read by a backfill."""
    pages_fetched: int = 0
    linked_articles: int = 0
    """Links from posts to other articles of the same (or an allow-listed) site, found this run."""
    extraction_failed: int = 0
    revisions_new: int = 0
    segments_total: int = 0
    segments_translated: int = 0
    """Unique segment texts sent to an engine."""
    segments_reused: int = 0
    """Segments taken from translation memory (machine or human) instead of an engine."""
    engine_calls: int = 0
    translations_new: int = 0
    translations_failed: int = 0
    auto_approved: int = 0
    awaiting_review: int = 0
    deliveries_sent: int = 0
    deliveries_failed: int = 0
    deliveries_skipped: int = 0
    """Deliveries already sent (or already claimed by another worker)."""
    deliveries_planned: int = 0
    """Dry run only: what would have been sent."""
    # Run budget (fetch.run_budget): work left for the next run on purpose; not errors.
    feeds_deferred: int = 0
    """Feeds not polled because the run's time budget was spent."""
    posts_deferred: int = 0
    """Posts and linked articles not extracted because the run's time budget was spent."""
    dry_run: bool = False
    errors: list[ItemError] = field(default_factory=list)

    def error(self, stage: str, exc: BaseException | str, **where: str | None) -> None:
        from syndication.errors import SyndicationError

        if isinstance(exc, SyndicationError):
            kind = exc.kind
            where = {
                "post": where.get("post") or exc.post,
                "lang": where.get("lang") or exc.lang,
                "channel": where.get("channel") or exc.channel,
            }
            message = exc.message if exc.url is None else f"{exc.message} ({exc.url})"
        else:
            kind, message = "terminal", str(exc)
        self.errors.append(ItemError(stage=stage, message=message, kind=kind, **where))
        # Every recorded error is also a log line naming the item (a Prefect run shows it in its
        # log; see ``syndication.orchestration.runlog``).
        log.warning(
            "%s [%s]: %s",
            stage,
            kind,
            message,
            extra={"post": where.get("post"), "lang": where.get("lang"), "channel": where.get("channel")},
        )

    def merge(self, other: RunSummary) -> RunSummary:
        for f in fields(self):
            if f.type in ("int", int):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.errors.extend(other.errors)
        self.dry_run = self.dry_run or other.dry_run
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        data = dict(data)
        errors = [ItemError(**e) for e in data.pop("errors", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}, errors=errors)

    def lines(self) -> list[str]:
        lines = [
            f"feeds      polled {self.feeds_polled}, not modified {self.feeds_not_modified}, "
            f"failed {self.feeds_failed}",
            f"entries    new {self.entries_new}, updated {self.entries_updated}, "
            f"baselined {self.entries_baselined}"
            + (f", from {self.feed_pages} backfill pages" if self.feed_pages else ""),
            f"pages      fetched {self.pages_fetched}, linked articles {self.linked_articles}, "
            f"extraction failed {self.extraction_failed}",
            f"segments   total {self.segments_total}, translated by engine {self.segments_translated} "
            f"({self.engine_calls} engine calls), reused from memory {self.segments_reused}",
            f"review     awaiting {self.awaiting_review}, auto-approved {self.auto_approved}, "
            f"translation failures {self.translations_failed}",
            f"delivery   sent {self.deliveries_sent}, failed {self.deliveries_failed}, "
            f"already done {self.deliveries_skipped}"
            + (f", would send {self.deliveries_planned} (dry run)" if self.dry_run else ""),
        ]
        if self.feeds_deferred or self.posts_deferred:
            lines.insert(
                3,
                f"budget     spent: {self.feeds_deferred} feeds and {self.posts_deferred} posts left "
                "for the next run (fetch.run_budget)",
            )
        return lines
