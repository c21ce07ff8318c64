"""What stands between the review app and the network: the session key, CSRF tokens, login, headers.

Every piece is plain ASGI so the order is visible in :func:`syndication.web.app.create_app`::

    SecurityHeaders → BodyLimit → SecureCookies → SessionMiddleware → RequireLogin → routes
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syndication.errors import ConfigError
from syndication.settings import Settings
from syndication.web.users import SignedIn

log = logging.getLogger("syndication.web")

SESSION_COOKIE = "syndication_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MIN_SECRET_LENGTH = 32
MAX_BODY = 2_000_000
"""Bytes a request body may have: a segment edit is a few kB; anything near this is not an editor."""

# ------------------------------------------------------------------------------------ secret key


def key_file_path(settings: Settings) -> Path:
    """Where a generated key lives: next to the SQLite database, else in the project folder."""
    url = settings.store_url()
    prefix = "sqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        database = Path(url[len(prefix) :])
        return database.with_name(database.name + ".web-key")
    return settings.base_dir / ".syndication-web-key"


def secret_key(settings: Settings) -> str:
    """``SYNDICATION__WEB__SECRET_KEY``, else the key file (created with mode 0600 on first use)."""
    configured = settings.web.secret_key
    if configured is not None:
        value = configured.get_secret_value()
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"SYNDICATION__WEB__SECRET_KEY is too short ({len(value)} characters): use at least "
                f"{MIN_SECRET_LENGTH} random characters, e.g. `python -c 'import secrets; "
                f"print(secrets.token_urlsafe(48))'`"
            )
        return value
    return _key_from_file(key_file_path(settings))


def _key_from_file(path: Path) -> str:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made earlier, or by another process just now: read it below
    except OSError as exc:
        raise ConfigError(
            f"cannot create the session key file {path}: {exc}; set SYNDICATION__WEB__SECRET_KEY instead"
        ) from exc
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
        log.info("generated the session key file %s", path)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("session key file %s was readable by others; restricting it to its owner", path)
            path.chmod(0o600)
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the session key file {path}: {exc}") from exc
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"the session key file {path} holds a key that is too short; delete it to have a new one made"
        )
    return value


# ------------------------------------------------------------------------------------------ CSRF


def _session_csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_token(request: Request) -> str:
    """The session's synchronizer token (made on first use), masked afresh for every response:
    a random pad and the token XOR the pad. Responses are gzip-compressed and some reflect input
    (the queue's search): an unchanging secret in them could be guessed from compressed sizes
    (BREACH); a masked one differs in every response."""
    raw = _session_csrf(request).encode("ascii")
    pad = secrets.token_bytes(len(raw))
    return base64.urlsafe_b64encode(pad + bytes(a ^ b for a, b in zip(pad, raw, strict=True))).decode("ascii")


def unmask_csrf(sent: str) -> bytes:
    """The session token inside a masked one (empty when ``sent`` is not one)."""
    try:
        data = base64.urlsafe_b64decode(sent.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return b""
    half = len(data) // 2
    if not half or len(data) != 2 * half:
        return b""
    return bytes(a ^ b for a, b in zip(data[:half], data[half:], strict=True))


async def checked_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token (field or ``X-CSRF-Token`` header): 403 if not."""
    try:
        form = await request.form(max_files=0, max_fields=100)
    except (HTTPException, ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, "the form could not be read") from exc
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str) or not expected:
        raise HTTPException(403, "the form has no valid security token; reload the page and try again")
    if not secrets.compare_digest(unmask_csrf(sent), expected.encode("utf-8")):
        raise HTTPException(403, "the form's security token does not match; reload the page and try again")
    return form


# ----------------------------------------------------------------------------------------- login


def current_user(request: Request) -> SignedIn | None:
    user = request.scope.get("state", {}).get("user")
    return user if isinstance(user, SignedIn) else None


def require_user(request: Request) -> SignedIn:
    user = current_user(request)
    if user is None:  # RequireLogin lets no such request through; this guards a mistake there
        raise HTTPException(401, "log in first")
    return user


def require_admin(request: Request) -> SignedIn:
    user = require_user(request)
    if not user.is_admin:
        raise HTTPException(403, "only administrators can open this page")
    return user


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another site, ``//host``) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ch in target for ch in "\r\n\\") or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target


class RequireLogin:
    """Every request except the login page and static files needs a live session; the user found is
    put at ``scope["state"]["user"]``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        lookup: Callable[[str], SignedIn | None],
        public_paths: Iterable[str] = ("/login",),
        public_prefixes: Iterable[str] = ("/static/",),
    ) -> None:
        self.app = app
        self.lookup = lookup
        self.public_paths = frozenset(public_paths)
        self.public_prefixes = tuple(public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session: dict[str, Any] = scope["session"]
        token = session.get("sid")
        user: SignedIn | None = None
        if isinstance(token, str) and token:
            user = await run_in_threadpool(self.lookup, token)
            if user is None:
                session.pop("sid", None)  # ended on the server (logout elsewhere, disabled, expired)
        scope.setdefault("state", {})["user"] = user
        path: str = scope["path"]
        if user is not None or path in self.public_paths or path.startswith(self.public_prefixes):
            await self.app(scope, receive, send)
            return
        response: Response
        if scope["method"] in ("GET", "HEAD"):
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope["query_string"] else "")
            response = RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)
        else:
            response = PlainTextResponse("log in first", status_code=401)
        await response(scope, receive, send)


# --------------------------------------------------------------------------------------- headers

APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

PUBLIC_CSP = (
    "default-src 'none'; img-src * data:; style-src 'self' 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
"""The public pages (feed pages, unsubscribe): no script at all; a post's pictures may come from its
own site, and the unsubscribe page styles itself inline."""


class SecurityHeaders:
    """CSP, nosniff, no referrer leaks and no caching of review pages (a shared computer's back
    button must not show them after logout). A response that sets its own value keeps it.

    ``csp``/``cache_control`` differ for the public routes; ``cache_control=None`` leaves caching to
    the route (feeds are meant to be cached)."""

    def __init__(self, app: ASGIApp, *, csp: str = APP_CSP, cache_control: str | None = "no-store") -> None:
        self.app = app
        self.csp = csp
        self.cache_control = cache_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                defaults = {
                    "Content-Security-Policy": self.csp,
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "same-origin",
                    "X-Frame-Options": "DENY",
                }
                cache = "public, max-age=3600" if static else self.cache_control
                if cache is not None:
                    defaults["Cache-Control"] = cache
                for name, value in defaults.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SecureCookies:
    """Marks the session cookie ``Secure``: always, never, or (``None``) when the request came over
    https (directly or through a proxy uvicorn trusts) or the public base URL is https."""

    def __init__(self, app: ASGIApp, *, secure: bool | None, public_https: bool) -> None:
        self.app = app
        self.secure = secure
        self.public_https = public_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = self.secure
        if secure is None:
            secure = self.public_https or scope.get("scheme") == "https"
        if not secure:
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers", [])
                fixed = []
                for name, value in raw:
                    ours = name.lower() == b"set-cookie" and value.startswith(SESSION_COOKIE.encode() + b"=")
                    if ours and b"; secure" not in value.lower():
                        value += b"; secure"
                    fixed.append((name, value))
                message["headers"] = fixed
            await send(message)

        await self.app(scope, receive, send_secure)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, counting_receive, send)
