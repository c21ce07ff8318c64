"""The poll stage's bookkeeping: feed state and newly seen entries, stored before anything moves on."""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from syndication.models import Entry
from syndication.settings import FeedSettings, PollingSettings
from syndication.store import Feed, Post, utcnow

if TYPE_CHECKING:
    from syndication.context import RunContext
    from syndication.feeds.backfill import FeedPage
    from syndication.feeds.poll import FeedState, PollResult
    from syndication.fetch import Fetcher

log = logging.getLogger("syndication.feeds")


def entry_to_json(entry: Entry) -> dict[str, Any]:
    data = dataclasses.asdict(entry)
    for key in ("published", "updated"):
        value = data[key]
        data[key] = value.isoformat() if isinstance(value, datetime) else None
    data["categories"] = list(entry.categories)
    return data


def entry_from_json(data: dict[str, Any]) -> Entry:
    values = dict(data)
    for key in ("published", "updated"):
        values[key] = datetime.fromisoformat(values[key]) if values.get(key) else None
    values["categories"] = tuple(values.get("categories") or ())
    if values.get("content_removed") is not None:
        values["content_removed"] = tuple(values["content_removed"])
    known = {f.name for f in dataclasses.fields(Entry)}
    return Entry(**{k: v for k, v in values.items() if k in known})


def feed_row(session: Session, config: FeedSettings) -> Feed:
    feed = session.scalars(select(Feed).where(Feed.url == config.url)).one_or_none()
    if feed is None:
        feed = Feed(url=config.url, current_url=config.url, name=config.name, status="active")
        session.add(feed)
        session.flush()
    return feed


def poll_feeds(
    ctx: RunContext,
    *,
    only: str | None = None,
    now: Callable[[], datetime] | None = None,
) -> None:
    """Poll every configured feed once; one feed's failure never stops the others.

    Feeds are fetched by ``fetch.concurrency`` worker threads, never two of one host at the same
    time (see ``_PollScheduler``); each answer is stored by this thread as it arrives, one
    transaction per feed. ``now`` is the clock the schedule is kept by (backoff, ``Retry-After``,
    retirement); tests pass their own."""
    from syndication.errors import ConfigError

    clock = now or utcnow
    if only is not None and not any(only in (c.url, c.name) for c in ctx.settings.feeds):
        # A mistyped --feed would otherwise poll nothing and report a run with nothing new.
        raise ConfigError(f"no configured feed matches {only!r}; {_feed_names(ctx.settings.feeds)}")
    configs = [c for c in ctx.settings.feeds if only is None or only in (c.url, c.name)]
    if ctx.budget.expired():  # the run's time is up: the next run polls them all
        ctx.summary.feeds_deferred += len(configs)
        return
    jobs = plan_polls(ctx, configs, now=clock())
    _PollScheduler(ctx, clock).run(jobs)


@dataclass
class PollJob:
    """One feed's poll as decided from the store: what the fetch needs (no store session) and
    what storing its answer needs."""

    config: FeedSettings
    feed_id: int
    state: FeedState
    was_retired: bool
    now: datetime

    @property
    def host(self) -> str:
        """The host the poll asks first: the key politeness keeps its rules by."""
        from syndication.fetch.guard import normalize_host

        try:
            return normalize_host(urlsplit(self.state.url).hostname or "")
        except ValueError:
            return ""  # a malformed URL: the fetcher refuses it with a clear error


def plan_polls(
    ctx: RunContext, configs: Sequence[FeedSettings], *, now: datetime, force: bool = False
) -> list[PollJob]:
    """Read what the polls of ``configs`` need from the store (rows of new feeds are created);
    ``force``: whatever backoff, ``Retry-After`` or retirement deferred them."""
    from syndication.feeds import health
    from syndication.feeds.poll import FeedState

    jobs: list[PollJob] = []
    with ctx.store.session() as session:
        rows = _feed_rows(session, [c.url for c in configs])
        for config in configs:
            feed = rows.get(config.url) or feed_row(session, config)
            rows[config.url] = feed
            state = FeedState(
                url=feed.current_url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                next_poll_after=None if force else health.next_poll(feed, ctx.settings.polling, now),
                configured_url=feed.url,
            )
            jobs.append(PollJob(config, feed.id, state, feed.status == "retired", now))
    return jobs


def _feed_rows(session: Session, urls: Sequence[str]) -> dict[str, Feed]:
    """The stored feeds of ``urls`` by URL, in a few queries instead of one per feed."""
    rows: dict[str, Feed] = {}
    for start in range(0, len(urls), 500):  # well under any database's limit on bound values
        chunk = urls[start : start + 500]
        rows.update((f.url, f) for f in session.scalars(select(Feed).where(Feed.url.in_(chunk))))
    return rows


def fetch_poll(fetcher: Fetcher, job: PollJob, policy: PollingSettings) -> PollResult:
    """The network half of a poll: safe in any thread (no store, no summary)."""
    from syndication.feeds.poll import poll_feed

    return poll_feed(fetcher, job.state, now=job.now, retry_after_cap=policy.retry_after_cap)


def poll_one(ctx: RunContext, config: FeedSettings, *, now: datetime, force: bool = False) -> PollResult:
    """Poll one feed and store what happened (see ``syndication.feeds.health`` for the schedule);
    ``force``: whatever backoff, ``Retry-After`` or retirement deferred it (``feeds poll-now``)."""
    [job] = plan_polls(ctx, [config], now=now, force=force)
    return record_poll(ctx, job, fetch_poll(ctx.fetcher(), job, ctx.settings.polling))


def record_poll(ctx: RunContext, job: PollJob, result: PollResult) -> PollResult:
    """Store one poll's answer in its own transaction and count it in the summary; returns
    ``result``. Called by the thread that owns the store (never a fetch worker)."""
    record_polls(ctx, [(job, result)])
    return result


def record_polls(ctx: RunContext, answers: Sequence[tuple[PollJob, PollResult]]) -> None:
    """Store poll answers and count them in the summary, in one transaction: the answers that
    arrived together (``_PollScheduler``). Called by the thread that owns the store."""
    kept: list[tuple[PollJob, PollResult]] = []
    for job, result in answers:
        if result.error_kind == "transient" and ctx.budget.expired():
            ctx.summary.feeds_deferred += 1  # cut short by the budget (RunBudgetSpentError), not failed
        else:
            kept.append((job, result))
    if not kept:
        return
    with ctx.store.session() as session:
        ids = [job.feed_id for job, _ in kept]
        rows = {f.id: f for f in session.scalars(select(Feed).where(Feed.id.in_(ids)))}
        for job, result in kept:
            feed = rows.get(job.feed_id) or feed_row(session, job.config)
            _record(session, ctx, feed, job, result)


def _record(session: Session, ctx: RunContext, feed: Feed, job: PollJob, result: PollResult) -> None:
    from syndication.feeds import health

    summary = ctx.summary
    policy = ctx.settings.polling
    config, now, was_retired = job.config, job.now, job.was_retired
    label = config.name or config.url
    if result.outcome == "deferred":
        if was_retired:
            summary.feeds_retired += 1
        return
    feed.last_polled_at = now
    feed.last_status = result.status
    summary.feeds_polled += 1
    feed.polls += 1
    if result.new_url:
        feed.current_url = result.new_url
    if result.outcome == "gone":
        message = health.record_gone(feed, result, policy, now, name=label)
        if was_retired:
            # Retired already, and said so when it was retired: this probe changes nothing.
            summary.feeds_retired += 1
            return
        summary.feeds_failed += 1
        if feed.status == "retired":
            summary.feeds_retired += 1
        summary.errors.append(_item_error("poll", message, "terminal", config.url))
        return
    if result.outcome == "error":
        if was_retired:
            feed.next_poll_after = now + timedelta(seconds=policy.retired_probe_interval)
            summary.feeds_retired += 1
            return
        summary.feeds_failed += 1
        feed.last_error = result.error
        # A failure without Retry-After leaves the next poll to the next run.
        feed.next_poll_after = result.retry_after
        summary.errors.append(
            _item_error("poll", result.error or "poll failed", result.error_kind, config.url)
        )
        return
    back = health.record_success(feed)
    if back is not None:
        log.info("feed %s: %s", label, back)
    health.record_notes(feed, result, now)
    for note in result.notes:
        log.info("feed %s: %s", label, note)
    if result.etag is not None or result.last_modified is not None:
        feed.etag, feed.last_modified = result.etag, result.last_modified
    if result.outcome == "not_modified":
        summary.feeds_not_modified += 1
        return
    entries = result.entries
    feed.title = entries.title or feed.title
    feed.site_url = entries.link or feed.site_url
    baseline = config.baseline and not feed.baselined
    for entry in entries:
        record_entry(session, ctx, feed, config, entry, baseline=baseline)
    feed.baselined = True
    # A malformed feed yields what could be read; what was lost stays visible in status. What
    # was only repaired (encoding, DOCTYPE, a lenient read) is a note on the feed, not an error.
    feed.last_error = "; ".join(entries.problems) or None
    if entries.problems and not entries:
        summary.feeds_failed += 1
    for problem in entries.problems:
        summary.errors.append(_item_error("poll", problem, "terminal", config.url))


def _feed_names(feeds: list[FeedSettings]) -> str:
    if not feeds:
        return "no feeds are configured: add [[feeds]] first"
    return "configured: " + ", ".join(f"{f.name} ({f.url})" if f.name else f.url for f in feeds)


def _item_error(stage: str, message: str, kind: str | None, post: str) -> Any:
    from syndication.summary import ItemError

    return ItemError(stage=stage, message=message, kind=kind or "terminal", post=post)


class _PollScheduler:
    """Hands feeds to a pool of ``fetch.concurrency`` workers and stores each answer as it arrives.

    Politeness is kept twice: the fetcher's pacer holds one slot per host (a redirect to another
    feed's host waits there), and this scheduler never hands out a feed of a host that has a poll
    in flight or whose ``fetch.min_host_interval`` has not passed, so workers fetch instead of
    waiting. Hosts take turns (the first feed of every host goes out before the second of any),
    which keeps a host with many feeds from waiting behind the others. With nothing in flight, the
    host ready soonest is handed out at once and its worker sleeps through the interval (the
    fetcher's clock, which tests inject).

    The store is written only here, in the calling thread: SQLite connections stay in the thread
    that made them, and the summary is counted in one place. Answers are stored as they arrive;
    those that arrived together (while the previous ones were being written) share one
    transaction: each commit waits for the disk (an fsync, 3-9 ms here), and one per feed would
    cost more than the polls themselves. A crash loses at most one group's answers, which the
    next run simply asks for again. The run's budget is checked before each feed goes out, as it
    was when feeds were polled one after another.
    """

    def __init__(self, ctx: RunContext, clock: Callable[[], datetime]) -> None:
        self.ctx = ctx
        self.clock = clock
        self.fetcher = ctx.fetcher()
        self.workers = ctx.settings.fetch.concurrency
        self.queues: dict[str, deque[PollJob]] = {}
        """Feeds waiting, per host, hosts in turn order (a host goes to the end when served)."""
        self.busy: set[str] = set()
        self.in_flight: dict[Future[PollResult], PollJob] = {}

    def run(self, jobs: Sequence[PollJob]) -> None:
        from syndication.feeds.poll import deferred_until

        waiting: list[tuple[PollJob, PollResult]] = []
        for job in jobs:
            job.now = self.clock()
            if deferred_until(job.state, job.now) is None:
                self.queues.setdefault(job.host, deque()).append(job)
            elif self.ctx.budget.expired():
                self.ctx.summary.feeds_deferred += 1
            else:
                # Nothing to fetch (backoff, Retry-After, retired): no worker needed.
                waiting.append((job, fetch_poll(self.fetcher, job, self.ctx.settings.polling)))
        record_polls(self.ctx, waiting)
        try:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="poll") as pool:
                while self.queues or self.in_flight:
                    self._hand_out(pool)
                    if self.in_flight:
                        answers = self._collect()
                        self._hand_out(pool)  # the freed workers fetch while the answers are stored
                        record_polls(self.ctx, answers)
        finally:
            self.fetcher.close_thread_sessions()

    def _hand_out(self, pool: ThreadPoolExecutor) -> None:
        while self.queues and len(self.in_flight) < self.workers:
            if self.ctx.budget.expired():  # the run's time is up: the next run polls the rest
                self.ctx.summary.feeds_deferred += sum(len(q) for q in self.queues.values())
                self.queues.clear()
                return
            host = self._next_host()
            if host is None:
                return
            queue = self.queues.pop(host)
            job = queue.popleft()
            if queue:
                self.queues[host] = queue  # to the end of the turn order
            job.now = self.clock()
            self.busy.add(host)
            self.in_flight[pool.submit(fetch_poll, self.fetcher, job, self.ctx.settings.polling)] = job

    def _next_host(self) -> str | None:
        """The first host in turn that is idle and may be asked now; with nothing in flight, the
        idle host that may be asked soonest; else ``None`` (wait for an answer)."""
        soonest: tuple[float, str] | None = None
        for host in self.queues:
            if host in self.busy:
                continue
            ready_in = self.fetcher.host_ready_in(host)
            if ready_in <= 0:
                return host
            if soonest is None or ready_in < soonest[0]:
                soonest = (ready_in, host)
        if soonest is not None and not self.in_flight:
            return soonest[1]
        return None

    def _collect(self) -> list[tuple[PollJob, PollResult]]:
        """Wait for answers (or a host's interval to pass); returns those there are, in the order
        their feeds went out."""
        idle = [self.fetcher.host_ready_in(h) for h in self.queues if h not in self.busy]
        timeout = min(idle) if idle and len(self.in_flight) < self.workers else None
        done, _ = wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        answers = []
        for future in [f for f in self.in_flight if f in done]:
            job = self.in_flight.pop(future)
            self.busy.discard(job.host)
            answers.append((job, self._result(future, job)))
        return answers

    @staticmethod
    def _result(future: Future[PollResult], job: PollJob) -> PollResult:
        from syndication.feeds.poll import PollResult

        try:
            return future.result()
        except Exception as exc:  # a fault in our own code: that feed fails, the others go on
            log.exception("feed %s: polling failed unexpectedly", job.config.name or job.config.url)
            return PollResult(
                "error",
                etag=job.state.etag,
                last_modified=job.state.last_modified,
                error=f"{job.state.url}: polling failed unexpectedly ({type(exc).__name__}: {exc})",
                error_kind="terminal",
            )


def record_entry(
    session: Session,
    ctx: RunContext,
    feed: Feed,
    config: FeedSettings,
    entry: Entry,
    *,
    baseline: bool,
) -> Post:
    """Insert or update the post an entry stands for; queue it for extraction when it is new or
    its content changed. Returns the post row."""
    summary = ctx.summary
    conditions = [Post.post_key == entry.entry_id]
    if entry.link:
        conditions.append(Post.url == entry.link)
    post = session.scalars(select(Post).where(or_(*conditions)).order_by(Post.id)).first()
    data = entry_to_json(entry)
    if post is None:
        post = Post(
            post_key=entry.entry_id,
            feed_id=feed.id,
            kind="post",
            url=entry.link or entry.entry_id,
            source_lang=config.source_lang,
            entry_hash=entry.content_hash,
            entry=data,
            title=entry.title,
            status="baselined" if baseline else "new",
            site_name=feed.title,
        )
        session.add(post)
        if baseline:
            summary.entries_baselined += 1
        else:
            summary.entries_new += 1
        return post
    if post.kind != "post":
        # An article first met as a link has now appeared in the feed: it becomes a feed post
        # under its existing key, so deliveries already made keep pointing at the same object.
        post.kind, post.feed_id, post.depth = "post", feed.id, 0
    if post.entry_hash == entry.content_hash:
        return post
    post.entry_hash = entry.content_hash
    post.entry = data
    post.title = entry.title
    if post.status == "baselined" and baseline:
        return post
    post.status = "new"
    post.last_error = None
    summary.entries_updated += 1
    return post


def backfill_feeds(
    ctx: RunContext,
    *,
    feed: str | None = None,
    pages: int | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    on_page: Callable[[FeedPage], None] | None = None,
) -> list[int]:
    """Walk the older pages (``?paged=N``) of every configured feed, or the one named, and store
    their entries in [``since``, ``until``]; returns the ids of the posts this leaves queued for
    extraction, oldest first.

    New entries are queued, and so are posts a baseline marked as seen (a backfill asks for them);
    posts already extracted and unchanged are not, so running the same backfill again costs page
    fetches only. One page per transaction: a walk that fails halfway keeps what it stored.
    Validators (ETag, Last-Modified) of the regular poll are left alone.
    """
    from syndication.errors import ConfigError, SyndicationError
    from syndication.feeds.backfill import walk_pages

    configs = [c for c in ctx.settings.feeds if feed is None or feed in (c.url, c.name)]
    if not configs:
        raise ConfigError(
            f"no configured feed matches {feed!r}" if feed else "no feeds configured: add [[feeds]] first"
        )
    summary = ctx.summary
    queued: list[int] = []
    for config in configs:
        with ctx.store.session() as session:
            row = feed_row(session, config)
            url, retired = row.current_url, row.status == "retired"
        if retired:
            summary.error(
                "backfill",
                f"feed {config.url} is retired (it answered 410 or 404 for days); not backfilled; "
                f"`syndicate feeds resume {config.name or config.url}` brings it back",
                post=config.url,
            )
            continue
        try:
            for page in walk_pages(ctx.fetcher(), url, pages=pages, since=since, until=until):
                summary.feed_pages += 1
                with ctx.store.session() as session:
                    row = feed_row(session, config)
                    for entry in page.entries:
                        post = record_entry(session, ctx, row, config, entry, baseline=False)
                        if post.status == "baselined":
                            post.status = "new"
                            summary.entries_new += 1
                        session.flush()
                        queued_now = post.status == "new" or (
                            post.status == "failed" and post.error_kind == "transient"
                        )
                        if queued_now and post.id not in queued:
                            queued.append(post.id)
                    for problem in page.problems:
                        summary.errors.append(_item_error("backfill", problem, "terminal", page.url))
                if on_page is not None:
                    on_page(page)
        except SyndicationError as exc:
            summary.feeds_failed += 1
            summary.error("backfill", exc, post=config.url)
    queued.reverse()  # pages come newest first; extracting and publishing oldest first keeps order
    return queued
