"""The durable state of the pipeline: SQLAlchemy 2 tables, sessions and migrations.

SQLite by default (one file next to the config), any SQLAlchemy URL for teams (PostgreSQL). The schema
is owned by Alembic (``syndication/migrations``); ``open_store`` upgrades to head on start so a user
never runs a migration by hand. One transaction per stage step: callers use ``store.session()``.
"""

from __future__ import annotations

import getpass
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from syndication.errors import StoreError
from syndication.models import Segment


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    """The URL as configured: the feed's identity even after a 301 moved it."""
    current_url: Mapped[str] = mapped_column(String(2000))
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    """``active``; ``failing`` (answered 410 or 404, polled backed off); ``retired`` (answered so on
    ``polling.retire_after_polls`` polls over ``polling.retire_after_days``: probed at a low rate)."""
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    baselined: Mapped[bool] = mapped_column(default=False)
    polls: Mapped[int] = mapped_column(default=0)
    last_polled_at: Mapped[datetime | None]
    next_poll_after: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(String(500))
    site_url: Mapped[str | None] = mapped_column(String(2000))
    failing_since: Mapped[datetime | None]
    """First 410/404 of the current run of them (``None`` once the feed answers again)."""
    failed_polls: Mapped[int] = mapped_column(default=0)
    """410/404 answers in a row since ``failing_since``."""
    notes: Mapped[list[Any] | None]
    """What the last read of the feed had to repair (encoding, DOCTYPE, lenient parse): not errors."""


class Post(Base):
    """A source item: a feed entry or an article a post links to."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_updated_at", "updated_at"),
        Index("ix_posts_status_kind", "status", "kind"),
        Index("ix_posts_current_revision_id", "current_revision_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_key: Mapped[str] = mapped_column(String(2000), unique=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id"))
    kind: Mapped[str] = mapped_column(String(10), default="post")
    """``post`` (from a feed) or ``linked`` (an article a post links to)."""
    url: Mapped[str] = mapped_column(String(2000))
    source_lang: Mapped[str] = mapped_column(String(10), default="da")
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    """Content hash of the feed entry as last seen: unchanged entries are not re-extracted."""
    entry: Mapped[dict[str, Any] | None]
    """The feed entry as last seen, kept so a failed extraction can be retried after the feed
    itself answers 304 (nothing is lost between poll and extract)."""
    title: Mapped[str | None] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(default=0)
    """0 for feed posts; n for an article reached through n links."""
    status: Mapped[str] = mapped_column(String(20), default="new")
    """``new``, ``extracted``, ``waiting`` (its page failed or its host asked us to wait: tried
    again at ``next_attempt_at``), ``failed`` (every scheduled try failed: waits for
    ``syndicate posts retry``), ``baselined`` or ``retracted``."""
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(10))
    """``transient``, ``terminal``, or ``deferred`` (not requested: its host said "later")."""
    attempts: Mapped[int] = mapped_column(default=0)
    """Failed tries since the last success (see ``syndication.page_retries``)."""
    next_attempt_at: Mapped[datetime | None]
    """When a ``waiting`` post is tried again; None: on the next run."""
    checked_at: Mapped[datetime | None]
    """Last time its page was fetched (200 or 304): a linked article is re-checked from here."""
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    current_revision_id: Mapped[int | None] = mapped_column(Integer)
    site_name: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PostLink(Base):
    """``source`` links to ``target``: keeps the attribution of linked articles."""

    __tablename__ = "post_links"

    source_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    target_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)


class Revision(Base):
    """The extracted content of a post at one point in time; ``content_hash`` is the revision id."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("post_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(500))
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    lang: Mapped[str | None] = mapped_column(String(20))
    canonical: Mapped[str | None] = mapped_column(String(2000))
    categories: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    featured_image: Mapped[dict[str, Any] | None]
    skeleton: Mapped[str] = mapped_column(Text, default="")
    extraction: Mapped[dict[str, Any] | None]
    """What extraction could not carry over: ``removed`` (a list of ``{kind, count, detail}``,
    content the sanitizer took out), ``incomplete`` (set when part of the source was lost: such a
    revision is never auto-approved) and ``flattened_depth``. None for revisions made before."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SegmentRow(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("revision_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(64))
    markup: Mapped[dict[str, Any]] = mapped_column(default=dict)

    def as_segment(self) -> Segment:
        return Segment(key=self.key, kind=self.kind, source=self.source, markup=dict(self.markup))  # type: ignore[arg-type]


class TMEntry(Base):
    """Translation memory: one target per (engine, model version, pair, normalized source).

    Human entries (editor edits) use engine ``human`` and model version ``""`` and always win.
    """

    __tablename__ = "translation_memory"
    __table_args__ = (
        UniqueConstraint("engine", "model_version", "source_lang", "target_lang", "source_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engine: Mapped[str] = mapped_column(String(50))
    model_version: Mapped[str] = mapped_column(String(200))
    source_lang: Mapped[str] = mapped_column(String(10))
    target_lang: Mapped[str] = mapped_column(String(10))
    source_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    """The engine's confidence in ``target`` (0-1); ``None`` for human entries or when it cannot say."""
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Translation(Base):
    """The review item: one per (post revision, language)."""

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("revision_id", "lang"),
        Index("ix_translations_status", "status"),
        Index("ix_translations_updated_at", "updated_at"),
        Index("ix_translations_status_created", "status", "created_at", "id"),
        Index("ix_translations_created", "created_at", "id"),
        Index("ix_translations_status_lang_revision", "status", "lang", "revision_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    lang: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(30), default="pending")
    """``pending`` → ``machine_translated`` → ``approved`` | ``rejected``; ``failed`` on engine error;
    ``superseded`` once a newer revision of the post has its own translation."""
    engine: Mapped[str | None] = mapped_column(String(50))
    model_version: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TranslatedSegment(Base):
    __tablename__ = "translated_segments"
    __table_args__ = (UniqueConstraint("translation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id"), index=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id"))
    key: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    """``machine`` (engine output this run), ``memory`` (reused) or ``human`` (an editor's)."""
    tm_id: Mapped[int | None] = mapped_column(ForeignKey("translation_memory.id"))
    flags: Mapped[list[Any]] = mapped_column(default=list)
    confidence: Mapped[float | None] = mapped_column(Float)
    """The engine's confidence in the machine output (0-1), kept when an editor changes the text;
    ``None`` for human translations or engines that cannot say."""
    state: Mapped[str] = mapped_column(String(20), default="open")
    """``open`` (needs review) or ``approved`` (carried over from an approved earlier revision)."""
    previous_source: Mapped[str | None] = mapped_column(Text)
    """Source text of this segment in the last approved revision, when it changed (for the diff)."""
    version: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    machine_target: Mapped[str | None] = mapped_column(Text)
    """The engine's text as it came (before learned corrections): what editors' corrections are
    learned against; ``None`` for human translations and approved carry-overs."""
    corrections: Mapped[list[Any]] = mapped_column(default=list)
    """Learned corrections applied before review (``{id, term, wrong, right}``, ``reverted`` once
    an editor undid one): the page marks them."""


class LearnedCorrection(Base):
    """A fix editors make to an engine's output: ``wrong`` → ``right`` where the Danish has ``term``
    (per engine and language pair; see :mod:`syndication.review.corrections`)."""

    __tablename__ = "learned_corrections"
    __table_args__ = (
        UniqueConstraint("engine", "source_lang", "target_lang", "term", "wrong", "right"),
        Index("ix_learned_corrections_pair", "engine", "source_lang", "target_lang", "uses"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engine: Mapped[str] = mapped_column(String(50))
    source_lang: Mapped[str] = mapped_column(String(10))
    target_lang: Mapped[str] = mapped_column(String(10))
    term: Mapped[str] = mapped_column(String(200))
    """The Danish word(s), lower case."""
    wrong: Mapped[str] = mapped_column(String(200))
    """The engine's word(s), lower case."""
    right: Mapped[str] = mapped_column(String(200))
    """The editor's word(s), as written."""
    uses: Mapped[int] = mapped_column(default=0)
    """Segments whose saved text makes this correction (one each, however often saved)."""
    declined: Mapped[int] = mapped_column(default=0)
    """Segments where it fitted (its term in the Danish, its wrong words in the engine's text) and
    the editor kept the engine's words."""
    reverted: Mapped[int] = mapped_column(default=0)
    """Times an editor undid it after it was applied automatically; once reverted it is only
    suggested, never applied automatically again."""
    created_by: Mapped[str | None] = mapped_column(String(200))
    last_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CorrectionUse(Base):
    """One segment whose editor's text makes a learned correction (what ``uses`` counts)."""

    __tablename__ = "correction_uses"
    __table_args__ = (UniqueConstraint("correction_id", "translation_id", "segment_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    correction_id: Mapped[int] = mapped_column(ForeignKey("learned_corrections.id"), index=True)
    translation_id: Mapped[int] = mapped_column(Integer)
    """Not a foreign key: a use outlives the item it was made in (a rebuilt or purged item)."""
    segment_key: Mapped[str] = mapped_column(String(50))
    made: Mapped[bool] = mapped_column(default=True)
    """True: the editor made the correction here; False: it fitted and the editor kept the
    engine's words (what ``declined`` counts)."""
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ReviewEvent(Base):
    """Audit trail: who did what, when, with the before and after text."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id"), index=True)
    segment_key: Mapped[str | None] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """The delivery ledger: a row exists *before* any side effect outside the system happens."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    """post key | revision | language | channel | target | action — the idempotency key."""
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    translation_id: Mapped[int | None] = mapped_column(ForeignKey("translations.id"))
    revision: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(500), default="")
    action: Mapped[str] = mapped_column(String(20), default="publish")
    state: Mapped[str] = mapped_column(String(20), default="pending")
    """``pending`` → ``sending`` → ``sent`` | ``failed`` (see ``error_kind``) | ``uncertain``."""
    error_kind: Mapped[str | None] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    config_fingerprint: Mapped[str | None] = mapped_column(String(64))
    """For a terminal failure: the channel configuration it happened under (see
    ``deliveries.fingerprint``); a run with a different one tries it again."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    remote_id: Mapped[str | None] = mapped_column(String(500))
    remote_url: Mapped[str | None] = mapped_column(String(2000))
    receipt: Mapped[dict[str, Any] | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DeliveryMark(Base):
    """How far the deliver stage has planned a channel (see ``deliveries.stage``): changes older
    than ``planned_through`` are in the ledger already, so a run plans only what changed since —
    as long as the channel's planning settings (``fingerprint``) are the same."""

    __tablename__ = "delivery_marks"

    channel: Mapped[str] = mapped_column(String(100), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    planned_through: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LinkRef(Base):
    """A post's item links to this identity (``deliveries.links``): when a copy of the post the
    identity names is delivered later, the linking post is planned again, so its link heals."""

    __tablename__ = "link_refs"

    source_post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    identity_hash: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class TranslateMark(Base):
    """How far the translate stage has looked for work in a language (see
    ``translations.stage``): every post changed before ``planned_through`` has its translation, or
    a ``pending``/``failed`` one that the stage finds by its state, so a run looks only at posts
    changed since."""

    __tablename__ = "translate_marks"

    lang: Mapped[str] = mapped_column(String(10), primary_key=True)
    planned_through: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ------------------------------------------------------------------------------------------ access

MIGRATIONS = Path(__file__).with_name("migrations")


class Store:
    """An engine plus a session factory; ``session()`` is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets the review app read while a run writes; busy_timeout turns "database is locked"
    # into a short wait, which is what two local processes sharing one file need.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        # A PostgreSQL URL on an install without the driver: say which extra brings it.
        raise StoreError(
            f"the store URL needs the database driver {exc.name!r}, which is not installed"
            " (for PostgreSQL: pip install 'syndication[postgres]')"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


_upgrade_lock = threading.Lock()
_heads: list[tuple[str, ...]] = []
"""The migrations' head revision(s), read once per process: a run opens the store once per stage,
and having Alembic read its scripts and import its environment each time is most of the time of a
run that finds nothing new."""


def _script_heads() -> tuple[str, ...]:
    if not _heads:
        _heads.append(_heads_from_files() or _heads_from_alembic())
    return _heads[0]


def _heads_from_alembic() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(sorted(ScriptDirectory(str(MIGRATIONS)).get_heads()))


def _heads_from_files() -> tuple[str, ...] | None:
    """The head revision(s), read from the version files' ``revision`` / ``down_revision`` lines
    without importing Alembic (0.1–0.3 s); ``None`` when a file is not that plain (Alembic then)."""
    import ast

    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and value:
                try:
                    values[target.id] = ast.literal_eval(value)
                except ValueError:
                    return None
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        for parent in down if isinstance(down, tuple | list) else (down,):
            if parent is not None:
                parents.add(str(parent))
    heads = tuple(sorted(revisions - parents))
    return heads or None


def _at_head(engine: Engine) -> bool:
    """Whether the database is at the migrations' head already (one query; no Alembic run)."""
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return False  # a new database (no table yet): Alembic creates it
    return tuple(sorted(str(row[0]) for row in rows)) == _script_heads()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (no-op when already there)."""
    with _upgrade_lock:
        if _at_head(engine):
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Connect (and migrate); any problem with the store is one ``StoreError`` line saying what,
    where and what to do (see ``store_problem``)."""
    folder = sqlite_folder(url)
    if folder is not None and not folder.is_dir():
        raise StoreError(
            f"the store's folder {folder} does not exist: create it, or point [store] url "
            "(or SYNDICATION__STORE__URL) at a file in an existing folder"
        )
    engine = make_engine(url)
    if migrate:
        try:
            upgrade(engine)
        except DBAPIError as exc:
            engine.dispose()
            raise store_problem(engine.url.render_as_string(hide_password=True), exc) from exc
    return Store(engine)


def check_writable(store: Store) -> None:
    """Raise ``StoreError`` unless this process can write to the store: ``status`` reads a
    read-only store fine, but a run would fail at its first write, in the middle of a stage."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        # Asked of the file system, not with a write: that would wait for a running pipeline's
        # write lock (up to the 30 s busy timeout) just to learn what the permissions say.
        if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
            return
        path = Path(url.database)
        if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise store_problem(store.url, OSError("attempt to write a readonly database"))
        return
    try:
        with store.engine.begin() as connection:
            # A write that changes nothing: it needs exactly the access a run needs.
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
    except DBAPIError as exc:
        raise store_problem(store.url, exc) from exc


def sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite store file (``None`` for other databases and in-memory ones)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # a malformed URL: create_engine says what is wrong with it
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).resolve().parent


def store_problem(where: str, exc: BaseException) -> StoreError:
    """One line for a database error met while opening or writing the store: what is wrong, where,
    and what to do. ``where`` is the store URL without its password."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    first = " ".join(reason.split())  # psycopg's messages span lines; ours must not
    user = _user()
    if where.startswith("sqlite"):
        path = Path(where.split(":///", 1)[-1])
        if "readonly" in reason or "read-only" in reason:
            if path.exists() and not os.access(path, os.W_OK):
                what = f"the file belongs to {_owner(path)} and is not writable for {user}"
            else:
                what = (
                    f"its folder {path.parent} is not writable for {user} (SQLite creates its -wal "
                    "and -shm files there)"
                )
            return StoreError(
                f"the store {path} is read-only: {what}; make the file and its folder writable for "
                f"{user} (chown/chmod), or run as the user that owns them"
            )
        if "not a database" in reason:
            return StoreError(
                f"{path} is not a SQLite database (damaged, or another kind of file): point "
                "[store] url at the store, or move this file away to start an empty one"
            )
        if "unable to open" in reason:
            folder = path.parent
            if not folder.is_dir():
                return StoreError(
                    f"the store's folder {folder} does not exist: create it, or fix [store] url"
                )
            if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.R_OK)):
                return StoreError(
                    f"the store {path} cannot be opened by user {user}: SQLite must read the file and "
                    f"create its -wal and -shm files next to it in {folder}; make the folder writable "
                    "for this user, or move the store to one that is"
                )
        if "locked" in reason:
            return StoreError(
                f"the store {path} stayed locked by another process for 30 s: retry when it is done"
            )
        return StoreError(f"the store {path} cannot be used: {first}; check the file and [store] url")
    if "connection" in reason.lower() or "could not" in reason.lower():
        return StoreError(
            f"cannot reach the database server of the store {where}: {first}; start it, or fix "
            "[store] url (or SYNDICATION__STORE__URL)"
        )
    return StoreError(f"the store {where} cannot be used: {first}")


def _owner(path: Path) -> str:
    try:
        return path.owner()
    except (KeyError, OSError):
        return f"uid {path.stat().st_uid}"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
