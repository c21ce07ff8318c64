"""Newsletter subscribers: one row per (list, language, address), kept after an unsubscribe so the
choice is remembered (an import never quietly re-subscribes someone who left).

The functions take a session, so callers decide the transaction (the CLI: one per command; the
one-click endpoint: one per request).
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Index, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from syndication.errors import ConfigError
from syndication.store import Base, utcnow

MAX_CSV_BYTES = 50_000_000
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# Deliberately plain: the SMTP server is the judge of deliverability; this only catches what is
# certainly not an address (typos, a name in the e-mail column, a pasted header).
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("list_name", "lang", "email"),
        Index("ix_subscribers_list_lang_status", "list_name", "lang", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(100))
    """The newsletter channel's list (its ``list`` setting, by default the channel name)."""
    lang: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    """``active`` or ``unsubscribed``."""
    token: Mapped[str] = mapped_column(String(64), unique=True)
    """Random, names the subscriber in unsubscribe links (signed with the channel's secret)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unsubscribed_at: Mapped[datetime | None]


class SubscriberError(ConfigError):
    """Bad subscriber input (an address, a language) or a forbidden change; says what to do."""


def normalize_email(raw: str) -> str:
    """The address as stored and compared: trimmed, lower-case (one person, one row)."""
    email = raw.strip().strip("<>").strip()
    if not email:
        raise SubscriberError("empty e-mail address")
    if any(ch.isspace() for ch in email) or email.count("@") != 1:
        raise SubscriberError(f"{email!r} is not an e-mail address")
    local, domain = email.rsplit("@", 1)
    if not email.isascii():
        raise SubscriberError(f"{email!r}: internationalized addresses are not supported")
    if len(local) > 64 or not _LOCAL.match(local) or local.startswith(".") or ".." in local:
        raise SubscriberError(f"{email!r} is not an e-mail address")
    if not _DOMAIN.match(domain):
        raise SubscriberError(f"{email!r} has no valid domain")
    return email.lower()


def check_lang(lang: str) -> str:
    lang = lang.strip()
    if lang == "no":
        raise SubscriberError("use 'nb' (Bokmål) or 'nn' (Nynorsk), never 'no'")
    if not _LANG.match(lang):
        raise SubscriberError(f"{lang!r} is not a language tag (e.g. nb, sv, en)")
    return lang


def find(session: Session, email: str, *, lang: str, list_name: str) -> Subscriber | None:
    return session.scalars(
        select(Subscriber).where(
            Subscriber.list_name == list_name,
            Subscriber.lang == lang,
            Subscriber.email == normalize_email(email),
        )
    ).one_or_none()


def add(
    session: Session,
    email: str,
    *,
    lang: str,
    list_name: str,
    name: str | None = None,
    resubscribe: bool = False,
) -> tuple[Subscriber, str]:
    """Add one address; returns the row and what happened: ``added``, ``exists`` or ``resubscribed``.

    Someone who unsubscribed stays unsubscribed unless ``resubscribe`` says they asked to come back.
    """
    address = normalize_email(email)
    lang = check_lang(lang)
    existing = find(session, address, lang=lang, list_name=list_name)
    if existing is not None:
        if existing.status == "active":
            return existing, "exists"
        if not resubscribe:
            when = f"{existing.unsubscribed_at:%Y-%m-%d}" if existing.unsubscribed_at else "earlier"
            raise SubscriberError(
                f"{address} unsubscribed from {list_name} ({lang}) on {when}; add them again only if they "
                "asked to (--resubscribe)"
            )
        existing.status, existing.unsubscribed_at, existing.created_at = "active", None, utcnow()
        return existing, "resubscribed"
    row = Subscriber(
        list_name=list_name,
        lang=lang,
        email=address,
        name=(name or "").strip()[:200] or None,
        status="active",
        token=secrets.token_urlsafe(24),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, "added"


@dataclass
class ImportReport:
    added: int = 0
    existing: int = 0
    skipped_unsubscribed: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)
    """(line number, reason) for every row that was not imported."""


def import_csv(
    session: Session,
    source: Path | bytes,
    *,
    list_name: str,
    default_lang: str | None = None,
) -> ImportReport:
    """Import addresses from CSV: a header row naming ``email`` (and optionally ``lang``, ``name``), or
    no header with the address in the first column. Comma, semicolon or tab separated; UTF-8 (with or
    without BOM) or a legacy encoding. Bad rows are reported with their line number, never fatal."""
    data = source.read_bytes() if isinstance(source, Path) else source
    if len(data) > MAX_CSV_BYTES:
        raise SubscriberError(f"the CSV file is larger than {MAX_CSV_BYTES // 1_000_000} MB; split it")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SubscriberError("the CSV file contains NUL bytes: is it a spreadsheet file rather than CSV?")
    text = _decode(data)
    report = ImportReport()
    if "\x00" in text:
        raise SubscriberError("the CSV file contains NUL bytes: is it a spreadsheet file rather than CSV?")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text)))
    except csv.Error as exc:
        raise SubscriberError(f"the CSV file cannot be read: {exc}") from exc
    if not rows:
        return report
    header = [cell.strip().lower() for cell in rows[0]]
    if "email" in header or "e-mail" in header:
        email_col = header.index("email") if "email" in header else header.index("e-mail")
        lang_col = (
            header.index("lang")
            if "lang" in header
            else (header.index("language") if "language" in header else None)
        )
        name_col = header.index("name") if "name" in header else None
        body: Iterable[tuple[int, list[str]]] = enumerate(rows[1:], start=2)
    else:
        email_col, lang_col, name_col = 0, None, None
        body = enumerate(rows, start=1)
    if default_lang is not None:
        default_lang = check_lang(default_lang)
    for line, row in body:
        if not any(cell.strip() for cell in row):
            continue
        try:
            email = row[email_col] if email_col < len(row) else ""
            lang = (
                row[lang_col].strip()
                if lang_col is not None and lang_col < len(row) and row[lang_col].strip()
                else default_lang
            )
            if not lang:
                raise SubscriberError("no language (add a lang column or pass --lang)")
            name = row[name_col] if name_col is not None and name_col < len(row) else None
            with session.begin_nested():
                _, outcome = add(session, email, lang=lang, list_name=list_name, name=name)
        except SubscriberError as exc:
            if "unsubscribed from" in exc.message:
                report.skipped_unsubscribed += 1
            else:
                report.invalid.append((line, exc.message))
            continue
        if outcome == "added":
            report.added += 1
        else:
            report.existing += 1
    return report


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), then windows-1252 — what
    spreadsheets in Denmark, Norway and Sweden export — before guessing: on a short file a guesser
    picks a wrong code page for æøå more often than not."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SubscriberError("the CSV file is not text in any encoding we recognise")
    return str(best)


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def list_subscribers(
    session: Session, *, list_name: str | None = None, lang: str | None = None, status: str | None = None
) -> list[Subscriber]:
    query = select(Subscriber).order_by(Subscriber.list_name, Subscriber.lang, Subscriber.email)
    if list_name is not None:
        query = query.where(Subscriber.list_name == list_name)
    if lang is not None:
        query = query.where(Subscriber.lang == lang)
    if status is not None:
        query = query.where(Subscriber.status == status)
    return list(session.scalars(query))


def active(session: Session, *, list_name: str, lang: str) -> list[Subscriber]:
    return list_subscribers(session, list_name=list_name, lang=lang, status="active")


def remove(session: Session, email: str, *, list_name: str, lang: str | None = None) -> int:
    """Delete an address (from one language, or all) — for erasure requests; returns rows deleted.
    To stop mail but remember the choice, use :func:`unsubscribe` instead."""
    query = delete(Subscriber).where(
        Subscriber.list_name == list_name, Subscriber.email == normalize_email(email)
    )
    if lang is not None:
        query = query.where(Subscriber.lang == lang)
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def unsubscribe(session: Session, token: str) -> Subscriber | None:
    """Mark the subscriber named by ``token`` unsubscribed (idempotent); ``None`` for an unknown token."""
    row = session.scalars(select(Subscriber).where(Subscriber.token == token)).one_or_none()
    if row is not None and row.status != "unsubscribed":
        row.status, row.unsubscribed_at = "unsubscribed", utcnow()
    return row


def by_email(session: Session, emails: Iterable[str], *, list_name: str, lang: str) -> dict[str, Subscriber]:
    wanted = list(emails)
    rows = session.scalars(
        select(Subscriber).where(
            Subscriber.list_name == list_name, Subscriber.lang == lang, Subscriber.email.in_(wanted)
        )
    )
    return {row.email: row for row in rows}
