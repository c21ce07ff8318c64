"""Selecting ledger rows in bulk, and queueing failed ones again: what ``syndicate deliveries list``
and ``deliveries retry`` and the review app's admin page share.

A selection is a filter (ids, channel, state, since, post); the same filter lists, previews and
retries, so what an operator saw in the preview is what gets queued. Queueing is one conditional
UPDATE (``failed``/``uncertain`` → ``pending``, only where still so): a row a running publish took
in the meantime is left alone, and two operators retrying at once queue each row once.

Uncertain rows are sends of an at-most-once channel (e-mail) that may have arrived: they are never
queued without ``include_uncertain``, and a preview says how many recipients may get a second copy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from syndication.deliveries.states import STATES
from syndication.errors import UserError
from syndication.store import Delivery, Post, utcnow

RETRYABLE = ("failed", "uncertain")
DEFAULT_LIMIT = 50
CONFIRM_ABOVE = 10
"""More rows than this: ``deliveries retry`` only shows what it would do unless ``--yes``."""

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_since(value: str, *, now: datetime | None = None) -> datetime:
    """``2026-12-01`` (a day, UTC), ``2026-12-01T08:00`` or a duration back from now: ``30m``,
    ``12h``, ``3d``, ``2w``."""
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
        return (now or utcnow()) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise UserError(
                f"--since {value!r}: give a date (2026-12-01), a time (2026-12-01T08:00) "
                "or a duration (30m, 12h, 3d, 2w)"
            ) from None
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Selection:
    """Which ledger rows: every given filter must match (none given: every row)."""

    ids: tuple[int, ...] = ()
    channel: str | None = None
    state: str | None = None
    since: datetime | None = None
    """Rows changed (failed, sent …) at or after this moment."""
    post_id: int | None = None
    every: bool = False
    """``--all``: no filter needed (a retry refuses an empty selection otherwise)."""

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise UserError(f"unknown state {self.state!r}; one of: {', '.join(STATES)}")

    @property
    def empty(self) -> bool:
        filters = (self.channel, self.state, self.since, self.post_id)
        return not self.every and not self.ids and all(f is None for f in filters)

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.ids:
            where.append(Delivery.id.in_(self.ids))
        if self.channel is not None:
            where.append(Delivery.channel == self.channel)
        if self.state is not None:
            where.append(_state_condition(self.state))
        if self.since is not None:
            where.append(Delivery.updated_at >= self.since)
        if self.post_id is not None:
            where.append(Delivery.post_id == self.post_id)
        return where

    def describe(self) -> str:
        parts = []
        if self.ids:
            parts.append("ids " + ", ".join(str(i) for i in self.ids))
        if self.channel:
            parts.append(f"channel {self.channel}")
        if self.state:
            parts.append(f"state {self.state}")
        if self.since:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M} UTC")
        if self.post_id is not None:
            parts.append(f"post {self.post_id}")
        return ", ".join(parts) or "every row"


def _state_condition(state: str) -> ColumnElement[bool]:
    if state.startswith("failed-"):
        return and_(Delivery.state == "failed", Delivery.error_kind == state.removeprefix("failed-"))
    return Delivery.state == state


def resolve_post_ref(session: Session, ref: str) -> int:
    """``--post``: an id, GUID or URL, as everywhere else."""
    from syndication.review import resolve_post

    return resolve_post(session, ref).id


def _query(selection: Selection) -> Select[Delivery, str]:
    return (
        select(Delivery, Post.post_key)
        .join(Post, Post.id == Delivery.post_id)
        .where(*selection.conditions())
        .order_by(Delivery.id.desc())
    )


def row_dict(row: Delivery, post_key: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "post_id": row.post_id,
        "post": post_key,
        "lang": row.lang,
        "channel": row.channel,
        "target": row.target,
        "action": row.action,
        "state": row.state if row.state != "failed" else f"failed-{row.error_kind or 'transient'}",
        "attempts": row.attempts,
        "updated_at": row.updated_at,
        "remote_url": row.remote_url,
        "error": row.error,
    }


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int
    offset: int

    @property
    def more(self) -> int:
        return max(0, self.total - self.offset - len(self.rows))


def list_page(session: Session, selection: Selection, *, limit: int = DEFAULT_LIMIT, offset: int = 0) -> Page:
    """One page of the selection, newest first, and how many rows it has in all."""
    total = session.scalar(select(func.count(Delivery.id)).where(*selection.conditions())) or 0
    rows = [row_dict(row, key) for row, key in session.execute(_query(selection).limit(limit).offset(offset))]
    return Page(rows=rows, total=int(total), offset=offset)


@dataclass
class RetryPlan:
    """What a retry of a selection would do."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    """Rows that would be queued again."""
    uncertain: list[dict[str, Any]] = field(default_factory=list)
    """Uncertain rows in the selection (queued only with ``include_uncertain``)."""
    not_failed: int = 0
    """Of the ids asked for: rows neither failed nor uncertain (nothing to retry)."""
    include_uncertain: bool = False

    @property
    def recipients_at_risk(self) -> int:
        """Distinct (channel, target) of the uncertain rows: who may get a second copy."""
        return len({(r["channel"], r["target"]) for r in self.uncertain})

    @property
    def to_queue(self) -> list[dict[str, Any]]:
        return self.rows + (self.uncertain if self.include_uncertain else [])


def plan_retry(session: Session, selection: Selection, *, include_uncertain: bool = False) -> RetryPlan:
    """The rows a retry of ``selection`` would queue again (nothing changes)."""
    if selection.empty:
        raise UserError("say which deliveries to retry: ids, --all, --channel, --state, --since or --post")
    out = RetryPlan(include_uncertain=include_uncertain)
    # Only rows a retry acts on are loaded: a selection may span the whole (large) ledger.
    for row, key in session.execute(_query(selection).where(Delivery.state.in_(RETRYABLE))):
        data = row_dict(row, key)
        (out.rows if row.state == "failed" else out.uncertain).append(data)
    if not selection.ids:
        return out
    out.not_failed = int(
        session.scalar(
            select(func.count(Delivery.id)).where(*selection.conditions(), Delivery.state.not_in(RETRYABLE))
        )
        or 0
    )
    return out


def apply_retry(session: Session, ids: Sequence[int]) -> int:
    """Queue ``ids`` again for the next publish where they are still failed or uncertain (a row a
    publish took or finished meanwhile is left alone); how many were queued."""
    queued = 0
    for start in range(0, len(ids), 500):
        result = session.execute(
            update(Delivery)
            .where(Delivery.id.in_(list(ids[start : start + 500])), Delivery.state.in_(RETRYABLE))
            .values(
                state="pending",
                error_kind=None,
                next_attempt_at=None,
                attempts=0,
                claimed_at=None,
                claimed_by=None,
                config_fingerprint=None,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        queued += int(getattr(result, "rowcount", 0) or 0)
    return queued
