"""The deliver stage: approved translations out to every channel, through the ledger.

For each (post, language) the newest editorial decision is the desired state: an approval means
"this revision should be out there" (a first send, or an update of the remote copy when an earlier
revision was sent); a rejection after a send, or a retracted source post, means "withdraw it".
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from syndication.deliveries import ledger
from syndication.deliveries import links as link_map
from syndication.deliveries.outgoing import wants
from syndication.errors import (
    DeliveryError,
    SyndicationError,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from syndication.models import ApprovedTranslation, Image, Payload, Receipt, Segment
from syndication.store import (
    Delivery,
    DeliveryMark,
    Post,
    PostLink,
    Revision,
    SegmentRow,
    TranslatedSegment,
    Translation,
    utcnow,
)
from syndication.timefmt import human_duration

if TYPE_CHECKING:
    from syndication.context import RunContext
    from syndication.deliveries.channel import Channel
    from syndication.summary import RunSummary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Desired:
    post_id: int
    lang: str
    state: Literal["published", "retracted"]
    translation_id: int | None


@dataclass
class PlannedSend:
    planned: ledger.Planned
    item: ApprovedTranslation
    previous: Delivery | None
    links: dict[str, str] = field(default_factory=dict)
    """Links of the item that now point to a translation (``deliveries.links``)."""
    links_to: frozenset[int] = frozenset()
    """Posts the item links to, localized or not."""


def claim_lease(ctx: RunContext) -> timedelta:
    """``[deliveries] claim_lease_seconds`` as a duration (see ``ledger.claim``)."""
    return timedelta(seconds=ctx.settings.deliveries.claim_lease_seconds)


def desired_states(session: Session, post_ids: Sequence[int] | None = None) -> list[Desired]:
    """The newest decision per (post, language)."""
    if post_ids is not None and not post_ids:
        # Nothing changed since the marks: SQLite would otherwise walk the decisions' index in
        # order looking for posts of an empty list, which costs as much as the history is long.
        return []
    query = (
        select(Translation)
        .where(Translation.status.in_(["approved", "rejected"]))
        .order_by(Translation.post_id, Translation.lang, Translation.decided_at, Translation.id)
    )
    if post_ids is not None:
        query = query.where(Translation.post_id.in_(post_ids))
    newest: dict[tuple[int, str], Translation] = {}
    for translation in session.scalars(query):
        newest[(translation.post_id, translation.lang)] = translation
    retracted_query = select(Post.id).where(Post.status == "retracted")
    if post_ids is not None:
        retracted_query = retracted_query.where(Post.id.in_(post_ids))
    retracted = set(session.scalars(retracted_query))
    out: list[Desired] = []
    for (post_id, lang), translation in newest.items():
        if post_id in retracted or translation.status == "rejected":
            out.append(Desired(post_id, lang, "retracted", translation.id))
        else:
            out.append(Desired(post_id, lang, "published", translation.id))
    return out


def approved_item(session: Session, translation_id: int) -> ApprovedTranslation:
    """Everything a channel needs about one approved translation, joined and sanitized."""
    from syndication.posts import clean_fragment
    from syndication.segments import SplitDocument, join, plain_text

    translation = session.get(Translation, translation_id)
    assert translation is not None
    revision = session.get(Revision, translation.revision_id)
    post = session.get(Post, translation.post_id)
    assert revision is not None and post is not None
    rows = session.execute(
        select(SegmentRow, TranslatedSegment)
        .join(TranslatedSegment, TranslatedSegment.segment_id == SegmentRow.id)
        .where(TranslatedSegment.translation_id == translation.id)
        .order_by(SegmentRow.position)
    )
    segments: list[Segment] = []
    targets: dict[str, str] = {}
    for source, target in rows:
        segments.append(source.as_segment())
        targets[source.key] = target.target
    joined = join(SplitDocument(skeleton=revision.skeleton, segments=segments), targets)
    linked_from = tuple(
        session.scalars(
            select(Post.url)
            .join(PostLink, PostLink.source_post_id == Post.id)
            .where(PostLink.target_post_id == post.id)
            .order_by(Post.id)
        )
    )
    image = revision.featured_image
    # The featured image's alt text is translated when the same text is a segment of the body.
    by_source = {plain_text(segment.source): plain_text(targets[segment.key]) for segment in segments}
    title = joined.title or revision.title
    html = clean_fragment(joined.html, post.url)
    excerpt = joined.excerpt or ""
    digest = hashlib.sha256("\x1f".join((revision.content_hash, title, excerpt, html)).encode())
    return ApprovedTranslation(
        content_version=digest.hexdigest()[:32],
        translation_id=translation.id,
        post_key=post.post_key,
        revision=revision.content_hash,
        lang=translation.lang,
        source_lang=post.source_lang,
        source_url=revision.canonical or post.url,
        source_title=revision.title,
        title=title,
        html=html,
        excerpt=excerpt,
        kind="linked" if post.kind == "linked" else "post",
        author=revision.author,
        published=revision.published_at,
        approved_at=translation.decided_at,
        site_name=post.site_name,
        categories=tuple(revision.categories or ()),
        tags=tuple(revision.tags or ()),
        featured_image=(
            Image(src=image["src"], alt=by_source.get(image.get("alt") or "", image.get("alt") or ""))
            if image
            else None
        ),
        linked_from=linked_from,
    )


def plan(
    ctx: RunContext,
    session: Session,
    post_ids: Sequence[int] | None,
    only_channel: str | None,
    only_lang: str | None = None,
    *,
    relink: Collection[int] = (),
) -> list[PlannedSend]:
    """What to send (or withdraw) now. A full publish plans only what may have changed since the
    channels' marks (``_since_marks``): a publish with nothing new costs the same however much
    history the store holds. Items a channel's filter keeps out are recorded in the ledger as
    ``filtered`` (``_record_filtered``) and planned again only when they or the filter change.

    ``relink``: posts whose links may point to a translation now (a copy they link to was delivered
    since): planned even when their ledger is up to date, sent only if a link changed."""
    channels = ctx.channels()
    names = [name for name in channels if only_channel in (None, name)]
    started = utcnow()
    marks: dict[str, str] = {}
    if post_ids is None and only_lang is None:
        marks = {name: _plan_fingerprint(ctx, name) for name in names}
        post_ids = _since_marks(session, marks)
        if post_ids is not None:
            healing = _linkers_since_marks(session, marks)
            relink = set(relink) | healing
            post_ids = sorted(set(post_ids) | healing)
    filters = {name: _filter_fingerprint(ctx, name) for name in names}
    sends: list[PlannedSend] = []
    items: dict[int, ApprovedTranslation] = {}
    wanted = [d for d in desired_states(session, post_ids) if only_lang is None or d.lang == only_lang]
    current = _up_to_date_index(session, wanted, filters)
    posts = _posts(session, {d.post_id for d in wanted})
    relinked = set(relink)
    localizer = link_map.Localizer(session)
    localized: dict[tuple[int, str], link_map.Localized] = {}
    for desired in wanted:
        post = posts[desired.post_id]
        for name in names:
            channel = channels[name]
            if desired.lang not in ctx.channel_languages(name):
                continue
            if desired.state == "published":
                assert desired.translation_id is not None
                if (desired.post_id, desired.lang, name) in current and desired.post_id not in relinked:
                    continue
                if desired.translation_id not in items:
                    items[desired.translation_id] = approved_item(session, desired.translation_id)
                    if not ctx.dry_run:
                        localizer.remember(post.id, items[desired.translation_id].html)
                item = items[desired.translation_id]
                targets = channel.targets(item)
                if not targets and not wants(item, _options(ctx, name)):
                    ctx.summary.deliveries_filtered += 1
                    if not ctx.dry_run:
                        _record_filtered(session, post, item, name, filters[name])
                    continue
                if targets and (desired.translation_id, name) not in localized:
                    localized[(desired.translation_id, name)] = localizer.localize(
                        item, post.id, name, channel
                    )
                for target in targets:
                    local = localized[(desired.translation_id, name)]
                    previous = ledger.last_sent(session, post.id, desired.lang, name, target)
                    if (
                        previous is not None
                        and previous.action != "retract"
                        and previous.revision == local.item.content_version
                    ):
                        continue
                    action = "update" if previous is not None and previous.action != "retract" else "publish"
                    send = _planned(post, local.item, name, target, action, previous)
                    send.links, send.links_to = local.links, local.targets
                    sends.append(send)
            else:
                for target, previous in _to_withdraw(
                    session, post.id, desired.lang, name, unconfirmed=not channel.at_most_once
                ):
                    stub = _retract_item(post, previous, desired)
                    sends.append(_planned(post, stub, name, target, "retract", previous))
    if marks and not ctx.dry_run:
        _advance_marks(session, marks, sends, started)
    return sends


# ------------------------------------------------------------------------- planning what changed
#
# A channel's mark says: every change made before ``planned_through`` has been planned, and all it
# led to is in the ledger (sent, failed, pending, filtered …). A full publish then plans only
#   - posts with a translation changed since (a decision, an edit, a new revision),
#   - posts changed since (a retraction),
#   - posts with an unfinished ledger row of the channel (pending, sending, failed, uncertain),
# all found through indexes. Without a mark, or when the channel's planning settings (type,
# options, languages) changed, everything is planned as before and the mark is set after. A mark
# moves only when every send planned for its channel already has its ledger row: a send left
# unrecorded (a paused channel, a digest not due, a dry run) is planned again next time.

MARK_MARGIN = timedelta(minutes=15)
"""A mark stays this far behind the run that sets it: a change committed late (a long review
transaction) or stamped by a machine whose clock is behind is still seen by the next run."""
UNFINISHED = ("pending", "sending", "failed", "uncertain")


def _options(ctx: RunContext, name: str) -> dict[str, Any]:
    return ctx.settings.channels[name].model_dump()


def _filter_fingerprint(ctx: RunContext, name: str) -> str:
    """What decides whether a channel takes an item (``outgoing.wants``): a filtered item is planned
    again when this changes."""
    options = _options(ctx, name)
    only = sorted({str(c).casefold() for c in options.get("only_categories") or ()})
    kinds = sorted(str(k) for k in options.get("kinds") or ())
    return hashlib.sha256(json.dumps([only, kinds]).encode()).hexdigest()[:32]


def _plan_fingerprint(ctx: RunContext, name: str) -> str:
    """The channel's settings that change what is planned (secrets are masked by the dump)."""
    options = ctx.settings.channels[name].model_dump(mode="json")
    data = [name, options, sorted(ctx.channel_languages(name))]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _since_marks(session: Session, fingerprints: dict[str, str]) -> list[int] | None:
    """The posts to plan for ``fingerprints``' channels, or ``None`` (plan everything) when one of
    them has no valid mark."""
    if not fingerprints:
        return None
    marks = {
        mark.channel: mark
        for mark in session.scalars(select(DeliveryMark).where(DeliveryMark.channel.in_(list(fingerprints))))
    }
    if any(name not in marks or marks[name].fingerprint != fp for name, fp in fingerprints.items()):
        return None
    since = min(mark.planned_through for mark in marks.values())
    changed = set(session.scalars(select(Translation.post_id).where(Translation.updated_at >= since)))
    changed |= set(session.scalars(select(Post.id).where(Post.updated_at >= since)))
    changed |= set(
        session.scalars(
            select(Delivery.post_id).where(
                Delivery.state.in_(UNFINISHED), Delivery.channel.in_(list(fingerprints))
            )
        )
    )
    return sorted(changed)


def _linkers_since_marks(session: Session, fingerprints: dict[str, str]) -> set[int]:
    """Posts whose copy on one of these channels went out before a copy they link to appeared (or
    was withdrawn) there since the channels' marks: their links may point somewhere new (a run that
    stopped before healing them). A linking copy sent after the target's is up to date already."""
    names = list(fingerprints)
    marks = list(session.scalars(select(DeliveryMark).where(DeliveryMark.channel.in_(names))))
    if not marks:
        return set()
    since = min(mark.planned_through for mark in marks)
    moved: dict[int, list[tuple[str, str, datetime | None]]] = {}
    for post_id, channel, lang, sent_at in session.execute(
        select(Delivery.post_id, Delivery.channel, Delivery.lang, Delivery.sent_at).where(
            Delivery.state == "sent",
            Delivery.action.in_(["publish", "retract"]),
            Delivery.sent_at >= since,
            Delivery.channel.in_(names),
        )
    ):
        moved.setdefault(post_id, []).append((channel, lang, sent_at))
    relink: set[int] = set()
    for target, where in moved.items():
        linking = sorted(link_map.linkers(session, [target]) - {target})
        if not linking:
            continue
        last_sent = {
            (post_id, channel, lang): when
            for post_id, channel, lang, when in session.execute(
                select(Delivery.post_id, Delivery.channel, Delivery.lang, func.max(Delivery.sent_at))
                .where(Delivery.post_id.in_(linking), Delivery.state == "sent", Delivery.channel.in_(names))
                .group_by(Delivery.post_id, Delivery.channel, Delivery.lang)
            )
        }
        for post_id in linking:
            for channel, lang, moved_at in where:
                sent = last_sent.get((post_id, channel, lang))
                if sent is not None and moved_at is not None and sent < moved_at:
                    relink.add(post_id)
    return relink


def _advance_marks(
    session: Session, fingerprints: dict[str, str], sends: list[PlannedSend], started: datetime
) -> None:
    keys: dict[str, list[str]] = {name: [] for name in fingerprints}
    for send in sends:
        keys.setdefault(send.planned.channel, []).append(send.planned.key)
    through = started - MARK_MARGIN
    for name, fingerprint in fingerprints.items():
        wanted = keys[name]
        recorded = 0
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            recorded += session.scalar(select(func.count(Delivery.id)).where(Delivery.key.in_(chunk))) or 0
        if recorded < len(wanted):
            continue
        _insert_mark(session, name, fingerprint, through)
        mark = session.get(DeliveryMark, name)
        if mark is not None and (mark.fingerprint != fingerprint or mark.planned_through < through):
            mark.fingerprint, mark.planned_through, mark.updated_at = fingerprint, through, utcnow()


def _insert_mark(session: Session, name: str, fingerprint: str, through: datetime) -> None:
    """The channel's first mark; two runs setting it at once must not fail each other."""
    values = {"channel": name, "fingerprint": fingerprint, "planned_through": through, "updated_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(DeliveryMark).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(DeliveryMark).values(**values).on_conflict_do_nothing())
    elif session.get(DeliveryMark, name) is None:  # pragma: no cover - other backends: best effort
        session.add(DeliveryMark(**values))
        session.flush()


def _posts(session: Session, post_ids: set[int]) -> dict[int, Post]:
    found: dict[int, Post] = {}
    ordered = sorted(post_ids)
    for start in range(0, len(ordered), 500):
        for post in session.scalars(select(Post).where(Post.id.in_(ordered[start : start + 500]))):
            found[post.id] = post
    return found


def _record_filtered(session: Session, post: Post, item: ApprovedTranslation, channel: str, fp: str) -> None:
    """A ledger row saying ``channel``'s filter keeps this content out (no side effect, ever): the
    next runs skip the item without building it again, until its content or the filter changes."""
    planned = ledger.Planned(
        post_id=post.id,
        translation_id=item.translation_id or None,
        # The filter is part of the key: a changed filter that keeps the item out again is a new row.
        post_key=f"{post.post_key}|filter:{fp}",
        revision=item.content_version or item.revision,
        lang=item.lang,
        channel=channel,
        target="",
        action="filtered",
    )
    row = ledger.ensure(session, planned)
    if row.state in ("pending", "filtered"):
        row.state, row.config_fingerprint, row.updated_at = "filtered", fp, utcnow()
        row.error = "not taken by the channel's filter (only_categories / kinds)"


def _up_to_date_index(
    session: Session, wanted: Sequence[Desired], filters: dict[str, str] | None = None
) -> set[tuple[int, str, str]]:
    """(post, language, channel) whose every target's newest ledger row is a send of the desired
    translation made after its last change: nothing to plan there, and no need to join the item
    to compare content versions — this keeps a run with nothing to do cheap however much is
    published. A ``filtered`` row counts the same way while the channel's filter (``filters``) is
    the one it was recorded under. Anything else (never sent, failed, an edit since, a new revision)
    is planned fully."""
    published = {d.translation_id for d in wanted if d.state == "published" and d.translation_id is not None}
    if not published:
        return set()
    changed_at = dict(
        session.execute(
            select(Translation.id, Translation.updated_at).where(Translation.id.in_(published))
        ).all()
    )
    newest: dict[tuple[int, str, str, str], Delivery] = {}
    post_ids = sorted({d.post_id for d in wanted})
    for start in range(0, len(post_ids), 500):
        for row in session.scalars(
            select(Delivery).where(Delivery.post_id.in_(post_ids[start : start + 500])).order_by(Delivery.id)
        ):
            newest[(row.post_id, row.lang, row.channel, row.target)] = row
    desired_for = {(d.post_id, d.lang): d.translation_id for d in wanted}
    verdict: dict[tuple[int, str, str], bool] = {}
    for (post_id, lang, channel, _target), row in newest.items():
        when = changed_at.get(row.translation_id or -1)
        same = row.translation_id == desired_for.get((post_id, lang)) and when is not None
        if row.state == "filtered":
            fresh = (
                same
                and when is not None
                and row.updated_at >= when
                and row.config_fingerprint == (filters or {}).get(channel)
            )
        else:
            fresh = (
                same
                and row.state == "sent"
                and row.action != "retract"
                and when is not None
                and row.sent_at is not None
                and row.sent_at >= when
            )
        key = (post_id, lang, channel)
        verdict[key] = verdict.get(key, True) and fresh
    return {key for key, ok in verdict.items() if ok}


def _planned(
    post: Post, item: ApprovedTranslation, channel: str, target: str, action: str, previous: Delivery | None
) -> PlannedSend:
    planned = ledger.Planned(
        post_id=post.id,
        translation_id=item.translation_id or None,
        post_key=post.post_key,
        revision=item.content_version or item.revision,
        lang=item.lang,
        channel=channel,
        target=target,
        action=action,
        after=previous.id if previous is not None else None,
    )
    item = replace(item, action=action, delivery_key=planned.key)  # type: ignore[arg-type]
    return PlannedSend(planned=planned, item=item, previous=previous)


def _to_withdraw(
    session: Session, post_id: int, lang: str, channel: str, *, unconfirmed: bool
) -> list[tuple[str, Delivery]]:
    """Per target, the ledger row whose copy a retraction withdraws: the last one sent, unless that
    was a retraction already. With ``unconfirmed`` (channels that can look a copy up: not e-mail),
    also a publish or update that started after it and never finished — a worker killed, or a
    timeout, after the far side made the copy; the channel finds that copy by its source GUID."""
    rows = list(
        session.scalars(
            select(Delivery)
            .where(Delivery.post_id == post_id, Delivery.lang == lang, Delivery.channel == channel)
            .order_by(Delivery.id)
        )
    )
    out: list[tuple[str, Delivery]] = []
    for target in sorted({row.target for row in rows}):
        previous = ledger.last_sent(session, post_id, lang, channel, target)
        if previous is not None and previous.action != "retract":
            out.append((target, previous))
            continue
        if not unconfirmed:
            continue
        after = previous.id if previous is not None else 0
        started = [
            row
            for row in rows
            if row.target == target
            and row.id > after
            and row.action != "retract"
            and row.state in ("sending", "failed", "uncertain")
        ]
        if started:
            out.append((target, started[-1]))
    return out


def _retract_item(post: Post, previous: Delivery, desired: Desired) -> ApprovedTranslation:
    return ApprovedTranslation(
        translation_id=desired.translation_id or 0,
        post_key=post.post_key,
        revision=previous.revision,
        lang=desired.lang,
        source_lang=post.source_lang,
        source_url=post.url,
        source_title=post.title or "",
        title=post.title or "",
        html="",
        excerpt="",
        action="retract",
    )


def _withdrawable(send: PlannedSend) -> Receipt:
    """The receipt a send follows; for a copy never confirmed (no receipt), what the channel needs
    to look it up: the source GUID (post + language, as every channel names its copies)."""
    assert send.previous is not None
    receipt = ledger.receipt_of(send.previous)
    if send.previous.state == "sent":
        return receipt
    guid = f"{send.planned.post_key}#{send.planned.lang}"
    meta = {"post_key": send.planned.post_key, "lang": send.planned.lang, "source_guid": guid, "guid": guid}
    return Receipt(channel=receipt.channel, key=receipt.key, meta={**meta, "unconfirmed": True})


def deliver_approved(
    ctx: RunContext,
    *,
    post_ids: Sequence[int] | None = None,
    channel: str | None = None,
    lang: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Payload]:
    """Send everything approved and not yet out (of ``post_ids``, to ``channel``, in ``lang`` when
    given); returns the payloads (rendered only, on dry run).

    Each item is tried at most once per run: a failure is recorded with a time for the next try
    (a partner's ``Retry-After`` included) instead of waiting inside the run, so ``sleep`` is never
    called (kept for callers). ``clock`` measures each channel's time budget.
    """
    summary = ctx.summary
    channels = ctx.channels()
    at_most_once = [name for name, ch in channels.items() if ch.at_most_once]
    for delivery_id in ledger.mark_uncertain(ctx.store, at_most_once, lease=claim_lease(ctx)):
        # Counted with the planned rows below (``_held``); the error says it once, now.
        summary.error("deliver", f"delivery {delivery_id} is uncertain: see `syndicate status`")
    if not ctx.dry_run:
        _requeue_fixed(ctx, [name for name in channels if channel in (None, name)])
    with ctx.store.session() as session:
        sends = plan(ctx, session, post_ids, channel, lang)
    batches, sends = _split_batched(channels, sends)
    _begin(channels)
    settings = ctx.settings.deliveries
    breakers = {
        name: Breaker(
            name,
            limit=settings.pause_after_failures,
            budget=settings.channel_time_budget_seconds,
            clock=clock,
        )
        for name in channels
    }
    withheld: list[PlannedSend] = []
    if not ctx.dry_run:
        sends, withheld = _withhold(sends)
    try:
        payloads = _deliver_each(ctx, channels, sends, breakers)
        payloads += _deliver_batches(ctx, channels, batches, breakers)
        if not ctx.dry_run:
            payloads += _heal_links(ctx, channels, sends, withheld, breakers, channel, lang)
    finally:
        _close(channels)
    for breaker in breakers.values():
        if breaker.reason is not None and breaker.left:
            summary.deliveries_deferred += breaker.left
            summary.delivery_notes.append(
                f"{breaker.name}: stopped sending for this run ({breaker.reason}); {breaker.left} more "
                "deliveries wait for the next run, which tries one first"
            )
    return payloads


# ------------------------------------------------------------------------- links to translations
#
# An item linking to another item sent in the same run would go out with the link to the original
# and need an update at once. So an item whose links name a post that has a send planned on the
# same channel and language waits (``_withhold``) until those are sent, then is planned afresh with
# their copies' addresses. Two items linking to each other cannot both wait: both go first, and each
# gets one update in ``_heal_links``, which also updates items sent in earlier runs that link to
# what this run delivered. A round plans only those posts and sends only what changed, so links
# settle in at most ``HEAL_ROUNDS`` rounds and nothing is sent twice without a change.

HEAL_ROUNDS = 3


def _withhold(sends: list[PlannedSend]) -> tuple[list[PlannedSend], list[PlannedSend]]:
    """``sends`` split into those to send now and those waiting for a copy they link to."""
    going = {
        (s.planned.channel, s.planned.lang, s.planned.post_id): s
        for s in sends
        if s.planned.action in ("publish", "update")
    }

    def linking(send: PlannedSend) -> list[PlannedSend]:
        if send.planned.action == "retract":
            return []
        where = (send.planned.channel, send.planned.lang)
        return [going[(*where, t)] for t in send.links_to if (*where, t) in going]

    waiting = {id(s) for s in sends if linking(s)}
    # An item waits only for items that do not wait themselves (a cycle goes out at once).
    held = {id(s) for s in sends if any(id(t) not in waiting for t in linking(s))}
    return [s for s in sends if id(s) not in held], [s for s in sends if id(s) in held]


def _heal_links(
    ctx: RunContext,
    channels: dict[str, Channel],
    done: list[PlannedSend],
    withheld: list[PlannedSend],
    breakers: dict[str, Breaker],
    channel: str | None,
    lang: str | None,
) -> list[Payload]:
    """Send what waited for its links, and update items whose links can point to a copy made in
    this run (WordPress, outbox, feed …; never e-mail, which cannot be edited)."""
    payloads: list[Payload] = []
    waiting = {s.planned.post_id for s in withheld}
    delivered = _moved(ctx, done)
    for _ in range(HEAL_ROUNDS):
        with ctx.store.session() as session:
            linking = link_map.linkers(session, delivered) if delivered else set()
            ids = linking | waiting
            if not ids:
                break
            again = plan(ctx, session, sorted(ids), channel, lang, relink=ids)
        again = [
            s
            for s in again
            if not channels[s.planned.channel].at_most_once
            and not getattr(channels[s.planned.channel], "batches", False)
            and (
                s.planned.action == "update"
                or (s.planned.action == "publish" and s.planned.post_id in waiting)
            )
        ]
        if not again:
            break
        payloads += _deliver_each(ctx, channels, again, breakers)
        delivered, waiting = _moved(ctx, again), set()
    return payloads


def _moved(ctx: RunContext, sends: list[PlannedSend]) -> set[int]:
    """Posts whose copy appeared, went away or changed its address in ``sends``: only links to
    those can point somewhere new (an edit that keeps the address changes nobody's links)."""
    moved: set[int] = set()
    with ctx.store.session() as session:
        for send in sends:
            if send.planned.action in ("publish", "retract"):
                moved.add(send.planned.post_id)
                continue
            row = ledger.find(session, send.planned.key)
            before = send.previous.remote_url if send.previous is not None else None
            if row is not None and row.state == "sent" and row.remote_url != before:
                moved.add(send.planned.post_id)
    return moved


def _requeue_fixed(ctx: RunContext, names: list[str]) -> None:
    """Terminal failures wait for a fix; a channel whose configuration (secrets included) changed
    since gets them back for one more try (``ledger.requeue_after_config_change``)."""
    for name in names:
        requeued = ledger.requeue_after_config_change(ctx.store, name, partial(ctx.channel_fingerprint, name))
        if requeued:
            log.info(
                "%d delivery(ies) that failed terminally are tried again: the configuration of %s changed",
                len(requeued),
                name,
                extra={"channel": name},
            )


@dataclass
class Breaker:
    """One channel's circuit breaker for one run. It opens (pauses the channel) on a failure of the
    channel as a whole (unreachable, credentials refused, a message handed over and its answer lost),
    after ``limit`` failures in a row, or when the channel's time ``budget`` is used up. Nothing more
    is sent to a paused channel — no login attempt or connect timeout per item — and what is left
    stays unclaimed (or not yet in the ledger) for the next run, so nothing is lost. A pause lasts
    the run only: the next run starts closed, and its first send is the probe (a channel that still
    fails the same way is paused again after that one)."""

    name: str
    limit: int
    budget: float
    clock: Callable[[], float]
    started: float | None = None
    failures: int = 0
    reason: str | None = None
    left: int = 0

    def allows(self, count: int = 1) -> bool:
        """May the next send go out? If not, ``count`` more deliveries wait for the next run."""
        if self.reason is None:
            now = self.clock()
            if self.started is None:
                self.started = now
            elif now - self.started >= self.budget:
                self.reason = f"its time budget of {human_duration(self.budget)} for one run is used up"
        if self.reason is not None:
            self.left += count
            return False
        return True

    def record(self, error: BaseException | None) -> None:
        if error is None:
            self.failures = 0
            return
        self.failures += 1
        why = error.message if isinstance(error, SyndicationError) else str(error)
        if isinstance(error, UncertainDeliveryError):
            self.reason = f"a message was handed over and the answer lost: {why}"
        elif isinstance(error, DeliveryError) and error.whole_channel:
            self.reason = why
        elif self.failures >= self.limit:
            self.reason = f"{self.failures} failures in a row, the last: {why}"


def _held(row: Delivery, *, at_most_once: bool, lease: timedelta) -> str | None:
    """Why an existing ledger row is not sent in this run (the summary counter it goes to), or
    ``None`` when it may be claimed."""
    now = utcnow()
    if row.state == "sent":
        return "deliveries_skipped"
    if row.state == "uncertain":
        return "deliveries_uncertain"
    if row.state == "failed":
        if row.error_kind != "transient":
            return "deliveries_waiting_fix"
        if row.next_attempt_at is not None and row.next_attempt_at > now:
            return "deliveries_waiting_retry"
        return None
    if row.state == "sending" and (
        at_most_once or (row.claimed_at is not None and row.claimed_at >= now - lease)
    ):
        return "deliveries_skipped"  # another worker is sending it
    return None


def _count(summary: RunSummary, counter: str, n: int = 1) -> None:
    setattr(summary, counter, getattr(summary, counter) + n)


def _count_failure(summary: RunSummary, exc: BaseException, n: int = 1) -> None:
    if isinstance(exc, UncertainDeliveryError):
        summary.deliveries_uncertain += n
        return
    summary.deliveries_failed += n
    if not (exc.transient if isinstance(exc, SyndicationError) else True):
        summary.deliveries_failed_terminal += n


def _count_done(summary: RunSummary, action: str, payload: Payload, n: int = 1) -> None:
    if payload.meta.get("skip"):
        summary.deliveries_not_mailed += n  # an e-mail edit or retraction: nothing leaves
    elif action == "publish":
        summary.deliveries_sent += n
    else:
        summary.deliveries_updated += n


def _deliver_each(
    ctx: RunContext,
    channels: dict[str, Channel],
    sends: list[PlannedSend],
    breakers: dict[str, Breaker],
) -> list[Payload]:
    """One payload per (post, language, channel, target), each through the ledger."""
    summary = ctx.summary
    payloads: list[Payload] = []
    lease = claim_lease(ctx)
    for send in sends:
        name = send.planned.channel
        chan = channels[name]
        with ctx.store.session() as session:
            existing = ledger.find(session, send.planned.key)
            held = _held(existing, at_most_once=chan.at_most_once, lease=lease) if existing else None
        if held is not None:
            _count(summary, held)
            continue
        if not ctx.dry_run and not breakers[name].allows():
            continue
        where = {"post": send.planned.post_key, "lang": send.planned.lang, "channel": name}
        try:
            payload = chan.render(send.item, target=send.planned.target)
        except SyndicationError as exc:
            _count_failure(summary, exc)
            summary.error("deliver", exc, **where)
            continue
        payloads.append(payload)
        if ctx.dry_run:
            _preview(chan, payload)
            summary.deliveries_planned += 1
            continue
        with ctx.store.session() as session:
            row = ledger.ensure(session, send.planned)
            delivery_id, state = row.id, row.state
        if state == "sent" or not ledger.claim(
            ctx.store, delivery_id, at_most_once=chan.at_most_once, lease=lease
        ):
            summary.deliveries_skipped += 1
            log.info("%s skipped: claimed by another worker", send.planned.action, extra=where)
            continue
        breakers[name].record(_send_once(ctx, chan, send, payload, delivery_id))
    return payloads


def _send_once(
    ctx: RunContext, chan: Channel, send: PlannedSend, payload: Payload, delivery_id: int
) -> BaseException | None:
    """Send (or withdraw) one item, once; the error, if any, recorded in the ledger and the summary
    (a transient one with the time of the next try: the partner's ``Retry-After``, or backoff)."""
    summary = ctx.summary
    where = {"post": send.planned.post_key, "lang": send.planned.lang, "channel": send.planned.channel}
    previous = _withdrawable(send) if send.previous is not None else None
    try:
        if send.planned.action == "retract":
            assert previous is not None
            chan.retract(previous)
            receipt = previous
        else:
            receipt = chan.send(payload, key=send.planned.key, previous=previous)
    except Exception as exc:  # every failure is recorded in the ledger, whatever raised it
        ledger.fail(
            ctx.store,
            delivery_id,
            exc,
            retry_after=exc.retry_after if isinstance(exc, TransientDeliveryError) else None,
            fingerprint=partial(ctx.channel_fingerprint, where["channel"]),
        )
        _count_failure(summary, exc)
        summary.error("deliver", exc, **where)
        return exc
    ledger.complete(ctx.store, delivery_id, receipt)
    _count_done(summary, send.planned.action, payload)
    # Media (issue 14): images left at their original address are worth knowing, not a failure.
    summary.delivery_notes += [
        f"{where['channel']} {where['post']} ({where['lang']}): {note}"
        for note in receipt.meta.get("media_notes") or ()
    ]
    log.info(
        "%s sent%s",
        send.planned.action,
        f" to {receipt.remote_url}" if receipt.remote_url else "",
        extra=where,
    )
    return None


# ------------------------------------------------------------------------------------- batches
#
# A channel that sets ``batches = True`` (the newsletter in digest mode) gets every *new* item for
# one (language, target) in one ``render_batch(items, target=)`` call and one ``send``: one e-mail
# per subscriber with everything approved since their last issue. Each item keeps its own ledger
# row, all claimed before the send and completed (or failed) together after it, so at-most-once and
# exactly-once hold per (item, target) just as on the per-item path. ``batch_due(lang, target)``
# says whether the schedule allows an issue now; items not due are left unplanned for a later run.
# Updates and retractions still go through the per-item path.

BatchKey = tuple[str, str, str]


def _split_batched(
    channels: dict[str, Channel], sends: list[PlannedSend]
) -> tuple[dict[BatchKey, list[PlannedSend]], list[PlannedSend]]:
    batches: dict[BatchKey, list[PlannedSend]] = {}
    single: list[PlannedSend] = []
    for send in sends:
        chan = channels[send.planned.channel]
        if getattr(chan, "batches", False) and send.planned.action == "publish":
            key = (send.planned.channel, send.planned.lang, send.planned.target)
            batches.setdefault(key, []).append(send)
        else:
            single.append(send)
    return batches, single


def _deliver_batches(
    ctx: RunContext,
    channels: dict[str, Channel],
    batches: dict[BatchKey, list[PlannedSend]],
    breakers: dict[str, Breaker],
) -> list[Payload]:
    summary = ctx.summary
    payloads: list[Payload] = []
    lease = claim_lease(ctx)
    for (name, lang, target), everything in batches.items():
        chan = channels[name]
        group: list[PlannedSend] = []
        with ctx.store.session() as session:
            for send in everything:
                existing = ledger.find(session, send.planned.key)
                held = _held(existing, at_most_once=chan.at_most_once, lease=lease) if existing else None
                if held is not None:
                    _count(summary, held)
                else:
                    group.append(send)
        if not group:
            continue
        where = {"lang": lang, "channel": name}
        due = getattr(chan, "batch_due", None)
        if callable(due) and not due(lang, target):
            continue
        render_batch: Callable[..., Payload] = getattr(chan, "render_batch")  # noqa: B009
        if ctx.dry_run:
            try:
                payload = render_batch([send.item for send in group], target=target)
            except SyndicationError as exc:
                _count_failure(summary, exc, len(group))
                summary.error("deliver", exc, **where)
                continue
            payloads.append(payload)
            _preview(chan, payload)
            summary.deliveries_planned += len(group)
            continue
        if not breakers[name].allows(len(group)):
            continue
        claimed: list[tuple[PlannedSend, int]] = []
        for send in group:
            with ctx.store.session() as session:
                row = ledger.ensure(session, send.planned)
                delivery_id, state = row.id, row.state
            if state == "sent" or not ledger.claim(
                ctx.store, delivery_id, at_most_once=chan.at_most_once, lease=lease
            ):
                summary.deliveries_skipped += 1
                continue
            claimed.append((send, delivery_id))
        if not claimed:
            continue
        ids = [delivery_id for _, delivery_id in claimed]
        try:
            payload = render_batch([send.item for send, _ in claimed], target=target)
        except SyndicationError as exc:
            for delivery_id in ids:
                ledger.fail(ctx.store, delivery_id, exc, fingerprint=partial(ctx.channel_fingerprint, name))
            _count_failure(summary, exc, len(ids))
            summary.error("deliver", exc, **where)
            continue
        payloads.append(payload)
        keys = sorted(send.planned.key for send, _ in claimed)
        batch_key = "batch:" + hashlib.sha256("\n".join(keys).encode()).hexdigest()
        breakers[name].record(_send_batch_once(ctx, chan, payload, batch_key, ids, where))
    return payloads


def _send_batch_once(
    ctx: RunContext,
    chan: Channel,
    payload: Payload,
    key: str,
    ids: list[int],
    where: dict[str, str],
) -> BaseException | None:
    summary = ctx.summary
    try:
        receipt = chan.send(payload, key=key, previous=None)
    except Exception as exc:  # every failure is recorded in the ledger, whatever raised it
        for delivery_id in ids:
            ledger.fail(
                ctx.store,
                delivery_id,
                exc,
                retry_after=exc.retry_after if isinstance(exc, TransientDeliveryError) else None,
                fingerprint=partial(ctx.channel_fingerprint, where["channel"]),
            )
        _count_failure(summary, exc, len(ids))
        summary.error("deliver", exc, **where)
        return exc
    for delivery_id in ids:
        ledger.complete(ctx.store, delivery_id, receipt)
    _count_done(summary, "publish", payload, len(ids))
    return None


def _preview(chan: Channel, payload: Payload) -> None:
    """Dry run: a channel that can show its payload as a file (the newsletter's ``.eml``) does so."""
    write = getattr(chan, "write_preview", None)
    if callable(write):
        write(payload)


def _begin(channels: dict[str, Channel]) -> None:
    """Tell channels a run of sends starts (the outbox then merges its index once, at ``close``)."""
    for chan in channels.values():
        begin = getattr(chan, "begin_run", None)
        if callable(begin):
            begin()


def _close(channels: dict[str, Channel]) -> None:
    """Release what channels hold for the run (the newsletter's SMTP connection)."""
    for chan in channels.values():
        close = getattr(chan, "close", None)
        if callable(close):
            close()


def redeliver(
    ctx: RunContext,
    post_id: int,
    lang: str,
    channel: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Payload]:
    """Send one post's current approved translation in ``lang`` to ``channel`` again, even though
    the ledger says it went out (a partner lost it, a file was deleted). The newest ledger row for
    that content goes back to pending (``ledger.requeue_current``) and the usual claim → send →
    complete path sends it, so two workers redelivering at once still send it once. On a dry run
    nothing is requeued: the payload is rendered and previewed only.
    """
    from syndication.errors import ConfigError, DeliveryError

    if channel not in ctx.settings.channels:
        known = ", ".join(sorted(ctx.settings.channels)) or "none"
        raise ConfigError(f"no channel named {channel!r} (configured: {known})", channel=channel)
    channels = ctx.channels()
    if channel not in channels:
        raise ConfigError(f"channel {channel!r} is disabled", channel=channel)
    if lang not in ctx.channel_languages(channel):
        raise ConfigError(f"channel {channel!r} does not receive {lang!r}", channel=channel, lang=lang)
    with ctx.store.session() as session:
        post = session.get(Post, post_id)
        desired = [d for d in desired_states(session, [post_id]) if d.lang == lang]
        if (
            post is None
            or not desired
            or desired[0].state != "published"
            or desired[0].translation_id is None
        ):
            raise DeliveryError(
                "nothing approved to redeliver: approve the translation first (`syndicate review approve`)",
                post=post.post_key if post else str(post_id),
                lang=lang,
                channel=channel,
            )
        item = approved_item(session, desired[0].translation_id)
        # The ledger holds the version with the channel's localized links: requeue that one.
        item = link_map.Localizer(session).localize(item, post_id, channel, channels[channel]).item
        if ctx.dry_run:
            chan = channels[channel]
            payloads = []
            for target in chan.targets(item):
                payload = chan.render(item, target=target)
                _preview(chan, payload)
                ctx.summary.deliveries_planned += 1
                payloads.append(payload)
            return payloads
        requeued = ledger.requeue_current(
            session, post_id=post_id, lang=lang, channel=channel, revision=item.content_version
        )
    log.info(
        "redeliver: %d ledger row(s) back to pending",
        len(requeued),
        extra={"post": item.post_key, "lang": lang, "channel": channel},
    )
    return deliver_approved(ctx, post_ids=[post_id], channel=channel, lang=lang, sleep=sleep)
