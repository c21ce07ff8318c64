"""Write side of review: approve, reject, edit. Review is a database status, never a paused flow.

Every action is recorded as a ``ReviewEvent`` (who, when, before/after). Edits become human
translation-memory entries that win over machine output here and wherever the same segment appears
later. Concurrency: each translated segment carries a ``version``; an edit names the version it was
made against, and a mismatch is an ``EditConflictError`` rather than a silently lost edit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from syndication.errors import EditConflictError, PlaceholderError, ReviewError, StaleRevisionError
from syndication.models import Segment
from syndication.store import (
    Post,
    ReviewEvent,
    Revision,
    SegmentRow,
    TranslatedSegment,
    Translation,
    utcnow,
)
from syndication.translations.qa import extraction_flags

if TYPE_CHECKING:
    from syndication.translations.glossary import Glossary

DECIDABLE = {"machine_translated", "approved", "rejected"}

log = logging.getLogger(__name__)


def _translation(session: Session, translation_id: int) -> tuple[Translation, Post, Revision]:
    translation = session.get(Translation, translation_id)
    if translation is None:
        raise ReviewError(f"no translation with id {translation_id}")
    post = session.get(Post, translation.post_id)
    revision = session.get(Revision, translation.revision_id)
    assert post is not None and revision is not None
    return translation, post, revision


def _bump_version(
    session: Session, translation: Translation, post: Post, expected: int | None = None
) -> None:
    """Raise the item's version in the database (``version = version + 1``), not in Python: two
    editors saving at the same moment on PostgreSQL then both count. With ``expected`` (the version
    the reviewer's page showed), a decision lands only if nothing changed the item since."""
    stmt = update(Translation).where(Translation.id == translation.id)
    if expected is not None:
        stmt = stmt.where(Translation.version == expected)
    result = session.execute(
        stmt.values(version=Translation.version + 1).execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise StaleRevisionError(
            f"this translation changed since you opened it (last by {last_actor(session, translation.id)}); "
            "look at it again before deciding",
            post=post.post_key,
            lang=translation.lang,
        )
    session.expire(translation, ["version"])


def last_actor(session: Session, translation_id: int) -> str:
    """Who last edited or decided the item, for "changed since you opened it" messages."""
    actor = session.scalar(
        select(ReviewEvent.actor)
        .where(ReviewEvent.translation_id == translation_id)
        .order_by(ReviewEvent.id.desc())
        .limit(1)
    )
    return actor or "another editor"


def _check_current(translation: Translation, post: Post, revision: Revision, expected: str | None) -> None:
    if post.current_revision_id != translation.revision_id or (
        expected and expected != revision.content_hash
    ):
        raise StaleRevisionError(
            "the Danish post changed since this translation was made; review the newer revision instead",
            post=post.post_key,
            lang=translation.lang,
        )


def source_incomplete(session: Session, translation_id: int) -> bool:
    """Whether the item's source revision was not read whole (QA ``extraction_incomplete``)."""
    extraction = session.scalar(
        select(Revision.extraction)
        .join(Translation, Translation.revision_id == Revision.id)
        .where(Translation.id == translation_id)
    )
    return bool(extraction_flags(extraction))


def flagged_open_segments(session: Session, translation_id: int) -> int:
    """Segments not yet approved that carry QA flags. A segment the editor marked done still counts:
    saving or confirming it is not a decision to publish a flagged text."""
    rows = session.scalars(
        select(TranslatedSegment).where(
            TranslatedSegment.translation_id == translation_id,
            TranslatedSegment.state.in_(("open", "done")),
        )
    )
    return sum(1 for row in rows if row.flags)


def approve(
    session: Session,
    translation_id: int,
    *,
    actor: str,
    comment: str | None = None,
    revision: str | None = None,
    confirm_flags: bool = False,
    expected_version: int | None = None,
) -> Translation:
    """Approve one (post revision, language). ``revision`` is the source hash the reviewer saw: a
    different current revision makes the approval stale, and so does another version of the item
    than ``expected_version``. Flagged segments need ``confirm_flags``."""
    translation, post, rev = _translation(session, translation_id)
    if translation.status == "approved" and post.current_revision_id == translation.revision_id:
        # Approving twice (a second tab, a double submit) changes nothing and records nothing.
        return translation
    if translation.status not in DECIDABLE:
        raise ReviewError(
            f"cannot approve a translation in state {translation.status!r}",
            post=post.post_key,
            lang=translation.lang,
        )
    _check_current(translation, post, rev, revision)
    flagged = flagged_open_segments(session, translation_id)
    if flagged and not confirm_flags:
        raise ReviewError(
            f"{flagged} segment(s) still have QA flags; look at them, or confirm to approve anyway",
            post=post.post_key,
            lang=translation.lang,
        )
    if extraction_flags(rev.extraction) and not confirm_flags:
        raise ReviewError(
            "the source was not read whole (QA flag extraction_incomplete); compare with the "
            "original, or confirm to approve anyway",
            post=post.post_key,
            lang=translation.lang,
        )
    _bump_version(session, translation, post, expected_version)
    now = utcnow()
    translation.status = "approved"
    translation.decided_by, translation.decided_at, translation.comment = actor, now, comment
    session.execute(
        update(TranslatedSegment)
        .where(TranslatedSegment.translation_id == translation_id)
        .values(state="approved")
        .execution_options(synchronize_session=False)
    )
    session.add(
        ReviewEvent(translation_id=translation_id, action="approve", actor=actor, comment=comment, at=now)
    )
    return translation


def reject(
    session: Session,
    translation_id: int,
    *,
    actor: str,
    comment: str | None = None,
    revision: str | None = None,
    expected_version: int | None = None,
) -> Translation:
    """Reject; if an earlier version went out, the next publish withdraws it everywhere."""
    translation, post, rev = _translation(session, translation_id)
    if translation.status not in DECIDABLE:
        raise ReviewError(
            f"cannot reject a translation in state {translation.status!r}",
            post=post.post_key,
            lang=translation.lang,
        )
    _check_current(translation, post, rev, revision)
    _bump_version(session, translation, post, expected_version)
    now = utcnow()
    translation.status = "rejected"
    translation.decided_by, translation.decided_at, translation.comment = actor, now, comment
    session.add(
        ReviewEvent(translation_id=translation_id, action="reject", actor=actor, comment=comment, at=now)
    )
    return translation


def check_placeholders(segment: Segment, text: str) -> None:
    """An edit must keep every placeholder of the source exactly once (links, emphasis, images)."""
    from syndication.segments import placeholder_problems

    problems = [
        p for p in placeholder_problems(segment, text) if p.code in ("placeholder_mismatch", "link_mismatch")
    ]
    if problems:
        raise PlaceholderError("; ".join(p.message for p in problems))


def edit_segment(
    session: Session,
    translation_id: int,
    key: str,
    text: str,
    *,
    actor: str,
    expected_version: int | None = None,
    glossary: Glossary | None = None,
) -> TranslatedSegment:
    """Replace one translated segment with an editor's text (checked against ``glossary`` too)."""
    from syndication.review.corrections import learn
    from syndication.translations.qa import check
    from syndication.translations.stage import flags_json, record_human_translation

    translation, post, _ = _translation(session, translation_id)
    if translation.status == "superseded":
        raise StaleRevisionError(
            "this translation was replaced by a newer revision", post=post.post_key, lang=translation.lang
        )
    row = session.scalars(
        select(TranslatedSegment).where(
            TranslatedSegment.translation_id == translation_id, TranslatedSegment.key == key
        )
    ).one_or_none()
    if row is None:
        raise ReviewError(
            f"no segment {key!r} in this translation", post=post.post_key, lang=translation.lang
        )
    source = session.get(SegmentRow, row.segment_id)
    assert source is not None
    segment = source.as_segment()
    text = text.strip()
    if not text:
        raise ReviewError("a translation cannot be empty", post=post.post_key, lang=translation.lang)
    check_placeholders(segment, text)
    before, version = row.target, row.version

    def learn_from_it() -> None:
        try:
            learn(
                session,
                row,
                source.source,
                engine=translation.engine,
                source_lang=post.source_lang,
                lang=translation.lang,
                actor=actor,
            )
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            # Learning is help beside the save, never a reason to refuse the editor's text: a
            # fault in it is logged with the segment and the save goes through.
            log.error(
                "learned corrections: could not learn from segment %s of %s (%s): %s",
                key,
                post.post_key,
                translation.lang,
                exc,
                exc_info=True,
            )

    if text == before and (expected_version is None or expected_version == version):
        # Confirmed as it stands (Ctrl+Enter on an unchanged segment): done, no edit to record;
        # corrections applied before review are kept, which counts for them.
        if row.state == "open":
            row.state = "done"
            learn_from_it()
            session.flush()
        return row
    if expected_version is not None:
        # One conditional UPDATE: of two editors saving against the same version, exactly one wins.
        result = session.execute(
            update(TranslatedSegment)
            .where(TranslatedSegment.id == row.id, TranslatedSegment.version == expected_version)
            .values(
                target=text,
                version=expected_version + 1,
                origin="human",
                updated_by=actor,
                updated_at=utcnow(),
                # Saved by the editor: done (an approved segment stays approved).
                state=case((TranslatedSegment.state == "open", "done"), else_=TranslatedSegment.state),
            )
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            session.refresh(row)
            raise EditConflictError(
                f"{row.updated_by or 'another editor'} changed this segment after you opened it; "
                "their text is shown above yours, which is kept: save again to replace theirs",
                post=post.post_key,
                lang=translation.lang,
            )
        session.refresh(row)
    else:
        row.target, row.version, row.origin, row.updated_by = text, version + 1, "human", actor
        if row.state == "open":
            row.state = "done"
    entry = record_human_translation(
        session,
        source=source.source,
        target=text,
        source_lang=post.source_lang,
        lang=translation.lang,
        actor=actor,
    )
    row.tm_id = entry.id
    learn_from_it()
    # The editor's text is checked again on its own (engine marks no longer apply to it).
    row.flags = flags_json(
        check(
            source.source, text, source_lang=post.source_lang, target_lang=translation.lang, glossary=glossary
        )
    )
    _bump_version(session, translation, post)
    session.add(
        ReviewEvent(
            translation_id=translation_id,
            segment_key=key,
            action="edit",
            actor=actor,
            before=before,
            after=text,
        )
    )
    session.flush()
    return row


def retract_post(session: Session, post: Post, *, actor: str, comment: str | None = None) -> None:
    """Withdraw every translation of a post from every channel on the next publish."""
    post.status = "retracted"
    for translation in session.scalars(select(Translation).where(Translation.post_id == post.id)):
        session.add(
            ReviewEvent(translation_id=translation.id, action="retract", actor=actor, comment=comment)
        )
