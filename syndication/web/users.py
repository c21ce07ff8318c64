"""Review-app accounts and their login sessions.

Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, re-hashed on login when those
defaults grow). A login creates a :class:`WebSession` row; the browser holds only a random id in a
signed cookie, and the row stores that id's SHA-256, so logging out, changing a password or disabling
an account ends sessions on the server, and a copy of the database cannot be replayed as a cookie.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from syndication.errors import UserError
from syndication.store import Base, utcnow

Role = Literal["editor", "admin"]
ROLES: tuple[Role, ...] = ("editor", "admin")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
"""Argon2 hashes any length, but a megabyte "password" is only a way to burn CPU."""
_USERNAME_RE = re.compile(r"^[\w.@+-]{1,64}$")

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a wrong name costs as long as a wrong
    password. Made on first use, not at import: every store upgrade imports this module (for its
    tables), and an Argon2 hash costs 0.1 s and more of every command's start."""
    return _hasher.hash(secrets.token_urlsafe(16))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    """Normalized (NFC, case-folded): ``Søren`` and ``søren`` are one account."""
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="editor")
    """``editor`` (review) or ``admin`` (also users and the settings view)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False)
    langs: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    """Comma-separated languages this user may review (``nb,sv``); ``None``: every language."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def lang_list(self) -> tuple[str, ...] | None:
        return parse_langs(self.langs)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class LoginFailure(Base):
    """One failed login. Kept in the store (not in memory) so several ``serve`` processes share the
    throttle, and a password reset or an admin's unlock can clear it at once."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    """As typed, normalized like user names (the name may not exist)."""
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


@dataclass(frozen=True)
class SignedIn:
    """The user of a request, detached from any database session."""

    id: int
    username: str
    role: str
    langs: tuple[str, ...] | None = None
    """Languages this user may review; ``None``: every language."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_review(self, lang: str) -> bool:
        return self.langs is None or lang in self.langs


def normalize_username(name: str) -> str:
    username = unicodedata.normalize("NFC", name).strip().casefold()
    if not _USERNAME_RE.match(username):
        raise UserError(
            f"user name {name!r} is not allowed: use 1-64 letters, digits and . _ @ + - (no spaces)"
        )
    return username


def throttle_name(name: str) -> str:
    """The key failed logins are counted under: like :func:`normalize_username`, for any input."""
    return unicodedata.normalize("NFC", name).strip().casefold()[:200]


def parse_langs(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    langs = tuple(sorted({part.strip() for part in value.split(",") if part.strip()}))
    return langs or None


def check_langs(value: str | None, known: list[str] | None = None) -> str | None:
    """``"nb,sv"`` as stored (sorted, no duplicates), ``None`` for every language; an unknown code
    (not among ``known``, the configured targets) is refused with its name."""
    langs = parse_langs(value)
    if langs is None:
        return None
    for lang in langs:
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", lang):
            raise UserError(f"language {lang!r} is not a language code (e.g. nb or sv)")
        if known is not None and lang not in known:
            raise UserError(f"language {lang!r} is not a translation target here: use {', '.join(known)}")
    return ",".join(langs)


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password is too long: use at most {MAX_PASSWORD} characters")


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise UserError(f"unknown role {role!r}: use {' or '.join(ROLES)}")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def find_user(session: Session, name: str) -> User | None:
    try:
        username = normalize_username(name)
    except UserError:
        return None
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def _existing(session: Session, name: str) -> User:
    user = find_user(session, name)
    if user is None:
        raise UserError(f"no user named {name!r}; `syndicate users list` shows them")
    return user


def add_user(
    session: Session,
    name: str,
    password: str,
    *,
    role: str = "editor",
    langs: str | None = None,
    known_langs: list[str] | None = None,
) -> User:
    username = normalize_username(name)
    checked_role = check_role(role)
    checked_langs = check_langs(langs, known_langs)
    check_password(password)
    if session.scalars(select(User.id).where(User.username == username)).first() is not None:
        raise UserError(f"user {username!r} exists already; `syndicate users passwd {username}` resets")
    user = User(
        username=username, password_hash=hash_password(password), role=checked_role, langs=checked_langs
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, name: str, password: str) -> User:
    """New password; every session of the user ends and any login lockout of theirs is lifted."""
    user = _existing(session, name)
    check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(session, user.id)
    unlock(session, user.username)
    return user


def unlock(session: Session, name: str) -> int:
    """Forget the failed logins under this name (every address); returns how many there were."""
    result = session.execute(delete(LoginFailure).where(LoginFailure.username == throttle_name(name)))
    return int(getattr(result, "rowcount", 0) or 0)


def set_langs(session: Session, name: str, langs: str | None, known: list[str] | None = None) -> User:
    user = _existing(session, name)
    user.langs = check_langs(langs, known)
    return user


def verify_password(session: Session, user_id: int, password: str) -> bool:
    user = session.get(User, user_id)
    return user is not None and len(password) <= MAX_PASSWORD and _verify(user.password_hash, password)


def set_disabled(session: Session, name: str, disabled: bool = True) -> User:
    """Disable (or enable) an account; a disabled user's sessions end at once."""
    user = _existing(session, name)
    user.disabled = disabled
    if disabled:
        end_sessions(session, user.id)
    return user


def set_role(session: Session, name: str, role: str) -> User:
    user = _existing(session, name)
    user.role = check_role(role)
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The enabled user with this name and password, else ``None`` (the same for every failure)."""
    if len(password) > MAX_PASSWORD:
        return None
    user = find_user(session, name)
    if user is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password) or user.disabled:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# ------------------------------------------------------------------------------------- sessions


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, *, max_age: int) -> str:
    """A new login session; returns the token for the (signed) cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(seconds=max_age),
        )
    )
    # Expired rows of this user go now, so the table never grows without bound.
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
    return token


def session_user(session: Session, token: str) -> SignedIn | None:
    row = session.execute(
        select(User.id, User.username, User.role, User.disabled, User.langs, WebSession.expires_at)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == _token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    user_id, username, role, disabled, langs, expires_at = row
    if disabled or expires_at <= utcnow():
        return None
    return SignedIn(id=user_id, username=username, role=role, langs=parse_langs(langs))


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def end_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
