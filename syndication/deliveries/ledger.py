"""The delivery ledger: exactly-once is ours, not the orchestrator's.

A delivery row is written (``pending``) before any side effect, claimed with **one conditional
UPDATE** (``pending → sending`` only where nobody else holds it), and completed (``sent``) or failed
after. Two workers racing on the same row: the database lets exactly one UPDATE match, in SQLite and
PostgreSQL alike. A worker killed mid-send leaves ``sending`` with a stale ``claimed_at``; after the
lease the row can be claimed again — except on at-most-once channels (e-mail), where we cannot ask
the far side whether the send happened, so the row becomes ``uncertain`` and is reported, not resent.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from syndication.errors import SyndicationError, UncertainDeliveryError
from syndication.models import Receipt
from syndication.store import Delivery, Store, utcnow

LEASE = timedelta(minutes=10)
"""Default of how long a claim protects a row (``[deliveries] claim_lease_seconds``); longer than any
single send may take."""
MAX_ATTEMPTS = 8
"""Transient failures retried across runs up to this many attempts, then kept as terminal."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def delivery_key(
    post_key: str, revision: str, lang: str, channel: str, target: str, action: str, after: int | None = None
) -> str:
    """The idempotency key of one delivery. ``after`` is the ledger row this send follows (the last
    one sent to the same target), so the same content sent again after a retraction — or after an
    edit was undone — is a new delivery, not one "already done"; retries of one send share it."""
    parts = (post_key, revision, lang, channel, target, action)
    key = "|".join(parts if after is None else (*parts, f"after:{after}"))
    if len(key) <= 480:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"sha256:{digest}"


@dataclass(frozen=True)
class Planned:
    post_id: int
    translation_id: int | None
    post_key: str
    revision: str
    lang: str
    channel: str
    target: str
    action: str
    after: int | None = None
    """The ledger row this send follows (see ``delivery_key``)."""

    @property
    def key(self) -> str:
        return delivery_key(
            self.post_key, self.revision, self.lang, self.channel, self.target, self.action, self.after
        )


def ensure(session: Session, planned: Planned) -> Delivery:
    """The ledger row for a planned delivery, inserted if missing (safe under concurrency)."""
    values: dict[str, Any] = {
        "key": planned.key,
        "post_id": planned.post_id,
        "translation_id": planned.translation_id,
        "revision": planned.revision,
        "lang": planned.lang,
        "channel": planned.channel,
        "target": planned.target,
        "action": planned.action,
        "state": "pending",
        "attempts": 0,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["key"]))
    elif dialect == "sqlite":
        session.execute(
            sqlite_insert(Delivery).values(**values).on_conflict_do_nothing(index_elements=["key"])
        )
    else:  # pragma: no cover - other backends: best effort
        if session.scalars(select(Delivery).where(Delivery.key == planned.key)).one_or_none() is None:
            session.add(Delivery(**values))
            session.flush()
    row = session.scalars(select(Delivery).where(Delivery.key == planned.key)).one()
    return row


def find(session: Session, key: str) -> Delivery | None:
    """The ledger row with this idempotency key, if there is one (nothing is inserted)."""
    return session.scalars(select(Delivery).where(Delivery.key == key)).one_or_none()


def claim(
    store: Store,
    delivery_id: int,
    *,
    at_most_once: bool,
    worker: str | None = None,
    lease: timedelta = LEASE,
) -> bool:
    """Take the row for sending; ``True`` for exactly one caller. A ``sending`` row whose claim is
    older than ``lease`` (its worker died) can be taken over, except on at-most-once channels."""
    now = utcnow()
    claimable = [
        Delivery.state == "pending",
        and_(
            Delivery.state == "failed",
            Delivery.error_kind == "transient",
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
    ]
    if not at_most_once:
        claimable.append(and_(Delivery.state == "sending", Delivery.claimed_at < now - lease))
    with store.session() as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, or_(*claimable))
            .values(
                state="sending",
                claimed_at=now,
                claimed_by=worker or worker_id(),
                attempts=Delivery.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def mark_uncertain(store: Store, channels: list[str], *, lease: timedelta = LEASE) -> list[int]:
    """At-most-once sends that started but never finished (a crash between the far side accepting
    and our record): marked ``uncertain`` and reported for an operator, never resent automatically
    (``syndicate deliveries retry ID`` does that on purpose)."""
    if not channels:
        return []
    cutoff = utcnow() - lease
    with store.session() as session:
        rows = list(
            session.scalars(
                select(Delivery).where(
                    Delivery.state == "sending",
                    Delivery.claimed_at < cutoff,
                    Delivery.channel.in_(channels),
                )
            )
        )
        for row in rows:
            row.state = "uncertain"
            row.error_kind = "terminal"
            row.error = (
                f"the send started at {row.claimed_at:%Y-%m-%d %H:%M} UTC by {row.claimed_by} never "
                "finished; it may or may not have arrived, so it is not resent automatically. Check, "
                f"then `syndicate deliveries retry {row.id} --include-uncertain` to send it again "
                "(that recipient may get a second copy)"
            )
        return [row.id for row in rows]


def complete(store: Store, delivery_id: int, receipt: Receipt) -> None:
    with store.session() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        row.state = "sent"
        row.sent_at = utcnow()
        row.remote_id, row.remote_url = receipt.remote_id, receipt.remote_url
        row.receipt = {"key": receipt.key, "meta": dict(receipt.meta)}
        row.error, row.error_kind, row.next_attempt_at = None, None, None


def fail(
    store: Store,
    delivery_id: int,
    exc: BaseException,
    *,
    retry_after: float | None = None,
    fingerprint: Callable[[], str | None] | None = None,
) -> Delivery:
    """Record a failure: transient ones get a time for the next attempt; terminal ones the channel
    configuration they happened under (``fingerprint``), so a fixed configuration retries them. An
    ``UncertainDeliveryError`` (handed over, answer lost) makes the row ``uncertain``: it is never
    claimed again, only an operator's retry sends it once more."""
    with store.session() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        if isinstance(exc, UncertainDeliveryError):
            row.state, row.error_kind, row.error = "uncertain", "terminal", exc.message
            row.next_attempt_at, row.config_fingerprint = None, None
            session.flush()
            return row
        transient = exc.transient if isinstance(exc, SyndicationError) else True
        if transient and row.attempts >= MAX_ATTEMPTS:
            transient = False
            message = f"gave up after {row.attempts} attempts: {exc}"
        else:
            message = str(exc) or type(exc).__name__
        row.state = "failed"
        row.error_kind = "transient" if transient else "terminal"
        row.error = message
        row.next_attempt_at = (
            utcnow() + timedelta(seconds=retry_after if retry_after is not None else backoff(row.attempts))
            if transient
            else None
        )
        row.config_fingerprint = fingerprint() if fingerprint is not None and not transient else None
        session.flush()
        return row


def requeue_after_config_change(
    store: Store, channel: str, fingerprint: Callable[[], str | None]
) -> list[int]:
    """Terminal failures of ``channel`` recorded under another configuration than today's go back
    to ``pending`` (one more try each; a failure that persists is recorded again, under the new
    fingerprint). ``fingerprint`` is called only when there is such a failure: it is slow on purpose."""
    with store.session() as session:
        recorded = set(
            session.scalars(
                select(Delivery.config_fingerprint)
                .where(
                    Delivery.channel == channel,
                    Delivery.state == "failed",
                    Delivery.error_kind == "terminal",
                    Delivery.config_fingerprint.is_not(None),
                )
                .distinct()
            )
        )
        if not recorded:
            return []
        current = fingerprint()
        if current is None or recorded == {current}:
            return []
        rows = list(
            session.scalars(
                select(Delivery).where(
                    Delivery.channel == channel,
                    Delivery.state == "failed",
                    Delivery.error_kind == "terminal",
                    Delivery.config_fingerprint.is_not(None),
                    Delivery.config_fingerprint != current,
                )
            )
        )
        for row in rows:
            row.state, row.attempts, row.error_kind, row.next_attempt_at = "pending", 0, None, None
            row.error = f"queued again after the {channel} configuration changed (was: {row.error})"
            row.config_fingerprint = None
            row.updated_at = utcnow()
        return [row.id for row in rows]


def backoff(attempts: int) -> float:
    """Seconds before the next attempt across runs: 30 s, 1 min, 2 min … capped at 1 h."""
    return float(min(3600, 30 * 2 ** max(0, attempts - 1)))


def last_sent(session: Session, post_id: int, lang: str, channel: str, target: str) -> Delivery | None:
    return session.scalars(
        select(Delivery)
        .where(
            Delivery.post_id == post_id,
            Delivery.lang == lang,
            Delivery.channel == channel,
            Delivery.target == target,
            Delivery.state == "sent",
        )
        .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
    ).first()


def receipt_of(row: Delivery) -> Receipt:
    data = row.receipt or {}
    return Receipt(
        channel=row.channel,
        key=str(data.get("key", row.key)),
        remote_id=row.remote_id,
        remote_url=row.remote_url,
        meta=dict(data.get("meta") or {}),
    )


def retry(store: Store, delivery_id: int) -> bool:
    """An operator says: try this failed delivery again on the next run."""
    with store.session() as session:
        row = session.get(Delivery, delivery_id)
        if row is None or row.state not in ("failed", "uncertain"):
            return False
        row.state, row.error_kind, row.next_attempt_at, row.attempts = "pending", None, None, 0
        return True


def requeue_current(session: Session, *, post_id: int, lang: str, channel: str, revision: str) -> list[int]:
    """An operator says: send this item to this channel again (``syndicate deliveries redeliver``).

    Per target, the newest finished row (sent, failed or uncertain) goes back to ``pending`` when it
    carries ``revision`` (the current approved content) and is not a retraction; the next deliver
    claims it like any other pending row, under the same idempotency key (a receiver that keeps keys
    sees the same event again). Its receipt stays, so the channel updates the copy it made before.
    Rows of older content are left alone: a normal publish already brings those targets up to date.
    """
    newest: dict[str, Delivery] = {}
    for row in session.scalars(
        select(Delivery)
        .where(
            Delivery.post_id == post_id,
            Delivery.lang == lang,
            Delivery.channel == channel,
            Delivery.state.in_(["sent", "failed", "uncertain"]),
        )
        .order_by(Delivery.id)
    ):
        newest[row.target] = row
    requeued: list[int] = []
    for row in newest.values():
        if row.action == "retract" or row.revision != revision:
            continue
        row.state, row.attempts, row.error, row.error_kind = "pending", 0, None, None
        row.next_attempt_at, row.claimed_at, row.claimed_by = None, None, None
        row.updated_at = utcnow()
        requeued.append(row.id)
    session.flush()
    return requeued
