"""The translate stage: translation memory first, then one batched engine call per language for
everything still missing, then the review items.

Per language, all pending segments of all posts in the run go to the engine together (deduplicated),
so Apertium starts one process and Argos makes a few large ``translate_batch`` calls per run. A
segment whose normalized text is already in memory for (engine, model version, pair) never reaches
the engine again; an editor's version (a human entry) always wins over machine output.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from syndication.errors import ConfigError, SyndicationError, TranslationError
from syndication.models import QAFlag, Segment
from syndication.review.corrections import auto_apply, confirmed_for
from syndication.store import (
    LearnedCorrection,
    Post,
    ReviewEvent,
    Revision,
    SegmentRow,
    TMEntry,
    TranslatedSegment,
    TranslateMark,
    Translation,
    utcnow,
)
from syndication.translations.memory import normalize, source_hash
from syndication.translations.qa import extraction_flags

if TYPE_CHECKING:
    from syndication.context import RunContext
    from syndication.translations.engine import TranslationEngine

HUMAN = "human"
log = logging.getLogger(__name__)
ENGINE_CHUNK = 2000
"""Texts per engine call: bounds memory on a big backfill while keeping calls few."""


@dataclass
class MachineResult:
    target: str
    flags: list[dict[str, str]] = field(default_factory=list)
    tm_id: int | None = None
    confidence: float | None = None


def flags_json(flags: Iterable[QAFlag]) -> list[dict[str, str]]:
    seen: set[tuple[str, str]] = set()
    out: list[dict[str, str]] = []
    for flag in flags:
        if (flag.code, flag.message) not in seen:
            seen.add((flag.code, flag.message))
            out.append({"code": flag.code, "message": flag.message})
    return out


REDO = (None, "pending", "failed")
"""Translation states the translate stage (re)does; ``force`` adds ``machine_translated``."""
DECIDED = ("approved", "rejected")


def pending_work(
    session: Session, targets: Sequence[str], post_ids: Sequence[int] | None, *, force: bool = False
) -> dict[str, list[int]]:
    """Language → revision ids whose translation is missing or must be redone (with ``force``, also
    the ones waiting for review; an editor's decision is never undone by a re-translation)."""
    redo: tuple[str | None, ...] = (*REDO, "machine_translated") if force else REDO
    if post_ids is not None and not post_ids:
        return {}
    query = select(Post.current_revision_id).where(
        Post.current_revision_id.is_not(None), Post.status == "extracted"
    )
    if post_ids is not None:
        query = query.where(Post.id.in_(post_ids))
    revisions = [r for r in session.scalars(query) if r is not None]
    existing = {
        (t.revision_id, t.lang): t.status
        for t in session.scalars(select(Translation).where(Translation.revision_id.in_(revisions)))
    }
    work: dict[str, list[int]] = {lang: [] for lang in targets}
    for revision_id in revisions:
        for lang in targets:
            if existing.get((revision_id, lang)) in redo:
                work[lang].append(revision_id)
    return {lang: ids for lang, ids in work.items() if ids}


def target_languages(ctx: RunContext, languages: Sequence[str] | None) -> list[str]:
    """The configured target languages, or those of ``languages`` (each must be configured)."""
    targets = list(ctx.settings.translation.targets)
    if languages is None:
        return targets
    unknown = [lang for lang in languages if lang not in targets]
    if unknown:
        raise ConfigError(
            f"language(s) {', '.join(unknown)} not among the configured targets "
            f"({', '.join(targets) or 'none'}); add them to [translation] targets first"
        )
    return [lang for lang in targets if lang in languages]


def translate_pending(
    ctx: RunContext,
    *,
    post_ids: Sequence[int] | None = None,
    languages: Sequence[str] | None = None,
    force: bool = False,
) -> None:
    """Translate what is missing, for every target language or those of ``languages``.

    ``force=True`` (meant with ``post_ids``) re-translates the posts' current revisions with fresh
    engine output even where machine memory has them (a changed glossary or engine setting takes
    effect); editors' memory entries still win, and decided items (approved, rejected) stay as the
    editor left them.
    """
    settings = ctx.settings
    source_lang = settings.translation.source_lang
    targets = target_languages(ctx, languages)
    started = utcnow()
    use_marks = post_ids is None and not force
    with ctx.store.session() as session:
        candidates = _since_marks(session, targets) if use_marks else post_ids
        work = pending_work(session, targets, candidates, force=force)
    for lang, revision_ids in work.items():
        try:
            engine = ctx.engine(lang)
            # Engines raise EngineUnavailableError for a missing pair, saying what to install.
            version = engine.version(source_lang, lang)
        except SyndicationError as exc:
            _fail_all(ctx, revision_ids, lang, exc)
            continue
        try:
            translate_language(ctx, engine, version, lang, revision_ids, refresh=force)
        except SyndicationError as exc:  # engine failure or a bad glossary: this language waits
            _fail_all(ctx, revision_ids, lang, exc)
    if use_marks and targets:
        # Reached only when every language's work is stored (translated, or ``failed`` for the
        # next run to find by its state): anything else raised before this line.
        with ctx.store.session() as session:
            _advance_marks(session, targets, started - MARK_MARGIN)


# --------------------------------------------------------------------------- looking only at news
#
# A language's mark says: every post changed before ``planned_through`` has a translation of its
# current revision in this language (or one ``pending``/``failed``, which is found by its state).
# A full run then looks only at posts changed since (a new or re-extracted revision bumps
# ``posts.updated_at``) plus translations waiting to be redone, both through indexes, instead of
# every extracted post of the history. A language without a mark (new in the config) is looked
# for everywhere once; a run for some posts only (``post_ids``) or with ``force`` neither uses nor
# moves the marks.

MARK_MARGIN = timedelta(minutes=15)
"""A mark stays this far behind the run that sets it: a revision committed late, or stamped by a
machine whose clock is behind, is still seen by the next run."""
MAX_CANDIDATES = 5000


def _since_marks(session: Session, targets: Sequence[str]) -> list[int] | None:
    """The posts that may have work in ``targets``, or ``None`` (look at all) when a language has
    no mark yet."""
    if not targets:
        return None
    marks = {
        mark.lang: mark.planned_through
        for mark in session.scalars(select(TranslateMark).where(TranslateMark.lang.in_(list(targets))))
    }
    if any(lang not in marks for lang in targets):
        return None
    since = min(marks.values())
    changed = set(session.scalars(select(Post.id).where(Post.updated_at >= since)))
    changed |= set(
        session.scalars(
            select(Translation.post_id).where(
                Translation.status.in_([s for s in REDO if s is not None]),
                Translation.lang.in_(list(targets)),
            )
        )
    )
    # After a big change (a backfill) looking at everything is as cheap, and keeps the query's
    # list of ids within what every database takes.
    return sorted(changed) if len(changed) <= MAX_CANDIDATES else None


def _advance_marks(session: Session, targets: Sequence[str], through: datetime) -> None:
    dialect = session.get_bind().dialect.name
    for lang in targets:
        mark = session.get(TranslateMark, lang)
        if mark is None:
            values = {"lang": lang, "planned_through": through, "updated_at": utcnow()}
            # Two runs setting a language's first mark at once must not fail each other.
            if dialect == "postgresql":
                session.execute(pg_insert(TranslateMark).values(**values).on_conflict_do_nothing())
            elif dialect == "sqlite":
                session.execute(sqlite_insert(TranslateMark).values(**values).on_conflict_do_nothing())
            else:  # pragma: no cover - other backends: best effort
                session.add(TranslateMark(**values))
                session.flush()
            continue
        # A mark that lags by less than a margin more stays: an older mark only widens the next
        # look by a few recent posts, and a run that writes nothing commits without a disk flush.
        if mark.planned_through < through - MARK_MARGIN:
            mark.planned_through = through


def _fail_all(ctx: RunContext, revision_ids: Sequence[int], lang: str, exc: SyndicationError) -> None:
    with ctx.store.session() as session:
        for revision_id in revision_ids:
            translation = _translation_row(session, revision_id, lang)
            translation.status = "failed"
            translation.error = str(exc)
            post = session.get(Post, translation.post_id)
            ctx.summary.translations_failed += 1
            ctx.summary.error("translate", exc, post=post.post_key if post else None, lang=lang)


def _translation_row(session: Session, revision_id: int, lang: str) -> Translation:
    translation = session.scalars(
        select(Translation).where(Translation.revision_id == revision_id, Translation.lang == lang)
    ).one_or_none()
    if translation is None:
        revision = session.get(Revision, revision_id)
        assert revision is not None
        translation = Translation(revision_id=revision_id, post_id=revision.post_id, lang=lang)
        session.add(translation)
        session.flush()
    return translation


def _memory(
    session: Session, engine: str, version: str, source_lang: str, lang: str, hashes: Iterable[str]
) -> dict[str, TMEntry]:
    wanted = list(set(hashes))
    found: dict[str, TMEntry] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.scalars(
            select(TMEntry).where(
                TMEntry.engine == engine,
                TMEntry.model_version == version,
                TMEntry.source_lang == source_lang,
                TMEntry.target_lang == lang,
                TMEntry.source_hash.in_(chunk),
            )
        )
        found.update({row.source_hash: row for row in rows})
    return found


def run_engine(
    ctx: RunContext, engine: TranslationEngine, lang: str, segments: Sequence[Segment]
) -> list[MachineResult]:
    """Translate unique segments with glossary protection and QA; one engine call per chunk."""
    from syndication.translations.glossary import restore
    from syndication.translations.qa import check

    source_lang = ctx.settings.translation.source_lang
    threshold = ctx.settings.translation.confidence_threshold(lang)
    glossary = ctx.glossary()
    results: list[MachineResult] = []
    for start in range(0, len(segments), ENGINE_CHUNK):
        chunk = list(segments[start : start + ENGINE_CHUNK])
        protected: list[str] = []
        restore_info: list[Any] = []
        for text in (segment.source for segment in chunk):
            if glossary is not None:
                masked, info = glossary.protect(text, lang)
            else:
                masked, info = text, None
            protected.append(masked)
            restore_info.append(info)
        outputs = engine.translate(protected, source=source_lang, target=lang)
        ctx.summary.engine_calls += 1
        if len(outputs) != len(chunk):
            raise TranslationError(
                f"engine {engine.name!r} returned {len(outputs)} translations for {len(chunk)} texts",
                lang=lang,
            )
        for segment, output, info in zip(chunk, outputs, restore_info, strict=True):
            target = output.text
            if glossary is not None and info is not None:
                target = restore(target, info)
            flags = check(
                segment.source,
                target,
                source_lang=source_lang,
                target_lang=lang,
                engine_flags=output.flags,
                glossary=glossary,
                segment=segment,
                confidence=output.confidence,
                min_confidence=threshold,
            )
            confidence = None if output.confidence is None else min(1.0, max(0.0, output.confidence))
            results.append(MachineResult(target=target, flags=flags_json(flags), confidence=confidence))
    return results


def translate_language(
    ctx: RunContext,
    engine: TranslationEngine,
    version: str,
    lang: str,
    revision_ids: Sequence[int],
    *,
    refresh: bool = False,
) -> None:
    """One language's batch; ``refresh`` sends segments to the engine even when machine memory has
    them, and replaces those memory entries with the new output."""
    source_lang = ctx.settings.translation.source_lang
    summary = ctx.summary
    with ctx.store.session() as session:
        segments = list(
            session.scalars(
                select(SegmentRow)
                .where(SegmentRow.revision_id.in_(revision_ids))
                .order_by(SegmentRow.revision_id, SegmentRow.position)
            )
        )
        hashes = [s.source_hash for s in segments]
        human = _memory(session, HUMAN, "", source_lang, lang, hashes)
        machine = _memory(session, engine.name, version, source_lang, lang, hashes)
        replaced: dict[str, int] = {}
        if refresh:
            replaced = {digest: entry.id for digest, entry in machine.items()}
            machine = {}
        missing: dict[str, Segment] = {}
        for row in segments:
            if row.source_hash not in human and row.source_hash not in machine:
                missing.setdefault(row.source_hash, row.as_segment())
    # The engine runs outside any transaction: a long batch never holds a database lock.
    fresh: dict[str, MachineResult] = {}
    if missing:
        results = run_engine(ctx, engine, lang, list(missing.values()))
        fresh = dict(zip(missing, results, strict=True))
        summary.segments_translated += len(fresh)
    log.info(
        "%d revision(s): %d unique segment(s) sent to %s, %d segment(s) from memory",
        len(revision_ids),
        len(fresh),
        engine.name,
        len(segments) - sum(1 for s in segments if s.source_hash in missing),
        extra={"lang": lang},
    )
    with ctx.store.session() as session:
        for digest, result in fresh.items():
            old = session.get(TMEntry, replaced[digest]) if digest in replaced else None
            if old is not None:  # forced re-translation: the memory entry is replaced in place
                old.target, old.flags, old.confidence = result.target, result.flags, result.confidence
                result.tm_id = old.id
        entries = {
            digest: TMEntry(
                engine=engine.name,
                model_version=version,
                source_lang=source_lang,
                target_lang=lang,
                source_hash=digest,
                source=missing[digest].source,
                target=result.target,
                flags=result.flags,
                confidence=result.confidence,
            )
            for digest, result in fresh.items()
            if digest not in replaced
        }
        session.add_all(entries.values())
        session.flush()  # one flush for the batch: ids for the translated segments below
        for digest, entry in entries.items():
            fresh[digest].tm_id = entry.id
        by_revision: dict[int, list[SegmentRow]] = {}
        for segment in segments:
            by_revision.setdefault(segment.revision_id, []).append(segment)
        for revision_id in revision_ids:
            rows = by_revision.get(revision_id, [])
            build_translation(
                ctx, session, revision_id, lang, rows, engine.name, version, human, machine, fresh
            )


def _previous_approved(session: Session, post_id: int, lang: str, revision_id: int) -> Translation | None:
    return session.scalars(
        select(Translation)
        .where(
            Translation.post_id == post_id,
            Translation.lang == lang,
            Translation.status == "approved",
            Translation.revision_id != revision_id,
        )
        .order_by(Translation.decided_at.desc(), Translation.id.desc())
    ).first()


def _confirmed_corrections(
    ctx: RunContext, session: Session, translation: Translation, engine: str
) -> list[LearnedCorrection]:
    """The learned corrections applied before review (``[review] auto_apply_corrections``; none
    when it is 0, the default)."""
    threshold = ctx.settings.review.auto_apply_corrections
    if threshold <= 0:
        return []
    post = session.get(Post, translation.post_id)
    source_lang = post.source_lang if post is not None else ctx.settings.translation.source_lang
    return confirmed_for(session, engine, source_lang, translation.lang, threshold)


def build_translation(
    ctx: RunContext,
    session: Session,
    revision_id: int,
    lang: str,
    rows: Sequence[SegmentRow],
    engine: str,
    version: str,
    human: dict[str, TMEntry],
    machine: dict[str, TMEntry],
    fresh: dict[str, MachineResult],
) -> Translation:
    """Create the review item for one revision and language, carrying over approved segments."""
    summary = ctx.summary
    translation = _translation_row(session, revision_id, lang)
    for old in session.scalars(
        select(TranslatedSegment).where(TranslatedSegment.translation_id == translation.id)
    ):
        session.delete(old)
    session.flush()
    previous = _previous_approved(session, translation.post_id, lang, revision_id)
    carried: dict[str, TranslatedSegment] = {}
    previous_sources: dict[str, str] = {}
    if previous is not None:
        for seg, src in session.execute(
            select(TranslatedSegment, SegmentRow)
            .join(SegmentRow, SegmentRow.id == TranslatedSegment.segment_id)
            .where(TranslatedSegment.translation_id == previous.id)
        ):
            carried[src.source_hash] = seg
            previous_sources[src.key] = src.source
    flagged = False
    weakest: float | None = None  # lowest confidence of the segments still open
    all_carried = bool(rows)
    learned = _confirmed_corrections(ctx, session, translation, engine)
    for row in rows:
        summary.segments_total += 1
        digest = row.source_hash
        state, previous_source = "open", None
        if digest in carried:
            old = carried[digest]
            target, origin, tm_id, flags, state = old.target, old.origin, old.tm_id, old.flags, "approved"
            confidence = old.confidence
            summary.segments_reused += 1
        elif digest in human:
            entry = human[digest]
            target, origin, tm_id, flags = entry.target, "human", entry.id, list(entry.flags)
            confidence = None
            summary.segments_reused += 1
        elif digest in machine:
            entry = machine[digest]
            target, origin, tm_id, flags = entry.target, "memory", entry.id, list(entry.flags)
            confidence = entry.confidence
            summary.segments_reused += 1
        else:
            result = fresh[digest]
            target, origin, tm_id, flags = result.target, "machine", result.tm_id, result.flags
            confidence = result.confidence
        machine_target: str | None = None
        applied: list[dict[str, Any]] = []
        if origin in ("machine", "memory") and state == "open":
            machine_target = target
            if learned:
                target, applied = auto_apply(
                    learned, row.source, target, ctx.settings.review.auto_apply_corrections
                )
        if state != "approved":
            all_carried = False
            if previous is not None and previous_sources.get(row.key) not in (None, row.source):
                previous_source = previous_sources[row.key]
        if flags and state != "approved":
            flagged = True
        if confidence is not None and state != "approved" and origin != "human":
            weakest = confidence if weakest is None else min(weakest, confidence)
        session.add(
            TranslatedSegment(
                translation_id=translation.id,
                segment_id=row.id,
                key=row.key,
                target=target,
                origin=origin,
                tm_id=tm_id,
                flags=flags,
                confidence=confidence,
                state=state,
                previous_source=previous_source,
                machine_target=machine_target,
                corrections=applied,
            )
        )
    translation.engine, translation.model_version = engine, version
    translation.error = None
    translation.status = "machine_translated"
    translation.version += 1
    summary.translations_new += 1
    _supersede_older(session, translation)
    actor, action = None, None
    revision = session.get(Revision, revision_id)
    # A source that was not read whole waits for a person, whatever its segments say.
    incomplete = bool(extraction_flags(revision.extraction if revision is not None else None))
    if not incomplete and previous is not None and all_carried:
        actor, action = "system", "carry_over_approve"
    elif (
        not incomplete
        and lang in ctx.settings.review.auto_approve
        and not flagged
        and (weakest is None or weakest >= ctx.settings.review.auto_approve_min_confidence)
    ):
        actor, action = "auto-approve", "auto_approve"
    if actor is not None and action is not None:
        translation.status = "approved"
        translation.decided_by, translation.decided_at = actor, utcnow()
        for seg in session.scalars(
            select(TranslatedSegment).where(TranslatedSegment.translation_id == translation.id)
        ):
            seg.state = "approved"
        session.add(ReviewEvent(translation_id=translation.id, action=action, actor=actor))
        summary.auto_approved += 1
    post = session.get(Post, translation.post_id)
    log.info(
        "translated (%s): %s",
        engine,
        f"approved ({action})"
        if action
        else "waiting for review"
        + (" (source not read whole)" if incomplete else " (QA flags)" if flagged else ""),
        extra={"post": post.post_key if post else None, "lang": lang},
    )
    return translation


def _supersede_older(session: Session, translation: Translation) -> None:
    """Older unreviewed items of the same post and language are replaced by this one."""
    for older in session.scalars(
        select(Translation).where(
            Translation.post_id == translation.post_id,
            Translation.lang == translation.lang,
            Translation.id != translation.id,
            Translation.status.in_(["pending", "machine_translated", "failed"]),
        )
    ):
        older.status = "superseded"


def count_awaiting_review(session: Session) -> int:
    """Items of current revisions waiting for an editor, counted by the database (through the
    state index: the approved history is never read)."""
    query = (
        select(func.count(Translation.id))
        .join(Post, Post.id == Translation.post_id)
        .where(
            Translation.status == "machine_translated", Post.current_revision_id == Translation.revision_id
        )
    )
    return session.scalar(query) or 0


def record_human_translation(
    session: Session, *, source: str, target: str, source_lang: str, lang: str, actor: str
) -> TMEntry:
    """Store an editor's version as the human memory entry for this source text (latest wins)."""
    digest = source_hash(source)
    entry = session.scalars(
        select(TMEntry).where(
            TMEntry.engine == HUMAN,
            TMEntry.model_version == "",
            TMEntry.source_lang == source_lang,
            TMEntry.target_lang == lang,
            TMEntry.source_hash == digest,
        )
    ).one_or_none()
    if entry is None:
        entry = TMEntry(
            engine=HUMAN,
            model_version="",
            source_lang=source_lang,
            target_lang=lang,
            source_hash=digest,
            source=normalize(source),
            target=target,
            flags=[],
            created_by=actor,
        )
        session.add(entry)
    else:
        entry.target, entry.created_by = target, actor
    session.flush()
    return entry
