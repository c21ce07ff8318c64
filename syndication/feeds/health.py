"""A feed's health between polls: failing, retired, back; when it is polled next; its notes.

One 410 or 404 does not stop a feed: servers are misconfigured for an afternoon, a CMS update
breaks the feed URL for a day. A feed that answers so becomes ``failing`` and is polled backed off
(``polling.failing_backoff``, doubled per answer up to ``polling.failing_backoff_max``); it is
``retired`` only when ``polling.retire_after_polls`` polls in a row, spread over at least
``polling.retire_after_days``, answered so. A retired feed is still asked at a low rate
(``polling.retired_probe_interval``) and becomes ``active`` again on its first good answer, or at
once with ``syndicate feeds resume``. Every state change is kept on the ``Feed`` row, so ``status``
and ``syndicate feeds list`` show what the scheduler will do and when.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from syndication.feeds.poll import PollResult
from syndication.settings import FeedSettings, PollingSettings
from syndication.store import Feed
from syndication.timefmt import human_duration, human_when


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def next_poll(feed: Feed, policy: PollingSettings, now: datetime) -> datetime | None:
    """When the feed may be polled next (``None``: the next run). A stored moment further from the
    last poll than the policy allows (a year-long ``Retry-After`` stored before the cap existed, or
    a policy shortened since) is cut to it."""
    if feed.next_poll_after is None:
        return None
    stored = _aware(feed.next_poll_after)
    if feed.status == "retired":
        longest = policy.retired_probe_interval
    else:
        longest = max(policy.retry_after_cap, policy.failing_backoff_max)
    anchor = _aware(feed.last_polled_at) if feed.last_polled_at else now
    return min(stored, anchor + timedelta(seconds=longest))


def record_success(feed: Feed) -> str | None:
    """The feed answered: it is active and on the normal schedule. Returns a line saying it came
    back when it was failing or retired."""
    back = None
    if feed.status != "active":
        since = f" (failing since {feed.failing_since:%Y-%m-%d %H:%M} UTC)" if feed.failing_since else ""
        back = f"the feed answers again and is polled as before; it was {feed.status}{since}"
    feed.status = "active"
    feed.failing_since = None
    feed.failed_polls = 0
    feed.next_poll_after = None
    feed.last_error = None
    return back


def record_gone(feed: Feed, result: PollResult, policy: PollingSettings, now: datetime, *, name: str) -> str:
    """The feed answered 410 or 404 (``result``): count it, back off or retire. Returns the error
    line for the run (with the next poll and how close retirement is)."""
    error = result.error or f"HTTP {result.status}"
    if feed.status == "retired":
        feed.next_poll_after = now + timedelta(seconds=policy.retired_probe_interval)
        feed.last_error = (
            f"{error}; retired, asked again every {human_duration(policy.retired_probe_interval)}; "
            f"`syndicate feeds resume {name}` puts it back on the schedule"
        )
        return feed.last_error
    since = _aware(feed.failing_since) if feed.failing_since else now
    feed.failing_since = since
    feed.failed_polls = (feed.failed_polls or 0) + 1
    span = now - since
    polls_needed = policy.retire_after_polls
    days_needed = timedelta(days=policy.retire_after_days)
    if feed.failed_polls >= polls_needed and span >= days_needed:
        feed.status = "retired"
        # Probes go to the configured URL: a URL the feed moved to is not kept through a retirement.
        feed.current_url = feed.url
        feed.next_poll_after = now + timedelta(seconds=policy.retired_probe_interval)
        over = human_duration(span.total_seconds())
        every = human_duration(policy.retired_probe_interval)
        # Stored without "in 1 d": status shows the next probe itself, and "in …" would go stale.
        feed.last_error = (
            f"{error}; answered so on {feed.failed_polls} polls over {over}: the feed is retired. "
            f"It is still asked every {every} and comes back when it answers; "
            f"`syndicate feeds resume {name}` brings it back now"
        )
        return f"{feed.last_error} (next probe {human_when(feed.next_poll_after, now=now)})"
    feed.status = "failing"
    wait = min(policy.failing_backoff_max, policy.failing_backoff * 2 ** (feed.failed_polls - 1))
    feed.next_poll_after = now + timedelta(seconds=wait)
    answers = "1 such answer" if feed.failed_polls == 1 else f"{feed.failed_polls} such answers in a row"
    feed.last_error = (
        f"{error}; {answers} since {since:%Y-%m-%d %H:%M} UTC; retired after {polls_needed} over at "
        f"least {human_duration(days_needed.total_seconds())}, polled backed off until then"
    )
    return f"{feed.last_error} (next poll {human_when(feed.next_poll_after, now=now)})"


def record_notes(feed: Feed, result: PollResult, now: datetime) -> None:
    """Keep what this poll repaired. A 200 replaces every note; a 304 keeps the document's notes
    (the document did not change) and replaces the poll's own."""
    stamp = now.isoformat()
    fresh = [{"note": n, "source": "poll", "at": stamp} for n in result.poll_notes]
    if result.outcome == "ok":
        fresh += [{"note": n, "source": "document", "at": stamp} for n in result.entries.notes]
    else:
        fresh += [n for n in feed.notes or [] if isinstance(n, dict) and n.get("source") == "document"]
    feed.notes = fresh or None


def resume(feed: Feed) -> str:
    """Back on the normal schedule at once, at the configured URL; says what it was."""
    was = feed.status
    if was == "active":
        return was
    feed.status = "active"
    feed.last_error = None
    feed.failing_since = None
    feed.failed_polls = 0
    feed.next_poll_after = None
    feed.current_url = feed.url
    return was


def clear_deferral(feed: Feed) -> None:
    """For ``feeds poll-now``: whatever backoff or ``Retry-After`` deferred the feed is forgotten."""
    feed.next_poll_after = None


# ------------------------------------------------------------------------------------ reporting


def describe(
    feed: Feed | None,
    config: FeedSettings | None,
    policy: PollingSettings,
    now: datetime,
) -> dict[str, Any]:
    """One feed as ``status`` and ``feeds list`` show it (JSON-ready; moments as ISO 8601)."""
    if feed is None:
        assert config is not None
        return {
            "name": config.name,
            "url": config.url,
            "current_url": config.url,
            "status": "new",
            "configured": True,
            "polls": 0,
            "last_polled_at": None,
            "last_status": None,
            "last_error": None,
            "next_poll_at": None,
            "failing_since": None,
            "failed_polls": 0,
            "notes": [],
        }
    upcoming = next_poll(feed, policy, now)
    return {
        "name": feed.name if config is None else config.name,
        "url": feed.url,
        "current_url": feed.current_url,
        "status": feed.status,
        "configured": config is not None,
        "polls": feed.polls,
        "last_polled_at": feed.last_polled_at.isoformat() if feed.last_polled_at else None,
        "last_status": feed.last_status,
        "last_error": feed.last_error,
        "next_poll_at": upcoming.isoformat() if upcoming else None,
        "failing_since": feed.failing_since.isoformat() if feed.failing_since else None,
        "failed_polls": feed.failed_polls or 0,
        "notes": [n.get("note") if isinstance(n, dict) else str(n) for n in feed.notes or []],
    }


def feed_report(
    session: Session,
    settings_feeds: list[FeedSettings] | None = None,
    policy: PollingSettings | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every stored feed, and (with ``settings_feeds``) every configured one not polled yet."""
    policy = policy or PollingSettings()
    now = now or datetime.now(UTC)
    configs = {c.url: c for c in settings_feeds or []}
    rows = list(session.scalars(select(Feed).order_by(Feed.id)))
    report = [describe(row, configs.get(row.url), policy, now) for row in rows]
    stored = {row.url for row in rows}
    report += [describe(None, c, policy, now) for c in settings_feeds or [] if c.url not in stored]
    if settings_feeds is None:
        for item in report:
            item["configured"] = None  # unknown without the config
    return report


def feed_lines(item: dict[str, Any], now: datetime | None = None) -> list[str]:
    """``item`` (from ``describe``) as lines for a terminal: state, next poll, error, notes."""
    now = now or datetime.now(UTC)
    label = item["name"] or item["url"]
    state = item["status"]
    if item["current_url"] != item["url"]:
        state += f", moved to {item['current_url']}"
    if item["configured"] is False:
        state += ", no longer in the config"
    upcoming = item["next_poll_at"]
    if upcoming is None:
        when = "next run"
    else:
        moment = datetime.fromisoformat(upcoming)
        when = "next run" if moment <= now else human_when(moment, now=now)
    if item["last_error"]:
        state += f", last error: {item['last_error']}"
    verb = "probe" if item["status"] == "retired" else "poll"
    lines = [f"feed {label}: {state}, polled {item['polls']}×, next {verb}: {when}"]
    lines += [f"  note: {note}" for note in item["notes"]]
    return lines


def find_config(feeds: list[FeedSettings], wanted: str) -> FeedSettings | None:
    """The configured feed named ``wanted`` (its name or URL), as ``run --feed`` matches it."""
    return next((c for c in feeds if wanted in (c.url, c.name)), None)


def feed_row_for(session: Session, config: FeedSettings) -> Feed | None:
    return session.scalars(select(Feed).where(Feed.url == config.url)).one_or_none()
