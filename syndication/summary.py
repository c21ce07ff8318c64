"""What one run did, in numbers: printed by ``syndicate run`` and stored as a Prefect artifact."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from typing import Any

log = logging.getLogger("syndication.run")


STAGE_NOUNS: dict[str, tuple[str, str]] = {
    "poll": ("feed", "feeds"),
    "backfill": ("backfill feed", "backfill feeds"),
    "extract": ("page", "pages"),
    "links": ("linked article", "linked articles"),
    "translate": ("translation", "translations"),
    "deliver": ("delivery", "deliveries"),
}
"""What one failure of a stage is called in a headline (the stage names ``error()`` is given)."""


def _count_noun(n: int, stage: str) -> str:
    one, many = STAGE_NOUNS.get(stage, (f"{stage} item", f"{stage} items"))
    return f"{n} {one if n == 1 else many}"


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
    # feed health (issue 9): retired feeds are not errors of each run, but never out of sight
    feeds_retired: int = 0
    """Retired feeds (410/404 for days): skipped or probed at a low rate; listed in ``status``."""
    entries_new: int = 0
    entries_updated: int = 0
    entries_baselined: int = 0
    feed_pages: int = 0
    """Older feed pages (``?paged=N``) read by a backfill."""
    pages_fetched: int = 0
    linked_articles: int = 0
    """Links from posts to other articles of the same (or an allow-listed) site, found this run."""
    extraction_failed: int = 0
    # Pages (issue 9): notes, not errors of this run.
    pages_deferred: int = 0
    """Pages not requested this run because their host asked to wait (Retry-After, 429, 503);
    they stay queued for the next run (``syndicate posts list``)."""
    pages_rechecked: int = 0
    """Extracted linked articles re-checked with a conditional GET (unchanged or changed)."""
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
    # Deliveries (issue 10): every planned delivery lands in exactly one of these, by what this run
    # did with it or, when it was not tried, by the ledger state that kept it back.
    deliveries_sent: int = 0
    """New copies out: published to a partner, an e-mail handed over."""
    deliveries_updated: int = 0
    """Edits and retractions applied to copies sent before."""
    deliveries_not_mailed: int = 0
    """Edits and retractions of items already e-mailed: recorded, no e-mail leaves (by design)."""
    deliveries_failed: int = 0
    """Tried in this run and failed (transient and terminal together)."""
    deliveries_failed_terminal: int = 0
    """Of ``deliveries_failed``: those that wait for a fix instead of being retried."""
    deliveries_uncertain: int = 0
    """Handed over but never confirmed (e-mail): may have arrived, never resent automatically.
    Counts those found or made this run and those still waiting for a decision."""
    deliveries_waiting_retry: int = 0
    """Failed transiently before and not due yet (``next_attempt_at`` in the future)."""
    deliveries_waiting_fix: int = 0
    """Failed terminally before: wait for a fix (configuration change or ``deliveries retry``)."""
    deliveries_deferred: int = 0
    """Not tried because their channel was paused for the run (see ``delivery_notes``)."""
    deliveries_skipped: int = 0
    """Already sent (or being sent right now by another worker)."""
    deliveries_planned: int = 0
    """Dry run only: what would have been sent."""
    delivery_notes: list[str] = field(default_factory=list)
    """Why a channel stopped early this run (paused, time budget): information, not errors."""
    deliveries_filtered: int = 0
    """(post, language, channel) planned this run that the channel's filter (``only_categories``,
    ``kinds``) does not take; recorded in the ledger as ``filtered`` and not planned again until
    the item or the filter changes."""
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

    @property
    def failed(self) -> bool:
        """Some work of this run failed: the command exits 1 and the Prefect run ends ``Failed``."""
        return bool(self.errors)

    def failure_counts(self) -> dict[str, int]:
        """Failures per stage, in pipeline order: ``{"poll": 1, "deliver": 3}``."""
        counts: dict[str, int] = {}
        for error in self.errors:
            counts[error.stage] = counts.get(error.stage, 0) + 1
        order = {stage: n for n, stage in enumerate(STAGE_NOUNS)}
        return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))

    def failure_headline(self) -> str:
        """``3 deliveries and 1 feed failed`` (empty when nothing failed)."""
        parts = [_count_noun(n, stage) for stage, n in self.failure_counts().items()]
        if not parts:
            return ""
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{listed} failed"

    def merge(self, other: RunSummary) -> RunSummary:
        for f in fields(self):
            if f.type in ("int", int):
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        self.errors.extend(other.errors)
        self.delivery_notes.extend(other.delivery_notes)
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
            f"failed {self.feeds_failed}"
            + (f", retired {self.feeds_retired} (see `syndicate feeds list`)" if self.feeds_retired else ""),
            f"entries    new {self.entries_new}, updated {self.entries_updated}, "
            f"baselined {self.entries_baselined}"
            + (f", from {self.feed_pages} backfill pages" if self.feed_pages else ""),
            f"pages      fetched {self.pages_fetched}, linked articles {self.linked_articles}, "
            f"extraction failed {self.extraction_failed}"
            + (f", deferred {self.pages_deferred} (host asked to wait)" if self.pages_deferred else "")
            + (f", re-checked {self.pages_rechecked}" if self.pages_rechecked else ""),
            f"segments   total {self.segments_total}, translated by engine {self.segments_translated} "
            f"({self.engine_calls} engine calls), reused from memory {self.segments_reused}",
            f"review     awaiting {self.awaiting_review}, auto-approved {self.auto_approved}, "
            f"translation failures {self.translations_failed}",
            *self.delivery_lines(),
        ]
        if self.feeds_deferred or self.posts_deferred:
            lines.insert(
                3,
                f"budget     spent: {self.feeds_deferred} feeds and {self.posts_deferred} posts left "
                "for the next run (fetch.run_budget)",
            )
        return lines

    def delivery_text(self) -> str:
        """The delivery counts on one line (the review app's messages)."""
        return "; ".join(line[len("delivery   ") :].strip() for line in self.delivery_lines())

    def delivery_lines(self) -> list[str]:
        """Each state counted apart: nothing that failed or waits is ever called "done"."""
        done = [f"sent {self.deliveries_sent}", f"updated {self.deliveries_updated}"]
        if self.deliveries_not_mailed:
            done.append(f"not sent {self.deliveries_not_mailed} (newsletter: edits are not re-mailed)")
        done.append(f"already sent {self.deliveries_skipped}")
        if self.dry_run:
            done.append(f"would send {self.deliveries_planned} (dry run)")
        transient = self.deliveries_failed - self.deliveries_failed_terminal
        left = [
            f"failed {self.deliveries_failed} ({transient} transient, "
            f"{self.deliveries_failed_terminal} terminal)",
            f"uncertain {self.deliveries_uncertain}",
            f"waiting for retry {self.deliveries_waiting_retry}",
            f"waiting for a fix {self.deliveries_waiting_fix}",
        ]
        if self.deliveries_deferred:
            left.append(f"left for the next run {self.deliveries_deferred}")
        left.append(f"skipped by a channel filter {self.deliveries_filtered}")
        lines = ["delivery   " + ", ".join(done), "           " + ", ".join(left)]
        lines += [f"           {note}" for note in self.delivery_notes]
        return lines
